"""TRANSFORMS: ``LoadPageFromFile`` (pages decoded once per worker) and ``CropPatch`` (a patch of the grid)."""

from .crop_patch import CropPatch
from .load_page_from_file import LoadPageFromFile

__all__ = ['CropPatch', 'LoadPageFromFile']
