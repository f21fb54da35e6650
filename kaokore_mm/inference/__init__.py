"""The inference engine below the loops, the tools and the API: ``PatchedPredictor`` (a page
cut into the views' patch windows, the detector run on every patch, the boxes shifted back
and merged) and ``PageInferencer`` (pages in, page boxes out, from a config and a checkpoint).
As mmdet's ``models/test_time_augs``, it imports only the core, the utils and OpenMMLab, so
the registered test loops (:mod:`kaokore_mm.engine.runner`) and everything above use one engine.
"""

from .page_inferencer import PageInferencer, predictor_from_config, read_page
from .patched_predictor import PatchedPredictor

__all__ = ['PageInferencer', 'PatchedPredictor', 'predictor_from_config', 'read_page']
