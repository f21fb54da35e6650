"""The smallest face a config's detector can see: its smallest anchor, in patch pixels."""

from __future__ import annotations

import math


def _resize_factor(cfg, patch_size) -> float:
    """How a patch pipeline (e.g. SSD's ``Resize`` to 300x300) scales a patch before the model."""
    for loop in ('test_cfg', 'val_cfg'):
        for t in (cfg.get(loop) or {}).get('patch_pipeline') or []:
            if t.get('type') == 'Resize' and t.get('scale'):
                scale = t['scale'] if not isinstance(t['scale'], int) else (t['scale'], t['scale'])
                return min(scale) / min(patch_size)
    return 1.0


def smallest_anchor(cfg, patch_size=None) -> float:
    """The side (square root of the area) of the smallest anchor of ``cfg``'s detector
    (its RPN's or single-stage head's anchor generator, built by mmdet), in the
    pixels of a patch of ``patch_size`` (default: the training dataset's),
    i.e. divided by the factor a patch pipeline resizes patches by.

    Raises:
        ValueError: the detector has no anchor generator (anchor-free heads).
    """
    from mmdet.registry import TASK_UTILS
    from mmengine.registry import init_default_scope

    from .config import train_patching

    init_default_scope(cfg.get('default_scope', 'mmdet'))
    gen_cfg = None
    for head in ('rpn_head', 'bbox_head'):
        h = cfg.model.get(head)
        if isinstance(h, dict) and h.get('anchor_generator'):
            gen_cfg = h['anchor_generator']
            break
    if gen_cfg is None:
        raise ValueError(f'{cfg.model.get("type")}: no anchor generator in rpn_head or bbox_head')
    gen = TASK_UTILS.build(gen_cfg)
    side = min(float(((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])).clamp(min=0).sqrt().min()) for a in gen.base_anchors)
    patch_size = patch_size or train_patching(cfg).get('patch_size')
    factor = _resize_factor(cfg, patch_size) if patch_size else 1.0
    return math.floor(side / factor * 100 + 0.5) / 100
