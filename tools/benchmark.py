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
import contextlib
import sys
import tempfile

import torch

import kaokore_mm  # noqa: F401
from kaokore_mm.apis import PageInferencer, read_page
from kaokore_mm.apis.inference_benchmark import (
    load_pages,
    one_view,
    peak_rss_mb,
    recall_of,
    run_ours,
    run_pure_forward,
    run_sahi,
)
from kaokore_mm.utils.cli import cli_main
from kaokore_mm.utils.io import atomic_write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('checkpoint', nargs='?')
    p.add_argument('--pages', required=True, help='a folder of page images, or a COCO file of pages')
    p.add_argument('--data-root', help='folder the COCO file names are relative to (default: its parent folder)')
    p.add_argument('--max-pages', type=int, default=None)
    p.add_argument('--book', help='only the pages of this book_id (COCO input), e.g. a held-out book')
    p.add_argument('--device', default='cpu')
    p.add_argument(
        '--batch-size',
        type=int,
        default=None,
        help="patches per forward (default: the config's, 'auto': 1 on CPU, 8 on CUDA)",
    )
    p.add_argument('--amp', action='store_true', help='autocast the forward (fp16 on CUDA, bf16 on CPU)')
    p.add_argument('--channels-last', action='store_true', help='channels_last memory format for the model')
    p.add_argument('--vs-one-view', action='store_true', help='also time the page at its own scale alone')
    p.add_argument('--vs-sahi', action='store_true', help='also run SAHI get_sliced_prediction')
    p.add_argument('--merge', choices=('nms', 'nmm', 'wbf'), help="override the config's merge of page boxes")
    p.add_argument('--overlap', type=float, help="override the config's test-time patch overlap")
    p.add_argument('--score-thr', type=float, default=0.5, help='score threshold of the recall figures')
    p.add_argument('--warmup', type=int, default=1, help='pages run once before timing')
    p.add_argument(
        '--repeat',
        type=int,
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
        merge=dict(type=args.merge) if args.merge else None,
        overlap=args.overlap,
    )
    if args.channels_last:
        inf.model.to(memory_format=torch.channels_last)
    dev_type = 'cuda' if args.device.startswith('cuda') else 'cpu'
    amp_dtype = torch.float16 if dev_type == 'cuda' else torch.bfloat16

    def autocast_ctx():
        return torch.autocast(dev_type, dtype=amp_dtype) if args.amp else contextlib.nullcontext()

    for path, _ in items[: args.warmup]:
        with autocast_ctx():
            inf(read_page(path))
    if dev_type == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    ours, pure, single = None, float('inf'), None
    single_inf = one_view(inf) if args.vs_one_view else None
    for _ in range(max(1, args.repeat)):
        run, our_preds = run_ours(inf, items, args.device, autocast_ctx)
        ours = run if ours is None or run['time'] < ours['time'] else ours
        pure = min(pure, run_pure_forward(inf, items, args.device, autocast_ctx))
        if single_inf is not None:
            run, single_preds = run_ours(single_inf, items, args.device, autocast_ctx)
            single = run if single is None or run['time'] < single['time'] else single
    rss = peak_rss_mb()
    gpu = torch.cuda.max_memory_allocated() / 2**20 if dev_type == 'cuda' else None
    n = len(items)
    res = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        device=args.device,
        pages=n,
        patches=ours['patches'],
        patch_size=inf.predictor.patch_size,
        overlap=inf.predictor.overlap,
        batch_size=inf.predictor.batch_size_for(inf.model),
        amp=args.amp,
        channels_last=args.channels_last,
        time_s=ours['time'],
        pages_per_s=n / ours['time'],
        patches_per_s=ours['patches'] / ours['time'],
        decode_s=ours['decode'],
        forward_s=ours['forward'],
        forward_share=ours['forward'] / ours['time'],
        merge_s=ours['merge'],
        merge_share=ours['merge'] / ours['time'],
        merge=inf.predictor.merge,
        pure_forward_s=pure,
        page_vs_pure_forward=ours['time'] / pure,
        peak_rss_mb=rss,
        peak_gpu_mb=gpu,
    )
    counts = recall_of(our_preds, items, args.score_thr)
    if counts:
        res.update(recall=counts['recall'], precision=counts['precision'])
    print(
        f'device {args.device}{" (" + torch.cuda.get_device_name() + ")" if dev_type == "cuda" else ""}, '
        f'{n} pages, {ours["patches"]} patches of {inf.predictor.patch_size}, batch {res["batch_size"]}, '
        f'best of {max(1, args.repeat)} rounds'
    )
    print(
        f'ours:  {res["time_s"]:.2f} s  {res["pages_per_s"]:.3f} pages/s  {res["patches_per_s"]:.2f} patches/s  '
        f'forward share {res["forward_share"]:.1%}  (page decoding {ours["decode"]:.2f} s)'
    )
    print(
        f'merge ({inf.predictor.merge["type"]}): {ours["merge"] * 1000 / n:.1f} ms per page, '
        f'{res["merge_share"]:.2%} of the page time'
    )
    print(
        f'pure forward of the same patches: {pure:.2f} s  ->  page time / pure forward = '
        f'{res["page_vs_pure_forward"]:.3f}'
    )
    print(f'peak RSS {rss:.0f} MB' + (f', peak GPU memory {gpu:.0f} MB' if gpu is not None else ''))
    if counts:
        print(f'ours:  recall {counts["recall"]:.4f}, precision {counts["precision"]:.4f} at score >= {args.score_thr}')
    if single is not None:
        res.update(
            one_view_time_s=single['time'],
            one_view_patches=single['patches'],
            views_vs_one_view=ours['time'] / single['time'],
            views=[str(v) for v in inf.predictor.views],
        )
        print(
            f'one view (the page at its own scale, {single["patches"]} patches):  {single["time"]:.2f} s   '
            f'views/one view time = {res["views_vs_one_view"]:.3f}  (patches {ours["patches"] / single["patches"]:.3f})'
        )
        sc = recall_of(single_preds, items, args.score_thr)
        if sc:
            res.update(one_view_recall=sc['recall'], one_view_precision=sc['precision'])
            print(f'one view:  recall {sc["recall"]:.4f}, precision {sc["precision"]:.4f} at score >= {args.score_thr}')
    if args.vs_sahi:
        with tempfile.TemporaryDirectory() as tmp:
            sahi, sahi_preds = run_sahi(inf, items, args, tmp)
        res.update(sahi_time_s=sahi['time'], ours_vs_sahi=ours['time'] / sahi['time'])
        sc = recall_of(sahi_preds, items, args.score_thr)
        print(
            f'SAHI:  {sahi["time"]:.2f} s  {n / sahi["time"]:.3f} pages/s   ours/SAHI time = {res["ours_vs_sahi"]:.3f}'
        )
        if sc:
            res.update(sahi_recall=sc['recall'], sahi_precision=sc['precision'])
            print(f'SAHI:  recall {sc["recall"]:.4f}, precision {sc["precision"]:.4f} at score >= {args.score_thr}')
    if args.out:
        atomic_write_json(args.out, res)
        print(f'figures: {args.out}')
    return res


if __name__ == '__main__':
    sys.exit(cli_main(main))
