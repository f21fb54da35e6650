"""kaokore_mm: face detection and interpretation for pre-modern Japanese picture
scrolls and books, as plugins of MMDetection 3.x.

Importing the package registers its datasets, transforms, samplers, loops and
models into mmdet's registries (``custom_imports=dict(imports=['kaokore_mm'])``)
and applies the fixes of :mod:`kaokore_mm.compat` to the pinned stack.
"""
from . import compat  # noqa: F401  (first: fixes to the stack)
from . import apis, datasets, engine, models  # noqa: F401

__version__ = '0.1.0'
