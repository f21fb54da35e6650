"""HOOKS: ``TrainTimeHook`` (training seconds kept in the checkpoints, across resumes),
``OperatingPointHook`` (the validation's operating point kept in the checkpoint it was measured
on; its base ``ValidationMetaHook`` serves the classifier's label confidence) and
``HardNegativeMiningHook`` (partway through a patched training, the model's false boxes on its
training pages become hard negatives)."""

from .hard_negative_mining_hook import HardNegativeMiningHook
from .operating_point_hook import OperatingPointHook, read_operating_point
from .train_time_hook import TrainTimeHook, train_seconds
from .validation_meta_hook import ValidationMetaHook, read_checkpoint_meta

__all__ = [
    'HardNegativeMiningHook',
    'OperatingPointHook',
    'TrainTimeHook',
    'ValidationMetaHook',
    'read_checkpoint_meta',
    'read_operating_point',
    'train_seconds',
]
