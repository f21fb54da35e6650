"""A checkpoint must hold the weights of the model the config builds: names and shapes compared
(pure), then every tool that loads one given a foreign checkpoint (a classifier's to the detector
tools, a detector's to the classifier tools, another family's, right names with wrong shapes)."""

from pathlib import Path

import pytest
import torch
from torch import nn

from kaokore_mm.utils.cli import UserError, cli_main
from kaokore_mm.utils.weights import check_weights_fit, describe_mismatch, weights_mismatch
from tests.conftest import LOADER_OPTS, SPLIT_OPTS, load_tool

ROOT = Path(__file__).resolve().parents[2]
DETECTOR = str(ROOT / 'configs/demo/faster_rcnn_r18_patch512_demo.py')
FCOS = str(ROOT / 'configs/demo/fcos_r18_patch512_demo.py')
CLASSIFIER = str(ROOT / 'configs/demo/resnet18_kaokore_status_demo.py')


class Net(nn.Module):
    def __init__(self, out=2):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.head = nn.Linear(4, out)


def save(tmp_path, state, name='ck.pth', wrap=True):
    path = tmp_path / name
    torch.save(dict(state_dict=state, meta={}) if wrap else state, path)
    return path


def test_the_mismatch_names_missing_foreign_and_reshaped_weights():
    model = Net().state_dict()
    assert weights_mismatch(model, dict(model)) == dict(missing=[], unexpected=[], shapes=[])
    other = {k: v for k, v in model.items() if k != 'head.bias'}
    other['extra.weight'] = torch.zeros(1)
    other['head.weight'] = torch.zeros(5, 4)
    m = weights_mismatch(model, other)
    assert m == dict(missing=['head.bias'], unexpected=['extra.weight'], shapes=[('head.weight', (5, 4), (2, 4))])
    text = describe_mismatch(m, len(model))
    assert 'head.bias' in text and 'extra.weight' in text and '[5, 4] for [2, 4]' in text
    assert describe_mismatch(weights_mismatch(model, model), len(model)) is None


def test_check_refuses_unless_partial_and_reads_every_layout(tmp_path):
    net = Net()
    assert check_weights_fit(net, save(tmp_path, net.state_dict()), 'cfg.py')['missing'] == []
    ddp = {f'module.{k}': v for k, v in net.state_dict().items()}  # saved from a DDP-wrapped model
    assert check_weights_fit(net, save(tmp_path, ddp, 'ddp.pth'), 'cfg.py')['shapes'] == []
    assert check_weights_fit(net, save(tmp_path, net.state_dict(), 'raw.pth', wrap=False), 'cfg.py')['missing'] == []
    other = save(tmp_path, Net(out=7).state_dict(), 'other.pth')
    with pytest.raises(UserError) as e:
        check_weights_fit(net, other, 'cfg.py')
    line = str(e.value)
    assert str(other) in line and 'cfg.py' in line and '`partial_load`' in line and '\n' not in line
    assert check_weights_fit(net, other, 'cfg.py', partial=True)['shapes']  # deliberately: loads what fits
    torch.save(dict(meta={}, optimizer={}), tmp_path / 'noweights.pth')
    with pytest.raises(UserError, match='no weights'):
        check_weights_fit(net, tmp_path / 'noweights.pth', 'cfg.py')


def _changed(model_cfg, changes):
    from mmengine.config import Config

    c = Config(dict(model=model_cfg.to_dict() if hasattr(model_cfg, 'to_dict') else dict(model_cfg)))
    c.merge_from_dict({f'model.{k}': v for k, v in changes.items()})
    return c.model


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    from kaokore_mm.utils.config import load_config

    root = tmp_path_factory.mktemp('ckpts')
    det = load_config(DETECTOR)
    cls = load_config(CLASSIFIER)
    fcos = load_config(FCOS)
    out = {}
    for name, cfg, scope, changes in (
        ('detector', det, 'mmdet', {}),
        ('classifier', cls, 'mmpretrain', {}),
        ('fcos', fcos, 'mmdet', {}),
        ('detector_3_classes', det, 'mmdet', {'roi_head.bbox_head.num_classes': 3}),
    ):
        from mmengine.registry import MODELS, init_default_scope

        init_default_scope(scope)
        model = MODELS.build(_changed(cfg.model, changes))
        path = root / f'{name}.pth'
        torch.save(dict(state_dict=model.state_dict(), meta={}), path)
        out[name] = str(path)
    return out


@pytest.mark.parametrize('foreign', ['classifier', 'fcos', 'detector_3_classes'])
def test_annotate_refuses_a_checkpoint_of_another_model(checkpoints, tiny_data, tmp_path, capsys, foreign):
    """Before: mmdet's "do not match exactly" warning, then ~90 random faces a page and exit 0."""
    book = tmp_path / 'book'
    book.mkdir()
    page = sorted((tiny_data / 'pages').iterdir())[0]
    (book / page.name).write_bytes(page.read_bytes())
    args = [DETECTOR, checkpoints[foreign], '--images', str(book), '--out', str(tmp_path / 'out')]
    rc = cli_main(load_tool('annotate').main, args)
    err = capsys.readouterr().err
    assert rc == 2 and 'Traceback' not in err, err
    line = err.strip().splitlines()[-1]
    assert checkpoints[foreign] in line and DETECTOR in line and 'does not fit' in line
    assert not (tmp_path / 'out' / 'annotations.coco.json').exists()


def test_vis_cam_refuses_a_detector_checkpoint(checkpoints, tiny_data, tmp_path, capsys):
    crop = tmp_path / 'crop.png'
    import cv2
    import numpy as np

    cv2.imwrite(str(crop), np.full((64, 64, 3), 128, np.uint8))
    rc = cli_main(load_tool('vis_cam').main, [str(crop), CLASSIFIER, checkpoints['detector'], '--out', str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and 'Traceback' not in err and 'does not fit' in err and CLASSIFIER in err


def test_test_refuses_wrong_shapes_and_partial_load_takes_them(checkpoints, tiny_data, tmp_path, capsys):
    opts = ['--data-root', str(tiny_data), '--cfg-options', *LOADER_OPTS, *SPLIT_OPTS]
    ck = checkpoints['detector_3_classes']
    rc = cli_main(load_tool('test').main, [DETECTOR, ck, '--work-dir', str(tmp_path / 'a'), *opts])
    err = capsys.readouterr().err
    assert rc == 2 and 'other shapes' in err and 'roi_head.bbox_head' in err
    assert not (tmp_path / 'a' / 'test_metrics.json').exists()
    rc = cli_main(load_tool('test').main, [DETECTOR, ck, '--work-dir', str(tmp_path / 'b'), '--partial-load', *opts])
    assert rc == 0 and (tmp_path / 'b' / 'test_metrics.json').exists()
    rc = cli_main(load_tool('test').main, [DETECTOR, checkpoints['detector'], '--work-dir', str(tmp_path / 'c'), *opts])
    assert rc == 0  # its own model's checkpoint loads as before
