"""kaokore_mm: face detection and interpretation for pre-modern Japanese picture
scrolls and books, as plugins of MMDetection 3.x.

Importing the package registers its datasets, transforms, samplers, loops,
metrics and models into mmdet's registries (``custom_imports=dict(imports=
['kaokore_mm'])``) and applies the fixes of :mod:`kaokore_mm.compat` to the
pinned stack. The pure modules (:mod:`kaokore_mm.core`, :mod:`kaokore_mm.synthetic`)
need only NumPy and OpenCV and stay importable where OpenMMLab is not installed.
"""

from importlib.util import find_spec

__version__ = '0.1.0'

if find_spec('mmcv') is not None and find_spec('mmdet') is not None:
    from . import (  # noqa: F401
        apis,
        compat,  # noqa: F401  (first: fixes to the stack)
        datasets,
        engine,
        evaluation,
        models,
    )

    if find_spec('mmpretrain') is not None:
        from . import interpretation  # noqa: F401  (mmpretrain registries)
