from .page_inferencer import PageInferencer, predictor_from_config, read_page
from .patched_predictor import PatchedPredictor

__all__ = ['PageInferencer', 'PatchedPredictor', 'predictor_from_config', 'read_page']
