"""The pinned stack really works: compiled ops, torchvision pairing, mmpretrain."""

import torch


def test_torchvision_nms():
    import torchvision

    keep = torchvision.ops.nms(
        torch.tensor([[0.0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]]), torch.tensor([0.9, 0.8, 0.7]), 0.5
    )
    assert keep.tolist() == [0, 2]


def test_mmcv_ops_nms_and_roi_align():
    from mmcv.ops import RoIAlign, nms

    dets, keep = nms(
        torch.tensor([[0.0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]]), torch.tensor([0.9, 0.8, 0.7]), 0.5
    )
    assert keep.tolist() == [0, 2]
    feats = torch.arange(16.0).reshape(1, 1, 4, 4)
    out = RoIAlign((2, 2), spatial_scale=1.0, sampling_ratio=1, aligned=False)(feats, torch.tensor([[0.0, 0, 0, 3, 3]]))
    assert out.shape == (1, 1, 2, 2)
    assert torch.allclose(out, torch.tensor([[[[3.75, 5.25], [9.75, 11.25]]]]))


def test_mmpretrain_models_import():
    import mmpretrain.models  # noqa: F401
    from mmpretrain.registry import MODELS

    assert MODELS.get('ResNeXt') is not None


def test_versions():
    import mmcv
    import mmdet
    import mmengine
    import mmpretrain

    assert (mmcv.__version__, mmdet.__version__, mmengine.__version__, mmpretrain.__version__) == (
        '2.1.0',
        '3.3.0',
        '0.10.7',
        '1.2.0',
    )
