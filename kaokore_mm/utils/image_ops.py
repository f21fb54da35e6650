"""Small OpenCV image operations shared by the synthetic data and the converters."""

from __future__ import annotations

import cv2
import numpy as np


def cut_crop(img, window, size: int = 256) -> np.ndarray:
    """The square ``window`` (x1, y1, x2, y2) of ``img`` resized to ``size`` x ``size``;
    parts beyond the image replicate its border."""
    x1, y1, x2, y2 = window
    sx = size / (x2 - x1)
    m = np.array([[sx, 0, -x1 * sx], [0, sx, -y1 * sx]], np.float32)
    return cv2.warpAffine(img, m, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)


def face_window(box, pad: float = 1.25) -> list:
    """The KaoKore-like square crop window around a face box ``x1, y1, x2, y2``:
    side ``2 * pad`` times the longer side of the face, shifted up by a quarter of
    its height so that headgear fits."""
    x1, y1, x2, y2 = box
    side = max(1.0, pad * 2 * max(x2 - x1, y2 - y1))  # degenerate boxes still get a window
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 - 0.25 * (y2 - y1)
    return [cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2]
