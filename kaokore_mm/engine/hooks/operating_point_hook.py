"""OperatingPointHook: the validation's operating point kept in the checkpoint it was measured on."""

from __future__ import annotations

import io
import math
from pathlib import Path

from mmdet.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from kaokore_mm.utils.io import atomic_write_bytes

KEY = 'operating_point'  # checkpoint['meta'] key and runtime-info key
FIELDS = ('score_thr', 'effort_share', 'precision', 'recall', 'proposals')


def from_metrics(metrics: dict, prefix: str = 'face') -> dict | None:
    """The operating point of a validation's metrics (``face/operating/...``), or ``None``
    when the metric reported none (a classifier, an evaluator without it)."""
    got = {k: metrics.get(f'{prefix}/operating/{k}') for k in FIELDS}
    if got['score_thr'] is None:
        return None
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in got.items()}


@HOOKS.register_module()
class OperatingPointHook(Hook):
    """Keeps the operating point :class:`~kaokore_mm.evaluation.FaceDetectionMetric`
    found on the validation pages (the score threshold of least correction effort)
    in ``meta['operating_point']`` of the checkpoint of the weights it was
    measured on, with the iteration and the validation's size, so that
    ``annotate.py --score-thr auto`` proposes at it.

    mmengine saves an epoch's (or interval's) checkpoint in ``after_train_*``,
    before the validation of the same weights runs: the hook writes the point
    into that checkpoint afterwards (when its ``meta['iter']`` is the current
    iteration; an atomic rewrite, on the main process), and into every
    checkpoint saved after the validation before the next training iteration
    changes the weights (the best one; the last one mmengine saves again).
    """

    priority = 'NORMAL'  # before CheckpointHook (VERY_LOW), which saves the best checkpoint after validation

    def __init__(self, prefix: str = 'face'):
        self.prefix = prefix
        self._point = None  # the point of the weights as they are now (None once they train on)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._point = None  # runs before CheckpointHook's save of this iteration: weights not validated

    def after_val_epoch(self, runner, metrics: dict | None = None) -> None:
        point = from_metrics(metrics or {}, self.prefix)
        if point is None:
            return
        point.update(iter=int(runner.iter), epoch=int(runner.epoch), measured_on='validation')
        self._point = point
        last = runner.message_hub.get_info('last_ckpt')
        if last and is_main_process() and Path(last).is_file():
            add_to_checkpoint(last, point)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self._point is not None:
            checkpoint.setdefault('meta', {})[KEY] = dict(self._point)


def add_to_checkpoint(path, point: dict) -> bool:
    """Write ``point`` into ``meta['operating_point']`` of the checkpoint at ``path`` when
    that checkpoint holds the weights it was measured on (``meta['iter']``); atomic."""
    import torch

    ck = torch.load(path, map_location='cpu', weights_only=True)
    meta = ck.setdefault('meta', {})
    if meta.get('iter') != point.get('iter'):
        return False
    meta[KEY] = dict(point)
    buf = io.BytesIO()
    torch.save(ck, buf)
    atomic_write_bytes(path, buf.getvalue())
    return True


def read_operating_point(checkpoint) -> dict | None:
    """The operating point kept in ``checkpoint`` (see :class:`OperatingPointHook`), or ``None``."""
    import torch

    # mmap: the weights stay on disk; mmengine's types are allowed by kaokore_mm.compat
    ck = torch.load(checkpoint, map_location='cpu', weights_only=True, mmap=True)
    point = (ck.get('meta') or {}).get(KEY)
    return dict(point) if point else None
