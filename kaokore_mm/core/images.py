"""Normalising page arrays to what detectors were trained on (NumPy only)."""

from __future__ import annotations

import numpy as np


def to_bgr_uint8(img: np.ndarray, background=(255, 255, 255)) -> np.ndarray:
    """A ``H x W x 3`` uint8 BGR copy of a page as OpenCV reads it.

    Handles grayscale (``H x W`` or ``H x W x 1``), BGRA (composited over
    ``background``: transparent margins become paper, not black), and 16-bit or
    float images (scaled to 0-255: 16-bit by its full range, float by 0-1 when its
    values lie there and by its maximum otherwise).
    """
    a = np.asarray(img)
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (1, 3, 4)) or a.size == 0:
        raise ValueError(f'not an image array: shape {a.shape}')
    if a.dtype == np.uint8:
        f = a
    elif a.dtype == np.uint16:
        f = a.astype(np.float32) / 257.0
    elif np.issubdtype(a.dtype, np.floating):
        peak = float(np.nanmax(a)) if a.size else 1.0
        f = a.astype(np.float32) * (255.0 if peak <= 1.0 else 255.0 / peak)
    elif np.issubdtype(a.dtype, np.integer) or a.dtype == bool:
        peak = max(1, int(a.max()))
        f = a.astype(np.float32) * (255.0 / peak if peak > 255 else 1.0)
    else:
        raise ValueError(f'unsupported image dtype {a.dtype}')
    if f.ndim == 2:
        f = f[..., None]
    if f.shape[2] == 1:
        f = np.repeat(f, 3, axis=2)
    elif f.shape[2] == 4:
        alpha = f[..., 3:4].astype(np.float32) / 255.0
        f = f[..., :3].astype(np.float32) * alpha + np.asarray(background, np.float32) * (1 - alpha)
    if f.dtype != np.uint8:
        f = np.clip(np.rint(f), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(f)


def resize_to(img: np.ndarray, size) -> np.ndarray:
    """``img`` resized to ``size = (width, height)``: area averaging when shrinking
    (thin strokes fade instead of aliasing away), bilinear when enlarging; the
    same pixels in training (:class:`~kaokore_mm.datasets.CropPatch`) and at
    test time (:class:`~kaokore_mm.apis.PatchedPredictor`)."""
    import cv2

    w, h = int(size[0]), int(size[1])
    if (w, h) == (img.shape[1], img.shape[0]):
        return img
    shrink = w * h < img.shape[0] * img.shape[1]
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
