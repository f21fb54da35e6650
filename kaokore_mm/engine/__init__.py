from importlib.util import find_spec

from .runner import PatchedTestLoop, PatchedValLoop

__all__ = ['PatchedTestLoop', 'PatchedValLoop']

if find_spec('mmpretrain') is not None:  # the interpretation step
    from .hooks import GuidedGradCAMHook  # noqa: F401
    __all__.append('GuidedGradCAMHook')
