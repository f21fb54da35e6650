"""Semi-automatic annotation: page sources with stable keys, proposals per page
(resumable, tagged with the model, sharded over processes) and the files
annotators and IIIF viewers load (COCO, W3C AnnotationPages, CSV, review images)."""

from .annotator import (
    DEFAULT_BASE_URL,
    DEFAULT_SCORE_THR,
    BadPageError,
    annotate_pages,
    describe_score_threshold,
    face_proposer,
    model_tag,
    predict_pages,
    score_threshold,
    write_outputs,
)
from .pages import PageSourceError, page_stem, pages_from_folder, pages_from_manifest, pages_from_manifest_pages

__all__ = [
    'DEFAULT_BASE_URL',
    'DEFAULT_SCORE_THR',
    'BadPageError',
    'PageSourceError',
    'annotate_pages',
    'describe_score_threshold',
    'face_proposer',
    'model_tag',
    'page_stem',
    'pages_from_folder',
    'pages_from_manifest',
    'pages_from_manifest_pages',
    'predict_pages',
    'score_threshold',
    'write_outputs',
]
