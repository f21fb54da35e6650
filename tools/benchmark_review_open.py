"""Open a large page in the review app: level-0 tiles against the whole JPEG, side by side.

    python tools/benchmark_review_open.py [--long-side 6000] [--repeats 3] [--work-dir work_dirs/bench_review_open]

Makes one realistic synthetic page, annotates it (its true faces as proposals),
serves it twice (with its tiles, and without, where the app sends the whole
scan) and opens it in headless Chromium with an empty cache; prints the median
seconds until every tile on screen is drawn and the bytes of the page image,
and their ratios; writes WORK_DIR/result.json.
"""

import argparse
import sys

from kaokore_mm.benchmarks.review_open import review_open_benchmark
from kaokore_mm.utils.cli import COUNT, PIXELS, cli_main
from kaokore_mm.utils.io import atomic_write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--long-side', type=PIXELS, default=6000)
    p.add_argument('--repeats', type=COUNT, default=3)
    p.add_argument('--work-dir', default='work_dirs/bench_review_open')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    r = review_open_benchmark(args.work_dir, args.long_side, args.repeats)
    for name, row in r['rows'].items():
        print(
            f'{name:>10}: open {row["open_s"]:.2f} s, {row["image_bytes"] / 1e6:.2f} MB '
            f'in {row["image_requests"]} requests; then the first box in {row["first_box_s"]:.2f} s '
            f'({row["bytes_after_first_box"] / 1e6:.2f} MB in all)'
        )
    print(f'tiles / whole JPEG: time {r["time_ratio"]:.2f}, bytes {r["bytes_ratio"]:.2f} ({args.long_side}-px page)')
    atomic_write_json(f'{args.work_dir}/result.json', r)
    return 0


if __name__ == '__main__':
    sys.exit(cli_main(main))
