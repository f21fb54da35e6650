"""The review app: a local web server and a page built on OpenSeadragon and
Annotorious where an annotator corrects the proposals of the annotate tool (``annotate.py``)
(keyboard-first; every change autosaved as a W3C AnnotationPage in
``OUT/corrections/``, conflicts refused, actions logged for the effort figure)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .store import ConflictError, CorrectionStore, ReviewError

if TYPE_CHECKING:
    from starlette.applications import Starlette

__all__ = ['ConflictError', 'CorrectionStore', 'ReviewError', 'create_app']


def create_app(out_dir, **kwargs) -> Starlette:
    """:func:`kaokore_mm.review.app.create_app` (same arguments), imported when first
    called so that the store is usable without the web stack."""
    from .app import create_app as _create  # lazy: the store without the web stack (starlette, uvicorn)

    return _create(out_dir, **kwargs)
