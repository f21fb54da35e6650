"""Registered mmengine glue of the detection step: the patched validation and test loops, the
training-time hook."""

from .hooks import TrainTimeHook
from .runner import PatchedTestLoop, PatchedValLoop

__all__ = ['PatchedTestLoop', 'PatchedValLoop', 'TrainTimeHook']
