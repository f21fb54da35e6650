"""Does the CAM point at what carries the status? (crops where that part is known)

On face crops with a recorded status part (``status_parts.csv``, written by the
synthetic generator, :mod:`kaokore_mm.synthetic`):

- pointing game (Zhang et al., ECCV 2016): among correctly classified crops,
  the share whose Grad-CAM peak (for the predicted class) lies inside the
  status part or within ``tolerance`` x the image side of its border (the
  original game allows 15 px on ~224 px images); the strict share (no
  tolerance) too;
- deletion check: the mean drop of the predicted class's score when the square
  of side ``region`` x the image side around the CAM peak is blanked (to the
  image's mean colour), against the same square at a random place (seeded).
"""

from __future__ import annotations

import csv
import math
import os.path as osp

import numpy as np
import torch

from kaokore_mm.interpretation.guided_gradcam import GuidedGradCAM


def peak_distance(cam: np.ndarray, part) -> tuple[float, tuple[int, int]]:
    """Distance (pixels of ``cam``) from the CAM's peak (pixel centre) to the box
    ``part`` (x1, y1, x2, y2, same pixels; 0 inside), and the peak (y, x)."""
    cy, cx = np.unravel_index(int(np.argmax(cam)), cam.shape)
    x1, y1, x2, y2 = part
    px, py = cx + 0.5, cy + 0.5
    return float(np.hypot(max(x1 - px, 0, px - x2), max(y1 - py, 0, py - y2))), (int(cy), int(cx))


def blank(x: torch.Tensor, cy: int, cx: int, half: int, fill) -> torch.Tensor:
    """A copy of the batch ``x`` with the square of half side ``half`` around (cy, cx) set to ``fill``."""
    y = x.clone()
    h, w = y.shape[-2:]
    y[..., max(0, cy - half) : min(h, cy + half), max(0, cx - half) : min(w, cx + half)] = fill
    return y


def class_score(model, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return torch.softmax(model(x, mode='tensor'), dim=1)[0]


def read_parts(data_root: str, split: str) -> tuple[list[dict], dict]:
    """The ``labels.csv`` rows of ``split`` with a status label and a recorded part, and the parts."""
    with open(osp.join(data_root, 'status_parts.csv'), newline='') as f:
        parts = {r['image']: [float(r[k]) for k in ('x1', 'y1', 'x2', 'y2')] for r in csv.DictReader(f)}
    with open(osp.join(data_root, 'labels.csv'), newline='') as f:
        rows = [r for r in csv.DictReader(f) if r['set'] == split and r['image'] in parts and r['status'].isdigit()]
    return rows, parts


def pointing_game(
    model,
    cfg,
    data_root: str,
    split: str = 'test',
    method: str = 'gradcam',
    region: float = 0.25,
    tolerance: float = 15 / 224,
    crop_size: int = 256,
    seed: int = 0,
    progress: bool = True,
) -> dict:
    """Play the pointing game and the deletion check with a status classifier.

    Args:
        model: an mmpretrain classifier in eval mode (see :func:`build_classifier`).
        cfg: its config (the test pipeline is used).
        data_root: crops with ``labels.csv``, ``status_parts.csv`` and ``images_256/``.
        split: the ``labels.csv`` set to use.
        method: ``'gradcam'`` or ``'gradcam++'``.
        region: side of the blanked square, share of the image side.
        tolerance: hit distance from the part, share of the image side.
        crop_size: size of the crops the parts refer to.
        seed: seed of the random squares.
        progress: show a progress bar.

    Returns:
        The counts and shares (``pointing_game``, ``pointing_game_strict``,
        ``score_drop_top_cam``, ``score_drop_random``; NaN when undefined).
    """
    from mmengine.dataset import Compose

    if cfg.test_dataloader.dataset.get('task', 'status') != 'status':
        raise ValueError('the pointing game needs a status classifier (the recorded part carries the status)')
    rows, parts = read_parts(data_root, split)
    pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    cam = GuidedGradCAM(model, method=method)
    rng = np.random.default_rng(seed)
    hits = strict = correct = 0
    drops_cam, drops_rand = [], []
    bar = None
    if progress:
        from mmengine.utils import ProgressBar

        bar = ProgressBar(len(rows))
    for r in rows:
        packed = pipeline(dict(img_path=osp.join(data_root, 'images_256', r['image'])))
        img = packed['inputs'].permute(1, 2, 0).numpy()
        gt = int(r['status'])
        res = cam(img, 'pred')
        if bar is not None:
            bar.update()
        if res.pred != gt:
            continue
        correct += 1
        h, w = res.cam.shape
        k = w / crop_size  # the test pipeline resizes the square crop to the input size
        dist, (cy, cx) = peak_distance(res.cam, [v * k for v in parts[r['image']]])
        strict += int(dist == 0)
        hits += int(dist <= tolerance * w)
        x = cam.prepare(img)
        base = float(class_score(model, x)[gt])
        half = max(1, int(round(region * w / 2)))
        fill = x.mean(dim=(2, 3), keepdim=True)
        drops_cam.append(base - float(class_score(model, blank(x, cy, cx, half, fill))[gt]))
        ry, rx = int(rng.integers(half, h - half + 1)), int(rng.integers(half, w - half + 1))
        drops_rand.append(base - float(class_score(model, blank(x, ry, rx, half, fill))[gt]))
    return dict(
        split=split,
        method=method,
        crops=len(rows),
        correct=correct,
        accuracy=correct / max(1, len(rows)),
        hits=hits,
        pointing_game=hits / correct if correct else math.nan,
        tolerance=tolerance,
        pointing_game_strict=strict / correct if correct else math.nan,
        score_drop_top_cam=float(np.mean(drops_cam)) if drops_cam else math.nan,
        score_drop_random=float(np.mean(drops_rand)) if drops_rand else math.nan,
        region=region,
    )
