"""HOOKS: ``TrainTimeHook`` (training seconds kept in the checkpoints, across resumes)."""

from .train_time_hook import TrainTimeHook, train_seconds

__all__ = ['TrainTimeHook', 'train_seconds']
