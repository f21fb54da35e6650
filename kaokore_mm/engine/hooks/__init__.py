"""HOOKS: ``TrainTimeHook`` (training seconds kept in the checkpoints, across resumes) and
``OperatingPointHook`` (the validation's least-effort score threshold kept in the checkpoint
it was measured on)."""

from .operating_point_hook import OperatingPointHook, read_operating_point
from .train_time_hook import TrainTimeHook, train_seconds

__all__ = ['OperatingPointHook', 'TrainTimeHook', 'read_operating_point', 'train_seconds']
