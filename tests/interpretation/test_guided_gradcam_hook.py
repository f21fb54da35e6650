from unittest.mock import MagicMock

import cv2
import numpy as np
import torch

from kaokore_mm.interpretation import GuidedGradCAMHook
from tests.interpretation.test_guided_gradcam import tiny_classifier


def crops_dataset(tmp_path):
    from kaokore_mm.interpretation import KaoKoreCrops

    (tmp_path / 'images_256').mkdir()
    rows = ['image,gender,status,set']
    for i in range(6):
        cv2.imwrite(
            str(tmp_path / 'images_256' / f'{i:08d}.jpg'),
            np.random.default_rng(i).integers(0, 255, (48, 48, 3), dtype=np.uint8),
        )
        rows.append(f'{i:08d}.jpg,{i % 2},{i % 3},dev')
    (tmp_path / 'labels.csv').write_text('\n'.join(rows) + '\n')
    return KaoKoreCrops(
        data_root=str(tmp_path), split='dev', pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')]
    )


def mocked_runner(tmp_path, model, dataset):
    runner = MagicMock()
    runner.model = model
    runner.work_dir = str(tmp_path / 'work')
    runner.epoch, runner.iter = 3, 30
    runner.val_dataloader.dataset = dataset
    runner.test_dataloader.dataset = dataset
    return runner


def test_hook_writes_panels_and_leaves_training_alone(tmp_path):
    model = tiny_classifier().train()
    dataset = crops_dataset(tmp_path)
    runner = mocked_runner(tmp_path, model, dataset)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    relus = [id(m) for m in model.modules() if isinstance(m, torch.nn.ReLU)]
    hook = GuidedGradCAMHook(num_per_class=1, interval=2)
    hook.after_val_epoch(runner, {})
    assert not (tmp_path / 'work' / 'cam').exists()  # interval 2: not the first validation
    with torch.no_grad():  # as inside mmengine's ValLoop
        hook.after_val_epoch(runner, {})
    panels = sorted((tmp_path / 'work' / 'cam' / 'val_epoch_3_iter_30').glob('*.png'))
    assert [p.name for p in panels] == ['incarnation_00002.png', 'noble_00000.png', 'warrior_00001.png']
    assert cv2.imread(str(panels[0])).shape[1] > 500
    assert runner.visualizer.add_image.call_count == 3
    hook.after_test_epoch(runner, {})
    assert len(list((tmp_path / 'work' / 'cam' / 'test').glob('*.png'))) == 3
    # training state untouched
    assert model.training and all(p.grad is None for p in model.parameters())
    assert [id(m) for m in model.modules() if isinstance(m, torch.nn.ReLU)] == relus
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items() if 'num_batches' not in k)
    assert all(len(m._forward_hooks) == 0 and len(m._backward_hooks) == 0 for m in model.modules())


def test_repeated_use_does_not_grow_memory(tmp_path):
    import gc

    model = tiny_classifier().train()
    runner = mocked_runner(tmp_path, model, crops_dataset(tmp_path))
    hook = GuidedGradCAMHook(num_per_class=1)
    hook.after_val_epoch(runner, {})
    gc.collect()
    before = len(gc.get_objects())
    for _ in range(3):
        hook.after_val_epoch(runner, {})
    gc.collect()
    assert len(gc.get_objects()) - before < 2000  # no tensors, hooks or figures piling up


def test_only_rank_0_writes(tmp_path, monkeypatch):
    import mmengine.dist.utils as dist_utils

    model = tiny_classifier().eval()
    runner = mocked_runner(tmp_path, model, crops_dataset(tmp_path))
    monkeypatch.setattr(dist_utils, 'get_rank', lambda group=None: 1)
    GuidedGradCAMHook(num_per_class=1).after_test_epoch(runner, {})
    assert not (tmp_path / 'work' / 'cam').exists() and runner.visualizer.add_image.call_count == 0
    monkeypatch.setattr(dist_utils, 'get_rank', lambda group=None: 0)
    GuidedGradCAMHook(num_per_class=1).after_test_epoch(runner, {})
    assert len(list((tmp_path / 'work' / 'cam' / 'test').glob('*.png'))) == 3
