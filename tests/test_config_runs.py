"""Every detector config in configs/ (found by globbing) runs: each one takes a training
step (a batch of its own train pipeline through its model: losses finite, gradients
reach the backbone), and one config of each family (model type, patched or whole page;
the smallest, a demo config where there is one) trains 2 iterations and tests through
its own test loop (patched where it patches). On synthetic pages, in this process, with
tiny inputs: 256 px patches (DETR queries need as many tokens), 300 queries and one
encoder and decoder layer, R50 backbones as R18 where a family trains (every config's own
model takes the training step), a plain grid at test time, 100 proposals per patch, batches
of at most 2, whole pages at half the input size, pages of 600-800 px, no pretrained weights.

Marked ``families`` (``pytest -m 'not families'`` leaves them out locally; CI runs them).
"""

from pathlib import Path

import pytest

import kaokore_mm  # noqa: F401
from tests.conftest import LOADER_OPTS, SPLIT_OPTS, detector_configs

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = detector_configs()
pytestmark = pytest.mark.families


def tiny_cfg(config, data_root, work_dir, narrow: bool = False):
    from kaokore_mm.apis.experiments import parse_cfg_options
    from kaokore_mm.utils.config import load_config

    cfg = load_config(str(ROOT / config), parse_cfg_options([*LOADER_OPTS, *SPLIT_OPTS]))
    return shrink(cfg, data_root, work_dir, narrow)


def shrink(cfg, data_root, work_dir, narrow: bool = False):
    """``cfg`` (a loaded config) made tiny as the module says, in place; returns it."""
    from kaokore_mm.utils.config import set_data_root, set_iteration_run, train_patching

    set_data_root(cfg, str(data_root))
    set_iteration_run(cfg, 2, checkpoint_interval=2, log_interval=1)
    cfg.train_dataloader.batch_size = min(cfg.train_dataloader.batch_size, 2)  # SSD's 8 of VGG16: a third of the run
    cfg.model.backbone.init_cfg = None  # no download here; the real loading path stays in the configs
    cfg.optim_wrapper.pop('clip_grad', None)
    if cfg.get('auto_scale_lr'):
        cfg.auto_scale_lr.enable = False
    if train_patching(cfg):
        cfg.train_dataloader.dataset.patch_size = (256, 256)
        cfg.val_cfg.overlap = cfg.test_cfg.overlap = 0.0
    rpn = (cfg.model.get('test_cfg') or {}).get('rpn')
    if rpn:
        rpn.max_per_img = 100
    if 'num_queries' in cfg.model:  # DETR-like: fewer queries and one encoder and decoder layer
        cfg.model.num_queries = 300
        cfg.model.encoder.num_layers = cfg.model.decoder.num_layers = 1
    for loader in ('train_dataloader', 'test_dataloader'):  # whole-page configs: half their input size
        for t in cfg[loader].dataset.pipeline:
            if t['type'] == 'Resize' and isinstance(t['scale'], (tuple, list)) and max(t['scale']) > 600:
                t['scale'] = tuple(v // 2 for v in t['scale'])
    if narrow and cfg.model.backbone.get('depth') == 50:  # the family's heads and loops on an R18 backbone
        cfg.model.backbone.depth = 18
        cfg.model.neck.in_channels = [64, 128, 256, 512]
    cfg.work_dir = str(work_dir)
    return cfg


def test_the_glob_finds_the_model_zoo_families():
    names = {Path(c).name for c in CONFIGS}
    families = ('rtmdet', 'dino', 'yolox', 'fcos', 'retinanet', 'faster_rcnn', 'cascade_rcnn', 'ssd300')
    assert all(any(n.startswith(f) for n in names) for f in families), names
    assert sum('demo' in n and n.split('_')[0] in ('rtmdet', 'dino', 'yolox', 'fcos', 'retinanet') for n in names) >= 5


def family_of(config) -> tuple[str, bool]:
    from kaokore_mm.utils.config import load_config, train_patching

    cfg = load_config(str(ROOT / config))
    return cfg.model.type, bool(train_patching(cfg))


def representatives() -> list[str]:
    """One config per family: a demo config where the family has one, else the first."""
    chosen = {}
    for c in sorted(CONFIGS, key=lambda c: ('demo' not in c, c)):
        chosen.setdefault(family_of(c), c)
    return sorted(chosen.values())


FAMILIES = representatives()


@pytest.mark.parametrize('config', CONFIGS, ids=lambda c: Path(c).name)
def test_config_takes_a_training_step(config, tiny_data, tmp_path):
    """The config's train pipeline, data preprocessor and model: one batch, finite losses,
    gradients in the backbone."""
    import torch
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner import Runner

    from kaokore_mm.utils.config import train_patching

    cfg = tiny_cfg(config, tiny_data, tmp_path)
    if train_patching(cfg):
        cfg.train_dataloader.dataset.empty_patch_ratio = 0.0  # patches with faces: every loss term is defined
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    model.init_weights()  # as the Runner does: some parameters are allocated uninitialised (SSD's L2Norm, DINO's)
    model.train()
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    batch = next(iter(loader))
    data = model.data_preprocessor(batch, True)
    losses = model(**data, mode='loss')
    total, _ = model.parse_losses(losses)
    assert torch.isfinite(total), losses
    total.backward()
    grads = [p.grad for p in model.backbone.parameters() if p.requires_grad]
    assert any(g is not None and torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize('config', CONFIGS, ids=lambda c: Path(c).name)
def test_stock_mmengine_trains_two_iterations_of_the_written_config(config, tiny_data, tmp_path):
    """Every shipped detector config, as ``tools/print_config.py --out`` writes it, loaded by stock
    ``Config.fromfile`` (its ``custom_imports`` register the package) and trained 2 iterations by
    stock ``Runner.from_cfg``: no project loader between the file and the runner (mmdet's own
    tools/train.py does the same two calls; tests/tools/test_print_config.py runs it on the demo
    zoo configs)."""
    import torch
    from mmengine.config import Config
    from mmengine.runner import Runner

    from kaokore_mm.apis.experiments import parse_cfg_options
    from tests.conftest import load_tool

    plain = tmp_path / 'plain.py'
    load_tool('print_config').main([str(ROOT / config), '--data-root', str(tiny_data), '--out', str(plain)])
    cfg = Config.fromfile(str(plain))
    cfg.merge_from_dict(parse_cfg_options([*LOADER_OPTS, *SPLIT_OPTS]))
    shrink(cfg, tiny_data, tmp_path / 'run')
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None  # training only: the family test below tests
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2 and (tmp_path / 'run' / 'iter_2.pth').is_file()
    assert torch.isfinite(torch.tensor(runner.message_hub.get_scalar('train/loss').current()))


def test_every_family_is_trained_and_tested():
    families = {family_of(c) for c in CONFIGS}
    assert {family_of(c) for c in FAMILIES} == families and len(FAMILIES) == len(families) >= 8


@pytest.mark.parametrize('config', FAMILIES, ids=lambda c: Path(c).name)
def test_config_trains_two_iterations_and_tests_its_pages(config, tiny_data, tmp_path):
    from kaokore_mm.apis.train_test import test_detector, train_detector
    from kaokore_mm.utils.config import train_patching

    cfg = tiny_cfg(config, tiny_data, tmp_path, narrow=True)
    runner = train_detector(cfg)
    assert runner.iter == 2
    ckpt = tmp_path / 'iter_2.pth'
    assert ckpt.exists()
    test_cfg = tiny_cfg(config, tiny_data, tmp_path / 'test', narrow=True)
    metrics = test_detector(test_cfg, str(ckpt))
    assert metrics['face/num_pages'] == 2 and metrics['face/num_faces'] > 0
    assert 0.0 <= metrics['face/recall'] <= 1.0
    # every family's test loop gives its operating point (least correction effort) and the effort there
    op = metrics['face/operating/effort_share']
    assert 0.0 < op <= 1.0 and op <= metrics['face/effort_share'] + 1e-9
    assert metrics['face/operating/proposals'] >= 0 and metrics['face/operating/score_thr'] >= 0.0
    patched = bool(train_patching(test_cfg))
    assert (test_cfg.test_cfg.type == 'PatchedTestLoop') == patched
