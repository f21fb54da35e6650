"""Config edits shared by the tools (no registry imports)."""

from __future__ import annotations

import ast
import os.path as osp
from typing import TYPE_CHECKING

from kaokore_mm.core.splits import SPLITS, check_choice
from kaokore_mm.utils.cli import SEED, UserError, first_line, number
from kaokore_mm.utils.dist import setup_distributed
from kaokore_mm.utils.model_from import KEY, resolve_model_from
from kaokore_mm.utils.preflight import check_config_values

if TYPE_CHECKING:
    import argparse

    from mmengine.config import Config

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _datasets(loader_cfg):
    ds = loader_cfg.get('dataset')
    while ds is not None:  # unwrap RepeatDataset, ClassBalancedDataset, ...
        yield ds
        ds = ds.get('dataset')


def set_split(
    cfg, split: str | None = None, split_seed: int | None = None, ratios=None, pin_books: dict | None = None
) -> None:
    """Set the split of every BookSplitSampler in the config's dataloaders
    (``pin_books``: ``{'test': [books], 'val': [books]}`` fixed by name)."""
    if split is not None:
        check_choice(split, SPLITS, 'split')
    for name in LOADERS:
        sampler = (cfg.get(name) or {}).get('sampler') or {}
        if sampler.get('type') != 'BookSplitSampler':
            continue
        for key, value in (('split', split), ('split_seed', split_seed), ('ratios', ratios), ('pin_books', pin_books)):
            if value is not None:
                sampler[key] = value


def add_split_args(parser) -> None:
    """``--split``, ``--split-seed``, ``--test-books``, ``--val-books`` (train, test, split_report)."""
    parser.add_argument('--split', choices=SPLITS, help='book-aware split of all loaders')
    parser.add_argument('--split-seed', type=SEED, help='seed of the split (not of training)')
    for subset in ('test', 'val'):
        parser.add_argument(
            f'--{subset}-books',
            nargs='+',
            metavar='BOOK',
            help=f'inter_book: put these books in {subset} whatever their hash (sampler pin_books)',
        )


def apply_split_args(cfg, args) -> None:
    pins = {s: getattr(args, f'{s}_books') for s in ('test', 'val') if getattr(args, f'{s}_books', None)}
    set_split(cfg, args.split, args.split_seed, pin_books=pins or None)


def set_data_root(cfg, data_root: str, ann_file: str | None = None) -> None:
    """Point every dataloader and COCO evaluator of the config at another dataset root
    (and annotation file, relative to the root)."""
    data_root = osp.join(data_root, '')
    anns = []
    for name in LOADERS:
        for ds in _datasets(cfg.get(name) or {}):
            if 'data_root' in ds or 'ann_file' in ds:
                ds['data_root'] = data_root
                if ann_file is not None:
                    ds['ann_file'] = ann_file
                anns.append(ds.get('ann_file'))
    for name in ('val_evaluator', 'test_evaluator'):
        evaluators = cfg.get(name)
        for ev in evaluators if isinstance(evaluators, list) else [evaluators]:
            if ev and 'ann_file' in ev and anns:
                ev['ann_file'] = osp.join(data_root, anns[-1])


PAGE_DATASETS = ('KaoKoreFaceDataset', 'PatchedPageDataset')


def set_bad_pages(cfg, policy: str) -> None:
    """The bad-page policy (``'error'`` or ``'skip'``) of every page dataset of the
    config's dataloaders (see :class:`~kaokore_mm.datasets.KaoKoreFaceDataset`)."""
    for name in LOADERS:
        for ds in _datasets(cfg.get(name) or {}):
            if str(ds.get('type', '')).split('.')[-1] in PAGE_DATASETS:
                ds['bad_pages'] = policy


PATCH_OPTIONS = ('patch_size', 'overlap', 'min_visible', 'empty_patch_ratio', 'patch_seed', 'views')


def page_dataset_cfg(dataset_cfg, pipeline=()) -> dict:
    """The whole-page ``KaoKoreFaceDataset`` behind a (patched) dataset config."""
    cfg = dict(dataset_cfg)
    for key in PATCH_OPTIONS:
        cfg.pop(key, None)
    cfg.update(type='KaoKoreFaceDataset', pipeline=list(pipeline))
    return cfg


def add_partial_load_arg(parser) -> None:
    """``--partial-load``: every tool that loads a checkpoint refuses one whose weights are not the
    model's (:func:`kaokore_mm.utils.weights.check_weights_fit`) unless this is given."""
    parser.add_argument(
        '--partial-load',
        action='store_true',
        help="use a checkpoint whose weights are not all the model's (missing, extra or of other shapes), "
        'e.g. to fine-tune from another detector; without it such a checkpoint is refused',
    )


def add_common_args(parser, work_dir_help: str) -> None:
    """The options the train and test tools share (mmdet's, plus the
    data root, the book-aware split and the trust option)."""
    from mmengine.config import DictAction

    parser.add_argument('--work-dir', help=work_dir_help)
    parser.add_argument('--data-root', help='dataset root (with annotations/pages.json and the pages)')
    add_split_args(parser)
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='load checkpoints with weights_only=False (only for files from a trusted source; '
        'checkpoints written with kaokore_mm load without it)',
    )
    add_partial_load_arg(parser)
    parser.add_argument(
        '--skip-bad-pages',
        action='store_true',
        help='leave out pages that are missing, cut short, not images or of another size than '
        'their annotations, with a warning (default: stop before training/testing, naming them)',
    )
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help='override settings of the config, key=value'
    )
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=number(int, 0, 65535), default=0)


def parse_with_common_args(parser, argv=None) -> argparse.Namespace:
    import os

    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def apply_common_args(cfg, args, config_path: str) -> None:
    """What the train and test tools share: data root, split,
    --cfg-options, the work dir (mmdet's default: work_dirs/<config name>) and
    the launcher (with a gloo group on machines without CUDA)."""
    if args.data_root:
        set_data_root(cfg, args.data_root)
    apply_split_args(cfg, args)
    if getattr(args, 'skip_bad_pages', False):
        set_bad_pages(cfg, 'skip')
    if args.cfg_options is not None:  # again after the data root and split (load_config merged them first)
        cfg.merge_from_dict({k: v for k, v in args.cfg_options.items() if k != 'model_from'})
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])
    setup_distributed(cfg, args.launcher)  # last: --cfg-options may have set env_cfg or model_wrapper_cfg


def load_config(path: str, cfg_options: dict | None = None) -> Config:
    """``Config.fromfile(path)``, with a missing file, a syntax error or a missing
    ``_base_`` reported as one :class:`~kaokore_mm.utils.cli.UserError` line;
    ``model_from`` resolved (:mod:`kaokore_mm.utils.model_from`), then
    ``cfg_options`` merged (a ``model_from`` among them replaces the file's model
    and is resolved first, so the other options still win over the zoo model)."""
    from mmengine.config import Config

    if not osp.isfile(path):
        raise UserError(f'config {path} not found')
    try:
        cfg = Config.fromfile(path)
    except SyntaxError as e:
        e = _syntax_error_of(path) or e  # mmengine parses without the file's name: find the file
        raise UserError(f'{e.filename or path}:{e.lineno}: syntax error in the config: {e.msg}') from None
    except (FileNotFoundError, ImportError, NameError, KeyError, TypeError, ValueError, AttributeError) as e:
        raise UserError(f'{path}: cannot be read as a config: {type(e).__name__}: {first_line(e)}') from None
    options = dict(cfg_options or {})
    if KEY in options:  # another model for this config: the file's model settings were for its own
        cfg[KEY], cfg['model'] = options.pop(KEY), None
    resolve_model_from(cfg)
    if options:
        cfg.merge_from_dict(options)

    check_config_values(cfg, path)  # every tool: a threshold 'abc' is one line now, not a traceback later
    return cfg


def _syntax_error_of(path: str, seen=()) -> SyntaxError | None:
    """The syntax error of ``path`` or of one of its local ``_base_`` files, with its file name
    (mmengine's ``ast.parse`` calls give ``<unknown>``); ``None`` when none is found there."""
    try:
        with open(path, encoding='utf-8') as f:
            tree = ast.parse(f.read(), filename=path)
    except SyntaxError as e:
        return e
    except (OSError, ValueError):
        return None
    bases = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == '_base_' for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            bases += [value] if isinstance(value, str) else list(value)
    for base in bases:
        if not isinstance(base, str) or '::' in base:  # a package's base (mmdet::...) is not ours to check
            continue
        full = osp.normpath(osp.join(osp.dirname(path), base))
        if full not in seen:
            found = _syntax_error_of(full, (*seen, osp.normpath(path)))
            if found is not None:
                return found
    return None


def resolved(cfg) -> Config:
    """A config object as :func:`load_config` returns it (``model_from`` resolved),
    for the APIs that take a path or a ``Config``."""
    from mmengine.config import Config

    if not isinstance(cfg, Config):
        return load_config(str(cfg))
    return resolve_model_from(cfg)


def enable_amp(cfg) -> None:
    """Mixed-precision training (mmdet's ``--amp``): mmengine's ``AmpOptimWrapper``, dynamic loss scale."""
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.loss_scale = 'dynamic'


def set_iteration_run(cfg, iters: int, checkpoint_interval: int | None = None, log_interval: int | None = None) -> None:
    """Make ``cfg`` a run of ``iters`` training iterations at a constant learning rate
    (smoke tests, throughput benchmarks): no validation, a checkpoint every
    ``checkpoint_interval`` iterations and a log line every ``log_interval`` (never when
    ``None``), iteration-based logs."""
    never = 10**9
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=never)
    cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook',
        interval=checkpoint_interval or never,
        by_epoch=False,
        save_best=None,
        save_last=checkpoint_interval is not None,
    )
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=log_interval or never)
    cfg.log_processor = dict(by_epoch=False)


def train_patching(cfg) -> dict:
    """``patch_size``, ``overlap`` and ``views`` of the config's training dataset
    when it is a ``PatchedPageDataset`` (wrappers unwrapped), else ``{}``."""
    for ds in _datasets((cfg or {}).get('train_dataloader') or {}):
        if str(ds.get('type', '')).split('.')[-1] == 'PatchedPageDataset':
            return {k: ds[k] for k in ('patch_size', 'overlap', 'views') if k in ds}
    return {}


def loop_patching(cfg, loop_cfg: dict) -> dict:
    """The predictor settings of a patched val/test loop: the loop's own
    (``loop_cfg``, e.g. ``test_cfg``; test-time choices such as ``overlap``
    win), else the training dataset's patching, so that a config writes its
    patch size and views once (in the training dataset) and the loops follow it."""
    out = dict(loop_cfg)
    for key, value in train_patching(cfg).items():
        out.setdefault(key, value)
    if isinstance(out.get('patch_size'), (list, tuple)):
        out['patch_size'] = tuple(out['patch_size'])
    return out
