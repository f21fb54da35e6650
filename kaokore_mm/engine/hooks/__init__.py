"""HOOKS: ``TrainTimeHook`` (training seconds kept in the checkpoints, across resumes) and
``OperatingPointHook`` (the validation's least-effort score threshold kept in the checkpoint
it was measured on; its base ``ValidationMetaHook`` serves the classifier's label confidence)."""

from .operating_point_hook import OperatingPointHook, read_operating_point
from .train_time_hook import TrainTimeHook, train_seconds
from .validation_meta_hook import ValidationMetaHook, read_checkpoint_meta

__all__ = [
    'OperatingPointHook',
    'TrainTimeHook',
    'ValidationMetaHook',
    'read_checkpoint_meta',
    'read_operating_point',
    'train_seconds',
]
