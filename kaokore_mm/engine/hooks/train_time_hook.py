"""TrainTimeHook: the wall-clock seconds a training has taken, across resumes."""

from __future__ import annotations

import time

from mmdet.registry import HOOKS
from mmengine.hooks import Hook

KEY = 'train_seconds'  # the runtime-info key, saved in every checkpoint's message hub


@HOOKS.register_module()
class TrainTimeHook(Hook):
    """Keeps the seconds of training so far in the runner's runtime info, which
    mmengine saves in every checkpoint and restores on ``--resume``: the final
    checkpoint says how long the iterations that made it took (validation
    included, the time a killed run spent after its last checkpoint not), which
    the wall clock of a resumed run cannot. :func:`train_seconds` reads it.

    Runs before ``CheckpointHook`` (priority VERY_LOW) so that an iteration's
    checkpoint holds the time up to that iteration."""

    priority = 'NORMAL'

    def before_train(self, runner) -> None:
        self._base = float(runner.message_hub.get_info(KEY, 0.0))
        self._t0 = time.perf_counter()

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        runner.message_hub.update_info(KEY, self._base + time.perf_counter() - self._t0)


def train_seconds(checkpoint) -> float | None:
    """The training seconds recorded in ``checkpoint``. A checkpoint written without
    :class:`TrainTimeHook` gives the sum of the iteration times mmengine's
    ``IterTimerHook`` logged, when its history still holds every iteration (it keeps
    the last 1000; validation not included), else ``None``."""
    import torch

    # mmap: the weights stay on disk (only the message hub is read); mmengine's types: kaokore_mm.compat
    ck = torch.load(checkpoint, map_location='cpu', weights_only=True, mmap=True)
    hub = ck.get('message_hub') or {}
    value = hub.get('runtime_info', {}).get(KEY)
    if value is not None:
        return float(value)
    times = hub.get('log_scalars', {}).get('train/time')
    iters = (ck.get('meta') or {}).get('iter')  # the iterations done (the message hub's is 0-based)
    if times is None or not iters:
        return None
    history = times.data[0]
    return float(history.sum()) if len(history) == iters else None
