"""Fixes to the pinned stack (torch 2.13, mmengine 0.10.7, mmdet 3.3.0).

Checkpoints
    torch >= 2.6 loads with ``weights_only=True`` by default and refuses any
    pickled type it does not know. mmengine 0.10.7 calls ``torch.load`` without
    ``weights_only`` and writes checkpoints that hold a few such types (the
    message hub's ``HistoryBuffer``, NumPy arrays, scalars and dtypes), so its
    own checkpoints fail with ``Weights only load failed``: ``test.py
    CONFIG CKPT``, ``--resume`` and ``load_from`` break. Instead of switching the
    safety check off:

    * :func:`allow_mmengine_checkpoint_types` adds exactly these types to
      torch's allow-list (``torch.serialization.add_safe_globals``); anything
      else in a checkpoint is still refused;
    * ``HistoryBuffer`` pickles its statistics functions (``HistoryBuffer.min``,
      ...) as ``getattr(HistoryBuffer, 'min')``, and allowing ``getattr`` would
      open the door to arbitrary calls. These functions live in a class-level
      registry that ``__setstate__`` restores anyway, so
      :func:`_history_buffer_getstate` leaves them out of the pickle.

    Checkpoints written with kaokore_mm imported (every config imports it) then
    load with ``weights_only=True``. A checkpoint written by a plain mmengine
    run, or one that holds other objects, is refused; when its source is
    trusted, the tools' explicit ``--trust-checkpoint`` option loads it
    (:func:`trusted_checkpoint_loading`).

SSD
    mmdet 3.3.0's ``SSDHead`` lacks ``loss_cls`` at predict time; see
    :class:`kaokore_mm.models.FixedSSDHead`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch

from kaokore_mm.utils.cli import UserError


def _numpy_types() -> list:
    types = [np.ndarray, np.dtype]
    try:  # NumPy >= 2 moved the pickling helpers to numpy._core
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    types += [_reconstruct, scalar]
    # the dtype classes (np.dtypes.Float64DType, ...) that pickled dtypes name
    types += [
        type(np.dtype(t))
        for t in (
            np.bool_,
            np.int8,
            np.int16,
            np.int32,
            np.int64,
            np.uint8,
            np.uint16,
            np.uint32,
            np.uint64,
            np.float16,
            np.float32,
            np.float64,
            np.str_,
            np.object_,
        )
    ]
    return types


def mmengine_checkpoint_types() -> list:
    """The non-tensor types that mmengine 0.10.7 writes into its checkpoints."""
    from mmengine.logging.history_buffer import HistoryBuffer

    return [HistoryBuffer, *_numpy_types()]


def _history_buffer_getstate(self) -> dict:
    """``HistoryBuffer.__getstate__`` without the statistics functions (restored
    from the class registry by ``HistoryBuffer.__setstate__``)."""
    return {k: v for k, v in self.__dict__.items() if k != 'statistics_methods'}


def allow_mmengine_checkpoint_types() -> None:
    """Allow-list mmengine's checkpoint types for ``torch.load(weights_only=True)``
    and make ``HistoryBuffer`` pickle without ``getattr`` calls."""
    from mmengine.logging.history_buffer import HistoryBuffer

    HistoryBuffer.__getstate__ = _history_buffer_getstate
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(mmengine_checkpoint_types())


@contextlib.contextmanager
def trusted_checkpoint_loading() -> Iterator[None]:
    """Load checkpoints with ``weights_only=False`` inside this block only.

    For checkpoints from a trusted source that hold objects beyond the
    allow-list: unpickling can run arbitrary code. Used by the tools'
    ``--trust-checkpoint`` option; never on by default.
    """
    original = torch.load

    def load(*args, **kwargs):
        kwargs['weights_only'] = False
        return original(*args, **kwargs)

    torch.load = load
    try:
        yield
    finally:
        torch.load = original


allow_mmengine_checkpoint_types()


@contextlib.contextmanager
def explain_refused_checkpoints(what: str = 'the checkpoint') -> Iterator[None]:
    """Turn torch's refusal of a checkpoint under ``weights_only=True`` (a long
    traceback that never names the way out) into one user error that says why
    and how to trust a file one knows."""
    import pickle

    try:
        yield
    except pickle.UnpicklingError as e:
        reason = next(
            (line.strip() for line in str(e).splitlines() if 'Unsupported global' in line),
            str(e).splitlines()[0] if str(e) else 'objects beyond tensors',
        )
        raise UserError(
            f"{what} was refused by torch's safe loader (weights_only): {reason}. If you trust the "
            'source of the file, run again with `trust_checkpoint`'
        ) from None


def checkpoint_problem(path) -> str | None:
    """Why the file at ``path`` cannot be a PyTorch checkpoint, from its first and
    last bytes (no load), or ``None``: missing, empty, a folder, not a torch file
    (a text or HTML page), or a zip checkpoint cut short (no end of its directory)."""
    import os

    path = os.fspath(path)
    if path.startswith(('http://', 'https://')):
        return None  # mmengine downloads it; its own errors name the URL
    if not os.path.exists(path):
        return 'no such file'
    if os.path.isdir(path):
        return 'a folder, not a checkpoint file'
    size = os.path.getsize(path)
    if size == 0:
        return 'an empty file'
    with open(path, 'rb') as f:
        head = f.read(4)
        f.seek(max(0, size - 65536 - 22))
        tail = f.read()
    if head.startswith(b'PK\x03\x04'):  # torch's zip format: the end-of-central-directory record is at the end
        return None if b'PK\x05\x06' in tail else 'cut short (its zip directory is missing: an interrupted copy?)'
    if head[:1] == b'\x80':  # the legacy pickle format
        return None
    return 'not a PyTorch checkpoint (neither a zip nor a pickle file: a text or HTML file?)'


def check_checkpoint(path, what: str = 'checkpoint') -> None:
    """Raise a one-line :class:`~kaokore_mm.utils.cli.UserError` when ``path`` cannot be a checkpoint."""
    reason = checkpoint_problem(path)
    if reason is not None:
        raise UserError(f'{what} {path}: {reason}; give the .pth file a training wrote')
