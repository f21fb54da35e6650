"""The review app: a local web server and a page built on OpenSeadragon and
Annotorious where an annotator corrects the proposals of the annotate tool (``annotate.py``)
(keyboard-first; every change autosaved as a W3C AnnotationPage in
``OUT/corrections/``, conflicts refused, actions logged for the effort figure)."""

from .store import ConflictError, CorrectionStore, ReviewError

__all__ = ['ConflictError', 'CorrectionStore', 'ReviewError', 'create_app']


def create_app(out_dir):
    from .app import create_app as _create

    return _create(out_dir)
