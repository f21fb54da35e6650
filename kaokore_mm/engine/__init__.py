from .runner import PatchedTestLoop, PatchedValLoop

__all__ = ['PatchedTestLoop', 'PatchedValLoop']
