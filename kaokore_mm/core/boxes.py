"""Box primitives and pairwise overlaps of ``x1, y1, x2, y2`` boxes (NumPy only)."""

from __future__ import annotations

import numpy as np


def as_boxes(boxes) -> np.ndarray:
    """``boxes`` as an ``(N, 4)`` float64 array (an empty input: ``(0, 4)``)."""
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4) if len(boxes) else np.zeros((0, 4))


def box_area(boxes) -> np.ndarray:
    """The area of each box (a box with a negative side has none)."""
    b = as_boxes(boxes)
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def _intersection(a, b):
    """``(a, b, inter)``: both box sets as ``(N, 4)``/``(M, 4)`` floats and their pairwise intersection areas."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    return a, b, np.prod(np.clip(rb - lt, 0, None), axis=2)


def iou_matrix(a, b) -> np.ndarray:
    """Pairwise IoU of ``(N, 4)`` and ``(M, 4)`` boxes."""
    a, b, inter = _intersection(a, b)
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def ios_matrix(a, b) -> np.ndarray:
    """Pairwise intersection over the smaller of the two areas."""
    a, b, inter = _intersection(a, b)
    smaller = np.minimum(box_area(a)[:, None], box_area(b)[None, :])
    return np.where(smaller > 0, inter / np.maximum(smaller, 1e-12), 0.0)


def ioa_matrix(a, b) -> np.ndarray:
    """Pairwise intersection over the area of the first box (pycocotools' overlap with a crowd region)."""
    a, b, inter = _intersection(a, b)
    area = box_area(a)[:, None]
    return np.where(area > 0, inter / np.maximum(area, 1e-12), 0.0)
