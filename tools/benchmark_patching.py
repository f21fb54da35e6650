"""Patching effect: one light detector, the same iterations, with and without patches.

    python tools/benchmark_patching.py [--work-dir work_dirs/bench_patching]
        [--regimes demo small_faces] [--max-iters 500] [--out result.json]

For each regime of synthetic pages (split by book, ``inter_book``) the demo
detector (half-width ResNet-18 Faster R-CNN from scratch) is trained for the
same iterations
  (i)   on 512x512 patches (configs/demo/faster_rcnn_r18_patch512_demo.py),
  (ii)  on whole pages resized to 512 px, the patch input size
        (configs/demo/faster_rcnn_r18_nopatch_demo.py),
  (iii) on whole pages resized to fit 1333x800, the papers' whole-page setting
        (configs/demo/faster_rcnn_r18_nopatch1333_demo.py),
and tested on the whole pages of the held-out books; the patched detector is
tested with test-time overlap 0 (the configs' default) and 0.2. Prints and
writes (WORK_DIR/benchmark_patching.md, WORK_DIR/result.json) page-level
AP50, recall and precision at the metric's score threshold, boxes shown at
that threshold, training minutes and test seconds per page, and draws a
held-out page of every run (WORK_DIR/<regime>/<run>/pages/). Resumable:
finished trainings are not repeated.

Regimes: ``demo`` = the pages of ``make demo`` (2000-2600 px, faces 30-150 px);
``small_faces`` = pages of 3000-4000 px with faces of 30-80 px.
"""

import argparse
import sys
from pathlib import Path

import kaokore_mm  # noqa: F401
from kaokore_mm.apis.experiments import markdown_table, say
from kaokore_mm.apis.patching_benchmark import COLUMNS, REGIMES, benchmark_patching
from kaokore_mm.utils.cli import cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--work-dir', default='work_dirs/bench_patching')
    p.add_argument('--regimes', nargs='+', choices=sorted(REGIMES), default=['demo', 'small_faces'])
    p.add_argument('--max-iters', type=int, default=500)
    p.add_argument('--draw', type=int, default=2, help='held-out pages drawn per run')
    p.add_argument('--out', help='write the figures as JSON (default: WORK_DIR/result.json)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    work = Path(args.work_dir).resolve()
    rows = benchmark_patching(work, args.regimes, args.max_iters, args.draw, args.out)
    print(markdown_table(rows, COLUMNS))
    for r in rows:
        if r['AP50'] in (0.0, 1.0) or r['recall'] in (0.0, 1.0):
            say(
                'patching',
                f'look at {r["regime"]}/{r["detector"]} ({r["test"]}): a figure of exactly 0 or 1; '
                f'its pages are drawn in {work / r["regime"] / r["detector"]}',
            )
    say('patching', f'table: {work / "benchmark_patching.md"}, figures: {args.out or work / "result.json"}')
    return rows


if __name__ == '__main__':
    sys.exit(cli_main(main))
