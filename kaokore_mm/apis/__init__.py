from .patched_predictor import PatchedPredictor

__all__ = ['PatchedPredictor']
