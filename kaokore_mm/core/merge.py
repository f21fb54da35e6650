"""Merging of boxes predicted on overlapping patches (NumPy only)."""
from __future__ import annotations

import numpy as np

from .patching import box_area

MERGE_METHODS = ('nms', )


def iou_matrix(a, b) -> np.ndarray:
    """Pairwise IoU of ``(N, 4)`` and ``(M, 4)`` boxes."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def nms(boxes, scores, iou_thr: float = 0.5, labels=None) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, highest score first.

    With ``labels``, boxes of different labels never suppress each other.
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    scores = np.asarray(scores, np.float64).reshape(-1)
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    if labels is not None:  # offset trick: boxes of different labels never overlap
        labels = np.asarray(labels).reshape(-1)
        span = float(boxes.max() - min(boxes.min(), 0) + 1)
        boxes = boxes + (labels.astype(np.float64) * span)[:, None]
    order = np.argsort(-scores, kind='stable')
    keep = []
    while len(order):
        i = order[0]
        keep.append(i)
        if len(order) == 1:
            break
        ious = iou_matrix(boxes[i:i + 1], boxes[order[1:]])[0]
        order = order[1:][ious <= iou_thr]
    return np.asarray(keep, dtype=np.int64)
