from .confusion_matrix_plot import ConfusionMatrixPlot
from .kaokore_crops import CLASSES, KaoKoreCrops

__all__ = ['CLASSES', 'ConfusionMatrixPlot', 'KaoKoreCrops']
