"""mmpretrain's ConfusionMatrix, drawn into the run's log folder."""
from __future__ import annotations

import json
import os
import os.path as osp

from mmengine.logging import MMLogger
from mmpretrain.evaluation import ConfusionMatrix
from mmpretrain.registry import METRICS


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
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        counts = matrix.numpy()
        recall = counts / counts.sum(1, keepdims=True).clip(min=1)
        fig, ax = plt.subplots(figsize=(1.3 * len(classes) + 2.5, 1.1 * len(classes) + 2))
        ax.imshow(recall, cmap='Blues', vmin=0, vmax=1)
        for i in range(len(classes)):
            for j in range(len(classes)):
                ax.text(j, i, f'{counts[i, j]:d}\n{recall[i, j]:.0%}', ha='center', va='center',
                        color='white' if recall[i, j] > 0.5 else 'black', fontsize=8)
        ax.set(xticks=range(len(classes)), yticks=range(len(classes)), xticklabels=classes, yticklabels=classes,
               xlabel='predicted', ylabel='true', title='confusion matrix (count, share of the true class)')
        plt.setp(ax.get_xticklabels(), rotation=30, ha='right')
        fig.tight_layout()
        fig.savefig(osp.join(out_dir, 'confusion_matrix.png'), dpi=110)
        plt.close(fig)
        with open(osp.join(out_dir, 'confusion_matrix.json'), 'w') as f:
            json.dump(dict(classes=classes, matrix=counts.tolist()), f)
        return {}
