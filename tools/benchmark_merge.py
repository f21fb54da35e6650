"""Merge timings: page boxes as neighbouring patches produce them.

    python tools/benchmark_merge.py [--boxes 500 1000] [--device cpu|cuda] [--reference] [--out FILE]

Times ``nms``, ``greedy_nmm`` and ``weighted_box_fusion`` (kaokore_mm.core.merge,
tensors on ``--device``) on boxes clustered five per face (a face seen by
neighbouring patches, some cut by a border) and on scattered boxes, best of
``--repeat`` rounds, next to ``torchvision.ops.batched_nms`` alone. With
``--reference`` (a source checkout) the first NumPy-loop implementations in
tests/core/merge_reference.py run on the same boxes, and the results are
checked to be the same. (:mod:`kaokore_mm.benchmarks.merge`)
"""

import argparse
import sys
from pathlib import Path

from kaokore_mm.benchmarks.merge import load_reference, merge_benchmark
from kaokore_mm.utils.cli import COUNT, cli_main
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


def main(argv=None):
    args = parse_args(argv)
    ref = load_reference(REFERENCE) if args.reference else None
    rows = merge_benchmark(args.boxes, args.device, args.repeat, ref, log=lambda line: print(line, flush=True))
    if args.out:
        atomic_write_json(args.out, rows)
    return rows


if __name__ == '__main__':
    sys.exit(cli_main(main))
