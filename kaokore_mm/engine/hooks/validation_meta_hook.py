"""ValidationMetaHook: figures a validation measured, kept in the checkpoint of the weights it measured."""

from __future__ import annotations

import io
import math
from pathlib import Path

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from kaokore_mm.utils.io import atomic_write_bytes


class ValidationMetaHook(Hook):
    """Keeps the metrics ``<prefix>/<field>`` of each validation in ``meta[<key>]`` of the
    checkpoint of the weights they were measured on, with the iteration and epoch, so that a
    tool given the checkpoint alone finds them (:func:`read_checkpoint_meta`).

    mmengine saves an epoch's (or interval's) checkpoint in ``after_train_*``, before the
    validation of the same weights runs: the hook writes the figures into that checkpoint
    afterwards (when its ``meta['iter']`` is the current iteration; an atomic rewrite, on the
    main process), and into every checkpoint saved after the validation before the next
    training iteration changes the weights (the best one; the last one mmengine saves again).
    A validation without these metrics changes nothing. Subclasses name the prefix, the
    fields and the key (:class:`~kaokore_mm.engine.hooks.OperatingPointHook`,
    :class:`~kaokore_mm.interpretation.LabelConfidenceHook`).
    """

    priority = 'NORMAL'  # before CheckpointHook (VERY_LOW), which saves the best checkpoint after validation
    key: str = ''
    fields: tuple = ()
    required: str = ''  # the field without which a validation reported nothing of this kind

    def __init__(self, prefix: str):
        self.prefix = prefix
        self._point = None  # the figures of the weights as they are now (None once they train on)

    def from_metrics(self, metrics: dict) -> dict | None:
        """The figures of a validation's metrics (undefined ones as ``None``), or ``None``
        when the validation did not report the ``required`` one."""
        got = {k: metrics.get(f'{self.prefix}/{k}') for k in self.fields}
        if got.get(self.required) is None:
            return None
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in got.items()}

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self._point = None  # runs before CheckpointHook's save of this iteration: weights not validated

    def after_val_epoch(self, runner, metrics: dict | None = None) -> None:
        point = self.from_metrics(metrics or {})
        if point is None:
            return
        point.update(iter=int(runner.iter), epoch=int(runner.epoch), measured_on='validation')
        self._point = point
        last = runner.message_hub.get_info('last_ckpt')
        if last and is_main_process() and Path(last).is_file():
            add_to_checkpoint(last, self.key, point)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self._point is not None:
            checkpoint.setdefault('meta', {})[self.key] = dict(self._point)


def add_to_checkpoint(path, key: str, point: dict) -> bool:
    """Write ``point`` into ``meta[key]`` of the checkpoint at ``path`` when that checkpoint holds
    the weights it was measured on (``meta['iter']``); atomic."""
    import torch

    ck = torch.load(path, map_location='cpu', weights_only=True)
    meta = ck.setdefault('meta', {})
    if meta.get('iter') != point.get('iter'):
        return False
    meta[key] = dict(point)
    buf = io.BytesIO()
    torch.save(ck, buf)
    atomic_write_bytes(path, buf.getvalue())
    return True


def read_checkpoint_meta(checkpoint, key: str) -> dict | None:
    """``meta[key]`` of ``checkpoint`` (see :class:`ValidationMetaHook`), or ``None``."""
    import torch

    # mmap: the weights stay on disk; mmengine's types are allowed by kaokore_mm.compat
    ck = torch.load(checkpoint, map_location='cpu', weights_only=True, mmap=True)
    point = (ck.get('meta') or {}).get(key)
    return dict(point) if point else None
