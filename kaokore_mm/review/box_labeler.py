"""BoxLabeler: the face classifier's labels for a box a person drew in the review app."""

from __future__ import annotations

import threading
from pathlib import Path

from kaokore_mm.core.page_files import read_page


class BoxLabeler:
    """Labels a drawn box as the annotate tool labels a proposal: the classifier's label for the
    face in it, its calibrated score, and whether it is *sure* (right >= 95 % of the time on the
    classifier's validation, so it may be confirmed in bulk). ``classifier`` is a
    :class:`~kaokore_mm.interpretation.FaceClassifier` (or any callable ``(page_bgr, boxes) ->
    [(label, score, sure)]`` with a ``task``). The last page read is kept (a person draws the
    faces of one page, then the next); calls are serialised (one model)."""

    def __init__(self, classifier):
        self.classifier = classifier
        self._lock = threading.Lock()
        self._page = (None, None)

    def __call__(self, image: Path, box_xywh, width: int, height: int) -> dict:
        """``{kind: dict(label, score, sure)}`` for the box ``x, y, w, h`` (image pixels) of the
        page image ``image`` (``width`` x ``height``): four numbers, as the review app's request
        schema has checked them (:class:`~kaokore_mm.converters.schemas.BoxRequest`);
        ``ValueError`` naming what is wrong with a box that is no box of that page."""
        x, y, w, h = (float(v) for v in box_xywh)
        if w <= 0 or h <= 0:
            raise ValueError(f'bbox width and height must be positive, got {list(box_xywh)}')
        x1, y1, x2, y2 = max(0.0, x), max(0.0, y), min(float(width), x + w), min(float(height), y + h)
        if x2 - x1 < 1 or y2 - y1 < 1:
            raise ValueError(f'the box {[x, y, w, h]} lies outside the page ({width} x {height} px)')
        with self._lock:
            if self._page[0] != image:
                self._page = (image, read_page(image))
            label, score, sure = self.classifier(self._page[1], [[x1, y1, x2, y2]])[0]
        return {self.classifier.task: dict(label=str(label), score=float(score), sure=bool(sure))}
