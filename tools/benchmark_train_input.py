"""Training input speed: patches per second from the patched training dataset.

    python tools/benchmark_train_input.py CONFIG [--data-root DIR] [--samples 300]

Measured in one run, single process (the per-worker cost):
- page decode: ``LoadImageFromFile`` alone on the training pages (seconds per page);
- whole pages: the whole-page training pipeline (decode, annotations, resize
  to the input, flip, pack), pages per second;
- patches, naive: the config's patched pipeline with the page decoded again for
  every patch (``LoadImageFromFile``, plain shuffle);
- patches, cached: the config's pipeline as configured (``LoadPageFromFile`` with
  its cache and ``BookSplitSampler(page_window=K)``).
Prints patches/s of both and the cost of one patch relative to decoding its
page (goal: <= 1/4 for the cached pipeline). (:mod:`kaokore_mm.benchmarks.train_input`)
"""

import argparse
import sys

import kaokore_mm  # noqa: F401
from kaokore_mm.benchmarks.train_input import report, train_input_benchmark
from kaokore_mm.utils.cli import COUNT, cli_main
from kaokore_mm.utils.io import atomic_write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='a patched config (PatchedPageDataset)')
    p.add_argument('--data-root')
    p.add_argument('--samples', type=COUNT, default=300, help='patches timed per variant')
    p.add_argument('--out', help='write the figures as JSON')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    res = train_input_benchmark(args.config, args.data_root, args.samples)
    for line in report(res):
        print(line)
    if args.out:
        atomic_write_json(args.out, res)
    return res


if __name__ == '__main__':
    sys.exit(cli_main(lambda argv: 0 if main(argv) else 1))
