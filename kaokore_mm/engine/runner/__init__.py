"""LOOPS: ``PatchedValLoop`` and ``PatchedTestLoop``, one body (``PatchedLoopMixin``)."""

from .patched_loops import PatchedLoopMixin, PatchedTestLoop, PatchedValLoop

__all__ = ['PatchedLoopMixin', 'PatchedTestLoop', 'PatchedValLoop']
