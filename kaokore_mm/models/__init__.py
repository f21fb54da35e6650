"""MODELS: fixes of mmdet's models for this stack (``FixedSSDHead``)."""

from .fixed_ssd_head import FixedSSDHead

__all__ = ['FixedSSDHead']
