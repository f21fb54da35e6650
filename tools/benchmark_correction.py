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
import json
import socket
import sys
import threading
import time
from pathlib import Path

import numpy as np

from kaokore_mm.core.boxes import iou_matrix
from kaokore_mm.review.scripted_annotator import COSTS, Browser, correct_page, xywh_boxes
from kaokore_mm.utils.cli import UserError, cli_main
from kaokore_mm.utils.io import atomic_write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('out', help="tools/annotate.py's output folder")
    p.add_argument('--truth', required=True, help='COCO file with the true faces of the same pages')
    p.add_argument('--iou', type=float, default=0.5)
    p.add_argument('--adjust-below', type=float, default=0.7)
    p.add_argument('--json', help='write the figures here')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import uvicorn

    from kaokore_mm.review import create_app

    out = Path(args.out)
    truth_coco = json.loads(Path(args.truth).read_text())
    faces = {}
    by_id = {im['id']: Path(im['file_name']).name for im in truth_coco['images']}
    for im in truth_coco['images']:
        faces[Path(im['file_name']).name] = []
    for a in truth_coco['annotations']:
        x, y, w, h = a['bbox']
        faces[by_id[a['image_id']]].append([x, y, x + w, y + h])
    app = create_app(out)
    store = app.state.store
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host='127.0.0.1', port=port, log_level='warning'))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    browser = Browser()
    totals = dict(accept=0, resize=0, delete=0, draw=0)
    n_faces, t0 = 0, time.time()
    try:
        for stem, page in store.pages.items():
            name = Path(page['key']).name
            if name not in faces:
                raise UserError(f'{args.truth}: no page named {name}')
            truth = np.array(faces[name], float).reshape(-1, 4)
            ops = correct_page(
                browser,
                f'http://127.0.0.1:{port}/review/{stem}',
                truth,
                out / 'corrections' / f'{stem}.json',
                args.iou,
                args.adjust_below,
            )
            for k, v in ops.items():
                totals[k] += v
            n_faces += len(truth)
            # the corrected page must be the truth
            doc = json.loads((out / 'corrections' / f'{stem}.json').read_text())
            got = xywh_boxes(doc['items'])
            if len(got) != len(truth) or (len(truth) and iou_matrix(got, truth).max(0).min() < args.iou):
                raise UserError(f'page {page["key"]}: the corrected boxes do not match the truth')
            print(
                f'{page["key"]}: {len(truth)} faces; accepted {ops["accept"]}, adjusted {ops["resize"]}, '
                f'deleted {ops["delete"]}, drew {ops["draw"]}',
                flush=True,
            )
    finally:
        browser.drv.quit()
        server.should_exit = True
    seconds = time.time() - t0
    cost = sum(COSTS[k] * v for k, v in totals.items())
    res = dict(
        pages=len(store.pages),
        faces=n_faces,
        operations=totals,
        costs=COSTS,
        effort_share=cost / max(1, n_faces),
        logged=store.effort(),
        script_seconds=seconds,
    )
    print(
        f'{res["pages"]} pages, {n_faces} faces: correcting = {totals["accept"]} accepts, {totals["resize"]} '
        f'adjustments, {totals["delete"]} deletes, {totals["draw"]} drawings; drawing from scratch = {n_faces} '
        f'drawings -> effort share {res["effort_share"]:.3f} (costs {COSTS})'
    )
    if args.json:
        atomic_write_json(args.json, res)
    return res


if __name__ == '__main__':
    sys.exit(cli_main(main))
