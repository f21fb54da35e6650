"""Merge timings: page boxes as neighbouring patches produce them.

    python tools/benchmark_merge.py [--boxes 500 1000] [--device cpu|cuda] [--reference] [--out FILE]

Times ``nms``, ``greedy_nmm`` and ``weighted_box_fusion`` (kaokore_mm.core.merge,
tensors on ``--device``) on boxes clustered five per face (a face seen by
neighbouring patches, some cut by a border) and on scattered boxes, best of
``--repeat`` rounds, next to ``torchvision.ops.batched_nms`` alone. With
``--reference`` (a source checkout) the first NumPy-loop implementations in
tests/core/merge_reference.py run on the same boxes, and the results are
checked to be the same.
"""

import argparse
import importlib.util
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

from kaokore_mm.core import merge
from kaokore_mm.utils.cli import COUNT, UserError, cli_main
from kaokore_mm.utils.io import atomic_write_json

REFERENCE = Path(__file__).resolve().parents[1] / 'tests' / 'core' / 'merge_reference.py'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--boxes', type=COUNT, nargs='+', default=[500, 1000])
    p.add_argument('--device', default='cpu')
    p.add_argument('--repeat', type=COUNT, default=5)
    p.add_argument('--reference', action='store_true', help='also time (and check against) the NumPy-loop reference')
    p.add_argument('--out', help='write the figures as JSON')
    return p.parse_args(argv)


def boxes(kind: str, n: int, seed: int = 0):
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


def best_ms(fn, repeat, device):
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


def main(argv=None):
    args = parse_args(argv)
    ref = None
    if args.reference:
        if not REFERENCE.exists():
            raise UserError(f'--reference needs a source checkout: {REFERENCE} is missing')
        spec = importlib.util.spec_from_file_location('merge_reference', REFERENCE)
        ref = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(ref)
    from torchvision.ops import batched_nms

    rows = []
    for kind in ('clustered', 'scattered'):
        for n in args.boxes:
            b, s = boxes(kind, n)
            tb = torch.tensor(b, dtype=torch.float32, device=args.device)
            ts = torch.tensor(s, dtype=torch.float32, device=args.device)
            zeros = torch.zeros(len(b), dtype=torch.long, device=args.device)
            row = dict(
                kind=kind,
                boxes=n,
                device=args.device,
                torchvision_batched_nms=best_ms(partial(batched_nms, tb, ts, zeros, 0.5), args.repeat, args.device),
                nms=best_ms(partial(merge.nms_tensor, tb, ts, 0.5), args.repeat, args.device),
                nmm=best_ms(partial(merge.greedy_nmm_tensor, tb, ts), args.repeat, args.device),
                wbf=best_ms(partial(merge.weighted_box_fusion_tensor, tb, ts), args.repeat, args.device),
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
            print(line, flush=True)
    if args.out:
        atomic_write_json(args.out, rows)
    return rows


if __name__ == '__main__':
    sys.exit(cli_main(main))
