"""A page's static IIIF Image API level-0 tile pyramid, written beside the annotations.

Viewers (OpenSeadragon in the review app, Mirador) then load the few tiles of
what is on screen instead of the whole scan. The pyramid's layout (which tiles,
their canonical URLs) is :func:`kaokore_mm.core.iiif.level0_tiles`; this module
only cuts and encodes them with OpenCV (area averaging when shrinking, as
everywhere else in the project).

Why not a library: IIIF's static tilers (``iiif`` / iiif_static.py, vips
``dzsave --layout iiif3``) are a dependency each (vips a system one) for the
~30 lines below, and ours writes the same canonical paths OpenSeadragon asks for.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from kaokore_mm.core.iiif import TILE, level0_info, level0_tiles
from kaokore_mm.utils.io import atomic_write_bytes, atomic_write_json


def write_tiles(img: np.ndarray, folder, image_id: str, quality: int = 85, tile: int = TILE) -> int:
    """Write ``folder/info.json`` and ``folder/{region}/{size}/0/default.jpg`` for
    ``img`` (BGR); returns the number of tiles."""
    folder = Path(folder)
    h, w = img.shape[:2]
    scales, tiles = level0_tiles(w, h, tile)
    levels = {1: img}
    for s in scales[1:]:
        levels[s] = cv2.resize(img, (-(-w // s), -(-h // s)), interpolation=cv2.INTER_AREA)
    for t in tiles:
        s = t['scale']
        x, y = t['box'][0] // s, t['box'][1] // s
        ow, oh = t['out']
        crop = levels[s][y : y + oh, x : x + ow]
        ok, buf = cv2.imencode('.jpg', crop, [cv2.IMWRITE_JPEG_QUALITY, quality])
        atomic_write_bytes(folder / t['region'] / t['size'] / '0' / 'default.jpg', buf.tobytes())
    atomic_write_json(folder / 'info.json', level0_info(image_id, w, h, tile), indent=1)
    return len(tiles)
