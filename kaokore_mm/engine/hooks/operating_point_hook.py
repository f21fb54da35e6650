"""OperatingPointHook: the validation's operating point kept in the checkpoint it was measured on."""

from __future__ import annotations

from mmdet.registry import HOOKS

from .validation_meta_hook import ValidationMetaHook, read_checkpoint_meta

KEY = 'operating_point'  # checkpoint['meta'] key


@HOOKS.register_module()
class OperatingPointHook(ValidationMetaHook):
    """Keeps the operating point :class:`~kaokore_mm.evaluation.FaceDetectionMetric` found on
    the validation pages (``face/operating/...``: the score threshold its rule chose, by default
    where a box's calibrated chance of being a face pays for proposing it, with its effort,
    precision, recall and proposals, and the Platt calibration of the scores on the same pages)
    in ``meta['operating_point']`` of the checkpoint of the weights it measured, so that
    ``annotate.py --score-thr auto`` proposes at it and ``test.py`` reports its pages there (see
    :class:`ValidationMetaHook`)."""

    key = KEY
    required = 'score_thr'
    fields = (
        'score_thr',
        'effort_share',
        'precision',
        'recall',
        'proposals',
        'least_effort',
        'least_effort_thr',
        'calib_slope',  # the scores as chances of a face (core.operating_point.score_calibration)
        'calib_intercept',
    )

    def __init__(self, prefix: str = 'face/operating'):
        super().__init__(prefix)


def read_operating_point(checkpoint) -> dict | None:
    """The operating point kept in ``checkpoint`` (see :class:`OperatingPointHook`), or ``None``."""
    return read_checkpoint_meta(checkpoint, KEY)
