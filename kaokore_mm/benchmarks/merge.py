"""Merge timings: page boxes as neighbouring patches produce them.

``nms``, ``greedy_nmm`` and ``weighted_box_fusion`` (:mod:`kaokore_mm.core.merge`, tensors
on a device) on boxes clustered five per face (a face seen by neighbouring patches, some cut
by a border) and on scattered boxes, best of ``repeat`` rounds, next to
``torchvision.ops.batched_nms`` alone; with a reference module (the first NumPy-loop
implementations, ``tests/core/merge_reference.py`` of a source checkout) those run on the same
boxes too and the results must be the same. The merge benchmark tool is its command line.
"""

from __future__ import annotations

import importlib.util
import time
import types
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torchvision.ops import batched_nms

from kaokore_mm.core import merge
from kaokore_mm.errors import UserError


def boxes(kind: str, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if kind == 'clustered':
        faces = n // 5
        xy = rng.uniform(0, 5000, (faces, 2))
        wh = rng.uniform(40, 300, (faces, 2))
        face = np.repeat(np.c_[xy, xy + wh], 5, 0)
        b = face + rng.normal(0, 0.08, face.shape) * np.repeat(np.c_[wh, wh], 5, 0)
        cut = rng.random(len(b)) < 0.3
        b[cut, 2] = b[cut, 0] + (b[cut, 2] - b[cut, 0]) * rng.uniform(0.3, 0.7, cut.sum())
    else:
        xy = rng.uniform(0, 5000, (n, 2))
        b = np.c_[xy, xy + rng.uniform(40, 300, (n, 2))]
    b[:, 2:] = np.maximum(b[:, 2:], b[:, :2] + 1)
    return b, rng.random(len(b))


def best_ms(fn, repeat: int, device: str) -> float:
    best = float('inf')
    for _ in range(repeat):
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device.startswith('cuda'):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def load_reference(path) -> types.ModuleType:
    """The NumPy-loop reference implementations from a file of a source checkout."""
    path = Path(path)
    if not path.exists():
        raise UserError(f'the reference {path} is missing: it needs a source checkout')
    spec = importlib.util.spec_from_file_location('merge_reference', path)
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    return ref


def merge_benchmark(sizes=(500, 1000), device: str = 'cpu', repeat: int = 5, ref=None, log=print) -> list:
    """One row of timings (ms) per kind of boxes and size; ``ref``: a module from
    :func:`load_reference`, its results checked to be the same."""
    rows = []
    for kind in ('clustered', 'scattered'):
        for n in sizes:
            b, s = boxes(kind, n)
            tb = torch.tensor(b, dtype=torch.float32, device=device)
            ts = torch.tensor(s, dtype=torch.float32, device=device)
            zeros = torch.zeros(len(b), dtype=torch.long, device=device)
            row = dict(
                kind=kind,
                boxes=n,
                device=device,
                torchvision_batched_nms=best_ms(partial(batched_nms, tb, ts, zeros, 0.5), repeat, device),
                nms=best_ms(partial(merge.nms_tensor, tb, ts, 0.5), repeat, device),
                nmm=best_ms(partial(merge.greedy_nmm_tensor, tb, ts), repeat, device),
                wbf=best_ms(partial(merge.weighted_box_fusion_tensor, tb, ts), repeat, device),
            )
            if ref is not None:
                row.update(
                    ref_nms=best_ms(partial(ref.nms, b, s), 1, 'cpu'),
                    ref_nmm=best_ms(partial(ref.greedy_nmm, b, s), 1, 'cpu'),
                    ref_wbf=best_ms(partial(ref.weighted_box_fusion, b, s), 1, 'cpu'),
                )
                same = (
                    merge.nms(b, s).tolist() == ref.nms(b, s).tolist()
                    and merge.greedy_nmm(b, s)[2].tolist() == ref.greedy_nmm(b, s)[2].tolist()
                    and np.allclose(merge.weighted_box_fusion(b, s)[0], ref.weighted_box_fusion(b, s)[0])
                )
                row['same_results'] = same
                if not same:
                    raise UserError(f'{kind} {n} boxes: the tensor merges differ from the reference')
            rows.append(row)
            line = (
                f'{kind:9s} {n:5d} boxes  torchvision nms {row["torchvision_batched_nms"]:7.2f} ms | nms '
                f'{row["nms"]:7.2f} ms  nmm {row["nmm"]:7.2f} ms  wbf {row["wbf"]:7.2f} ms'
            )
            if ref is not None:
                line += (
                    f' | reference: nms {row["ref_nms"]:.1f} ms  nmm {row["ref_nmm"]:.1f} ms  wbf '
                    f'{row["ref_wbf"]:.1f} ms (same results)'
                )
            log(line)
    return rows
