"""Correction effort, measured through the review app in a real browser.

    python tools/benchmark_correction.py OUT --truth pages.json [--iou 0.5] [--adjust-below 0.7]
        [--out effort.json]

OUT is what tools/annotate.py wrote for a book whose true faces are known
(``--truth``: a COCO file of the same pages, matched by file name). A script
plays the annotator in Chromium (selenium): on every page it accepts each
proposal that overlaps a true face by IoU >= --iou (and drags its two corners
onto the face when the IoU is below --adjust-below), deletes the others, draws
every missed face, and marks the page done, with the app's own keys and
mouse gestures. The app logs every action; the corrected book must equal the
truth (checked). Prints the operations per page against drawing every face
from scratch, and the effort share with stated costs (draw 1, corner
adjustment 0.5, delete 0.1, accept 0.05): the machine's seconds say nothing
about a person's, the operation counts do.
"""

import argparse
import sys
from pathlib import Path

from kaokore_mm.converters.import_pages import load_faces_coco
from kaokore_mm.review.scripted_annotator import COSTS, correct_book
from kaokore_mm.utils.cli import SHARE, UserError, cli_main
from kaokore_mm.utils.io import atomic_write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('out', help="tools/annotate.py's output folder")
    p.add_argument('--truth', required=True, help='COCO file with the true faces of the same pages')
    p.add_argument('--iou', type=SHARE, default=0.5)
    p.add_argument('--adjust-below', type=SHARE, default=0.7)
    p.add_argument('--json', help='write the figures here')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        truth = load_faces_coco(args.truth, '--truth')
    except ValueError as e:
        raise UserError(str(e)) from None
    res = correct_book(Path(args.out), truth, args.iou, args.adjust_below, log=lambda s: print(s, flush=True))
    ops = res['operations']
    print(
        f'{res["pages"]} pages, {res["faces"]} faces: correcting = {ops["accept"]} accepts, {ops["resize"]} '
        f'adjustments, {ops["delete"]} deletes, {ops["draw"]} drawings; drawing from scratch = {res["faces"]} '
        f'drawings -> effort share {res["effort_share"]:.3f} (costs {COSTS})'
    )
    if args.json:
        atomic_write_json(args.json, res)
    return res


if __name__ == '__main__':
    sys.exit(cli_main(main))
