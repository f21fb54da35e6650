"""Import a user's own page annotations into a kaokore page COCO.

    python tools/dataset_converters/import_annotations.py --input my_coco.json --book-id mybook --out pages.json
    python tools/dataset_converters/import_annotations.py --input annos/*.json --pages pages_of_book.json \
        --out pages.json

Inputs: COCO files (images with file_name, width, height; faces as category
"face", or all categories), or W3C Web Annotation pages / IIIF annotation lists
whose targets are ``#xywh=`` boxes on canvases; those are placed on the pages of
--pages (a COCO whose images name their ``canvas`` or ``iiif_base``). Boxes are
clipped to their pages; every unusable item (bad box, box outside its page,
unknown canvas, unsafe file name, unreadable file) is reported with its file
and item and skipped. Of W3C annotations and curations only faces are taken: a region
that a word of its own (a tag, a label: "face", "顔", a status or gender) or of its
document names a face, and not a painting or transcription (a curation of text lines,
regions tagged "music", a whole-page selection are counted and listed; --all-regions takes
them all). Rectangles drawn as SVG (Mirador, Annotorious) are read. Exits non-zero only
when nothing could be imported.
"""

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from kaokore_mm.converters.import_pages import PageCollector, canvas_index, load_json
from kaokore_mm.utils.cli import UserError, cli_main
from kaokore_mm.utils.io import atomic_write_text


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--input', nargs='+', required=True)
    p.add_argument('--pages', help='page COCO with canvas/iiif_base per image (for W3C/IIIF inputs)')
    p.add_argument('--book-id', help='book of pages that name none')
    p.add_argument('--book-title')
    p.add_argument('--out', required=True)
    p.add_argument('--overwrite', action='store_true', help='replace --out if it exists (refused otherwise)')
    p.add_argument(
        '--all-regions',
        action='store_true',
        help='take every box of W3C annotations and curations as a face (default: only regions that a word '
        'of their own or of their document names a face; the others are counted and listed)',
    )
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if Path(args.out).exists() and not args.overwrite:
        raise UserError(f'{args.out} exists (a training COCO?); give another --out, or --overwrite to replace it')
    col = PageCollector(args.book_id, args.book_title, all_regions=args.all_regions)
    try:
        by_canvas = canvas_index(load_json(args.pages)) if args.pages else {}
    except (ValueError, AttributeError, TypeError) as e:
        raise UserError(f'--pages {args.pages}: {e}') from None
    for path in args.input:  # one bad file is reported and skipped; the others are imported
        try:
            doc = load_json(path)
            if isinstance(doc, dict) and 'images' in doc and 'annotations' in doc:
                col.add_coco(doc, path)
            else:
                col.add_web_annotations(doc, path, by_canvas)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            col.problems.append(dict(file=path, item=None, reason=f'{type(e).__name__}: {e}'))
    coco = col.coco()
    if coco['annotations'] or coco['images']:
        atomic_write_text(Path(args.out), json.dumps(coco, ensure_ascii=False))
    print(
        f'{len(coco["images"])} pages, {len(coco["annotations"])} faces imported into {args.out}; '
        f'{len(col.problems)} items skipped; {len(col.not_faces)} regions not taken as faces'
    )
    for p in col.problems[:50]:
        print(f'  {p["file"]} [{p["item"]}]: {p["reason"]}')
    kinds = Counter(n['reason'].split(' (')[0] for n in col.not_faces)
    for reason, n in kinds.most_common():
        example = next(x for x in col.not_faces if x['reason'].startswith(reason))
        print(f'  not a face: {n} regions: {reason} (e.g. {example["file"]} [{example["item"]}]: {example["reason"]})')
    if col.not_faces:
        print('  (--all-regions takes every region as a face)')
    return 0 if coco['images'] else 1


if __name__ == '__main__':
    sys.exit(cli_main(main))
