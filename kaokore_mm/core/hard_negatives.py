"""Hard negatives: where a detector fires on no face, and the training patches that hold those places.

A patched training keeps every patch with a face and only a share of the others
(``empty_patch_ratio``): plain paper teaches little, but a crest, a fan or a
rooftop that an earlier model took for a face teaches what a face is not. Given
that model's detections on the training pages (a test run's ``--out`` dump with the
train subset), :func:`false_fires` keeps its confident boxes that overlap no
face, and :func:`windows_holding` marks the patches that show one of them; the
dataset keeps those patches whatever the ratio (offline hard negative mining, as
in Felzenszwalb et al.'s bootstrapping, at the patch level; OHEM's online
version, mmdet's ``OHEMSampler``, picks RoIs within the patches a training
already sees, not which patches it sees).

Pure NumPy.
"""

from __future__ import annotations

import numpy as np

from .face_metrics import crowd_iou_matrix
from .patching import visible_fraction


def false_fire_flags(
    det_boxes, det_scores, gt_boxes, gt_ignore=None, score_thr: float = 0.3, max_overlap: float = 0.1
) -> np.ndarray:
    """Per detection (``x1, y1, x2, y2``), whether it scores at least ``score_thr``
    and overlaps no face: IoU at most ``max_overlap`` with every face, an ignored
    face counting as a crowd region (intersection over the detection's area, as
    the metric). A loose or partial box of a face is no background fire: its
    patch shows the face anyway."""
    boxes = np.asarray(det_boxes, np.float64).reshape(-1, 4)
    scores = np.asarray(det_scores, np.float64).reshape(-1)
    if len(scores) != len(boxes):
        raise ValueError(f'{len(boxes)} boxes but {len(scores)} scores')
    gt = np.asarray(gt_boxes, np.float64).reshape(-1, 4)
    ignore = np.zeros(len(gt), bool) if gt_ignore is None else np.asarray(gt_ignore, bool).reshape(-1)
    flags = scores >= score_thr
    if len(gt) and flags.any():
        flags &= crowd_iou_matrix(boxes, gt, ignore).max(axis=1) <= max_overlap
    return flags


def false_fires(
    det_boxes, det_scores, gt_boxes, gt_ignore=None, score_thr: float = 0.3, max_overlap: float = 0.1
) -> np.ndarray:
    """The ``(K, 4)`` detections that :func:`false_fire_flags` flags."""
    boxes = np.asarray(det_boxes, np.float64).reshape(-1, 4)
    return boxes[false_fire_flags(boxes, det_scores, gt_boxes, gt_ignore, score_thr, max_overlap)]


def windows_holding(boxes, windows, min_visible: float = 0.5) -> np.ndarray:
    """Per window (``x1, y1, x2, y2``), whether at least ``min_visible`` of some box lies inside it."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    windows = np.asarray(windows, np.float64).reshape(-1, 4)
    if not len(boxes):
        return np.zeros(len(windows), bool)
    return np.array([bool((visible_fraction(boxes, w) >= min_visible).any()) for w in windows], dtype=bool)
