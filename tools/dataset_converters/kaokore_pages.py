"""KaoKore metadata -> page-level COCO (one image per IIIF page, one annotation per face).

    python tools/dataset_converters/kaokore_pages.py --kaokore-dir ../shared/data/kaokore-v1.0 --out data/kaokore

Writes OUT/annotations/pages.json and OUT/annotations/conversion_report.json and
prints a summary (lines read, faces, pages, books, skipped lines with their
reasons). Page sizes come from the pages already downloaded into OUT by
tools/download_pages.py (the image's own size; the info.json saved beside it
when there is no image, a disagreement between the two reported); run the
converter again after downloading to fill them in and clip the boxes to the
pages. Exits non-zero only when nothing could be converted.
"""

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from kaokore_mm.converters.kaokore_metadata import convert, downloaded_page_sizes, summary
from kaokore_mm.utils.cli import UserError, cli_main, number
from kaokore_mm.utils.io import atomic_write_text


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--kaokore-dir', required=True, help='folder with urls.txt, labels.csv, original_tags.txt')
    p.add_argument('--out', required=True, help='dataset root (annotations/ is written, pages/ is read)')
    p.add_argument('--pages-dir', help='where downloaded pages are (default: OUT)')
    p.add_argument(
        '--show-skipped', type=number(int, 0), default=20, help='skipped lines printed (all are in the report)'
    )
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    if not Path(args.kaokore_dir).is_dir():
        raise UserError(f'--kaokore-dir {args.kaokore_dir}: no such folder (the KaoKore metadata: urls.txt, ...)')
    if out.exists() and not out.is_dir():
        raise UserError(f'--out {out}: a file, not a folder')
    disagreements = []
    try:
        coco, report = convert(args.kaokore_dir, downloaded_page_sizes(Path(args.pages_dir or out), disagreements))
    except (FileNotFoundError, ValueError) as e:
        raise UserError(str(e)) from None
    s = summary(coco, report)
    sized = sum(im['width'] is not None for im in coco['images'])
    if s['faces']:
        atomic_write_text(out / 'annotations' / 'pages.json', json.dumps(coco, ensure_ascii=False))
    atomic_write_text(
        out / 'annotations' / 'conversion_report.json',
        json.dumps(dict(summary=s, skipped=report.skipped), ensure_ascii=False, indent=1),
    )
    print(
        f'{s["lines"]} lines read: {s["faces"]} faces ({s["labelled"]} with gender and status) on {s["pages"]} '
        f'pages of {s["books"]} books; {s["skipped"]} lines skipped; {sized} of {s["pages"]} page sizes known'
    )
    for reason, n in Counter(r['reason'].split(':')[0] for r in report.skipped).most_common():
        print(f'  skipped {n:5d} x {reason}')
    for r in report.skipped[: args.show_skipped]:
        print(f'  {r["file"]}:{r["line"]}: {r["reason"]}')
    if disagreements:  # a server whose info.json does not describe what it sends (or a capped download)
        print(f'{len(disagreements)} pages sized from their image, not their info.json: {disagreements[0]}')
    if sized < s['pages']:
        print('page sizes missing: download the pages (tools/download_pages.py) and run this again to clip boxes')
    print(f'COCO: {out / "annotations" / "pages.json"}; report: {out / "annotations" / "conversion_report.json"}')
    return 0 if s['faces'] else 1


if __name__ == '__main__':
    sys.exit(cli_main(main))
