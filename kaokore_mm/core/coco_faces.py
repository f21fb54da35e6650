"""The faces of a COCO file as arrays (pure: NumPy only).

Every reader of true faces (the page-level metric's benchmarks, the picture of
misses, the inference benchmark, the correction benchmark, the drawings of
predictions) takes them from here: ``x1, y1, x2, y2, ignored`` rows in page
pixels, ``ignored`` from COCO's ``iscrowd`` (the ignored regions of
:class:`FaceDetectionMetric`).
"""

from __future__ import annotations

import numpy as np


def faces_by_image(coco: dict) -> dict:
    """``image id -> (N, 5)`` float array of ``x1, y1, x2, y2, ignored`` for every
    image of ``coco`` (an image without annotations has an empty ``(0, 5)``)."""
    faces = {im['id']: [] for im in coco.get('images', [])}
    for a in coco.get('annotations', []):
        x, y, w, h = a['bbox']
        faces.setdefault(a['image_id'], []).append([x, y, x + w, y + h, float(bool(a.get('iscrowd', 0)))])
    return {k: np.array(v, np.float64).reshape(-1, 5) for k, v in faces.items()}


def faces_by_file_name(coco: dict, key=None) -> dict:
    """As :func:`faces_by_image`, keyed by ``key(file_name)`` (the file name itself by
    default); two images with one key is an error (their faces would mix)."""
    key = key or (lambda name: name)
    by_id = faces_by_image(coco)
    out = {}
    for im in coco.get('images', []):
        k = key(im['file_name'])
        if k in out:
            raise ValueError(f'two images are named {k!r}: {im["file_name"]!r} and another')
        out[k] = by_id[im['id']]
    return out
