"""model_from: a zoo detector without a _base_/models file, in one config line."""

from pathlib import Path

import pytest

import kaokore_mm  # noqa: F401
from kaokore_mm.utils.cli import UserError, cli_main
from kaokore_mm.utils.config import load_config
from kaokore_mm.utils.model_from import adapt_model
from tests.conftest import load_tool

ROOT = Path(__file__).resolve().parents[2]
DEMO_BASE = ROOT / 'configs' / '_base_' / 'demo_patched.py'


def child(tmp_path, body: str) -> str:
    path = tmp_path / 'exp.py'
    path.write_text(f"_base_ = ['{DEMO_BASE}']\n{body}\n")
    return str(path)


def heads(model):
    return [m for m in model.modules() if type(m).__name__.endswith('Head') and hasattr(m, 'num_classes')]


@pytest.mark.parametrize(
    'zoo,head,assigner',
    [
        ('mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py', 'RTMDetSepBNHead', 'DynamicSoftLabelAssigner'),
        ('mmdet::yolox/yolox_tiny_8xb8-300e_coco.py', 'YOLOXHead', 'SimOTAAssigner'),
    ],
)
def test_a_zoo_model_without_a_models_base_builds_for_faces(tmp_path, zoo, head, assigner):
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    warned = []
    cfg = load_config(child(tmp_path, f"model_from = '{zoo}'\nmodel = dict(backbone=dict(init_cfg=None))"))
    assert 'model_from' not in cfg and cfg.model_origin == zoo
    assert cfg.train_dataloader.dataset.type == 'PatchedPageDataset'  # the project's data, views, loops
    assert cfg.test_cfg.type == 'PatchedTestLoop' and cfg.data_root == 'work_dirs/demo/data/'
    assert cfg.model.data_preprocessor.get('batch_augments') is None
    assert cfg.model.data_preprocessor.pad_size_divisor == 32
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    assert type(model.bbox_head).__name__ == head and all(h.num_classes == 1 for h in heads(model))
    adapt_model(load_config(child(tmp_path, f"model_from = '{zoo}'")).model, zoo, warned.append)
    adapt_model(dict(load_config(zoo_path(zoo)).model), zoo, warned.append)
    assert warned and all(head in w and assigner in w and 'background' in w for w in warned)


def zoo_path(zoo):
    from kaokore_mm.utils.model_from import zoo_config_path

    return zoo_config_path(zoo)


def test_an_assigner_that_can_ignore_gets_the_ignored_regions_without_a_warning(tmp_path):
    warned = []
    cfg = load_config(child(tmp_path, "model_from = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'"))
    assert cfg.model.train_cfg.assigner.ignore_iof_thr == 0.5 and cfg.model.bbox_head.num_classes == 1
    adapt_model(dict(load_config(zoo_path('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py')).model), 'r', warned.append)
    assert warned == []


def test_the_config_and_cfg_options_win_over_the_zoo(tmp_path):
    body = (
        "model_from = dict(config='mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py', take=['optim_wrapper'])\n"
        'model = dict(bbox_head=dict(feat_channels=32), test_cfg=dict(max_per_img=77))'
    )
    cfg = load_config(child(tmp_path, body), {'model.test_cfg.score_thr': 0.2})
    assert cfg.model.bbox_head.feat_channels == 32 and cfg.model.bbox_head.num_classes == 1
    assert cfg.model.test_cfg.max_per_img == 77 and cfg.model.test_cfg.score_thr == 0.2
    # a taken key sits below the config's own: the demo schedule's AdamW (lr 1e-3) wins over RTMDet's 0.004
    assert cfg.optim_wrapper.optimizer.lr == 1e-3 and cfg.optim_wrapper.paramwise_cfg.bypass_duplicate
    cfg = load_config(str(ROOT / 'configs/rtmdet_l_patch1333.py'))  # no optimizer of its own: RTMDet's, scaled
    assert cfg.optim_wrapper.optimizer.type == 'AdamW' and cfg.optim_wrapper.optimizer.lr == 0.004
    assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=16)


def test_model_from_in_cfg_options_replaces_the_files_model(tmp_path):
    cfg = load_config(
        str(ROOT / 'configs/demo/faster_rcnn_r18_patch512_demo.py'),
        {'model_from': 'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py', 'model.bbox_head.feat_channels': 64},
    )
    assert cfg.model.type == 'FCOS' and 'rpn_head' not in cfg.model and cfg.model.bbox_head.feat_channels == 64


def test_a_dumped_config_loads_as_it_ran(tmp_path):
    cfg = load_config(
        child(tmp_path, "model_from = 'mmdet::yolox/yolox_tiny_8xb8-300e_coco.py'"), {'model.neck.num_csp_blocks': 2}
    )
    dumped = tmp_path / 'dumped.py'
    cfg.dump(str(dumped))
    again = load_config(str(dumped))
    assert again.model.to_dict() == cfg.model.to_dict() and again.model_origin == cfg.model_origin


@pytest.mark.parametrize(
    'body,message',
    [
        ("model_from = 'mmdet::rtmdet/no_such_config.py'", "not found in mmdet's configs"),
        ("model_from = 'nosuchpackage::a/b.py'", "package 'nosuchpackage'"),
        ("model_from = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'", 'predicts masks'),
        ("model_from = dict(config='mmdet::yolox/yolox_tiny_8xb8-300e_coco.py', take=['no_key'])", 'has no no_key'),
        ("model_from = dict(path='x.py')", 'write a config path'),
        ("model_from = 'MODEL'", 'MODEL not found'),
    ],
)
def test_a_wrong_model_from_is_one_line_and_exit_2(tmp_path, capsys, body, message):
    config = child(tmp_path, body)
    with pytest.raises(UserError, match=message.replace('(', r'\(')):
        load_config(config)
    rc = cli_main(load_tool('train').main, [config, '--work-dir', str(tmp_path / 'w')])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and err.count('\n') == 1 and 'Traceback' not in err


def test_a_model_without_num_classes_is_one_line(tmp_path):
    zoo = tmp_path / 'zoo.py'
    zoo.write_text("model = dict(type='RPN', rpn_head=dict(type='RPNHead', in_channels=8))\n")
    with pytest.raises(UserError, match=r'has no bbox_head.num_classes'):
        load_config(child(tmp_path, f"model_from = '{zoo}'"))


def test_page_inferencer_and_annotation_tag_take_a_model_from_config(tmp_path):
    """PageInferencer (annotate, the API) resolves model_from as the tools do."""
    import numpy as np

    from kaokore_mm.annotation.annotator import model_tag
    from kaokore_mm.apis import PageInferencer

    config = str(ROOT / 'configs/demo/rtmdet_tiny_patch512_demo.py')
    inf = PageInferencer(config, None)
    assert type(inf.model).__name__ == 'RTMDet' and inf.model.bbox_head.num_classes == 1
    assert len(inf.predictor.views) == 2 and inf.predictor.patch_size == (512, 512)
    out = inf(np.full((600, 700, 3), 200, np.uint8))
    assert set(out) == {'bboxes', 'scores', 'labels'} and out['bboxes'].shape[1:] == (4,)
    ckpt = tmp_path / 'w.pth'
    ckpt.write_bytes(b'weights')
    assert model_tag(config, ckpt)['detector']['config'] == config
