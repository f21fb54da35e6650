"""The faces of a COCO file as arrays (pure: NumPy only).

Every reader of true faces (the page-level metric's benchmarks, the picture of
misses, the inference benchmark, the correction benchmark, the drawings of
predictions, the scoring of proposals against corrections) takes them from
here: ``x1, y1, x2, y2, ignored`` rows in page pixels, ``ignored`` from COCO's
``iscrowd`` (the ignored regions of :class:`FaceDetectionMetric`). Detections
in COCO (annotate's predictions) are read the same way with ``column='score'``:
``x1, y1, x2, y2, score`` rows, a box without a score scoring 1.
"""

from __future__ import annotations

import numpy as np

from .labels import TASKS

COLUMNS = {
    'ignored': lambda a: float(bool(a.get('iscrowd', 0))),
    'score': lambda a: float(a.get('score', 1.0)),
}


def faces_by_image(coco: dict, column: str = 'ignored') -> dict:
    """``image id -> (N, 5)`` float array of ``x1, y1, x2, y2, <column>`` for every
    image of ``coco`` (an image without annotations has an empty ``(0, 5)``);
    ``column`` is ``'ignored'`` (faces) or ``'score'`` (detections)."""
    fifth = COLUMNS[column]
    faces = {im['id']: [] for im in coco.get('images', [])}
    for a in coco.get('annotations', []):
        x, y, w, h = a['bbox']
        faces.setdefault(a['image_id'], []).append([x, y, x + w, y + h, fifth(a)])
    return {k: np.array(v, np.float64).reshape(-1, 5) for k, v in faces.items()}


def faces_by_file_name(coco: dict, key=None, column: str = 'ignored') -> dict:
    """As :func:`faces_by_image`, keyed by ``key(file_name)`` (the file name itself by
    default); two images with one key is an error (their faces would mix)."""
    key = key or (lambda name: name)
    by_id = faces_by_image(coco, column)
    out = {}
    for im in coco.get('images', []):
        k = key(im['file_name'])
        if k in out:
            raise ValueError(f'two images are named {k!r}: {im["file_name"]!r} and another')
        out[k] = by_id[im['id']]
    return out


def labels_by_file_name(coco: dict, key=None, kinds=tuple(TASKS)) -> dict:
    """``key(file_name) -> [labels of each face]``, the faces in the order and with the filter of
    :func:`faces_by_file_name` rows that are not ignored: each a ``{kind: label}`` of the
    annotation's ``attributes`` of the label ``kinds`` (``status``, ``gender``)."""
    key = key or (lambda name: name)
    per_image = {im['id']: [] for im in coco.get('images', [])}
    for a in coco.get('annotations', []):
        if not a.get('iscrowd', 0):
            attrs = a.get('attributes') or {}
            per_image.setdefault(a['image_id'], []).append({k: attrs[k] for k in kinds if attrs.get(k) in TASKS[k]})
    return {key(im['file_name']): per_image[im['id']] for im in coco.get('images', [])}
