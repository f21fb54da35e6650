"""The smallest face a config's detector can see: its smallest anchor, in patch pixels.

Anchor-free detectors (RTMDet, YOLOX, FCOS, DETR-like) have no anchor: their
smallest face is taken as ``POINT_CELLS`` cells of their finest feature map (the
head's prior strides, else the backbone's first output stage), i.e. 32 px at
stride 8, the side of the smallest anchor of mmdet's R50-FPN (8 x stride 4) and
COCO's "small" bound.
"""

from __future__ import annotations

import math

from kaokore_mm.utils.config import train_patching


def _resize_factor(cfg, patch_size) -> float:
    """How a patch pipeline (e.g. SSD's ``Resize`` to 300x300) scales a patch before the model."""
    for loop in ('test_cfg', 'val_cfg'):
        for t in (cfg.get(loop) or {}).get('patch_pipeline') or []:
            if t.get('type') == 'Resize' and t.get('scale'):
                scale = t['scale'] if not isinstance(t['scale'], int) else (t['scale'], t['scale'])
                return min(scale) / min(patch_size)
    return 1.0


POINT_CELLS = 4
# Backbones whose stage i has stride 2 ** (i + 2) (a stride-4 stem or patch embedding).
STRIDE4_BACKBONES = ('ResNet', 'ResNetV1d', 'ResNeXt', 'Res2Net', 'RegNet', 'SwinTransformer', 'ResNeSt')


def _strides(s) -> list[float]:
    return [float(min(v) if isinstance(v, (list, tuple)) else v) for v in s]


def finest_stride(model: dict) -> float:
    """The stride of the finest feature map a head predicts from (its prior
    generator's or its own ``strides``, else the backbone's first output stage)."""
    head = model.get('bbox_head') or {}
    for key in ('prior_generator', 'anchor_generator'):
        gen = head.get(key)
        if isinstance(gen, dict) and gen.get('strides'):
            return min(_strides(gen['strides']))
    if head.get('strides'):
        return min(_strides(head['strides']))
    backbone = model.get('backbone') or {}
    if str(backbone.get('type', '')).split('.')[-1] in STRIDE4_BACKBONES and backbone.get('out_indices'):
        return float(2 ** (min(backbone['out_indices']) + 2))
    raise ValueError(f'{model.get("type")}: no anchor generator, prior strides or known backbone strides')


def smallest_anchor(cfg, patch_size=None) -> float:
    """The side (square root of the area) of the smallest anchor of ``cfg``'s detector
    (its RPN's or single-stage head's anchor generator, built by mmdet), in the
    pixels of a patch of ``patch_size`` (default: the training dataset's),
    i.e. divided by the factor a patch pipeline resizes patches by.

    Anchor-free heads: ``POINT_CELLS`` x :func:`finest_stride`.

    Raises:
        ValueError: neither anchors nor strides can be found.
    """
    from mmdet.registry import TASK_UTILS
    from mmengine.registry import init_default_scope

    init_default_scope(cfg.get('default_scope', 'mmdet'))
    gen_cfg = None
    for head in ('rpn_head', 'bbox_head'):
        h = cfg.model.get(head)
        if isinstance(h, dict) and h.get('anchor_generator'):
            gen_cfg = h['anchor_generator']
            break
    gen = TASK_UTILS.build(gen_cfg) if gen_cfg is not None else None
    if gen is not None and hasattr(gen, 'base_anchors'):
        side = min(
            float(((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])).clamp(min=0).sqrt().min()) for a in gen.base_anchors
        )
    else:  # point priors (RTMDet), strides only (YOLOX, FCOS) or queries (DETR-like)
        side = POINT_CELLS * finest_stride(cfg.model)
    patch_size = patch_size or train_patching(cfg).get('patch_size')
    factor = _resize_factor(cfg, patch_size) if patch_size else 1.0
    return math.floor(side / factor * 100 + 0.5) / 100
