from .crop_patch import CropPatch

__all__ = ['CropPatch']
