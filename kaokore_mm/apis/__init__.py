"""What users and tools call: the patched page predictor and ``PageInferencer`` (pages in, page boxes
out), ``read_page``, training and testing in this process (``train_test``), resumable experiments and
sweeps, the demo, the patching benchmark and the split report. Tools are thin command lines over these.
"""

from .page_inferencer import PageInferencer, predictor_from_config, read_page
from .patched_predictor import PatchedPredictor

__all__ = ['PageInferencer', 'PatchedPredictor', 'predictor_from_config', 'read_page']
