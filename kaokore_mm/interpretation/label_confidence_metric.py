"""LabelConfidenceMetric: how far a classifier's labels can be trusted without a person."""

from __future__ import annotations

import numpy as np
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS

from kaokore_mm.core.calibration import label_confidence


@METRICS.register_module()
class LabelConfidenceMetric(BaseMetric):
    """Fits the temperature that calibrates the classifier's probabilities on these crops and
    the calibrated confidence above which its labels are right at least ``target`` of the
    time (:func:`kaokore_mm.core.calibration.label_confidence`). Reports
    ``confidence/temperature``, ``threshold``, ``coverage`` (the share of labels a person could
    confirm in bulk), ``accuracy`` (theirs), ``target``, ``ece_before`` and ``ece_after``.
    :class:`~kaokore_mm.interpretation.LabelConfidenceHook` keeps them in the validated
    checkpoint, where :class:`~kaokore_mm.interpretation.FaceClassifier` finds them."""

    default_prefix = 'confidence'

    def __init__(self, target: float = 0.95, collect_device: str = 'cpu', prefix: str | None = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not 0.0 < target <= 1.0:
            raise ValueError(f'LabelConfidenceMetric: target must be in (0, 1], got {target}')
        self.target = target

    def process(self, data_batch, data_samples) -> None:
        for ds in data_samples:
            score = ds['pred_score']
            label = ds['gt_label']
            self.results.append(
                dict(
                    score=(score.detach().cpu().numpy() if hasattr(score, 'detach') else np.asarray(score)),
                    label=int(label.reshape(-1)[0] if hasattr(label, 'reshape') else label),
                )
            )

    def compute_metrics(self, results: list) -> dict:
        probs = np.stack([r['score'] for r in results]).astype(np.float64)
        labels = np.array([r['label'] for r in results])
        return label_confidence(probs, labels, self.target)
