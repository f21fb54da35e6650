"""Patching benchmark: one light detector, the same iterations, whole page vs patches vs views.

    python tools/benchmark_patching.py [--work-dir work_dirs/bench_patching]
        [--regimes demo realistic small_faces_realistic] [--trainings page1333 grid512 grid1333 views1333]
        [--max-iters 500] [--out result.json]

For each regime of synthetic pages (split by book, ``inter_book``) the demo
detector (half-width ResNet-18 Faster R-CNN from scratch) is trained for the
same iterations of batch 2
  page1333   on whole pages resized to fit 1333x800 (configs/demo/faster_rcnn_r18_nopatch1333_demo.py),
  grid512    on 512x512 patches of the page at its own scale, one view (the papers' grid;
             configs/demo/faster_rcnn_r18_patch512_demo.py with views=None),
  grid1333   the same with 1333x800 patches (configs/demo/faster_rcnn_r18_patch1333_demo.py, views=None),
  views1333  the multi-view default: 1333x800 patches of the page at rates 1 and 0.5 and the whole
             page (configs/demo/faster_rcnn_r18_patch1333_demo.py),
  views512   (on request) the demo config's own views,
and tested on the whole pages of the held-out book: patched detectors with
their config's test setting, single-view ones also with the papers' plain grid.
Prints and writes (WORK_DIR/benchmark_patching.md, WORK_DIR/result.json, after
every training) AP50, recall and precision at 0.5 and at annotate's 0.3, the
annotation effort at 0.5 and at the operating point the validation book chose
(one validation, at the end of each training), the faces seen in training, training minutes and test
seconds per page; draws held-out pages of every run (WORK_DIR/<regime>/<run>/pages/)
and each regime's missed faces (WORK_DIR/<regime>/misses.jpg). Resumable:
finished trainings and tests are not repeated.

Regimes: ``demo`` = the pages of ``make demo`` (2000-2600 px, faces 30-150 px);
``realistic`` = 4000-6000 px pages with KaoKore's face sizes and the realistic
look; ``small_faces_realistic`` = the realistic look with KaoKore's faces of
40-120 px on 5000-6000 px pages; ``small_faces`` = the earlier 3000-4000 px
pages with faces of 30-80 px.
"""

import argparse
import sys
from pathlib import Path

import kaokore_mm  # noqa: F401
from kaokore_mm.apis.experiments import markdown_table, say
from kaokore_mm.benchmarks.patching import (
    COLUMNS,
    DEFAULT_REGIMES,
    DEFAULT_TRAININGS,
    REGIMES,
    TRAININGS,
    benchmark_patching,
)
from kaokore_mm.utils.cli import COUNT, cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--work-dir', default='work_dirs/bench_patching')
    p.add_argument('--regimes', nargs='+', choices=sorted(REGIMES), default=list(DEFAULT_REGIMES))
    p.add_argument('--trainings', nargs='+', choices=sorted(TRAININGS), default=list(DEFAULT_TRAININGS))
    p.add_argument('--max-iters', type=COUNT, default=500)
    p.add_argument('--draw', type=COUNT, default=2, help='held-out pages drawn per run')
    p.add_argument('--out', help='write the figures as JSON (default: WORK_DIR/result.json)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    work = Path(args.work_dir).resolve()
    rows = benchmark_patching(work, args.regimes, args.max_iters, args.draw, args.out, args.trainings)
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
