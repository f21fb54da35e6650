"""Propose face annotations for a new book: detect (and classify) faces on every page.

    python tools/annotate.py CONFIG CKPT (--images DIR | --iiif-manifest FILE_OR_URL) --out DIR
        [--classifier CLS_CONFIG CLS_CKPT] [--score-thr auto|0.3] [--book-id ID] [--device cpu]
        [--skip-bad-pages] [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]

Every page goes through patched page inference (the config's patching, batched,
progress bar); its boxes are kept in OUT/predictions/<page>.json with the model
that made them, so a rerun skips finished pages and predicts again the pages
of another checkpoint or config. Then, for the boxes scoring at least
--score-thr (the annotation threshold; by default ``auto``: the checkpoint's
operating point, the threshold at which correcting the proposals cost least on
the validation pages, printed with its precision and recall; 0.3 for a
checkpoint trained without one), it writes:

- OUT/annotations.coco.json: COCO with scores (and status/gender with scores);
  file names are relative to the page folder, named in ``info.images_root``;
- OUT/w3c/<page>.json: a W3C Web Annotation AnnotationPage per canvas
  (targets as integer #xywh= fragments) that IIIF viewers such as Mirador load;
- OUT/manifest.json: a IIIF Presentation 3 manifest, one canvas per page with its
  W3C AnnotationPage (open it in Mirador while tools/review.py serves OUT);
- OUT/annotations.csv: one row per box;
- OUT/review/<page>.jpg (pages with their boxes) and OUT/review/contact_sheet.jpg
  (the most doubtful face crops, lowest score first);
- OUT/annotate.json: what was run (model with content hashes, threshold,
  unreadable pages).
Pages are keyed by their path relative to --images (with extension) or by
canvas id. With a manifest, the pages are first downloaded into OUT/pages/
(resumable). Pages that cannot be used (missing, cut short, not an image) stop
the run before any prediction, with one line naming them; --skip-bad-pages
lists them in annotate.json and goes on (the policy of train.py and test.py).
With --launcher (torchrun, slurm, mpi) the pages are shared by the processes.
"""

import argparse
import sys
from pathlib import Path

from mmengine.config import DictAction

import kaokore_mm  # noqa: F401
from kaokore_mm.annotation import (
    DEFAULT_BASE_URL,
    BadPageError,
    PageSourceError,
    annotate_pages,
    describe_score_threshold,
    face_proposer,
    model_tag,
    pages_from_folder,
    pages_from_manifest,
    score_threshold,
)
from kaokore_mm.compat import check_checkpoint
from kaokore_mm.utils.cli import COUNT, SCORE_THR, UserError, cli_main
from kaokore_mm.utils.config import add_partial_load_arg, load_config


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('checkpoint')
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--images', help='a folder of page images (sub-folders included)')
    src.add_argument('--iiif-manifest', help='a IIIF Presentation manifest (file or URL)')
    p.add_argument('--out', required=True)
    p.add_argument('--classifier', nargs=2, metavar=('CONFIG', 'CKPT'), help='status or gender classifier')
    p.add_argument(
        '--score-thr',
        type=SCORE_THR,
        default='auto',
        help="annotation threshold: a number, or 'auto' (the checkpoint's operating point from validation: "
        'where proposing a box pays; 0.3 when it has none)',
    )
    p.add_argument('--book-id', help='book id of the pages (default: the folder or manifest name)')
    p.add_argument('--book-title')
    p.add_argument('--device', default=None, help='default: cuda:LOCAL_RANK when CUDA is there, else cpu')
    p.add_argument('--batch-size', type=COUNT)
    p.add_argument(
        '--skip-bad-pages',
        action='store_true',
        help='list pages that cannot be used in annotate.json and go on without them (default: stop '
        'before predicting, naming them)',
    )
    p.add_argument(
        '--base-url',
        default=DEFAULT_BASE_URL,
        help='http(s) address where tools/review.py (or a web server) serves OUT: the ids of manifest.json, '
        "the canvases, the W3C pages and the tiles (default: the review app's own, %(default)s)",
    )
    p.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help="override the detector config, e.g. the papers' plain grid: test_cfg.overlap=0.0 "
        'test_cfg.merge.ioa_thr=None',
    )
    add_partial_load_arg(p)
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    return p.parse_args(argv)


def warn(line: str) -> None:
    print(line, file=sys.stderr)


def main(argv=None):
    args = parse_args(argv)
    if not args.base_url.startswith(('http://', 'https://')):
        raise UserError(f'--base-url {args.base_url!r}: give the http(s) address the review app will have')
    cfg = load_config(args.config, args.cfg_options)  # its values and the checkpoint first: before any page
    check_checkpoint(args.checkpoint)
    score_thr, score_thr_from = score_threshold(args.score_thr, args.checkpoint)
    import torch

    from kaokore_mm.utils.dist import finish_distributed, init_cpu_process_group, rank_and_world

    if args.launcher != 'none' and not init_cpu_process_group(args.launcher):
        from mmengine.dist import init_dist

        init_dist(args.launcher)
    rank, world = rank_and_world()
    device = args.device or (f'cuda:{torch.cuda.current_device()}' if torch.cuda.is_available() else 'cpu')
    out = Path(args.out)
    try:
        if args.images:
            pages, source = pages_from_folder(args.images, exclude=out), None  # --out may be inside the book
            book = args.book_id or Path(args.images).resolve().name
            book_title = args.book_title
            images_root = Path(args.images).resolve()
        else:
            # one downloader (rank 0); the others wait at the barrier below
            pages, source = pages_from_manifest(args.iiif_manifest, out, download=rank == 0, log=warn)
            book = args.book_id or Path(args.iiif_manifest.rstrip('/')).stem
            book_title = args.book_title or source['label'] or None
            images_root = out.resolve()
    except PageSourceError as e:
        raise UserError(str(e)) from None
    if world > 1:
        torch.distributed.barrier()
    from kaokore_mm.apis import PageInferencer

    inferencer = PageInferencer(
        cfg, args.checkpoint, device=device, batch_size=args.batch_size, partial_load=args.partial_load
    )
    classifier = None
    if args.classifier:
        from kaokore_mm.interpretation import FaceClassifier

        classifier = FaceClassifier(*args.classifier, device=device, partial_load=args.partial_load)

    try:
        meta = annotate_pages(
            pages,
            out,
            face_proposer(inferencer, classifier),
            model_tag(cfg, args.checkpoint, args.classifier),
            images_root,
            book,
            score_thr,
            args.skip_bad_pages,
            book_title,
            description=f'faces proposed by {args.config}',
            base_url=args.base_url,
            source=source,
            score_thr_from=score_thr_from,
        )
    except BadPageError as e:
        raise UserError(str(e)) from None
    finish_distributed()
    if rank == 0:
        print(describe_score_threshold(score_thr, score_thr_from))
        for b in meta['bad_pages']:
            print(f'unreadable page skipped: {b["reason"]}', file=sys.stderr)
        for s in meta['canvases_skipped']:
            print(f'canvas skipped: {s["canvas"] or s["index"]}: {s["reason"]}', file=sys.stderr)
        skipped = (
            f', {len(meta["canvases_skipped"])} canvases without a usable image' if meta['canvases_skipped'] else ''
        )
        print(
            f'{meta["pages_written"]} of {meta["pages"]} pages written ({meta["pages_predicted_now"]} predicted now, '
            f'{len(meta["bad_pages"])} unreadable{skipped}): {meta["faces"]} faces at score >= {score_thr:g} -> '
            f'{out}/annotations.coco.json, w3c/, manifest.json, curation.json, annotations.csv, review/'
        )
    return meta


if __name__ == '__main__':
    sys.exit(cli_main(main))
