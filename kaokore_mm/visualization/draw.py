"""Pictures of pages with true and predicted face boxes (OpenCV only)."""

from __future__ import annotations

import json
import os.path as osp
import pickle
from pathlib import Path

import cv2
import numpy as np

from kaokore_mm.core.coco_faces import faces_by_image
from kaokore_mm.core.face_metrics import match_page

GT_COLOUR = (60, 180, 60)  # BGR green


def score_colour(score: float) -> tuple[int, int, int]:
    """BGR from orange (doubtful, 0.3 and below) to green (sure, 0.9 and above), as the review app colours."""
    t = float(np.clip((score - 0.3) / 0.6, 0.0, 1.0))
    orange, green = np.array((0, 152, 255)), np.array((80, 175, 76))
    return tuple(int(v) for v in (1 - t) * orange + t * green)


def place_labels(boxes, sizes, width: int, height: int) -> list[tuple[int, int]]:
    """Top-left corners for the text boxes ``sizes`` (w, h) of ``boxes`` (x1, y1, x2, y2),
    tried above the box, below it, then inside its top, each shifted along the box,
    taking the first place that overlaps no label placed before (else the least
    overlapping); kept on the picture."""
    placed, out = [], []
    for (x1, y1, x2, y2), (w, h) in zip(np.asarray(boxes, float).reshape(-1, 4), sizes):
        candidates = []
        for dx in (0, x2 - x1 - w, -w):
            for top in (y1 - h - 2, y2 + 2, y1 + 2):
                x = int(np.clip(x1 + dx, 0, max(0, width - w)))
                y = int(np.clip(top, 0, max(0, height - h)))
                candidates.append((x, y))

        best = min(candidates, key=lambda c: _overlap((*c, w, h), placed))
        placed.append((best[0], best[1], w, h))
        out.append(best)
    return out


def _overlap(rect, others) -> float:
    x, y, w, h = rect
    return sum(max(0, min(x + w, a + b) - max(x, a)) * max(0, min(y + h, c + d) - max(y, c)) for a, c, b, d in others)


def draw_page_boxes(
    img: np.ndarray,
    gt_boxes=(),
    pred_boxes=(),
    pred_scores=(),
    score_thr: float = 0.5,
    max_side: int = 1600,
    labels=None,
) -> np.ndarray:
    """A copy of the page, scaled to ``max_side``, with true faces in green and
    predictions scoring ``>= score_thr`` coloured by score (:func:`score_colour`)
    with their score (and ``labels``, e.g. the proposed status) placed so that
    labels do not overlap (:func:`place_labels`)."""
    scale = min(1.0, max_side / max(img.shape[:2]))
    out = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else img.copy()
    t = max(1, round(2 * max(out.shape[:2]) / 1600))
    for b in np.asarray(gt_boxes, float).reshape(-1, 4) * scale:
        cv2.rectangle(out, tuple(int(v) for v in b[:2]), tuple(int(v) for v in b[2:]), GT_COLOUR, t + 1)
    boxes = np.asarray(pred_boxes, float).reshape(-1, 4) * scale
    scores = np.asarray(pred_scores, float).reshape(-1)
    keep = [i for i in range(len(boxes)) if scores[i] >= score_thr]
    texts = [f'{scores[i]:.2f}' + (f' {labels[i]}' if labels is not None and labels[i] else '') for i in keep]
    font, fs = cv2.FONT_HERSHEY_SIMPLEX, 0.4 * t
    sizes = []
    for s in texts:
        (w, h), base = cv2.getTextSize(s, font, fs, t)
        sizes.append((w, h + base))
    spots = place_labels(boxes[keep], sizes, out.shape[1], out.shape[0])
    for i, text, (x, y), (w, h) in zip(keep, texts, spots, sizes):
        colour = score_colour(scores[i])
        p1, p2 = tuple(int(v) for v in boxes[i, :2]), tuple(int(v) for v in boxes[i, 2:])
        cv2.rectangle(out, p1, p2, colour, t)
        cv2.rectangle(out, (x, y), (x + w, y + h), (255, 255, 255), -1)
        cv2.putText(out, text, (x, y + h - 2), font, fs, colour, t, cv2.LINE_AA)
    return out


def draw_prediction_pages(ann_file, predictions, out_dir, score_thr: float = 0.5, limit: int | None = None) -> list:
    """Draw the pages of a predictions pickle (``test.py --out``) with their
    annotated faces (from the COCO ``ann_file``) into ``out_dir``; returns the
    written paths."""
    gts = faces_by_image(json.loads(Path(ann_file).read_text()))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(predictions, 'rb') as f:
        results = pickle.load(f)
    written = []
    for r in results[:limit]:
        pred = r['pred_instances']
        pic = draw_page_boxes(
            cv2.imread(r['img_path']),
            gts.get(r['img_id'], np.zeros((0, 5)))[:, :4],
            np.asarray(pred['bboxes']),
            np.asarray(pred['scores']),
            score_thr,
        )
        path = out_dir / osp.basename(r['img_path'])
        cv2.imwrite(str(path), pic)
        written.append(path)
    return written


def draw_misses(ann_file, dumps: dict, out_path, score_thr: float = 0.5, per_row: int = 12, cell: int = 112) -> str:
    """One picture of the faces each run missed: a row per run (``dumps``:
    name -> predictions pickle), its missed faces (no box scoring ``>= score_thr``
    at IoU 0.5, matched as :class:`FaceDetectionMetric` does) as crops with some
    context, the largest first, and the count; returns the path written."""
    faces = faces_by_image(json.loads(Path(ann_file).read_text()))
    label_w, rows = 220, []
    for name, preds in dumps.items():
        with open(preds, 'rb') as f:
            results = pickle.load(f)
        missed, total = [], 0
        for r in results:
            gt = faces.get(r['img_id'], np.zeros((0, 5)))
            p = r['pred_instances']
            boxes, scores = np.asarray(p['bboxes']).reshape(-1, 4), np.asarray(p['scores']).reshape(-1)
            keep = scores >= score_thr
            m = match_page(boxes[keep], scores[keep], gt[:, :4], gt_ignore=gt[:, 4] > 0, max_dets=None)
            found = set(m.matched_gt[m.tp].tolist())
            real = np.flatnonzero(gt[:, 4] == 0)
            total += len(real)
            missed += [(r['img_path'], gt[g, :4]) for g in real if g not in found]
        missed.sort(key=lambda t: -max(t[1][2] - t[1][0], t[1][3] - t[1][1]))
        row = np.full((cell + 8, label_w + per_row * (cell + 4), 3), 255, np.uint8)
        cv2.putText(row, name, (6, cell // 2), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(
            row,
            f'missed {len(missed)}/{total}',
            (6, cell // 2 + 24),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            (0, 0, 200),
            1,
            cv2.LINE_AA,
        )
        for k, (path, b) in enumerate(missed[:per_row]):
            img = cv2.imread(path)
            if img is None:
                continue
            side = max(b[2] - b[0], b[3] - b[1]) * 1.6
            cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
            x1, y1 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
            x2, y2 = int(min(img.shape[1], cx + side / 2)), int(min(img.shape[0], cy + side / 2))
            crop = img[y1:y2, x1:x2].copy()
            cv2.rectangle(crop, (int(b[0] - x1), int(b[1] - y1)), (int(b[2] - x1), int(b[3] - y1)), GT_COLOUR, 2)
            crop = cv2.resize(crop, (cell, cell), interpolation=cv2.INTER_AREA)
            cv2.putText(
                crop, f'{int(side / 1.6)}px', (3, cell - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 200), 1, cv2.LINE_AA
            )
            x = label_w + k * (cell + 4)
            row[4 : 4 + cell, x : x + cell] = crop
        rows.append(row)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if rows:
        cv2.imwrite(str(out_path), np.concatenate(rows, axis=0), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return str(out_path)
