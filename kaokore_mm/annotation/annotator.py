"""Propose faces on the pages of a book and write what annotators and viewers load.

:func:`annotate_pages` runs in one process or in many (pages sharded by rank,
outputs written by rank 0 from the per-page predictions, so any number of
processes gives the same files and a run resumes after a change of that
number). Per page, ``OUT/predictions/<stem>.json`` holds the boxes with the
model that made them (config and checkpoint, each with a content hash): a page
is predicted again when the model changed, never mixed. Pages that cannot be
used (missing, cut short, not an image) stop the run before any prediction,
with one line naming them, or with ``skip_bad`` are listed in ``annotate.json``
and skipped, so the rest of the book finishes: the policy of train and test.
Memory stays bounded by one page: outputs are written page by page and the
contact sheet keeps only the ``sheet_size`` most doubtful face crops.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from kaokore_mm.annotation.manifest import book_manifest, public_canvas, tiles_url, w3c_url
from kaokore_mm.annotation.tiles import write_tiles
from kaokore_mm.converters.curation import curation
from kaokore_mm.converters.web_annotation import annotation_page
from kaokore_mm.core.iiif_presentation import canvas_scale, to_canvas
from kaokore_mm.core.page_files import bad_pages_message, page_problem, read_page
from kaokore_mm.engine.hooks import read_operating_point
from kaokore_mm.errors import BadPageError
from kaokore_mm.utils.config import resolved
from kaokore_mm.utils.dist import rank_and_world
from kaokore_mm.utils.image_ops import cut_crop, face_window
from kaokore_mm.utils.io import atomic_write_bytes, atomic_write_json, atomic_write_text, remove_stale_temp_files
from kaokore_mm.visualization.draw import draw_page_boxes, score_colour

from .pages import page_stem

THUMB = 96


def file_sha256(path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            h.update(block)
    return h.hexdigest()


def model_tag(config, checkpoint, classifier=None) -> dict:
    """What made a prediction: the config (as resolved, hashed) and the checkpoint
    (path and content hash), and the classifier's if any."""
    from mmengine.config import Config

    def one(cfg_path, ckpt):
        cfg = resolved(cfg_path)
        text = cfg.pretty_text  # as resolved, --cfg-options included
        return dict(
            config=str(cfg.filename if isinstance(cfg_path, Config) else cfg_path),
            config_sha256=hashlib.sha256(text.encode('utf-8')).hexdigest()[:16],
            checkpoint=str(ckpt),
            checkpoint_sha256=file_sha256(ckpt)[:16],
        )

    tag = dict(detector=one(config, checkpoint))
    if classifier:
        tag['classifier'] = one(*classifier)
    return tag


DEFAULT_BASE_URL = 'http://127.0.0.1:8000'  # the review tool's own address, as it prints it
DEFAULT_SCORE_THR = 0.3  # without an operating point: low, because a wrong box costs a click, a miss a drawing


def score_threshold(given, checkpoint) -> tuple[float, dict]:
    """The annotation threshold and where it comes from. ``given``: a number (it wins), or
    ``'auto'``: the operating point kept in ``checkpoint`` (the threshold of least correction
    effort on the validation pages, see :class:`~kaokore_mm.engine.hooks.OperatingPointHook`),
    else :data:`DEFAULT_SCORE_THR`."""
    if given != 'auto':
        return float(given), dict(source='given')

    point = read_operating_point(checkpoint)
    if not point or point.get('score_thr') is None:
        return DEFAULT_SCORE_THR, dict(source='default', reason='the checkpoint carries no operating point')
    return float(point['score_thr']), dict(point, source='validation')


def describe_score_threshold(thr: float, how: dict) -> str:
    """One line saying which threshold proposes and why (what the annotate tool prints)."""
    if how['source'] == 'given':
        return f'score threshold {thr:g} (given)'
    if how['source'] == 'default':
        return (
            f'score threshold {thr:g} (the default: {how["reason"]} from validation; train with the '
            'OperatingPointHook and a FaceDetectionMetric validation, or give a number)'
        )

    def fig(key):
        v = how.get(key)
        return 'n/a' if v is None else f'{v:.3f}'

    return (
        f'score threshold {thr:.4f}: the operating point of the validation at iteration {how.get("iter")} '
        f'(precision {fig("precision")}, recall {fig("recall")}, correction effort {fig("effort_share")} '
        'of drawing every face)'
    )


def model_name(tag) -> str | None:
    """``<config name>@<checkpoint hash>`` of a :func:`model_tag` (what a proposal names as its model)."""
    det = (tag or {}).get('detector') if isinstance(tag, dict) else None
    if not det:
        return None
    return f'{Path(det["config"]).stem}@{det["checkpoint_sha256"][:8]}'


def read_page_or_report(path) -> np.ndarray:
    problem = page_problem(path)  # also a JPEG cut short, which OpenCV decodes as grey without a word
    if problem:
        raise BadPageError(problem)
    try:
        return read_page(path)
    except (OSError, ValueError, cv2.error) as e:
        raise BadPageError(str(e) if str(path) in str(e) else f'{path}: {e}') from None


def predict_pages(
    pages, out, predict, tag: dict, rank: int = 0, world_size: int = 1, progress: bool = True
) -> tuple[int, list[dict]]:
    """Predict this rank's share of ``pages`` (``pages[rank::world_size]``) with
    ``predict(img) -> list of face dicts`` unless a prediction by the same model
    exists; returns ``(predicted_now, bad_pages)``."""
    pred_dir = Path(out) / 'predictions'
    pred_dir.mkdir(parents=True, exist_ok=True)
    mine = pages[rank::world_size]
    if progress and rank == 0:
        from tqdm import tqdm

        mine = tqdm(mine, desc=f'pages (rank 0 of {world_size})' if world_size > 1 else 'pages', unit='page')
    done, bad = 0, []
    for p in mine:
        pred_file = pred_dir / f'{page_stem(p["key"])}.json'
        boxes = None
        if pred_file.exists():
            try:
                old = json.loads(pred_file.read_text())
                if old.get('model') == tag and old.get('key') == p['key']:
                    continue  # finished in an earlier run, by the same model
                if (
                    getattr(predict, 'takes_boxes', False)
                    and old.get('key') == p['key']
                    and (old.get('model') or {}).get('detector') == tag.get('detector')
                ):  # the same detector's boxes: only the classifier runs (added or changed)
                    boxes = [dict(box=f['box'], score=f['score']) for f in old['faces']]
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                boxes = None  # unreadable: predict again
        try:
            img = read_page_or_report(p['path'])
        except BadPageError as e:
            bad.append(dict(key=p['key'], path=str(p['path']), reason=str(e)))
            continue
        faces = predict(img) if boxes is None else predict(img, boxes)
        atomic_write_json(
            pred_file, dict(key=p['key'], width=img.shape[1], height=img.shape[0], model=tag, faces=faces), indent=None
        )
        done += 1
    return done, bad


def _sheet(crops, path: Path, cols: int = 10) -> None:
    """Face crops, most doubtful (lowest score) first, with their scores and pages."""
    crops = sorted(crops, key=lambda c: (c[0], c[1]))
    if not crops:
        return
    rows = -(-len(crops) // cols)
    cell = THUMB + 28  # the crop, its score (and status) and its page
    sheet = np.full((rows * cell, cols * THUMB, 3), 255, np.uint8)
    for k, (score, _, tile, label) in enumerate(crops):
        r, c = divmod(k, cols)
        sheet[r * cell : r * cell + THUMB, c * THUMB : (c + 1) * THUMB] = tile
        lines = label if isinstance(label, tuple) else (label,)
        for i, line in enumerate(lines):
            colour = score_colour(score) if i == 0 else (90, 90, 90)
            xy = (c * THUMB + 2, r * cell + THUMB + 12 + 13 * i)
            cv2.putText(sheet, line, xy, cv2.FONT_HERSHEY_SIMPLEX, 0.35, colour, 1, cv2.LINE_AA)
    atomic_write_bytes(path, cv2.imencode('.jpg', sheet)[1].tobytes())


def write_outputs(
    pages,
    out,
    images_root,
    book_id: str,
    score_thr: float,
    book_title=None,
    description: str = '',
    sheet_size: int = 300,
    base_url: str = DEFAULT_BASE_URL,
    source: dict | None = None,
) -> dict:
    """COCO, W3C AnnotationPages, a IIIF manifest, CSV, review pictures, the
    contact sheet and each page's level-0 tiles from the per-page predictions,
    one page in memory at a time; returns counts. ``base_url``: where the review
    app serves ``out``: the ids of everything IIIF (canvases of a folder's pages,
    annotations, manifest, image services) are http(s) URLs under it.

    Boxes are predicted in the page's pixels; wherever a canvas is named (W3C targets, the
    curation, the manifest) they are written in the canvas's coordinates, which differ when a
    manifest paints an image of another size on its canvas (``source``: the manifest's
    ``id`` and ``label``, whose ``within`` the curation names). COCO and CSV stay in pixels,
    and COCO keeps the canvas size of such a page (``canvas_width``, ``canvas_height``)."""
    out = Path(out)
    images, anns, rows, worst, missing, canvases, curated = [], [], [], [], [], [], []
    for k, p in enumerate(pages, 1):
        stem = page_stem(p['key'])
        pred_file = out / 'predictions' / f'{stem}.json'
        if not pred_file.exists():
            missing.append(p['key'])
            continue
        pred = json.loads(pred_file.read_text())
        p = dict(p, canvas=public_canvas(p, base_url))  # a folder's file:// canvas would leak the path, fail IIIF
        faces = [f for f in pred['faces'] if f['score'] >= score_thr]
        file_name = os.path.relpath(Path(p['path']).resolve(), images_root)
        pixels = (pred['width'], pred['height'])
        canvas_size = (p['width'], p['height']) if p.get('width') and p.get('height') else pixels
        scale = canvas_scale(canvas_size, pixels)
        image = dict(
            id=k,
            file_name=Path(file_name).as_posix(),
            width=pred['width'],
            height=pred['height'],
            book_id=book_id,
            book_title=book_title,
            page_key=p['key'],
            canvas=p['canvas'],
            iiif_base=p.get('iiif_base'),
        )
        if tuple(canvas_size) != tuple(pixels):
            image.update(canvas_width=int(canvas_size[0]), canvas_height=int(canvas_size[1]))
        images.append(image)
        w3c = []
        for f in faces:
            x1, y1, x2, y2 = f['box']
            attrs = {key: f[key] for key in ('status', 'gender') if key in f}
            scores = {f'{key}_score': f[f'{key}_score'] for key in attrs}
            sure = [key for key in attrs if f.get(f'{key}_sure')]  # confident enough to confirm in bulk
            anns.append(
                dict(
                    id=len(anns) + 1,
                    image_id=k,
                    category_id=1,
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    area=(x2 - x1) * (y2 - y1),
                    iscrowd=0,
                    score=f['score'],
                    attributes=dict(attrs, **scores, **{f'{key}_sure': True for key in sure}),
                )
            )
            on_canvas = to_canvas([x1, y1, x2 - x1, y2 - y1], scale)
            curated.append(dict(canvas=p['canvas'], bbox=on_canvas, score=f['score'], **attrs))
            w3c.append(
                dict(
                    bbox=on_canvas,
                    score=f['score'],
                    tags=list(attrs.values()),
                    sure=sure,
                    model=model_name(pred.get('model')),
                )
            )
            rows.append(
                [
                    p['key'],
                    p['canvas'],
                    round(x1, 1),
                    round(y1, 1),
                    round(x2 - x1, 1),
                    round(y2 - y1, 1),
                    round(f['score'], 4),
                    f.get('status', f.get('gender', '')),
                    round(f.get('status_score', f.get('gender_score', 0.0)), 4),
                ]
            )
        atomic_write_json(
            out / 'w3c' / f'{stem}.json',
            annotation_page(p['canvas'], w3c, w3c_url(base_url, p['key']), state='to review'),
            indent=1,
        )
        canvases.append(
            dict(p, width=canvas_size[0], height=canvas_size[1], pixel_width=pixels[0], pixel_height=pixels[1])
        )
        img = read_page_or_report(p['path'])
        write_tiles(img, out / 'iiif' / stem, tiles_url(base_url, p['key']))
        pic = draw_page_boxes(
            img,
            pred_boxes=[f['box'] for f in faces],
            pred_scores=[f['score'] for f in faces],
            score_thr=score_thr,
            labels=[f.get('status', '') for f in faces],
        )
        atomic_write_bytes(out / 'review' / f'{stem}.jpg', cv2.imencode('.jpg', pic)[1].tobytes())
        for i, f in enumerate(faces):  # keep the sheet_size most doubtful crops only
            # named by page, so a doubtful crop leads the annotator to its page
            label = (
                f'{f["score"]:.2f}' + (f' {f["status"][:4]}' if f.get('status') else ''),
                Path(p['key']).stem[-16:],
            )
            item = (-f['score'], len(anns) - len(faces) + i)
            if len(worst) < sheet_size or item > worst[0][:2]:
                entry = (*item, cut_crop(img, face_window(f['box']), THUMB), label)
                (heapq.heapreplace if len(worst) >= sheet_size else heapq.heappush)(worst, entry)
        del img, pic
    base = base_url.rstrip('/')
    # the curation is "within" the book's manifest: the institution's for a IIIF source (where
    # Mirador and IIIF Curation Viewer load it), else the one the review app serves
    within = (source or {}).get('id') or f'{base}/manifest.json'
    label = book_title or (source or {}).get('label') or book_id
    coco = dict(
        info=dict(
            description=description,
            score_thr=score_thr,
            images_root=str(images_root),
            manifest=within,
            review_manifest=f'{base}/manifest.json',
        ),
        images=images,
        annotations=anns,
        categories=[dict(id=1, name='face')],
    )
    atomic_write_json(out / 'annotations.coco.json', coco, indent=None)
    atomic_write_json(out / 'manifest.json', book_manifest(canvases, base_url, label), indent=1)
    # the proposals for IIIF Curation Viewer (CODH's tool): regions of the canvases, score and labels as metadata
    atomic_write_json(out / 'curation.json', curation(f'{base}/curation.json', within, label, curated), indent=1)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator='\n')
    w.writerow(['page_key', 'canvas', 'x', 'y', 'w', 'h', 'score', 'label', 'label_score'])
    w.writerows(rows)
    atomic_write_text(out / 'annotations.csv', buf.getvalue())
    _sheet([(-s, i, t, lab) for s, i, t, lab in worst], out / 'review' / 'contact_sheet.jpg')
    return dict(pages_written=len(images), faces=len(anns), pages_without_prediction=missing)


def face_proposer(inferencer, classifier=None) -> Callable:
    """``predict(page) -> faces`` for :func:`annotate_pages` from a page detector
    (:class:`~kaokore_mm.apis.PageInferencer`) and, optionally, a face classifier
    (:class:`~kaokore_mm.interpretation.FaceClassifier`) whose label, score and sureness
    go with each box under its task's name (``status``, ``status_score``, ``status_sure``:
    sure enough to be confirmed in bulk)."""

    def predict(img, boxes=None) -> list[dict]:
        """The faces of a page; with ``boxes`` (this detector's, from an earlier run) only the classifier runs."""
        if boxes is None:
            r = inferencer(img)
            faces = [dict(box=[float(v) for v in b], score=float(s)) for b, s in zip(r['bboxes'], r['scores'])]
        else:
            faces = [dict(box=[float(v) for v in f['box']], score=float(f['score'])) for f in boxes]
        if classifier is not None and faces:
            for f, (label, score, *sure) in zip(faces, classifier(img, [f['box'] for f in faces])):
                task = classifier.task  # a classifier without a calibrated threshold is never sure
                f[task], f[f'{task}_score'], f[f'{task}_sure'] = label, score, bool(sure and sure[0])
        return faces

    predict.takes_boxes = True
    return predict


OWN_FOLDERS = ('predictions', 'w3c', 'iiif', 'review')  # what annotate writes below OUT, besides its files


def annotate_pages(
    pages,
    out,
    predict,
    tag: dict,
    images_root,
    book_id: str,
    score_thr: float = 0.3,
    skip_bad: bool = False,
    book_title=None,
    description: str = '',
    progress: bool = True,
    base_url: str = DEFAULT_BASE_URL,
    source: dict | None = None,
    score_thr_from: dict | None = None,
) -> dict:
    """Predict (sharded over the ranks of an initialised process group) and
    write the outputs (rank 0); returns the run's summary (``annotate.json``).
    ``source``: the IIIF manifest the pages come from (``id``, ``label``, ``skipped``);
    ``score_thr_from``: where the threshold comes from (:func:`score_threshold`)."""
    rank, world = rank_and_world()
    keys = [p['key'] for p in pages]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f'two pages share the key {dup!r}')
    # the bad-page policy of train and test: checked up front (file headers, no decode), stop unless skip_bad
    bad = [dict(key=p['key'], path=str(p['path']), reason=r) for p in pages if (r := page_problem(p['path']))]
    if bad and not skip_bad:
        raise BadPageError(bad_pages_message([b['reason'] for b in bad], len(pages)))
    checked = {b['key'] for b in bad}
    done, late = predict_pages([p for p in pages if p['key'] not in checked], out, predict, tag, rank, world, progress)
    if world > 1:
        from mmengine.dist import all_gather_object

        parts = all_gather_object(dict(done=done, bad=late))
        done, late = sum(p['done'] for p in parts), [b for p in parts for b in p['bad']]
    if late and not skip_bad:  # a sound header over pixels that do not decode
        raise BadPageError(bad_pages_message([b['reason'] for b in late], len(pages)))
    bad += late
    bad_keys = {b['key'] for b in bad}
    summary = None
    if rank == 0:
        # every rank has predicted (the gather above is the barrier): what a killed run left half-written
        # is nobody's now; its whole files are reused or rewritten below. Only annotate's own files: the
        # review app may be saving corrections/ of the same book now, the downloader minds pages/
        stale = remove_stale_temp_files(out, recursive=False) + sum(
            remove_stale_temp_files(Path(out) / d) for d in OWN_FOLDERS if (Path(out) / d).is_dir()
        )
        good = [p for p in pages if p['key'] not in bad_keys]
        written = write_outputs(
            good, out, images_root, book_id, score_thr, book_title, description, base_url=base_url, source=source
        )
        summary = dict(
            model=tag,
            book_id=book_id,
            score_thr=score_thr,
            score_thr_from=score_thr_from or dict(source='given'),
            pages=len(pages),
            pages_predicted_now=done,
            pages_written=written['pages_written'],
            faces=written['faces'],
            bad_pages=sorted(bad, key=lambda b: b['key']),
            canvases_skipped=(source or {}).get('skipped', []),
            processes=world,
            stale_temp_files_removed=stale,
        )
        atomic_write_json(Path(out) / 'annotate.json', summary)
    if world > 1:
        from mmengine.dist import broadcast_object_list

        box = [summary]
        broadcast_object_list(box)
        summary = box[0]
    return summary
