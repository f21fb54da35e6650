"""Fixes of kaokore_mm.compat, checked end to end on tiny synthetic pages."""

import copy
import json
from pathlib import Path

import pytest
import torch

from tests.conftest import LOADER_OPTS, SPLIT_OPTS, load_tool

ROOT = Path(__file__).resolve().parents[1]

DEMO = str(ROOT / 'configs/demo/faster_rcnn_r18_patch512_demo.py')


def tiny_opts(data, iters):
    return [
        '--data-root',
        str(data),
        '--cfg-options',
        f'train_cfg.max_iters={iters}',
        f'train_cfg.val_interval={iters}',
        'train_dataloader.batch_size=2',
        'train_dataloader.dataset.patch_size=(256,256)',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.checkpoint.max_keep_ckpts=5',
        *LOADER_OPTS,
        *SPLIT_OPTS,
    ]


def test_unknown_types_still_refused_unless_trusted(tmp_path):
    import argparse

    from kaokore_mm.compat import trusted_checkpoint_loading

    torch.save({'x': argparse.Namespace(a=1)}, tmp_path / 'foreign.pth')
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(tmp_path / 'foreign.pth')
    with trusted_checkpoint_loading():
        assert torch.load(tmp_path / 'foreign.pth')['x'].a == 1
    with pytest.raises(Exception, match='Weights only load failed'):  # only inside the block
        torch.load(tmp_path / 'foreign.pth')


def test_train_save_test_and_resume(tiny_data, tmp_path):
    train_tool, test_tool = load_tool('train'), load_tool('test')
    work = tmp_path / 'work'
    runner = train_tool.main([DEMO, '--work-dir', str(work), *tiny_opts(tiny_data, 2)])
    ckpt = work / 'iter_2.pth'
    assert ckpt.exists() and runner.iter == 2
    # mmengine's checkpoint holds HistoryBuffer and numpy objects: loads with weights_only=True
    state = torch.load(ckpt, map_location='cpu')
    assert state['meta']['iter'] == 2
    metrics = test_tool.main([DEMO, str(ckpt), '--work-dir', str(work / 'test'), *tiny_opts(tiny_data, 2)])
    assert 'face/recall' in metrics and 'face/AP50' in metrics
    saved = json.loads((work / 'test' / 'test_metrics.json').read_text())
    assert saved['metrics']['face/num_pages'] == metrics['face/num_pages'] > 0
    # resume continues the iteration counter
    runner = train_tool.main([DEMO, '--work-dir', str(work), '--resume', *tiny_opts(tiny_data, 4)])
    assert runner.iter == 4
    assert (work / 'iter_4.pth').exists()
    # the training seconds (TrainTimeHook) go on from the resumed checkpoint's
    from kaokore_mm.engine.hooks import train_seconds

    first, total = train_seconds(work / 'iter_2.pth'), train_seconds(work / 'iter_4.pth')
    assert 0 < first < total
    # load_from: a new run starts from the weights
    runner = train_tool.main([DEMO, '--work-dir', str(tmp_path / 'ft'), *tiny_opts(tiny_data, 1), f'load_from={ckpt}'])
    assert runner.iter == 1


def test_ssd_head_fix(tiny_data):
    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import kaokore_mm  # noqa: F401

    init_default_scope('mmdet')
    cfg = Config.fromfile(str(ROOT / 'configs/ssd300_vgg16_patch600.py'))
    cfg.model.backbone.init_cfg = None
    sample = DetDataSample(metainfo=dict(img_shape=(300, 300), ori_shape=(300, 300), scale_factor=(1.0, 1.0)))
    data = dict(inputs=[torch.randint(0, 255, (3, 300, 300), dtype=torch.uint8)], data_samples=[sample])
    plain = copy.deepcopy(cfg.model)
    plain.bbox_head.type = 'SSDHead'
    with pytest.raises(AttributeError, match='loss_cls'):  # the defect of mmdet 3.3.0 is still there
        MODELS.build(plain).eval().test_step(data)
    model = MODELS.build(cfg.model).eval()
    out = model.test_step(data)
    scores = out[0].pred_instances.scores
    assert torch.all((scores >= 0) & (scores <= 1))
    assert set(model.state_dict()) == set(MODELS.build(plain).state_dict())


def test_ssd_config_trains_validates_and_tests(tiny_data, tmp_path):
    train_tool, test_tool = load_tool('train'), load_tool('test')
    cfg = str(ROOT / 'configs/ssd300_vgg16_patch600.py')
    opts = [
        o
        for o in tiny_opts(tiny_data, 1)
        if not o.startswith(('train_cfg', 'default_hooks', 'val_cfg.', 'test_cfg.', 'train_dataloader.dataset.patch'))
    ]
    opts += [
        'model.backbone.init_cfg=None',
        'train_cfg.max_epochs=1',
        'train_dataloader.batch_size=4',
        'train_dataloader.dataset.empty_patch_ratio=0.0',
    ]
    runner = train_tool.main([cfg, '--work-dir', str(tmp_path), *opts])
    assert runner.epoch == 1 and runner.iter >= 1
    metrics = test_tool.main([cfg, str(tmp_path / 'epoch_1.pth'), '--work-dir', str(tmp_path / 'test'), *opts])
    assert metrics['face/num_pages'] > 0


def test_a_refused_checkpoint_is_one_line_naming_the_way_out(tiny_data, tmp_path, capsys):
    import argparse

    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from kaokore_mm.utils.cli import cli_main

    init_default_scope('mmdet')
    model = MODELS.build(Config.fromfile(DEMO).model)
    ckpt = tmp_path / 'foreign.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(note=argparse.Namespace(a=1))), ckpt)
    rc = cli_main(
        load_tool('test').main, [DEMO, str(ckpt), '--work-dir', str(tmp_path / 'w'), *tiny_opts(tiny_data, 2)]
    )
    err = capsys.readouterr().err
    line = err.strip().splitlines()[-1]
    assert rc == 2 and line.startswith(f'error: {ckpt} was refused') and '--trust-checkpoint' in line
    assert 'Traceback' not in err
    assert 'Namespace' in line  # why: the type it holds
    rc = cli_main(
        load_tool('test').main,
        [DEMO, str(ckpt), '--work-dir', str(tmp_path / 'w'), '--trust-checkpoint', *tiny_opts(tiny_data, 2)],
    )
    assert rc == 0


@pytest.mark.parametrize(
    'content, reason',
    [
        (b'', 'an empty file'),
        (b'<html>404 Not Found</html>', 'not a PyTorch checkpoint'),
        (b'PK\x03\x04' + b'\0' * 100, 'cut short'),
    ],
)
def test_a_checkpoint_that_cannot_be_one_is_one_line_before_any_load(tmp_path, content, reason):
    """test.py with an empty, text or cut-short checkpoint ended in torch's traceback (or was
    called "refused by the safe loader, use --trust-checkpoint", which is wrong advice)."""
    import torch

    from kaokore_mm.compat import check_checkpoint, checkpoint_problem
    from kaokore_mm.utils.cli import UserError

    bad = tmp_path / 'bad.pth'
    bad.write_bytes(content)
    with pytest.raises(UserError, match=reason):
        check_checkpoint(bad)
    assert 'no such file' in checkpoint_problem(tmp_path / 'none.pth')
    good = tmp_path / 'good.pth'
    torch.save(dict(state_dict=dict(w=torch.zeros(3))), good)
    assert checkpoint_problem(good) is None
    full = good.read_bytes()
    (tmp_path / 'cut.pth').write_bytes(full[: len(full) // 2])
    assert 'cut short' in checkpoint_problem(tmp_path / 'cut.pth')
