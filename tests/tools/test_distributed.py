"""Distributed train and test as users run them (tools/dist_train.sh, tools/dist_test.sh):
two real processes under torchrun on the CPU (gloo)."""

import json
import os
import pickle
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import LOADER_OPTS, SPLIT_OPTS

ROOT = Path(__file__).resolve().parents[2]
CONFIG = 'configs/demo/faster_rcnn_r18_patch512_demo.py'
LOADERS = list(LOADER_OPTS)
TRAIN = [
    *LOADERS,
    'train_cfg.max_iters=2',
    'train_cfg.val_interval=2',
    *SPLIT_OPTS,
]
# every page (8: 4 per rank), all boxes of the random-weight detector
TEST = [*LOADERS, 'test_dataloader.sampler.ratios=(0,0,1)', 'model.test_cfg.rcnn.score_thr=0.0']


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run(cmd, **env):
    # torchrun gives each process one thread: the one-process reference does the same, so sums match
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1', PORT=str(free_port()), **env)
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout + r.stderr


@pytest.mark.skipif(sys.platform != 'linux', reason='torchrun with gloo on Linux')
def test_two_processes_train_and_test_like_one(tiny_data, tmp_path):
    log = run(
        [
            'bash',
            'tools/dist_train.sh',
            CONFIG,
            '2',
            '--work-dir',
            str(tmp_path / 'train'),
            '--data-root',
            str(tiny_data),
            '--cfg-options',
            *TRAIN,
        ]
    )
    assert 'Found no NVIDIA driver' not in log
    ckpt = tmp_path / 'train' / 'iter_2.pth'
    assert ckpt.exists()
    # halfway (after iteration 1) each rank predicted its share of the training pages; every rank got all of them
    import re

    mined = pickle.loads((tmp_path / 'train' / 'hard_negatives' / 'train_predictions.pkl').read_bytes())
    shares = [int(n) for n in re.findall(r'the model predicts its (\d+) training pages \(this rank\)', log)]
    ids = [r['img_id'] for r in mined]
    assert shares and 0 < shares[0] < len(ids) and ids == sorted(set(ids))  # rank 0 logs its share, not all pages
    assert 'HardNegativeMiningHook: ' in log and ' windows show a false box' in log
    run(
        [
            'bash',
            'tools/dist_test.sh',
            CONFIG,
            str(ckpt),
            '2',
            '--work-dir',
            str(tmp_path / 'two'),
            '--data-root',
            str(tiny_data),
            '--out',
            str(tmp_path / 'two.pkl'),
            '--cfg-options',
            *TEST,
        ]
    )
    run(
        [
            sys.executable,
            'tools/test.py',
            CONFIG,
            str(ckpt),
            '--work-dir',
            str(tmp_path / 'one'),
            '--data-root',
            str(tiny_data),
            '--out',
            str(tmp_path / 'one.pkl'),
            '--cfg-options',
            *TEST,
        ]
    )
    two = json.loads((tmp_path / 'two' / 'test_metrics.json').read_text())['metrics']
    one = json.loads((tmp_path / 'one' / 'test_metrics.json').read_text())['metrics']
    assert one['face/num_pages'] == two['face/num_pages'] == 8
    for key in ('face/AP50', 'face/recall', 'face/precision', 'face/num_faces', 'face/tp', 'face/fp', 'face/coco_AP'):
        assert two[key] == pytest.approx(one[key], abs=1e-9), key
    p1, p2 = (
        pickle.loads(Path(tmp_path / 'one.pkl').read_bytes()),
        pickle.loads(Path(tmp_path / 'two.pkl').read_bytes()),
    )
    assert [r['img_id'] for r in p2] == [r['img_id'] for r in p1] == sorted(r['img_id'] for r in p1)
    assert sum(len(r['pred_instances']['scores']) for r in p1) > 100
    for a, b in zip(p1, p2):
        assert np.allclose(a['pred_instances']['bboxes'], b['pred_instances']['bboxes'], atol=1e-3)
    # files written once: one metrics file, one PR curve
    assert len(list((tmp_path / 'two').rglob('pr_curve.png'))) == 1


@pytest.fixture(scope='module')
def random_detector(tmp_path_factory):
    """The demo detector with seeded random weights, saved as a checkpoint."""
    import torch
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import kaokore_mm  # noqa: F401

    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(ROOT / CONFIG)).model)
    path = tmp_path_factory.mktemp('ckpt') / 'random.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=dict(classes=('face',)))), path)
    return path


@pytest.mark.skipif(sys.platform != 'linux', reason='torchrun with gloo on Linux')
def test_annotate_on_two_processes_like_one(tiny_data, random_detector, tmp_path):
    pages = sorted((tiny_data / 'pages').glob('*.jpg'))[:4]
    book = tmp_path / 'book'
    book.mkdir()
    for p in pages:
        (book / p.name).write_bytes(p.read_bytes())
    opts = ['--images', str(book), '--score-thr', '0.05', '--batch-size', '2']
    run([sys.executable, 'tools/annotate.py', CONFIG, str(random_detector), '--out', str(tmp_path / 'one'), *opts])
    run(
        [
            sys.executable,
            '-m',
            'torch.distributed.run',
            '--nproc_per_node=2',
            f'--master_port={free_port()}',
            'tools/annotate.py',
            CONFIG,
            str(random_detector),
            '--out',
            str(tmp_path / 'two'),
            '--launcher',
            'pytorch',
            *opts,
        ]
    )
    one = json.loads((tmp_path / 'one' / 'annotations.coco.json').read_text())
    two = json.loads((tmp_path / 'two' / 'annotations.coco.json').read_text())
    assert len(one['images']) == 4 and len(one['annotations']) > 10
    assert one == two  # same pages, same boxes, same ids
    assert json.loads((tmp_path / 'two' / 'annotate.json').read_text())['processes'] == 2
    for name in ('annotations.csv',):
        assert (tmp_path / 'one' / name).read_text() == (tmp_path / 'two' / name).read_text()
    # resumable across a change of the number of processes: two processes on one process's work redo nothing
    run(
        [
            sys.executable,
            '-m',
            'torch.distributed.run',
            '--nproc_per_node=2',
            f'--master_port={free_port()}',
            'tools/annotate.py',
            CONFIG,
            str(random_detector),
            '--out',
            str(tmp_path / 'one'),
            '--launcher',
            'pytorch',
            *opts,
        ]
    )
    meta = json.loads((tmp_path / 'one' / 'annotate.json').read_text())
    assert meta['pages_predicted_now'] == 0 and meta['processes'] == 2
    assert json.loads((tmp_path / 'one' / 'annotations.coco.json').read_text()) == one


def test_a_launcher_without_its_environment_or_its_peers_is_one_line_soon(tmp_path):
    """``--launcher pytorch`` without torchrun's variables, or as rank 0 of 2 with no second process:
    one line within the join timeout (before: a silent wait of 30 minutes)."""
    import time

    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    demo = 'configs/demo/faster_rcnn_r18_patch512_demo.py'
    base = {k: v for k, v in os.environ.items() if k not in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')}
    runs = [
        (dict(base), 'RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT not set'),
        (
            dict(
                base,
                RANK='0',
                WORLD_SIZE='2',
                MASTER_ADDR='127.0.0.1',
                MASTER_PORT=str(port),
                KAOKORE_DIST_JOIN_TIMEOUT='3',
            ),
            'could not meet the others',
        ),
    ]
    for env, needle in runs:
        t0 = time.time()
        r = subprocess.run(
            [sys.executable, 'tools/train.py', demo, '--work-dir', str(tmp_path), '--launcher', 'pytorch'],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 2 and 'Traceback' not in r.stderr, r.stderr[-2000:]
        assert needle in r.stderr.strip().splitlines()[-1] and time.time() - t0 < 60
