"""Registered mmengine glue of the detection step: the patched validation and test loops."""

from .runner import PatchedTestLoop, PatchedValLoop

__all__ = ['PatchedTestLoop', 'PatchedValLoop']
