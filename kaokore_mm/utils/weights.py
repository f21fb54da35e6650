"""Does a checkpoint hold the weights of the model a config builds?

mmengine's ``load_checkpoint`` (under mmdet's ``init_detector``, mmpretrain's ``get_model`` and the
Runner's ``load_from``) loads non-strictly: a classifier's checkpoint given to a detector, another
detector family's, or the right names with other shapes load with a logged warning only, and the
model then runs on its random initialisation (``annotate.py`` proposed ~90 random faces a page).
:func:`check_weights_fit` compares the checkpoint's names and shapes with the model's after such a
load (a non-strict load changes neither) and refuses a mismatch with one line naming the config and
the checkpoint; ``partial=True`` (the tools' ``--partial-load``) accepts it deliberately, e.g. to
fine-tune from a detector trained on other classes.
"""

from __future__ import annotations

import re

import torch

from kaokore_mm.utils.cli import UserError

PREFIXES = (r'^module\.',)  # what mmengine's loader strips (a DDP-wrapped model's checkpoint)


def checkpoint_state(checkpoint) -> dict:
    """The weights (names and tensors) of a checkpoint file, memory-mapped where the format allows
    (only their shapes are read); ``torch.load`` as the caller's context sets it (safe by default,
    see :mod:`kaokore_mm.compat`)."""
    try:
        ck = torch.load(checkpoint, map_location='cpu', mmap=True)
    except RuntimeError as e:  # the legacy (non-zip) format cannot be mapped
        if 'mmap' not in str(e):
            raise
        ck = torch.load(checkpoint, map_location='cpu')
    state = ck.get('state_dict', ck) if isinstance(ck, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UserError(f'{checkpoint}: no weights (state_dict) in this file; give a checkpoint a training wrote')
    out = {}
    for k, v in state.items():
        for p in PREFIXES:
            k = re.sub(p, '', k)
        out[k] = v
    return out


def weights_mismatch(model_state: dict, ckpt_state: dict) -> dict:
    """The model's weights the checkpoint lacks, the checkpoint's the model has no place for, and
    the names whose shapes differ (``[(name, checkpoint shape, model shape)]``)."""
    missing = sorted(k for k in model_state if k not in ckpt_state)
    unexpected = sorted(k for k in ckpt_state if k not in model_state)
    shapes = [
        (k, tuple(ckpt_state[k].shape), tuple(model_state[k].shape))
        for k in sorted(model_state.keys() & ckpt_state.keys())
        if tuple(ckpt_state[k].shape) != tuple(model_state[k].shape)
    ]
    return dict(missing=missing, unexpected=unexpected, shapes=shapes)


def describe_mismatch(m: dict, total: int) -> str | None:
    """One clause of what does not fit, or ``None`` when everything does."""
    parts = []
    if m['missing']:
        parts.append(f"{len(m['missing'])} of the model's {total} weights missing (e.g. {m['missing'][0]})")
    if m['unexpected']:
        parts.append(f'{len(m["unexpected"])} weights of another model (e.g. {m["unexpected"][0]})')
    if m['shapes']:
        k, got, want = m['shapes'][0]
        parts.append(f'{len(m["shapes"])} of other shapes (e.g. {k}: {list(got)} for {list(want)})')
    return '; '.join(parts) or None


def unwrapped(model) -> torch.nn.Module:
    """The model inside a DDP / FSDP wrapper (its names are the checkpoint's)."""
    return getattr(model, 'module', model)


def check_weights_fit(model, checkpoint, config, partial: bool = False) -> dict:
    """Raise a one-line :class:`UserError` unless ``checkpoint``'s weights are exactly the ones of
    ``model`` (built from ``config``), or ``partial``; returns the mismatch (empty lists when it fits)."""
    state = unwrapped(model).state_dict()
    m = weights_mismatch(state, checkpoint_state(checkpoint))
    why = describe_mismatch(m, len(state))
    if why and not partial:
        raise UserError(
            f'checkpoint {checkpoint} does not fit the model of {config}: {why}. Give the checkpoint a '
            'training of this config wrote (or set `partial_load` to use the weights that fit, '
            'e.g. to fine-tune from another model)'
        )
    return m
