"""Speed and memory of page-level (patched) inference, optionally side by side with SAHI.

    python tools/benchmark.py CONFIG [CKPT] --pages DIR|COCO.json [--data-root DIR]
        [--max-pages N] [--device cpu|cuda] [--batch-size N] [--amp] [--channels-last]
        [--vs-one-view] [--vs-sahi] [--score-thr 0.5] [--out result.json]

Prints, for the same pages in one run:
- ours: pages/s, patches/s, the share of the time spent in the model's
  ``test_step``, and the ratio of the page time to the *pure forward* time of
  the same patches (packed beforehand, only ``test_step`` timed);
- peak memory: the process's peak RSS, and on CUDA the peak allocated GPU memory;
- with ``--vs-one-view``: the same detector on the page at its own scale alone
  (the config's patches of rate 1, overlap and merge, no other view), timed in
  rounds alternating with ours, and the ratio ours/one view (the views' test
  time against single-scale patches);
- with ``--vs-sahi``: SAHI's ``get_sliced_prediction`` with the same detector,
  patch size and overlap (its mmdet model, NMS/IoU merge, no whole-image pass),
  its time, the time ratio ours/SAHI and, when the pages come with a COCO file,
  the recall of both at ``--score-thr``.
Without a checkpoint the detector has random weights (speed only).
"""

import argparse
import sys

import kaokore_mm  # noqa: F401
from kaokore_mm.apis import PageInferencer
from kaokore_mm.benchmarks.inference import load_pages, report, run_benchmark
from kaokore_mm.utils.cli import COUNT, SHARE, cli_main, number
from kaokore_mm.utils.config import add_partial_load_arg
from kaokore_mm.utils.io import atomic_write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('checkpoint', nargs='?')
    add_partial_load_arg(p)
    p.add_argument('--pages', required=True, help='a folder of page images, or a COCO file of pages')
    p.add_argument('--data-root', help='folder the COCO file names are relative to (default: its parent folder)')
    p.add_argument('--max-pages', type=COUNT, default=None)
    p.add_argument('--book', help='only the pages of this book_id (COCO input), e.g. a held-out book')
    p.add_argument('--device', default='cpu')
    p.add_argument(
        '--batch-size',
        type=COUNT,
        default=None,
        help="patches per forward (default: the config's, 'auto': 1 on CPU, 8 on CUDA)",
    )
    p.add_argument('--amp', action='store_true', help='autocast the forward (fp16 on CUDA, bf16 on CPU)')
    p.add_argument('--channels-last', action='store_true', help='channels_last memory format for the model')
    p.add_argument('--vs-one-view', action='store_true', help='also time the page at its own scale alone')
    p.add_argument('--vs-sahi', action='store_true', help='also run SAHI get_sliced_prediction')
    p.add_argument('--merge', choices=('nms', 'nmm', 'wbf'), help="override the config's merge of page boxes")
    p.add_argument('--overlap', type=number(float, 0.0, 0.9), help="override the config's test-time patch overlap")
    p.add_argument('--score-thr', type=SHARE, default=0.5, help='score threshold of the recall figures')
    p.add_argument('--warmup', type=number(int, 0, 1000), default=1, help='pages run once before timing')
    p.add_argument(
        '--repeat',
        type=COUNT,
        default=2,
        help='timed rounds, ours and the pure forward alternating; the fastest round counts',
    )
    p.add_argument('--out', help='write the figures as JSON')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    items = load_pages(args.pages, args.data_root, args.max_pages, args.book)
    inf = PageInferencer(
        args.config,
        args.checkpoint,
        device=args.device,
        batch_size=args.batch_size,
        partial_load=args.partial_load,
        merge=dict(type=args.merge) if args.merge else None,
        overlap=args.overlap,
    )
    res = run_benchmark(
        inf,
        items,
        checkpoint=args.checkpoint,
        device=args.device,
        amp=args.amp,
        channels_last=args.channels_last,
        warmup=args.warmup,
        repeat=args.repeat,
        score_thr=args.score_thr,
        vs_one_view=args.vs_one_view,
        vs_sahi=args.vs_sahi,
    )
    res = dict(config=args.config, **res)
    print('\n'.join(report(res)))
    if args.out:
        atomic_write_json(args.out, res)
        print(f'figures: {args.out}')
    return res


if __name__ == '__main__':
    sys.exit(cli_main(main))
