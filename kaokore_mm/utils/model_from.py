"""``model_from``: any detector of an installed model zoo in one line of a config.

mmengine's ``_base_`` cannot inherit a zoo config such as
``mmdet::rtmdet/rtmdet_l_8xb32-300e_coco.py`` beside the project's data and
runtime bases: both define ``data_root``, ``val_cfg``, ``val_dataloader``, ... and
mmengine refuses duplicate keys among bases. Only four families ship a
``_base_/models`` file. ``model_from`` takes the model alone::

    _base_ = ['./_base_/datasets/kaokore_patched_pages.py',
              './_base_/schedules/schedule_1x.py', './_base_/default_runtime.py']
    model_from = 'mmdet::rtmdet/rtmdet_l_8xb32-300e_coco.py'

or, with the zoo's optimizer (and any other top-level key of the zoo config)::

    model_from = dict(config='mmdet::dino/dino-4scale_r50_8xb2-12e_coco.py', take=['optim_wrapper'])

It acts as one more base below the config: the zoo's ``model``, adapted to faces
(one class; ignored regions where the head's assigner supports them, a warning
naming the head where it cannot; no batch augments that rescale patches, since the
views set the scales), and the ``take`` keys; everything the config writes (its
own ``model = dict(...)`` overrides, its bases, ``--cfg-options``) wins over them.
:func:`~kaokore_mm.utils.config.load_config` resolves it, so train, test,
annotate, sweep, the benchmarks, ``PageInferencer`` and the dist/slurm scripts
all see the resolved model; the key is then replaced by ``model_origin`` (the
zoo config it came from), so a dumped config loads as it ran.
"""

from __future__ import annotations

import copy
import os.path as osp

from .cli import UserError, first_line

KEY = 'model_from'
ORIGIN_KEY = 'model_origin'
PAD_SIZE_DIVISOR = 32
IGNORE_IOF_THR = 0.5  # as the project's Faster R-CNN: a box lying half inside an ignored face is neither


def zoo_config_path(spec: str) -> str:
    """The file of ``'package::rel/path.py'`` (an installed OpenMMLab package's
    configs, without installing anything) or of a plain path."""
    if '::' not in spec:
        if not osp.isfile(spec):
            raise UserError(f'model_from: {spec} not found (a config file, or package::path such as mmdet::rtmdet/…)')
        return spec
    package, rel = spec.split('::', 1)
    import importlib.util

    found = importlib.util.find_spec(package) if package.isidentifier() else None
    if found is None or not found.submodule_search_locations:
        raise UserError(f'model_from: package {package!r} of {spec} is not installed')
    root = list(found.submodule_search_locations)[0]
    for candidate in (osp.join(root, '.mim', 'configs', rel), osp.join(osp.dirname(root), 'configs', rel)):
        if osp.isfile(candidate):
            return candidate
    raise UserError(f"model_from: {spec} not found in {package}'s configs ({osp.join(root, '.mim', 'configs')})")


def _walk(node, path=()):
    """Every dict in a nested config (lists included), with its key path."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from _walk(v, (*path, k))
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _walk(v, (*path, i))


def _name(path) -> str:
    return '.'.join(str(p) for p in path)


def _supports_ignore(assigner_type: str) -> bool:
    import inspect

    from mmdet.registry import TASK_UTILS

    cls = TASK_UTILS.get(assigner_type)
    return cls is not None and 'ignore_iof_thr' in inspect.signature(cls.__init__).parameters


_WARNED: set[str] = set()


def _warn_once(msg: str) -> None:
    from mmengine.logging import print_log

    if msg not in _WARNED:  # a run loads its config several times (schedule, train, test)
        _WARNED.add(msg)
        print_log(msg, logger='current', level=30)


def adapt_model(model: dict, source: str, warn=None) -> dict:
    """The zoo ``model`` for faces: ``num_classes`` 1 in every head, ignored regions
    where each assigner supports them, no batch augments. Returns a new dict."""
    warn = warn or _warn_once
    model = copy.deepcopy(model)
    if not isinstance(model, dict) or 'type' not in model:
        raise UserError(f'model_from: {source} has no model dict')
    heads = [(p, d) for p, d in _walk(model) if 'num_classes' in d]
    if not heads:
        raise UserError(f"model_from: {source}'s model ({model['type']}) has no bbox_head.num_classes to set to 1")
    masks = [_name(p) for p, d in _walk(model) if p and str(p[-1]) in ('mask_head', 'mask_roi_extractor')]
    if masks:
        raise UserError(
            f'model_from: {source} predicts masks ({masks[0]}); the pages have boxes only: take a box detector'
        )
    for _, d in heads:
        d['num_classes'] = 1
    # Ignored regions: the project's datasets mark faces outside a view's valid range (and cut
    # faces) as ignored; an assigner with ignore_iof_thr leaves anchors lying in them out.
    assigners = [(p, d) for p, d in _walk(model.get('train_cfg') or {}, ('train_cfg',)) if p and p[-1] == 'assigner']
    unsupported = []
    for p, d in assigners:
        if _supports_ignore(d.get('type', '')):
            if d.get('ignore_iof_thr', -1) is None or d.get('ignore_iof_thr', -1) < 0:
                d['ignore_iof_thr'] = IGNORE_IOF_THR
        else:
            unsupported.append(f'{_name(p)} ({d.get("type")})')
    head = next((d.get('type') for p, d in heads if p and str(p[-1]) == 'bbox_head'), heads[0][1].get('type'))
    if unsupported or not assigners:
        how = (
            f'its assigner {", ".join(unsupported)} has'
            if unsupported
            else 'it assigns targets without an assigner and has'
        )
        warn(
            f'model_from {source}: {head} cannot ignore regions ({how} no ignore_iof_thr): faces outside a '
            "view's valid range and cut faces count as background for it, not as ignored"
        )
    dp = model.get('data_preprocessor')
    if isinstance(dp, dict):
        if dp.get('batch_augments'):
            dp['batch_augments'] = None  # e.g. YOLOX's BatchSyncRandomResize: the views set the scales
        # zoo pipelines pad to a fixed square (RTMDet's Pad to 640); patches and whole-page views
        # have any size, and a PAFPN needs sizes its strides divide (DETRs write 1 and keep it)
        dp.setdefault('pad_size_divisor', PAD_SIZE_DIVISOR)
    return model


def _merge(base, over):
    """``over`` merged into a copy of ``base`` by mmengine's rules (``_delete_`` honoured)."""
    from mmengine.config import Config, ConfigDict

    if not isinstance(base, dict) or not isinstance(over, dict):
        return copy.deepcopy(over)
    return Config._merge_a_into_b(ConfigDict(copy.deepcopy(over)), ConfigDict(copy.deepcopy(base)))


def parse_spec(spec) -> tuple[str, list[str]]:
    """``(zoo config, keys to take)`` of a ``model_from`` value."""
    if isinstance(spec, str):
        return spec, []
    if isinstance(spec, dict) and isinstance(spec.get('config'), str):
        extra = set(spec) - {'config', 'take'}
        take = spec.get('take', [])
        if extra or not isinstance(take, (list, tuple)) or not all(isinstance(k, str) for k in take):
            raise UserError(
                f'model_from: {dict(spec)!r}: write a config path, or dict(config=PATH, take=[top-level keys])'
            )
        if 'model' in take:
            raise UserError('model_from: take names other keys of the zoo config; the model is always taken')
        return spec['config'], list(take)
    raise UserError(f'model_from: {spec!r}: write a config path, or dict(config=PATH, take=[top-level keys])')


def resolve_model_from(cfg, warn=None):  # noqa: ANN201  (the Config it was given)
    """Replace ``cfg.model_from`` by the zoo model (adapted by :func:`adapt_model`)
    under the config's own ``model`` settings, and the ``take`` keys under the
    config's own. A config without ``model_from`` is returned unchanged."""
    spec = cfg.get(KEY, None)
    if spec is None:
        return cfg
    from mmengine.config import Config

    source, take = parse_spec(spec)
    path = zoo_config_path(source)
    try:
        zoo = Config.fromfile(path)
    except Exception as e:  # noqa: BLE001  (a broken zoo file: one line, whatever mmengine raises)
        what = f'{type(e).__name__}: {first_line(e)}'
        raise UserError(f'model_from: {source} cannot be read as a config: {what}') from None
    missing = [k for k in take if k not in zoo]
    if missing:
        raise UserError(f'model_from: {source} has no {", ".join(missing)} to take')
    model = adapt_model(zoo.get('model'), source, warn)
    own = cfg.get('model', None)
    cfg['model'] = _merge(model, own) if own is not None else model
    for key in take:
        cfg[key] = _merge(zoo[key], cfg[key]) if cfg.get(key, None) is not None else copy.deepcopy(zoo[key])
    cfg.pop(KEY)
    cfg[ORIGIN_KEY] = dict(config=source, take=take) if take else source
    return cfg
