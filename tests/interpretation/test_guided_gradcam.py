import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

import kaokore_mm  # noqa: F401
from kaokore_mm.interpretation import GuidedGradCAM


def tiny_classifier():
    init_default_scope('mmpretrain')
    from mmpretrain.registry import MODELS

    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='ImageClassifier',
            data_preprocessor=dict(mean=[127.5] * 3, std=[127.5] * 3, to_rgb=True),
            backbone=dict(type='ResNet', depth=18, base_channels=8, out_indices=(3,)),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=4, in_channels=64),
        )
    )


def test_maps_are_right_and_the_model_is_left_as_it_was():
    model = tiny_classifier().train()
    relus = [(n, id(m), m.inplace) for n, m in model.named_modules() if isinstance(m, torch.nn.ReLU)]
    hooks = sum(len(m._forward_hooks) + len(m._backward_hooks) for m in model.modules())
    img = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    cam = GuidedGradCAM(model)
    r = cam(img, target=2)
    assert r.target == 2 and 0 <= r.pred < 4 and r.scores.shape == (4,) and abs(r.scores.sum() - 1) < 1e-5
    assert r.cam.shape == (64, 64) and 0 <= r.cam.min() and r.cam.max() <= 1
    assert r.guided.shape == r.guided_gradcam.shape == r.overlay.shape == (64, 64, 3)
    assert r.guided.dtype == np.uint8 and r.guided.std() > 0
    # Guided Grad-CAM is guided backprop weighted by the map: it varies little where
    # the map is weak and much where it is strong
    assert r.cam.std() > 0.05
    low, high = r.cam <= np.quantile(r.cam, 0.25), r.cam >= np.quantile(r.cam, 0.75)
    gg = r.guided_gradcam.astype(np.float64)
    assert gg[low].std() < 0.5 * gg[high].std()
    # the model is as before: mode, the very same ReLU objects, no gradients, no hooks, no grad mode
    assert model.training
    assert [(n, id(m), m.inplace) for n, m in model.named_modules() if isinstance(m, torch.nn.ReLU)] == relus
    assert all(p.grad is None for p in model.parameters())
    assert sum(len(m._forward_hooks) + len(m._backward_hooks) for m in model.modules()) == hooks
    with torch.no_grad():
        cam(img)  # works under no_grad (e.g. inside a validation loop)
    assert torch.is_grad_enabled()  # grad mode back as it was outside
    assert cam(img, target='pred').target == cam(img).pred


def test_gradcam_plus_plus_and_bad_target():
    model = tiny_classifier().eval()
    img = np.zeros((32, 32, 3), np.uint8)
    assert GuidedGradCAM(model, method='gradcam++')(img).cam.shape == (32, 32)
    with pytest.raises(ValueError, match='out of range'):
        GuidedGradCAM(model)(img, target=7)
    assert not model.training
    with pytest.raises(ValueError, match='valid: gradcam, gradcam\\+\\+'):
        GuidedGradCAM(model, method='scorecam')


def test_pointing_game_distance_from_the_peak_to_the_part():
    from kaokore_mm.interpretation.pointing_game import peak_distance

    cam = np.zeros((10, 10))
    cam[2, 7] = 1.0  # peak at pixel (y=2, x=7): centre (7.5, 2.5)
    assert peak_distance(cam, [6, 1, 9, 4]) == (0.0, (2, 7))  # inside
    d, _ = peak_distance(cam, [0, 5.5, 4.5, 9])  # left-below: dx 3, dy 3
    assert abs(d - np.hypot(3, 3)) < 1e-9
