"""KaoKore metadata -> page-level COCO (one image per IIIF page, one annotation per face).

    python tools/dataset_converters/kaokore_pages.py --kaokore-dir ../shared/data/kaokore-v1.0 --out data/kaokore

Writes OUT/annotations/pages.json and OUT/annotations/conversion_report.json and
prints a summary (lines read, faces, pages, books, skipped lines with their
reasons). Page sizes come from the pages already downloaded into OUT by
tools/download_pages.py (the image, or the info.json saved beside it); run the
converter again after downloading to fill them in and clip the boxes to the
pages. Exits non-zero only when nothing could be converted.
"""

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from kaokore_mm.converters.kaokore_metadata import convert, summary
from kaokore_mm.utils.io import atomic_write_text


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--kaokore-dir', required=True, help='folder with urls.txt, labels.csv, original_tags.txt')
    p.add_argument('--out', required=True, help='dataset root (annotations/ is written, pages/ is read)')
    p.add_argument('--pages-dir', help='where downloaded pages are (default: OUT)')
    p.add_argument('--show-skipped', type=int, default=20, help='skipped lines printed (all are in the report)')
    return p.parse_args(argv)


def page_size_reader(root: Path):
    """``size_of(page)`` from a downloaded page or the info.json beside it."""

    def size_of(page):
        img = root / page['file_name']
        info = img.with_name(img.name + '.info.json')
        if info.is_file():
            try:
                data = json.loads(info.read_text(encoding='utf-8'))
                return data['width'], data['height']  # checked by the converter (valid_page_size)
            except (ValueError, KeyError, TypeError):
                pass
        if img.is_file():
            from PIL import Image

            try:
                with Image.open(img) as im:
                    return im.size
            except OSError:
                return None
        return None

    return size_of


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    coco, report = convert(args.kaokore_dir, page_size_reader(Path(args.pages_dir or out)))
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
    if sized < s['pages']:
        print('page sizes missing: download the pages (tools/download_pages.py) and run this again to clip boxes')
    print(f'COCO: {out / "annotations" / "pages.json"}; report: {out / "annotations" / "conversion_report.json"}')
    return 0 if s['faces'] else 1


if __name__ == '__main__':
    sys.exit(main())
