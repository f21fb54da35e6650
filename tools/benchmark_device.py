"""The device benchmark in one command: training throughput (AMP off/on, data-loader workers), page
inference (batch 1 and 8, AMP off/on), ours vs SAHI on the same model, peak GPU memory.

    python tools/benchmark_device.py [CONFIG] [--device cuda] [--size full|tiny] [--out-dir DIR]

Default: configs/faster_rcnn_r50_patch1333.py on CUDA at full size (8 realistic pages of
4000-6000 px; about 6 minutes on one GPU). ``--device cpu --size tiny`` runs the same steps on
3 small pages (CI). Writes DIR/device_benchmark.json and DIR/device_benchmark.md
(:mod:`kaokore_mm.benchmarks.device`).
"""

import argparse
import sys

import kaokore_mm  # noqa: F401
from kaokore_mm.benchmarks.device import SIZES, run_device_benchmark
from kaokore_mm.utils.cli import cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', nargs='?', default='configs/faster_rcnn_r50_patch1333.py')
    p.add_argument('--device', default='cuda')
    p.add_argument('--size', choices=tuple(SIZES), default='full')
    p.add_argument('--out-dir', default='work_dirs/device_benchmark')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    res = run_device_benchmark(args.config, args.out_dir, args.device, args.size)
    from kaokore_mm.benchmarks.device import markdown

    print(markdown(res), end='')
    print(f'figures: {args.out_dir}/device_benchmark.json, {args.out_dir}/device_benchmark.md')
    return res


if __name__ == '__main__':
    sys.exit(cli_main(main))
