"""What users and tools call: ``PageInferencer`` (pages in, page boxes out) and the patched page
predictor (from :mod:`kaokore_mm.inference`, re-exported as mmdet's ``apis`` exports its
inferencer), ``read_page``, training and testing in this process (``train_test``), resumable
experiments and sweeps, the campaign, the demo, the split report. Tools are thin command lines
over these.
"""

from kaokore_mm.inference import PageInferencer, PatchedPredictor, predictor_from_config, read_page

__all__ = ['PageInferencer', 'PatchedPredictor', 'predictor_from_config', 'read_page']
