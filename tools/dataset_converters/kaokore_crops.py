"""KaoKore crop layout (images_256/%08d.jpg, labels.csv) from downloaded pages.

    python tools/dataset_converters/kaokore_crops.py --coco data/kaokore/annotations/pages.json \
        --pages-root data/kaokore --out data/kaokore

Every face of the page COCO written by kaokore_pages.py is cut from its page with
its original IIIF region and resized to SIZE x SIZE; labels.csv gets the labelled
faces with KaoKore's official set. Resumable; the COCO is checked first
(kaokore_mm.converters.kaokore_crops, where the logic lives).
"""

import argparse
import sys

from kaokore_mm.converters.kaokore_crops import write_crops
from kaokore_mm.utils.cli import PIXELS, UserError, cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--coco', required=True)
    p.add_argument('--pages-root', required=True, help='folder the COCO file names are relative to')
    p.add_argument('--out', required=True)
    p.add_argument('--size', type=PIXELS, default=256)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        r = write_crops(args.coco, args.pages_root, args.out, args.size)
    except ValueError as e:
        raise UserError(str(e)) from None
    print(
        f'{r["written"]} crops written, {r["kept"]} kept from an earlier run, {r["rows"]} labelled rows in '
        f'{r["labels"]}; {len(r["problems"])} pages missing or unreadable'
    )
    for p in r['problems'][:20]:
        print(f'  {p["page"]}: {p["reason"]} ({p["faces"]} faces skipped)')
    return 0 if r['written'] + r['kept'] else 1


if __name__ == '__main__':
    sys.exit(cli_main(main))
