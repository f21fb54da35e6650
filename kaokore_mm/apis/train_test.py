"""Python API: train and test a config in this process with mmengine's Runner.

What the train and test tools (``train.py``, ``test.py``) run after parsing their
arguments, and what sweeps and benchmarks call (no script is run by path, so
an installed, non-editable package works the same):

>>> cfg = load_config('configs/demo/faster_rcnn_r18_patch512_demo.py')
>>> runner = train_detector(cfg)
>>> metrics = test_detector(cfg, f'{cfg.work_dir}/iter_500.pth')

Both check the config's data, split and evaluator before the Runner starts
(:func:`~kaokore_mm.utils.preflight.check_config`) and turn the user's errors
(bad pages, an empty split subset, a refused checkpoint) into one-line
:class:`~kaokore_mm.utils.cli.UserError`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import os.path as osp
import pickle
import time
from typing import TYPE_CHECKING

from kaokore_mm.compat import check_checkpoint, explain_refused_checkpoints, trusted_checkpoint_loading
from kaokore_mm.engine.hooks import read_operating_point
from kaokore_mm.evaluation import DumpPageResults
from kaokore_mm.utils.cli import UserError, data_errors_as_user_errors
from kaokore_mm.utils.io import atomic_write_json
from kaokore_mm.utils.preflight import building, check_config
from kaokore_mm.utils.weights import check_weights_fit

if TYPE_CHECKING:
    from mmengine.runner import Runner

_RUNS = itertools.count()


def build_runner(cfg) -> Runner:
    """mmengine's Runner of ``cfg`` (its ``runner_type`` if set), with an
    experiment name unique in this process: two runs of one config within a
    second would otherwise share mmengine's logger and visualizer instances."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    if not cfg.get('experiment_name'):
        stem = osp.splitext(osp.basename(cfg.filename or 'config'))[0]
        cfg.experiment_name = f'{stem}_{time.strftime("%Y%m%d_%H%M%S")}_{os.getpid()}_{next(_RUNS)}'
    with building(cfg.filename or 'the config', 'the run (model, loaders, hooks)'):
        return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)


def _loading(trust_checkpoint: bool):
    return trusted_checkpoint_loading() if trust_checkpoint else contextlib.nullcontext()


def check_runner_weights(runner, checkpoint, name: str, partial_load: bool) -> None:
    """The Runner's model against ``checkpoint`` before it loads it (mmengine loads non-strictly)."""
    check_weights_fit(runner.model, checkpoint, name, partial_load)


def train_detector(cfg, trust_checkpoint: bool = False, partial_load: bool = False) -> Runner:
    """Train ``cfg`` (a config with its overrides applied and ``work_dir`` set).

    Args:
        cfg: the mmengine config (detector or classifier).
        trust_checkpoint: load ``load_from``/resume checkpoints with
            ``weights_only=False`` (files from a trusted source only).
        partial_load: start from a ``load_from`` whose weights are not all the
            model's (e.g. a detector of other classes); refused otherwise.

    Returns:
        The Runner after training.
    """
    name = cfg.filename or 'the config'
    if cfg.get('load_from'):
        check_checkpoint(cfg.load_from, 'load_from')
    check_config(cfg, name, 'train')
    runner = build_runner(cfg)
    with (
        _loading(trust_checkpoint),
        explain_refused_checkpoints(cfg.get('load_from') or 'the checkpoint to resume from'),
        data_errors_as_user_errors(name),
    ):
        if cfg.get('load_from'):
            check_runner_weights(runner, cfg.load_from, name, partial_load)
        runner.train()
    return runner


def with_val_point(cfg, checkpoint) -> dict | None:
    """Give the page metrics of ``cfg``'s test evaluator the operating point the checkpoint's
    validation chose (``val_point_thr``), so that the test reports the figures at it; returns
    the point (``None`` for a checkpoint without one)."""
    try:
        point = read_operating_point(checkpoint)
    except (pickle.UnpicklingError, RuntimeError, OSError, EOFError):
        return None  # a checkpoint the test's own loading refuses (or trusts) with its own message
    evaluators = cfg.get('test_evaluator')
    evaluators = evaluators if isinstance(evaluators, (list, tuple)) else [evaluators] if evaluators else []
    if point and point.get('score_thr') is not None:
        for ev in evaluators:
            if str(ev.get('type', '')).split('.')[-1] == 'FaceDetectionMetric':
                ev['val_point_thr'] = float(point['score_thr'])
    return point


def test_detector(
    cfg,
    checkpoint: str,
    out: str | None = None,
    trust_checkpoint: bool = False,
    metrics_file: str | None = 'test_metrics.json',
    partial_load: bool = False,
) -> dict:
    """Test ``checkpoint`` with ``cfg``'s test loader and evaluator.

    Args:
        cfg: the mmengine config with ``work_dir`` set.
        checkpoint: the weights to test.
        out: also dump the page predictions to this ``.pkl`` file.
        trust_checkpoint: load with ``weights_only=False``.
        partial_load: test a checkpoint whose weights are not all the model's.
        metrics_file: written (strict JSON, rank 0) into the work dir with the
            metrics, the config, the checkpoint and the seconds of the test
            loop; None writes nothing.

    Returns:
        The metrics.
    """
    name = cfg.filename or 'the config'
    if out is not None and not out.endswith(('.pkl', '.pickle')):
        raise UserError(f'`out` must name a .pkl or .pickle file, got {out}')
    check_checkpoint(checkpoint)
    cfg.load_from = checkpoint
    check_config(cfg, name, 'test')
    point = with_val_point(cfg, checkpoint)
    runner = build_runner(cfg)
    if out is not None:
        runner.test_evaluator.metrics.append(DumpPageResults(out_file_path=out))
    t0 = time.perf_counter()
    with _loading(trust_checkpoint), explain_refused_checkpoints(checkpoint), data_errors_as_user_errors(name):
        check_runner_weights(runner, checkpoint, name, partial_load)
        metrics = runner.test()
    seconds = time.perf_counter() - t0
    from mmengine.dist import is_main_process

    if metrics_file and is_main_process():
        # strict JSON: an undefined figure (e.g. AP50 of pages without faces) is null, not NaN
        atomic_write_json(
            osp.join(cfg.work_dir, metrics_file),
            dict(
                config=name,
                checkpoint=str(checkpoint),
                test_seconds=seconds,
                samples=len(runner.test_dataloader.dataset),
                metrics=metrics,
                operating_point=point,
            ),
        )
    return metrics
