"""Checking a config's data, split and evaluator before mmengine's Runner starts.

The Runner prints hundreds of lines of environment before it builds the
dataloaders, and a typo in a dataset type, a missing annotation file, a bad
page, an impossible patch grid or an empty split subset then ends in a long
traceback far below. :func:`check_config` builds what the run will build (each
used dataset in full, its sampler, the evaluators; the model's type is looked
up, the model is not built) and turns the first problem into one
:class:`~kaokore_mm.utils.cli.UserError` line naming the config and the item.
Page checks are remembered (:mod:`kaokore_mm.core.page_files`), so the Runner
does not pay for them twice.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os.path as osp
import re
from collections.abc import Iterator
from typing import Annotated

from pydantic import Field, StrictInt

from kaokore_mm.errors import BadPageError, EmptyDatasetError, SplitError, UserError, first_line

from .validation import Number, Positive, StrictItem, problem

USER_ERRORS = (KeyError, TypeError, ValueError, AssertionError, FileNotFoundError)


def _one_line(e: BaseException) -> str:
    # mmengine's registry message continues with a link to its docs: keep the first sentence
    return first_line(e).split(' Please check whether', 1)[0]


def loaders_of(cfg, stage: str) -> list[str]:
    """The dataloaders the train tool (``'train'``) or the test tool
    (``'test'``) will build with this config."""
    if stage == 'train':
        return ['train_dataloader'] + (['val_dataloader'] if cfg.get('val_cfg') and cfg.get('val_dataloader') else [])
    return ['test_dataloader']


def check_config(cfg, config_path: str, stage: str) -> None:
    """Raise a one-line :class:`UserError` for the first problem in the data,
    split or evaluator of ``cfg`` that the ``stage`` (``'train'`` or ``'test'``) uses.

    Args:
        cfg: the config as the tool will run it (overrides applied).
        config_path: the config file, named in the message.
        stage: ``'train'`` (train and val loaders) or ``'test'``.
    """
    from mmengine.registry import DATA_SAMPLERS, DATASETS, METRICS, MODELS, init_default_scope

    errors = USER_ERRORS + (SplitError, BadPageError, EmptyDatasetError)
    if cfg.get('default_scope'):
        init_default_scope(cfg.default_scope)

    @contextlib.contextmanager
    def item(where: str):
        try:
            yield
        except errors as e:
            raise UserError(f'{config_path}: {where}: {_one_line(e)}') from None

    check_config_values(cfg, config_path)
    check_run_settings(cfg, config_path, stage)
    if 'model' in cfg:
        with item('model'):
            with MODELS.switch_scope_and_registry(None) as registry:
                known = registry.get(cfg.model.get('type')) is not None
            if not known:
                raise KeyError(
                    f'model type {cfg.model.get("type")!r} is not registered (a typo, or a missing '
                    'custom_imports entry?)'
                )
        with building(config_path):  # e.g. model.backbone.depth=19: one line before any data is read
            MODELS.build(copy.deepcopy(cfg.model))
    for name in loaders_of(cfg, stage):
        loader = cfg.get(name)
        if not loader:
            raise UserError(f'{config_path}: {name} is missing')
        ds_cfg = copy.deepcopy(loader.get('dataset'))
        ann = _ann_file(ds_cfg)
        if ann is not None and not osp.isfile(ann):
            raise UserError(
                f'{config_path}: {name}.dataset: annotation file {ann} not found (set `data_root`, or '
                'make the dataset first: see docs/getting_started.md)'
            )
        with item(f'{name}.dataset'):
            dataset = DATASETS.build(ds_cfg)
            if hasattr(dataset, 'full_init'):
                dataset.full_init()
        sampler = copy.deepcopy(loader.get('sampler'))
        if sampler:
            with item(f'{name}.sampler'):
                DATA_SAMPLERS.build(
                    sampler, default_args=dict(dataset=dataset, seed=cfg.get('randomness', {}).get('seed'))
                )
    evaluator = cfg.get('val_evaluator' if stage == 'train' else 'test_evaluator')
    if evaluator and (stage == 'test' or cfg.get('val_cfg')):
        if isinstance(evaluator, dict) and 'metrics' in evaluator:  # an Evaluator config
            evaluator = evaluator['metrics']
        for metric in evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]:
            with item(f'evaluator {metric.get("type")}'):
                METRICS.build(copy.deepcopy(metric))


# the run settings a config or --cfg-options gives, checked by check_run_settings
class LoaderSettings(StrictItem):
    """A dataloader's numbers as a config or ``--cfg-options`` gives them."""

    batch_size: Annotated[StrictInt, Field(ge=1)] = 1
    num_workers: Annotated[StrictInt, Field(ge=0)] = 0


class OptimizerSettings(StrictItem):
    lr: Positive | None = None
    weight_decay: Annotated[Number, Field(ge=0)] | None = None
    momentum: Annotated[Number, Field(ge=0)] | None = None


class LoopSettings(StrictItem):
    max_iters: Annotated[StrictInt, Field(ge=1)] | None = None
    max_epochs: Annotated[StrictInt, Field(ge=1)] | None = None
    val_interval: Annotated[StrictInt, Field(ge=1)] | None = None


def check_run_settings(cfg, config_path: str, stage: str) -> None:
    """The numbers and the work dir of a run, before anything is built: a loader's
    ``batch_size`` and ``num_workers``, the optimizer's ``lr`` (finite, > 0), the
    train loop's iterations or epochs (strict types: ``lr=nan``, ``batch_size=0``,
    ``max_iters='5'`` are refused), and a work dir that is a file."""

    def check(model, raw, where):
        why = problem(model, dict(raw)) if isinstance(raw, dict) else None
        if why is not None:
            raise UserError(f'{config_path}: {where}.{why} (fix the config or `cfg_options`)')

    work_dir = cfg.get('work_dir')
    if isinstance(work_dir, str) and osp.exists(work_dir) and not osp.isdir(work_dir):
        raise UserError(f'`work_dir` {work_dir} is a file, not a folder: give a folder for the run')
    for name in loaders_of(cfg, stage):
        loader = cfg.get(name) or {}
        check(LoaderSettings, {k: loader[k] for k in ('batch_size', 'num_workers') if k in loader}, name)
    if stage != 'train':
        return
    optim = (cfg.get('optim_wrapper') or {}).get('optimizer')
    if isinstance(optim, dict):
        check(OptimizerSettings, {k: optim[k] for k in ('lr', 'weight_decay', 'momentum') if k in optim}, 'optimizer')
    loop = cfg.get('train_cfg') or {}
    check(LoopSettings, {k: loop[k] for k in ('max_iters', 'max_epochs', 'val_interval') if k in loop}, 'train_cfg')


def _ann_file(ds_cfg) -> str | None:
    """The annotation file a dataset config reads (innermost wrapped dataset), as a path."""
    while ds_cfg is not None and 'ann_file' not in ds_cfg and isinstance(ds_cfg.get('dataset'), dict):
        ds_cfg = ds_cfg['dataset']
    if not ds_cfg or not ds_cfg.get('ann_file'):
        return None
    ann = ds_cfg['ann_file']
    return ann if osp.isabs(ann) else osp.join(ds_cfg.get('data_root') or '', ann)


# What a config value must be, by the name of its key, where mmdet checks nothing before the first
# forward (a threshold given as 'abc' fails at the first page). Thresholds may be -1 (mmdet's "off", as
# ignore_iof_thr=-1); a tuple of thresholds is checked element by element.
THRESHOLD_KEY = re.compile(r'(^|_)(thr|threshold)$|^(min_pos_iou|overlap)$')
COUNT_KEYS = ('max_per_img', 'nms_pre', 'max_num', 'num_classes', 'batch_size', 'max_iters', 'max_epochs')
SIZE_KEYS = ('patch_size',)


def _bad_number(v, lo: float, hi: float) -> bool:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return True
    if isinstance(v, float) and not math.isfinite(v):
        return True
    return not lo <= v <= hi  # an int of any size compares exactly (10**400 is not converted to a float)


def value_problem(key: str, value) -> str | None:
    """Why ``value`` cannot be the setting ``key`` (by the key's name), or ``None``."""
    if isinstance(value, float) and math.isnan(value):
        return 'not a finite number (NaN)'
    if isinstance(value, dict):
        return None  # a sub-config (its own keys are checked)
    if key == 'overlap' and value is not None:
        values = value if isinstance(value, (list, tuple)) else [value]
        if not values or any(_bad_number(v, 0.0, 1.0) or v >= 1.0 for v in values):
            return f'overlap must be a ratio in [0, 1), got {value!r}'
    elif THRESHOLD_KEY.search(key) and value is not None:
        values = value if isinstance(value, (list, tuple)) else [value]
        if not values or any(_bad_number(v, -1.0, 1.0) for v in values):
            return f'{value!r} is not a number in [-1, 1]'
    if key == 'batch_size' and value == 'auto':  # the patched loops' own choice
        return None
    if key in COUNT_KEYS and value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        return f'{value!r} is not a whole number >= 1'
    if key in SIZE_KEYS and value is not None:
        values = value if isinstance(value, (list, tuple)) else [value]
        if len(values) not in (1, 2) or any(
            isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 100_000 for v in values
        ):
            return f'{value!r} is not a size in pixels (an int or (w, h) ints of 1..100000)'
    return None


def check_config_values(cfg, config_path: str) -> None:
    """Raise a one-line :class:`UserError` for the first setting of ``cfg`` (its whole tree, the
    ``--cfg-options`` merged in) whose value its key's name rules out (:func:`value_problem`):
    a string or NaN threshold, a patch size that is not pixels, a count of 0."""

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                where = f'{path}.{k}' if path else str(k)
                why = value_problem(str(k), v)
                if why is not None:
                    raise UserError(f'{config_path}: {where}: {why} (fix the config or `cfg_options`)')
                walk(v, where)
        elif isinstance(node, (list, tuple)):
            for k, v in enumerate(node):
                walk(v, f'{path}[{k}]')

    walk(cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg, '')


@contextlib.contextmanager
def building(config_path: str, what: str = 'the model') -> Iterator[None]:
    """Errors of building what a config describes (``model.backbone.depth=19``: mmdet's
    ``KeyError: 19``) as one :class:`UserError` line naming the config."""
    try:
        yield
    except USER_ERRORS as e:
        raise UserError(
            f'{config_path}: {what} cannot be built from the config: {type(e).__name__}: {_one_line(e)} '
            '(fix the config or `cfg_options`)'
        ) from None
