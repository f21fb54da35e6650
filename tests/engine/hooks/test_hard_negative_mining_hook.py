"""HardNegativeMiningHook: in a real training of the demo config on synthetic pages, halfway the
model predicts its training pages, and the training set from then on is the one a
PatchedPageDataset builds from those predictions dumped by test.py; resumed past that point the
training reads them back; off by ``at=None``, and for a whole-page training; with a mocked runner,
the epoch-based schedule."""

import json
import pickle
from pathlib import Path
from unittest.mock import MagicMock

import numpy as np
import pytest
from mmengine.runner import EpochBasedTrainLoop

from kaokore_mm.engine.hooks import HardNegativeMiningHook
from kaokore_mm.engine.hooks.hard_negative_mining_hook import FILE
from kaokore_mm.errors import UserError
from tests.test_config_runs import tiny_cfg

CONFIG = 'configs/demo/faster_rcnn_r18_patch512_demo.py'


@pytest.fixture(autouse=True)
def scope():
    from mmengine.registry import init_default_scope

    init_default_scope('mmdet')


def demo_cfg(tiny_data, work_dir, iters=4):
    from kaokore_mm.utils.config import set_iteration_run

    cfg = tiny_cfg(CONFIG, tiny_data, work_dir)
    set_iteration_run(cfg, iters, checkpoint_interval=2, log_interval=1)
    cfg.train_cfg.val_interval = iters
    ds = cfg.train_dataloader.dataset
    ds.empty_patch_ratio = 0.0  # no window without a face unless a false box puts it back
    ds.hard_negative_thr = 0.0  # every box of the random-weight detector that overlaps no face counts
    cfg.model.test_cfg.rcnn.score_thr = 0.0
    return cfg


def train(cfg):
    from mmengine.runner import Runner

    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def test_halfway_the_training_mines_its_pages_and_trains_on_what_a_test_dump_would_give(tiny_data, tmp_path):
    import copy

    from mmdet.registry import DATASETS

    from kaokore_mm.apis.train_test import test_detector

    cfg = demo_cfg(tiny_data, tmp_path / 'run')
    runner = train(cfg)
    mined = tmp_path / 'run' / FILE
    records = pickle.loads(mined.read_bytes())
    dataset = runner.train_dataloader.dataset
    # the training subset's pages, each once, in page order, with boxes in page pixels
    train_pages = sorted({dataset.get_data_info(i)['img_id'] for i in runner.train_dataloader.sampler.indices})
    assert [r['img_id'] for r in records] == train_pages
    assert sum(len(r['pred_instances']['scores']) for r in records) > 0
    assert dataset.hard_negatives == [str(mined)]
    assert dataset.num_hard_patches > 0  # windows without a face came back, shown a false box
    plain = DATASETS.build(copy.deepcopy(cfg.train_dataloader.dataset))
    assert plain.num_hard_patches == 0 and len(dataset) == len(plain) + dataset.num_hard_patches
    # the rest of the training drew from a dataloader on the new set
    assert runner.train_loop.dataloader.dataset is dataset
    assert runner.train_loop.dataloader.sampler.dataset is dataset
    # what the hook mined is what test.py --out dumps of the checkpoint of that iteration on the training pages
    test_cfg = copy.deepcopy(cfg)
    test_cfg.test_dataloader.sampler.subset = 'train'
    test_cfg.work_dir = str(tmp_path / 'test')
    dump = tmp_path / 'test' / 'train_predictions.pkl'
    test_detector(test_cfg, str(tmp_path / 'run' / 'iter_2.pth'), out=str(dump))
    dumped = pickle.loads(dump.read_bytes())
    assert [r['img_id'] for r in dumped] == train_pages
    for a, b in zip(records, dumped):
        np.testing.assert_allclose(a['pred_instances']['bboxes'], b['pred_instances']['bboxes'], atol=1e-3)
        np.testing.assert_allclose(a['pred_instances']['scores'], b['pred_instances']['scores'], atol=1e-5)
    # and the training set built from that dump is the one the hook trained on: the same windows
    again = DATASETS.build(dict(copy.deepcopy(cfg.train_dataloader.dataset), hard_negatives=str(dump)))
    assert [again.get_data_info(i)['patch'] for i in range(len(again))] == [
        dataset.get_data_info(i)['patch'] for i in range(len(dataset))
    ]


def test_a_training_resumed_past_the_mining_reads_the_predictions_back(tiny_data, tmp_path, monkeypatch):
    cfg = demo_cfg(tiny_data, tmp_path / 'run', iters=4)
    train(cfg)
    mined = tmp_path / 'run' / FILE
    stamp = mined.stat().st_mtime_ns
    (tmp_path / 'run' / 'iter_4.pth').unlink()
    (tmp_path / 'run' / 'last_checkpoint').write_text(str(tmp_path / 'run' / 'iter_2.pth'))
    calls = []
    monkeypatch.setattr(HardNegativeMiningHook, '_mine', lambda self, runner: calls.append(1))
    cfg = demo_cfg(tiny_data, tmp_path / 'run', iters=4)
    cfg.resume = True
    runner = train(cfg)
    assert calls == [] and mined.stat().st_mtime_ns == stamp  # read back, not mined again
    dataset = runner.train_dataloader.dataset
    assert dataset.hard_negatives == [str(mined)] and dataset.num_hard_patches > 0


def test_off_by_at_none_and_for_a_whole_page_training(tiny_data, tmp_path):
    cfg = demo_cfg(tiny_data, tmp_path / 'off', iters=2)
    cfg.default_hooks.hard_negatives.at = None
    runner = train(cfg)
    assert not (tmp_path / 'off' / FILE).exists() and runner.train_dataloader.dataset.num_hard_patches == 0
    hook = HardNegativeMiningHook()
    whole = MagicMock()
    whole.train_dataloader.dataset = object()  # no PatchedPageDataset
    hook.before_train(whole)
    assert hook.step is None and 'not a PatchedPageDataset' in whole.logger.info.call_args.args[0]
    every = MagicMock()  # every window without a face is trained on already: nothing to add, no prediction pass
    every.train_dataloader.dataset = MagicMock(empty_patch_ratio=1.0)
    hook.before_train(every)
    assert hook.step is None and 'nothing to mine' in every.logger.info.call_args.args[0]


def test_epoch_based_trainings_mine_after_the_epoch_at_that_share():
    hook = HardNegativeMiningHook(at=0.25)
    runner = MagicMock()
    runner.train_loop = MagicMock(spec=EpochBasedTrainLoop)
    runner.max_epochs, runner.epoch = 12, 0
    runner.train_dataloader.dataset = MagicMock(empty_patch_ratio=0.3)
    mined = []
    hook._mine = lambda r: 'mined.pkl'
    hook._apply = lambda r, path: mined.append((r.epoch, path))
    hook.before_train(runner)
    assert hook.step == 3 and mined == []
    for epoch in range(12):
        runner.epoch = epoch
        hook.after_train_iter(runner, 0)  # iterations do not count in an epoch-based schedule
        hook.after_train_epoch(runner)
    assert mined == [(2, 'mined.pkl')]  # after the third epoch


@pytest.mark.parametrize('at', [0, 1, 1.5, -0.2])
def test_a_share_outside_the_training_is_refused(at):
    with pytest.raises(UserError, match='share of the training'):
        HardNegativeMiningHook(at=at)


def test_the_mined_file_adds_to_the_ones_a_config_gives(tmp_path, tiny_data):
    """hard_negatives as a list: the boxes of every file count."""
    import copy

    from mmdet.registry import DATASETS

    from kaokore_mm.core.patching import page_views

    cfg = demo_cfg(tiny_data, tmp_path / 'run', iters=2)
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    base = DATASETS.build(copy.deepcopy(ds_cfg))
    coco = json.loads(Path(base.ann_file).read_text())

    def free_windows(im):  # rate-1 windows without a face, with room on the page for a 40 px box in the middle
        faces = np.array([a['bbox'] for a in coco['annotations'] if a['image_id'] == im['id']]).reshape(-1, 4)
        faces[:, 2:] += faces[:, :2]
        grid = page_views((im['width'], im['height']), base.views, base.patch_size, base.overlap)[0]
        assert tuple(grid.scale) == (1.0, 1.0)
        out = []
        for w in grid.windows:
            x2, y2 = min(w[2], im['width']), min(w[3], im['height'])
            hit = (faces[:, 0] < w[2]) & (faces[:, 2] > w[0]) & (faces[:, 1] < w[3]) & (faces[:, 3] > w[1])
            if not hit.any() and x2 - w[0] >= 60 and y2 - w[1] >= 60:
                out.append(((w[0] + x2) / 2, (w[1] + y2) / 2))
        return out

    im, empty = next((im, f[:2]) for im in coco['images'] if len(f := free_windows(im)) >= 2)
    page = dict(img_id=im['id'], img_path=str(Path(base.data_prefix['img']) / im['file_name']))
    files = []
    for k, (cx, cy) in enumerate(empty):
        rec = dict(
            img_id=page['img_id'],
            img_path=page['img_path'],
            pred_instances=dict(bboxes=np.array([[cx - 20, cy - 20, cx + 20, cy + 20]]), scores=np.array([0.9])),
        )
        path = tmp_path / f'p{k}.pkl'
        path.write_bytes(pickle.dumps([rec]))
        files.append(str(path))
    one = DATASETS.build(dict(copy.deepcopy(ds_cfg), hard_negatives=files[0])).num_hard_patches
    both = DATASETS.build(dict(copy.deepcopy(ds_cfg), hard_negatives=files)).num_hard_patches
    assert one >= 1 and both == one + 1  # the second file's box puts back its own window (the whole view: both)
