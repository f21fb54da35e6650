"""Propose face annotations for a new book: detect (and classify) faces on every page.

    python tools/annotate.py CONFIG CKPT (--images DIR | --iiif-manifest FILE_OR_URL) --out DIR
        [--classifier CLS_CONFIG CLS_CKPT] [--score-thr 0.3] [--book-id ID] [--device cpu]

Every page goes through patched page inference (the config's patching, batched,
progress bar); its boxes are kept in OUT/predictions/<page>.json, so a rerun
skips finished pages. Then, for the boxes scoring at least --score-thr (the
annotation threshold: low by default, because a wrong box costs a click and a
missed face a drawing), it writes:

- OUT/annotations.coco.json: COCO with scores (and status/gender with scores);
  file names are relative to the page folder, named in ``info.images_root``;
- OUT/w3c/<page>.json: a W3C Web Annotation AnnotationPage per canvas
  (targets as #xywh= fragments) that IIIF viewers such as Mirador load;
- OUT/annotations.csv: one row per box;
- OUT/review/<page>.jpg (pages with their boxes) and OUT/review/contact_sheet.jpg
  (face crops ordered by score, doubtful ones first);
- OUT/annotate.json: what was run, with the threshold.
With a manifest, the pages are first downloaded into OUT/pages/ (resumable).
"""
import argparse
import csv
import io
import json
import os
import sys
import urllib.request
from pathlib import Path

import cv2
import numpy as np

import kaokore_mm  # noqa: F401
from kaokore_mm.apis import PageInferencer, read_page
from kaokore_mm.converters.kaokore_metadata import page_file_name
from kaokore_mm.converters.web_annotation import annotation_page
from kaokore_mm.utils.draw import draw_page_boxes
from kaokore_mm.utils.image_ops import cut_crop, face_window
from kaokore_mm.utils.io import atomic_write_bytes, atomic_write_json, atomic_write_text
from kaokore_mm.utils.cli import cli_main

IMAGE_EXT = ('.jpg', '.jpeg', '.png', '.tif', '.tiff', '.bmp', '.webp')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('checkpoint')
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--images', help='a folder of page images')
    src.add_argument('--iiif-manifest', help='a IIIF Presentation manifest (file or URL)')
    p.add_argument('--out', required=True)
    p.add_argument('--classifier', nargs=2, metavar=('CONFIG', 'CKPT'), help='status or gender classifier')
    p.add_argument('--score-thr', type=float, default=0.3, help='annotation threshold (high recall by default)')
    p.add_argument('--book-id', help='book id of the pages (default: the folder or manifest name)')
    p.add_argument('--book-title')
    p.add_argument('--device', default='cpu')
    p.add_argument('--batch-size', type=int)
    return p.parse_args(argv)


def pages_from_images(folder: Path):
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_EXT)
    if not files:
        raise SystemExit(f'{folder}: no page images')
    return [dict(path=f, name=f.stem, canvas=f.resolve().as_uri()) for f in files]


def pages_from_manifest(src: str, out: Path):
    from kaokore_mm.converters.iiif_download import Downloader, PageJob
    from kaokore_mm.converters.iiif_manifest import manifest_pages
    raw = urllib.request.urlopen(src, timeout=60).read() if src.startswith(('http://', 'https://')) \
        else Path(src).read_bytes()
    pages = manifest_pages(json.loads(raw.decode('utf-8')))
    jobs = []
    for p in pages:
        server, _, path = p['iiif_base'].split('://', 1)[1].partition('/')
        p['path'] = (out / page_file_name(server, path)).resolve()
        p['name'] = Path(p['path']).stem.replace('.', '_')
        jobs.append(PageJob(p['iiif_base'], p['path']))
    report = Downloader().run(jobs, root=out / 'pages')
    failed = {f['base'] for f in report.failed}
    for f in report.failed:
        print(f'page not downloaded: {f["base"]}: {f["reason"]}', file=sys.stderr)
    return [p for p in pages if p['iiif_base'] not in failed]


def contact_sheet(faces, path: Path, thumb: int = 96, cols: int = 10):
    """Face crops ordered by score, lowest (most doubtful) first, with their scores."""
    faces = sorted(faces, key=lambda f: f['score'])
    if not faces:
        return
    rows = -(-len(faces) // cols)
    sheet = np.full((rows * (thumb + 16), cols * thumb, 3), 255, np.uint8)
    for k, f in enumerate(faces):
        r, c = divmod(k, cols)
        tile = cut_crop(f['img'], face_window(f['box']), thumb)
        sheet[r * (thumb + 16):r * (thumb + 16) + thumb, c * thumb:(c + 1) * thumb] = tile
        label = f'{f["score"]:.2f}' + (f' {f["status"][:4]}' if f.get('status') else '')
        cv2.putText(sheet, label, (c * thumb + 2, r * (thumb + 16) + thumb + 12), cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                    (0, 0, 200) if f['score'] < 0.5 else (0, 120, 0), 1, cv2.LINE_AA)
    cv2.imwrite(str(path), sheet)


def main(argv=None):
    args = parse_args(argv)
    out = Path(args.out)
    (out / 'predictions').mkdir(parents=True, exist_ok=True)
    if args.images:
        pages = pages_from_images(Path(args.images))
        book = args.book_id or Path(args.images).resolve().name
        images_root = Path(args.images).resolve()
    else:
        pages = pages_from_manifest(args.iiif_manifest, out)
        book = args.book_id or Path(args.iiif_manifest.rstrip('/')).stem
        images_root = out.resolve()
    inferencer = PageInferencer(args.config, args.checkpoint, device=args.device, batch_size=args.batch_size)
    classifier = None
    if args.classifier:
        from kaokore_mm.apis.face_classifier import FaceClassifier
        classifier = FaceClassifier(*args.classifier, device=args.device)
    from tqdm import tqdm
    done = 0
    for p in tqdm(pages, desc='pages', unit='page'):
        pred_file = out / 'predictions' / f'{p["name"]}.json'
        if pred_file.exists():
            continue  # finished in an earlier run
        img = read_page(p['path'])
        r = inferencer(img)
        faces = [dict(box=[float(v) for v in b], score=float(s)) for b, s in zip(r['bboxes'], r['scores'])]
        if classifier is not None and faces:
            for f, (label, score) in zip(faces, classifier(img, [f['box'] for f in faces])):
                f[classifier.task], f[f'{classifier.task}_score'] = label, score
        atomic_write_text(pred_file, json.dumps(dict(width=img.shape[1], height=img.shape[0], faces=faces)))
        done += 1
    # outputs from all predictions at the annotation threshold
    images, anns, rows, review = [], [], [], []
    (out / 'w3c').mkdir(exist_ok=True)
    (out / 'review').mkdir(exist_ok=True)
    for k, p in enumerate(pages, 1):
        pred = json.loads((out / 'predictions' / f'{p["name"]}.json').read_text())
        faces = [f for f in pred['faces'] if f['score'] >= args.score_thr]
        file_name = os.path.relpath(Path(p['path']).resolve(), images_root)
        images.append(dict(id=k, file_name=file_name, width=pred['width'], height=pred['height'], book_id=book,
                           book_title=args.book_title, canvas=p['canvas'], iiif_base=p.get('iiif_base')))
        w3c = []
        for f in faces:
            x1, y1, x2, y2 = f['box']
            attrs = {key: f[key] for key in ('status', 'gender') if key in f}
            scores = {f'{key}_score': f[f'{key}_score'] for key in attrs}
            anns.append(dict(id=len(anns) + 1, image_id=k, category_id=1, bbox=[x1, y1, x2 - x1, y2 - y1],
                             area=(x2 - x1) * (y2 - y1), iscrowd=0, score=f['score'], attributes=dict(attrs, **scores)))
            w3c.append(dict(bbox=[x1, y1, x2 - x1, y2 - y1], score=f['score'], tags=list(attrs.values())))
            rows.append([file_name, p['canvas'], round(x1, 1), round(y1, 1), round(x2 - x1, 1), round(y2 - y1, 1),
                         round(f['score'], 4), f.get('status', f.get('gender', '')),
                         round(f.get('status_score', f.get('gender_score', 0.0)), 4)])
        atomic_write_text(out / 'w3c' / f'{p["name"]}.json',
                          json.dumps(annotation_page(p['canvas'], w3c), ensure_ascii=False, indent=1))
        img = read_page(p['path'])
        pic = draw_page_boxes(img, pred_boxes=[f['box'] for f in faces], pred_scores=[f['score'] for f in faces],
                              score_thr=args.score_thr)
        atomic_write_bytes(out / 'review' / f'{p["name"]}.jpg', cv2.imencode('.jpg', pic)[1].tobytes())
        review += [dict(f, img=img) for f in faces]
    coco = dict(info=dict(description=f'faces proposed by {args.config}', score_thr=args.score_thr,
                          images_root=str(images_root)),
                images=images, annotations=anns, categories=[dict(id=1, name='face')])
    atomic_write_text(out / 'annotations.coco.json', json.dumps(coco, ensure_ascii=False))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator='\n')
    w.writerow(['file_name', 'canvas', 'x', 'y', 'w', 'h', 'score', 'label', 'label_score'])
    w.writerows(rows)
    atomic_write_text(out / 'annotations.csv', buf.getvalue())
    contact_sheet(review, out / 'review' / 'contact_sheet.jpg')
    meta = dict(config=args.config, checkpoint=args.checkpoint, classifier=args.classifier, book_id=book,
                score_thr=args.score_thr, pages=len(pages), pages_predicted_now=done, faces=len(anns))
    atomic_write_json(out / 'annotate.json', meta)
    print(f'{len(pages)} pages ({done} predicted now, {len(pages) - done} from an earlier run): {len(anns)} faces at '
          f'score >= {args.score_thr} -> {out}/annotations.coco.json, w3c/, annotations.csv, review/')
    return meta


if __name__ == '__main__':
    sys.exit(cli_main(main))
