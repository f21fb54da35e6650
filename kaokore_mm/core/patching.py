"""Geometry of image patching (NumPy only, no OpenMMLab imports).

A page of ``W x H`` pixels is covered by a regular grid of ``patch_w x patch_h``
windows. Neighbouring windows overlap by ``round(overlap * patch)`` pixels
(``overlap`` is a ratio in ``[0, 1)``, like SAHI's ``overlap_*_ratio``). The
last row and column are not shifted back inside the page: the page is padded on
the right and bottom instead, so every patch has the detector's input size and
every pixel of the page is covered (the paper's "pad the page to a grid").

Boxes are ``(N, 4)`` arrays ``x1, y1, x2, y2`` in pixels, float.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PatchGrid:
    """The patch windows of one page, in page coordinates (``x1, y1, x2, y2``)."""

    windows: np.ndarray  # (N, 4) int64, row-major
    rows: int
    cols: int
    padded_size: tuple[int, int]  # (width, height) of the padded page
    padding: tuple[int, int]  # (right, bottom) pixels added to the page

    def __len__(self) -> int:
        return len(self.windows)


def _as_pair(value, name: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        pair = (int(value), int(value))
    else:
        pair = tuple(int(v) for v in value)
        if len(pair) != 2:
            raise ValueError(f'{name} must be an int or a (width, height) pair, got {value!r}')
    if min(pair) <= 0:
        raise ValueError(f'{name} must be positive, got {value!r}')
    return pair


def patch_stride(patch: int, overlap: float) -> int:
    """Distance between the origins of two neighbouring patches."""
    if not 0 <= overlap < 1:
        raise ValueError(f'overlap must be a ratio in [0, 1), got {overlap!r}')
    return max(1, patch - int(round(overlap * patch)))


MAX_PATCHES = 10000  # per page: beyond this a setting is a mistake (overlap 0.999 gave 7.5 million)


def _axis(length: int, patch: int, overlap: float) -> tuple[np.ndarray, int]:
    stride = patch_stride(patch, overlap)
    n = 1 if length <= patch else 1 + math.ceil((length - patch) / stride)
    starts = np.arange(n, dtype=np.int64) * stride
    return starts, int(starts[-1] + patch)


def patch_grid(img_size, patch_size, overlap: float = 0.0) -> PatchGrid:
    """The patch grid covering an image.

    Args:
        img_size: ``(width, height)`` of the page.
        patch_size: ``int`` or ``(width, height)`` of a patch.
        overlap: overlap ratio of neighbouring patches, ``0 <= overlap < 1``.
    """
    img_w, img_h = _as_pair(img_size, 'img_size')
    patch_w, patch_h = _as_pair(patch_size, 'patch_size')
    xs, padded_w = _axis(img_w, patch_w, overlap)
    ys, padded_h = _axis(img_h, patch_h, overlap)
    n = len(xs) * len(ys)  # checked before the grid is built: the axes are small, the grid is their product
    if n > MAX_PATCHES:
        raise ValueError(
            f'a page of {img_w}x{img_h} with patches of {patch_w}x{patch_h} and overlap {overlap} makes '
            f'{n} patches (more than {MAX_PATCHES}); use a smaller overlap or larger patches'
        )
    yy, xx = np.meshgrid(ys, xs, indexing='ij')
    x1, y1 = xx.ravel(), yy.ravel()
    windows = np.stack([x1, y1, x1 + patch_w, y1 + patch_h], axis=1)
    return PatchGrid(
        windows=windows,
        rows=len(ys),
        cols=len(xs),
        padded_size=(padded_w, padded_h),
        padding=(padded_w - img_w, padded_h - img_h),
    )


def overlap_for_faces(face_sizes, patch_size, q: float = 95, step: float = 0.05) -> float:
    """The test-time overlap ratio that puts the faces up to the ``q``-th
    percentile of ``face_sizes`` (longest side, px) wholly inside some patch.

    With a stride of ``patch - overlap_px``, any face no longer than
    ``overlap_px`` lies wholly inside one window of the grid; the overlap is the
    ratio of that size to the patch's shorter side, rounded up to ``step``.
    Faces cut by a patch border are then also found whole in a neighbouring
    patch, and containment-aware NMS removes the partial boxes.
    """
    sizes = np.asarray(face_sizes, dtype=np.float64).ravel()
    if sizes.size == 0:
        return 0.0
    side = min(_as_pair(patch_size, 'patch_size'))
    ratio = float(np.percentile(sizes, q)) / side
    return float(min(0.9, np.ceil(ratio / step - 1e-9) * step))


def padding_needed(img_size, patch_size, overlap: float = 0.0) -> tuple[int, int]:
    """``(right, bottom)`` padding that makes the page fit its patch grid."""
    return patch_grid(img_size, patch_size, overlap).padding


def _as_boxes(boxes) -> np.ndarray:
    arr = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) if len(boxes) else np.zeros((0, 4))
    return arr


def box_area(boxes) -> np.ndarray:
    b = _as_boxes(boxes)
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def clip_boxes(boxes, window) -> np.ndarray:
    """Clip boxes to a window ``(x1, y1, x2, y2)``; coordinates stay in the same frame."""
    b = _as_boxes(boxes).copy()
    x1, y1, x2, y2 = (float(v) for v in window)
    b[:, 0::2] = np.clip(b[:, 0::2], x1, x2)
    b[:, 1::2] = np.clip(b[:, 1::2], y1, y2)
    return b


def visible_fraction(boxes, window) -> np.ndarray:
    """Fraction of each box's area inside the window.

    A degenerate (zero-area) box counts as fully visible when its corner lies in
    the window and invisible otherwise.
    """
    b = _as_boxes(boxes)
    area = box_area(b)
    inside = box_area(clip_boxes(b, window))
    frac = np.zeros(len(b))
    pos = area > 0
    frac[pos] = inside[pos] / area[pos]
    x1, y1, x2, y2 = window
    corner_in = (b[:, 0] >= x1) & (b[:, 0] <= x2) & (b[:, 1] >= y1) & (b[:, 1] <= y2)
    frac[~pos] = corner_in[~pos].astype(float)
    return frac


def shift_boxes(boxes, offset) -> np.ndarray:
    """Translate boxes by ``offset = (dx, dy)`` (patch -> page: the patch origin)."""
    b = _as_boxes(boxes)
    dx, dy = offset
    return b + np.array([dx, dy, dx, dy], dtype=np.float64)


def boxes_to_patch(boxes, window, min_visible: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Map page boxes into one patch.

    Returns ``(patch_boxes, keep, ignore)``: every box clipped to the window and
    shifted to patch coordinates; ``keep`` marks faces with at least
    ``min_visible`` of their area inside (trained on, clipped); ``ignore`` marks
    faces that touch the patch with less than that (neither positive nor
    background: a half-visible face must not teach the detector that it is
    paper). Boxes not touching the window are neither kept nor ignored.
    """
    if not 0 < min_visible <= 1:
        raise ValueError(f'min_visible must be in (0, 1], got {min_visible!r}')
    b = _as_boxes(boxes)
    frac = visible_fraction(b, window)
    keep = frac >= min_visible
    ignore = (frac > 0) & ~keep
    patch_boxes = shift_boxes(clip_boxes(b, window), (-window[0], -window[1]))
    return patch_boxes, keep, ignore


def boxes_to_page(boxes, window, page_size=None) -> np.ndarray:
    """Map boxes predicted on a patch back to the page, clipped to the page if its size is given."""
    b = shift_boxes(boxes, (window[0], window[1]))
    if page_size is not None:
        b = clip_boxes(b, (0, 0, page_size[0], page_size[1]))
    return b


def crop_window(img: np.ndarray, window, pad_val=0) -> np.ndarray:
    """Pixels of ``window`` (``x1, y1, x2, y2``, origin inside the image) with the
    part beyond the right/bottom border filled with ``pad_val``."""
    x1, y1, x2, y2 = (int(v) for v in window)
    h, w = img.shape[:2]
    if x2 <= x1 or y2 <= y1 or not (0 <= x1 < w and 0 <= y1 < h):
        raise ValueError(f'window {tuple(window)} does not start inside an image of size {w}x{h}')
    out = np.full((y2 - y1, x2 - x1) + img.shape[2:], pad_val, dtype=img.dtype)
    out[: min(y2, h) - y1, : min(x2, w) - x1] = img[y1 : min(y2, h), x1 : min(x2, w)]
    return out
