"""mmpretrain's ConfusionMatrix, drawn into the run's log folder."""

from __future__ import annotations

import json
import os
import os.path as osp

from mmengine.logging import MMLogger
from mmpretrain.evaluation import ConfusionMatrix
from mmpretrain.registry import METRICS

from kaokore_mm.visualization.plots import confusion_matrix_figure, save_figure


@METRICS.register_module()
class ConfusionMatrixPlot(ConfusionMatrix):
    """Computes mmpretrain's confusion matrix and writes ``confusion_matrix.png``
    (counts and row-normalised recall) and ``confusion_matrix.json`` into
    ``out_dir`` (default: the run's log folder). Returns no scalar metrics."""

    def __init__(self, out_dir: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.out_dir = out_dir

    def compute_metrics(self, results: list) -> dict:
        matrix = super().compute_metrics(results)['result']
        out_dir = self.out_dir or osp.dirname(getattr(MMLogger.get_current_instance(), 'log_file', '') or '')
        if not out_dir:
            return {}
        os.makedirs(out_dir, exist_ok=True)
        classes = list((self.dataset_meta or {}).get('classes') or range(matrix.shape[0]))

        counts = matrix.numpy()
        save_figure(confusion_matrix_figure(counts, classes), osp.join(out_dir, 'confusion_matrix.png'), dpi=110)
        with open(osp.join(out_dir, 'confusion_matrix.json'), 'w') as f:
            json.dump(dict(classes=classes, matrix=counts.tolist()), f)
        return {}
