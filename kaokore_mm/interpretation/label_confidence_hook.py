"""LabelConfidenceHook: the validation's label confidence kept in the checkpoint it was measured on."""

from __future__ import annotations

from mmpretrain.registry import HOOKS

from kaokore_mm.engine.hooks.validation_meta_hook import ValidationMetaHook, read_checkpoint_meta

KEY = 'label_confidence'  # checkpoint['meta'] key


@HOOKS.register_module()
class LabelConfidenceHook(ValidationMetaHook):
    """Keeps what :class:`~kaokore_mm.interpretation.LabelConfidenceMetric` measured on the
    validation crops (the temperature, the bulk-confirmation threshold, its coverage and
    accuracy) in ``meta['label_confidence']`` of the checkpoint of the weights it measured
    (see :class:`~kaokore_mm.engine.hooks.ValidationMetaHook`)."""

    key = KEY
    required = 'temperature'
    fields = ('temperature', 'threshold', 'coverage', 'accuracy', 'target', 'num', 'ece_before', 'ece_after')

    def __init__(self, prefix: str = 'confidence'):
        super().__init__(prefix)


def read_label_confidence(checkpoint) -> dict | None:
    """The label confidence kept in a classifier's ``checkpoint``, or ``None``."""
    return read_checkpoint_meta(checkpoint, KEY)
