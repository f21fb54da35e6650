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
