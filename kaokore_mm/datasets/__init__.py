"""mmdet's DATASETS (``KaoKoreFaceDataset``, ``PatchedPageDataset``), TRANSFORMS (``transforms/``) and
DATA_SAMPLERS (``samplers/``): thin registered adapters over :mod:`kaokore_mm.core`, one class per file.
"""

from .kaokore_face_dataset import KaoKoreFaceDataset
from .patched_page_dataset import PatchedPageDataset
from .samplers import BookSplitSampler
from .transforms import CropPatch, LoadPageFromFile

__all__ = ['KaoKoreFaceDataset', 'PatchedPageDataset', 'BookSplitSampler', 'CropPatch', 'LoadPageFromFile']
