"""Fold an annotator's corrections of a new book back into the training set.

    python tools/merge_corrections.py --corrections corrected.coco.json|w3c/*.json \
        --pages annotate_out/annotations.coco.json --book-id newbook \
        --train-ann data/kaokore/annotations/pages.json --data-root data/kaokore \
        [--predictions annotate_out/annotations.coco.json] [--replace] [--out merged.json]

Corrections are COCO or W3C Web Annotation / IIIF annotation lists, the
formats tools/annotate.py writes (W3C targets are placed on the pages of
--pages). The corrected pages are copied into DATA_ROOT/pages/<book-id>/ and
added to the training COCO under their own book id (refused when that book is
already there, unless --replace), so re-training is the usual tools/train.py,
and the book-aware splits see the new book. Only pages marked done in the review app
are merged (others are listed; --include-unfinished merges them), and only
the labels the annotator confirmed become labels. With --predictions (annotate.py's
COCO), the detector's proposals are scored against the corrections: precision,
recall and the annotation effort saved. The COCO is written atomically.
"""

import argparse
import sys

from kaokore_mm.annotation.corrections import merge_corrections
from kaokore_mm.utils.cli import cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--corrections', nargs='+', required=True)
    p.add_argument('--pages', help="the pages of the book (annotate.py's COCO): canvases and image files")
    p.add_argument('--book-id', required=True)
    p.add_argument('--book-title')
    p.add_argument('--train-ann', required=True, help='training COCO (page level)')
    p.add_argument('--data-root', required=True, help='root the training file names are relative to')
    p.add_argument('--predictions', help="annotate.py's COCO, to score the proposals against the corrections")
    p.add_argument('--replace', action='store_true', help='replace the pages of a book already in the training set')
    p.add_argument('--out', help='merged COCO (default: --train-ann, replaced atomically)')
    p.add_argument(
        '--include-unfinished',
        action='store_true',
        help='merge the pages not marked done in the review app too (default: they are listed and left out)',
    )
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    r = merge_corrections(
        args.corrections,
        args.train_ann,
        args.data_root,
        args.book_id,
        args.pages,
        args.predictions,
        args.replace,
        args.out,
        args.book_title,
        args.include_unfinished,
    )
    if args.predictions:
        print(
            f'proposals vs corrections at score >= {r["score_thr"]}: precision {r["precision"]:.3f}, recall '
            f'{r["recall"]:.3f}; {r["faces_to_draw"]} faces drawn, {r["boxes_to_delete"]} boxes deleted: '
            f'{r["manual_share"]:.2f} of the work from scratch, {r["saved_share"]:.0%} saved'
        )
    if any(r['book_pages'].values()):
        print('pages of the book: ' + ', '.join(f'{k} {v}' for k, v in r['book_pages'].items() if v))
    if r['unfinished']:
        print(
            f'{len(r["unfinished"])} pages not marked done were left out (listed above; '
            '--include-unfinished merges them)'
        )
    rv = r['review']
    print(
        f'faces by review: {", ".join(f"{k} {v}" for k, v in sorted(rv["boxes"].items()))}; labels confirmed '
        f'{rv["labels_confirmed"]} ({rv["labels_confirmed_in_bulk"]} in bulk, {rv["labels_decided_one_by_one"]} '
        f'one by one), left as proposals {rv["labels_proposed_only"]}'
    )
    print(
        f'book {args.book_id}: {r["pages"]} pages, {r["faces"]} faces added to {r["out"]} '
        f'(now {r["train_pages"]} pages, {r["train_faces"]} faces)'
    )
    return 0


if __name__ == '__main__':
    sys.exit(cli_main(main, aliases={'pages_file': '--pages'}))
