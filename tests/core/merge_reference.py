"""The first, NumPy-loop implementations of the merges: the reference the
tensor implementations in :mod:`kaokore_mm.core.merge` are tested against.

Merging of boxes predicted on overlapping patches (NumPy only).

* ``nms``: greedy non-maximum suppression by IoU (the default);
* ``nmm``: greedy non-maximum *merging*, as SAHI's ``GREEDYNMM``: the best box
  absorbs every box that matches it by intersection-over-smaller (``ios``, the
  default: a face cut by a patch border is a small box inside the whole one) or
  IoU, and becomes their union, keeping the best score;
* ``wbf``: weighted box fusion (Solovyev et al.): clusters by IoU with the
  running fused box, coordinates averaged with the scores as weights, score the
  mean of the cluster (the reference ``conf_type='avg'`` for one model).

Every function takes optional ``labels``: boxes of different labels never merge.
"""

from __future__ import annotations

import numpy as np

MERGE_METHODS = ('nms', 'nmm', 'wbf')


# the pairwise overlaps are the package's (kaokore_mm.core.boxes): only the merges are frozen here
from kaokore_mm.core.boxes import ios_matrix, iou_matrix  # noqa: E402,F401


def _offset_by_label(boxes, labels):
    """Move boxes of different labels apart so that they never overlap."""
    if labels is None or len(boxes) == 0:
        return boxes
    labels = np.asarray(labels).reshape(-1)
    span = float(boxes.max() - min(boxes.min(), 0) + 1)
    return boxes + (labels.astype(np.float64) * span)[:, None]


def nms(boxes, scores, iou_thr: float = 0.5, labels=None) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, highest score first.

    With ``labels``, boxes of different labels never suppress each other.
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    scores = np.asarray(scores, np.float64).reshape(-1)
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    boxes = _offset_by_label(boxes, labels)
    order = np.argsort(-scores, kind='stable')
    keep = []
    while len(order):
        i = order[0]
        keep.append(i)
        if len(order) == 1:
            break
        ious = iou_matrix(boxes[i : i + 1], boxes[order[1:]])[0]
        order = order[1:][ious <= iou_thr]
    return np.asarray(keep, dtype=np.int64)


def greedy_nmm(boxes, scores, match_thr: float = 0.5, match_metric: str = 'ios', labels=None):
    """Greedy non-maximum merging. Returns ``(boxes, scores, keep)``: the merged
    boxes (union of each group), the best score of each group, and the index of
    the box that led each group (for labels and other fields)."""
    if match_metric not in ('ios', 'iou'):
        raise ValueError(f'match_metric must be ios or iou, got {match_metric!r}')
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    scores = np.asarray(scores, np.float64).reshape(-1)
    if len(boxes) == 0:
        return np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64)
    shifted = _offset_by_label(boxes, labels)
    sim = (ios_matrix if match_metric == 'ios' else iou_matrix)(shifted, shifted)
    order = list(np.argsort(-scores, kind='stable'))
    out_boxes, out_scores, keep = [], [], []
    taken = np.zeros(len(boxes), bool)
    for i in order:
        if taken[i]:
            continue
        group = [j for j in order if not taken[j] and (j == i or sim[i, j] >= match_thr)]
        taken[group] = True
        g = boxes[group]
        out_boxes.append([g[:, 0].min(), g[:, 1].min(), g[:, 2].max(), g[:, 3].max()])
        out_scores.append(scores[i])
        keep.append(i)
    return np.asarray(out_boxes), np.asarray(out_scores), np.asarray(keep, dtype=np.int64)


def weighted_box_fusion(boxes, scores, iou_thr: float = 0.55, labels=None):
    """Weighted box fusion of one model's boxes. Returns ``(boxes, scores, keep)``
    as :func:`greedy_nmm` (``keep``: the first, best box of each cluster)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    scores = np.asarray(scores, np.float64).reshape(-1)
    lab = np.zeros(len(boxes), np.int64) if labels is None else np.asarray(labels).reshape(-1)
    if len(boxes) == 0:
        return np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64)
    clusters: list[list[int]] = []
    fused: list[np.ndarray] = []
    for i in np.argsort(-scores, kind='stable'):
        best, best_iou = -1, iou_thr
        for c, fb in enumerate(fused):
            if lab[clusters[c][0]] != lab[i]:
                continue
            iou = iou_matrix(fb[None], boxes[i : i + 1])[0, 0]
            if iou > best_iou or (best == -1 and iou >= iou_thr):
                best, best_iou = c, iou
        if best == -1:
            clusters.append([i])
            fused.append(boxes[i].copy())
        else:
            clusters[best].append(i)
            w = scores[clusters[best]]
            fused[best] = (boxes[clusters[best]] * w[:, None]).sum(0) / max(w.sum(), 1e-12)
    out_scores = np.array([scores[c].mean() for c in clusters])
    return np.asarray(fused), out_scores, np.array([c[0] for c in clusters], dtype=np.int64)
