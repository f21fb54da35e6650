"""Smoke test: every config parses, its model builds, and its loops and datasets are registered."""

from pathlib import Path

import pytest
from mmengine.registry import init_default_scope

import kaokore_mm  # noqa: F401
from kaokore_mm.utils.config import load_config

CONFIGS = sorted(str(p) for p in Path(__file__).resolve().parents[1].glob('configs/**/*.py') if '_base_' not in p.parts)


def test_configs_found():
    assert len(CONFIGS) >= 6


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: Path(p).name)
def test_config_builds(path):
    cfg = load_config(path)
    assert cfg.custom_imports == dict(imports=['kaokore_mm'], allow_failed_imports=False)
    init_default_scope(cfg.default_scope)
    if cfg.default_scope == 'mmpretrain':
        return check_classification_config(cfg)
    from mmdet.registry import DATA_SAMPLERS, DATASETS, LOOPS, METRICS, MODELS

    model_cfg = cfg.model.copy()
    model = MODELS.build(model_cfg)
    families = ('FasterRCNN', 'CascadeRCNN', 'SingleStageDetector', 'RTMDet', 'DINO', 'YOLOX', 'FCOS', 'RetinaNet')
    assert model.__class__.__name__ in families
    heads = [m for m in model.modules() if type(m).__name__.endswith('Head') and hasattr(m, 'num_classes')]
    assert heads and all(h.num_classes == 1 for h in heads)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert DATASETS.get(cfg[loader].dataset.type) is not None
        assert cfg[loader].sampler.type == 'BookSplitSampler' and DATA_SAMPLERS.get('BookSplitSampler')
    for loop in ('val_cfg', 'test_cfg'):
        assert LOOPS.get(cfg[loop].type) is not None
    evaluators = cfg.val_evaluator if isinstance(cfg.val_evaluator, list) else [cfg.val_evaluator]
    assert 'FaceDetectionMetric' in [ev.type for ev in evaluators]
    for ev in evaluators:
        assert METRICS.get(ev.type) is not None
    if 'patch' in Path(path).name and 'nopatch' not in Path(path).name:
        assert cfg.train_dataloader.dataset.type == 'PatchedPageDataset'
        assert cfg.val_cfg.type == 'PatchedValLoop' and cfg.test_cfg.type == 'PatchedTestLoop'
        # one patch setting: written in the training dataset only, the loops follow it
        assert 'patch_size' not in cfg.val_cfg and 'patch_size' not in cfg.test_cfg


PATCHED = [p for p in CONFIGS if 'patch' in Path(p).name and 'nopatch' not in Path(p).name]


@pytest.mark.parametrize('path', PATCHED, ids=lambda p: Path(p).name)
def test_one_patch_setting_reaches_training_validation_testing_and_annotation(path):
    """Change patch_size and overlap once (as --cfg-options would): the training
    dataset, both loops and the page inferencer (annotation) all use them."""
    from types import SimpleNamespace

    from mmdet.registry import DATASETS

    from kaokore_mm.engine import PatchedTestLoop, PatchedValLoop
    from kaokore_mm.inference.page_inferencer import predictor_from_config

    cfg = load_config(path)
    cfg.merge_from_dict({'train_dataloader.dataset.patch_size': (320, 288), 'train_dataloader.dataset.overlap': 0.25})
    init_default_scope(cfg.default_scope)
    ds = DATASETS.build(dict(cfg.train_dataloader.dataset, lazy_init=True))
    assert ds.patch_size == (320, 288) and ds.overlap == 0.25
    runner = SimpleNamespace(cfg=cfg)
    test_overlap = cfg.test_cfg.get('overlap')  # the configs choose a test-time overlap (issue 14)
    assert test_overlap is not None and cfg.val_cfg.get('overlap') == test_overlap
    for cls, loop_cfg in ((PatchedValLoop, cfg.val_cfg), (PatchedTestLoop, cfg.test_cfg)):
        loop = cls.__new__(cls)  # the loop's own predictor set-up, without a dataloader
        loop_cfg = {k: v for k, v in loop_cfg.items() if k not in ('type', 'fp16')}
        loop._init_predictor(runner, loop_cfg)
        assert (loop.predictor.patch_size, loop.predictor.overlap) == ((320, 288), test_overlap)
        loop_cfg.pop('overlap')  # without a test-time choice the loop follows the training grid
        loop._init_predictor(runner, loop_cfg)
        assert (loop.predictor.patch_size, loop.predictor.overlap) == ((320, 288), 0.25)
    pred = predictor_from_config(cfg)
    assert (pred.patch_size, pred.overlap) == ((320, 288), test_overlap)
    assert pred.views == ds.views and len(ds.views) >= 2  # the multi-view default reaches annotation
    assert loop.predictor.views == ds.views
    cfg.merge_from_dict({'train_dataloader.dataset.views': None})  # one view, the papers' grid: everywhere
    assert len(DATASETS.build(dict(cfg.train_dataloader.dataset, lazy_init=True)).views) == 1
    assert len(predictor_from_config(cfg).views) == 1
    assert pred.merge == dict(type='nms', iou_thr=0.5, ioa_thr=0.5, contain='ios', view_agreement=0.5, vote_iou=0.5)
    cfg.merge_from_dict({'test_cfg.overlap': 0.5})  # a test-time choice written in the loop wins there
    assert predictor_from_config(cfg).overlap == 0.5


def config_faces(path):
    """The faces a config's views are made for: KaoKore 1.0's (longest side, from the
    metadata's quantiles) for the shipped configs, the demo data's for the demo."""
    import numpy as np

    from kaokore_mm.synthetic.drawing import KAOKORE_FACE_QUANTILES

    if Path(path).name.endswith('_patch512_demo.py'):  # the demo families share the demo's views
        from kaokore_mm.apis.demo import demo_face_sizes

        return demo_face_sizes()
    q, v = zip(*KAOKORE_FACE_QUANTILES)
    return np.interp(np.linspace(0, 100, 10001), q, v)


@pytest.mark.parametrize('path', PATCHED, ids=lambda p: Path(p).name)
def test_views_and_test_overlap_are_the_rules_for_the_faces(path):
    """The configs' views and test-time overlap are what core.patching.views_for_faces
    gives for their faces, patch size and the detector's smallest anchor: faces up to p99
    lie wholly inside a patch of some view, faces from p5 stay above the smallest anchor."""
    from kaokore_mm.core.patching import views_for_faces
    from kaokore_mm.utils.anchors import smallest_anchor

    cfg = load_config(path)
    ds = cfg.train_dataloader.dataset
    rule = views_for_faces(config_faces(path), ds.patch_size, smallest_anchor(cfg))
    assert cfg.test_cfg.overlap == pytest.approx(rule['overlap']) and cfg.val_cfg.overlap == pytest.approx(
        rule['overlap']
    )
    got = [dict(rate=v['rate'], valid_range=tuple(v['valid_range'])) for v in ds.views]
    assert got == [dict(v, valid_range=tuple(v['valid_range'])) for v in rule['views']]


def check_classification_config(cfg):
    from mmpretrain.registry import DATASETS, HOOKS, METRICS, MODELS

    model_cfg = cfg.model.copy()
    model_cfg.backbone.init_cfg = None
    model = MODELS.build(model_cfg)
    assert model.head.num_classes == {'status': 4, 'gender': 2}[cfg.test_dataloader.dataset.task]
    assert cfg.train_dataloader.dataset.type == 'ClassBalancedDataset'  # the rare classes drawn more often
    for loader, split in (('train_dataloader', 'train'), ('val_dataloader', 'dev'), ('test_dataloader', 'test')):
        ds = cfg[loader].dataset
        ds = ds.get('dataset', ds)
        assert DATASETS.get(ds.type) is not None and ds.split == split
    assert all(HOOKS.get(h.type) is not None for h in cfg.custom_hooks)
    assert {ev.type for ev in cfg.val_evaluator} >= {'Accuracy', 'SingleLabelMetric', 'ConfusionMatrixPlot'}
    assert all(METRICS.get(ev.type) is not None for ev in cfg.val_evaluator)
