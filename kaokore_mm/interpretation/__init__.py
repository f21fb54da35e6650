"""The interpretation step, in one place: classify face crops by status or gender
with an mmpretrain classifier, and show what drives a class (Guided Grad-CAM).

- ``kaokore_crops.py``: ``KaoKoreCrops``, the face-crop dataset (mmpretrain ``DATASETS``);
- ``confusion_matrix_plot.py``: ``ConfusionMatrixPlot`` (mmpretrain ``METRICS``);
- ``guided_gradcam.py``: ``GuidedGradCAM`` on a classifier (grad-cam library), the CAM panel;
- ``guided_gradcam_hook.py``: ``GuidedGradCAMHook``, panels after validation/test (mmpretrain ``HOOKS``);
- ``pointing_game.py``: does the map point at the face? (the CAM sanity check);
- ``face_classifier.py``: ``build_classifier`` and ``FaceClassifier`` (status/gender of detected faces,
  with calibrated scores and the labels confident enough to confirm in bulk);
- ``label_confidence_metric.py``: ``LabelConfidenceMetric`` (mmpretrain ``METRICS``): temperature and
  bulk threshold on the validation crops;
- ``label_confidence_hook.py``: ``LabelConfidenceHook`` (mmpretrain ``HOOKS``): them, in the checkpoint.

The label vocabulary is :mod:`kaokore_mm.core.labels`.
"""

from .confusion_matrix_plot import ConfusionMatrixPlot
from .face_classifier import FaceClassifier, build_classifier
from .guided_gradcam import CAMResult, ClassifierLogits, GuidedGradCAM, cam_panel, default_target_layer
from .guided_gradcam_hook import GuidedGradCAMHook
from .kaokore_crops import CLASSES, KaoKoreCrops
from .label_confidence_hook import LabelConfidenceHook, read_label_confidence
from .label_confidence_metric import LabelConfidenceMetric

__all__ = [
    'CAMResult',
    'CLASSES',
    'ClassifierLogits',
    'ConfusionMatrixPlot',
    'FaceClassifier',
    'GuidedGradCAM',
    'GuidedGradCAMHook',
    'KaoKoreCrops',
    'LabelConfidenceHook',
    'LabelConfidenceMetric',
    'build_classifier',
    'cam_panel',
    'default_target_layer',
    'read_label_confidence',
]
