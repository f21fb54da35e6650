"""Pictures of pages with true and predicted face boxes (OpenCV only)."""

from __future__ import annotations

import json
import os.path as osp
import pickle
from pathlib import Path

import cv2
import numpy as np

GT_COLOUR = (60, 180, 60)  # BGR green
PRED_COLOUR = (40, 40, 230)  # BGR red


def draw_page_boxes(
    img: np.ndarray, gt_boxes=(), pred_boxes=(), pred_scores=(), score_thr: float = 0.5, max_side: int = 1600
) -> np.ndarray:
    """A copy of the page, scaled to ``max_side``, with true faces in green and
    predictions scoring ``>= score_thr`` in red with their score."""
    scale = min(1.0, max_side / max(img.shape[:2]))
    out = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else img.copy()
    t = max(1, round(2 * max(out.shape[:2]) / 1600))
    for b in np.asarray(gt_boxes, float).reshape(-1, 4) * scale:
        cv2.rectangle(out, tuple(int(v) for v in b[:2]), tuple(int(v) for v in b[2:]), GT_COLOUR, t + 1)
    for b, s in zip(np.asarray(pred_boxes, float).reshape(-1, 4) * scale, np.asarray(pred_scores, float)):
        if s < score_thr:
            continue
        p1, p2 = tuple(int(v) for v in b[:2]), tuple(int(v) for v in b[2:])
        cv2.rectangle(out, p1, p2, PRED_COLOUR, t)
        cv2.putText(
            out, f'{s:.2f}', (p1[0], max(10, p1[1] - 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * t, PRED_COLOUR, t, cv2.LINE_AA
        )
    return out


def draw_prediction_pages(ann_file, predictions, out_dir, score_thr: float = 0.5, limit: int | None = None) -> list:
    """Draw the pages of a predictions pickle (``test.py --out``) with their
    annotated faces (from the COCO ``ann_file``) into ``out_dir``; returns the
    written paths."""
    coco = json.loads(Path(ann_file).read_text())
    gts = {}
    for a in coco['annotations']:
        x, y, w, h = a['bbox']
        gts.setdefault(a['image_id'], []).append([x, y, x + w, y + h])
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(predictions, 'rb') as f:
        results = pickle.load(f)
    written = []
    for r in results[:limit]:
        pred = r['pred_instances']
        pic = draw_page_boxes(
            cv2.imread(r['img_path']),
            gts.get(r['img_id'], []),
            np.asarray(pred['bboxes']),
            np.asarray(pred['scores']),
            score_thr,
        )
        path = out_dir / osp.basename(r['img_path'])
        cv2.imwrite(str(path), pic)
        written.append(path)
    return written
