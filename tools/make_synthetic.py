"""Write synthetic emaki pages (page COCO + KaoKore crop layout).

python tools/make_synthetic.py --out data/synthetic --pages 200 --books 8 --seed 0
python tools/make_synthetic.py --out data/realistic --look realistic --long-side 4000 6000
"""

import argparse
import sys
import time

from kaokore_mm.synthetic.emaki import make_synthetic
from kaokore_mm.utils.cli import COUNT, PIXELS, SEED, UserError, cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', required=True, help='output directory')
    p.add_argument('--pages', type=COUNT, default=200)
    p.add_argument('--books', type=COUNT, default=8)
    p.add_argument('--seed', type=SEED, default=0)
    p.add_argument(
        '--long-side',
        type=PIXELS,
        nargs=2,
        default=(2000, 6000),
        metavar=('MIN', 'MAX'),
        help='range of the long side of a page in pixels',
    )
    p.add_argument(
        '--face-size',
        type=PIXELS,
        nargs=2,
        metavar=('MIN', 'MAX'),
        help="range of face widths in pixels (default 30 250); with --look realistic KaoKore's face sizes "
        'cut to this range (default: all of them)',
    )
    p.add_argument('--crop-size', type=PIXELS, default=256)
    p.add_argument(
        '--look',
        choices=('demo', 'realistic'),
        default='demo',
        help="'realistic': KaoKore's face sizes, 1-2 px facial strokes, face-like crests, aged paper "
        '(use with --long-side 4000 6000)',
    )
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    try:
        summary = make_synthetic(
            args.out,
            pages=args.pages,
            books=args.books,
            seed=args.seed,
            long_side=tuple(args.long_side),
            face_range=tuple(args.face_size) if args.face_size else None,
            crop_size=args.crop_size,
            look=args.look,
        )
    except ValueError as e:  # --pages 0, reversed ranges, ...: the generator says which
        raise UserError(f'{e}; see --help') from None
    print(
        f'{summary["pages"]} pages, {summary["faces"]} faces, {summary["books"]} books in '
        f'{time.time() - t0:.1f} s -> {summary["out"]} (COCO: {summary["ann_file"]})'
    )
    return summary


if __name__ == '__main__':
    sys.exit(cli_main(main))
