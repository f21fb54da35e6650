"""The outputs of the annotate step, one writer per format, fed by one page iterator.

:func:`predicted_pages` reads the per-page predictions once, page by page (one page in memory
at a time), and gives each writer the same :class:`PageOut`; each writer keeps what its file
needs and writes it when the book is done (or page by page: the W3C pages, the tiles and the
review pictures). :func:`~kaokore_mm.annotation.write_outputs` strings them together.

Boxes are predicted in the page's pixels; wherever a canvas is named (W3C targets, the
curation, the manifest) they are written in the canvas's coordinates, which differ when a
manifest paints an image of another size on its canvas. COCO and CSV stay in pixels, and COCO
keeps the canvas size of such a page (``canvas_width``, ``canvas_height``).
"""

from __future__ import annotations

import csv
import heapq
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from kaokore_mm.annotation.manifest import book_manifest, public_canvas, tiles_url, w3c_url
from kaokore_mm.annotation.tiles import write_tiles
from kaokore_mm.converters.curation import curation
from kaokore_mm.converters.web_annotation import annotation_page
from kaokore_mm.core.iiif_presentation import canvas_scale, to_canvas
from kaokore_mm.core.page_files import page_problem, read_page
from kaokore_mm.errors import BadPageError
from kaokore_mm.utils.image_ops import cut_crop, face_window
from kaokore_mm.utils.io import atomic_write_bytes, atomic_write_json, atomic_write_text
from kaokore_mm.visualization.draw import draw_page_boxes, score_colour

from .pages import page_stem

THUMB = 96  # the contact sheet's crops (px)
LABELS = ('status', 'gender')


@dataclass
class PageOut:
    """One page as every writer sees it: its COCO id, the page (its canvas public), the faces
    at or above the threshold, its file name under the images root, its size in pixels and on
    its canvas, and the index of its first face in the book."""

    id: int
    page: dict
    stem: str
    pred: dict
    faces: list
    file_name: str
    pixels: tuple
    canvas_size: tuple
    first_face: int

    @property
    def scale(self) -> tuple[float, float]:
        """Canvas units per pixel (x, y)."""
        return canvas_scale(self.canvas_size, self.pixels)

    def on_canvas(self, f: dict) -> list:
        x1, y1, x2, y2 = f['box']
        return to_canvas([x1, y1, x2 - x1, y2 - y1], self.scale)


def read_page_or_report(path) -> np.ndarray:
    """A page's pixels, or a :class:`BadPageError` naming it (also a JPEG cut short, which
    OpenCV decodes as grey without a word)."""
    problem = page_problem(path)
    if problem:
        raise BadPageError(problem)
    try:
        return read_page(path)
    except (OSError, ValueError, cv2.error) as e:
        raise BadPageError(str(e) if str(path) in str(e) else f'{path}: {e}') from None


def model_name(tag) -> str | None:
    """``<config name>@<checkpoint hash>`` of a model tag (what a proposal names as its model)."""
    det = (tag or {}).get('detector') if isinstance(tag, dict) else None
    if not det:
        return None
    return f'{Path(det["config"]).stem}@{det["checkpoint_sha256"][:8]}'


def predicted_pages(pages, out: Path, images_root, score_thr: float, base_url: str, missing: list) -> Iterator[PageOut]:
    """The pages with predictions in ``out/predictions/``, in order (a page without one is
    appended to ``missing``)."""
    first_face = 0
    for k, p in enumerate(pages, 1):
        stem = page_stem(p['key'])
        pred_file = out / 'predictions' / f'{stem}.json'
        if not pred_file.exists():
            missing.append(p['key'])
            continue
        pred = json.loads(pred_file.read_text())
        p = dict(p, canvas=public_canvas(p, base_url))  # a folder's file:// canvas would leak the path, fail IIIF
        faces = [f for f in pred['faces'] if f['score'] >= score_thr]
        pixels = (pred['width'], pred['height'])
        yield PageOut(
            id=k,
            page=p,
            stem=stem,
            pred=pred,
            faces=faces,
            file_name=Path(os.path.relpath(Path(p['path']).resolve(), images_root)).as_posix(),
            pixels=pixels,
            canvas_size=(p['width'], p['height']) if p.get('width') and p.get('height') else pixels,
            first_face=first_face,
        )
        first_face += len(faces)


def face_labels(f: dict) -> tuple[dict, dict, list]:
    """The classifier's labels of a face, their scores, and the kinds it is sure of (confident
    enough to be confirmed in bulk)."""
    attrs = {key: f[key] for key in LABELS if key in f}
    return attrs, {f'{key}_score': f[f'{key}_score'] for key in attrs}, [key for key in attrs if f.get(f'{key}_sure')]


class CocoWriter:
    """``annotations.coco.json``: the pages and their faces in pixels, with scores and labels."""

    def __init__(self, book_id: str, book_title, score_thr: float):
        self.book_id, self.book_title, self.score_thr = book_id, book_title, score_thr
        self.images, self.anns = [], []

    def add(self, po: PageOut) -> None:
        p = po.page
        image = dict(
            id=po.id,
            file_name=po.file_name,
            width=po.pixels[0],
            height=po.pixels[1],
            book_id=self.book_id,
            book_title=self.book_title,
            page_key=p['key'],
            canvas=p['canvas'],
            iiif_base=p.get('iiif_base'),
        )
        if tuple(po.canvas_size) != tuple(po.pixels):
            image.update(canvas_width=int(po.canvas_size[0]), canvas_height=int(po.canvas_size[1]))
        self.images.append(image)
        for f in po.faces:
            x1, y1, x2, y2 = f['box']
            attrs, scores, sure = face_labels(f)
            self.anns.append(
                dict(
                    id=len(self.anns) + 1,
                    image_id=po.id,
                    category_id=1,
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    area=(x2 - x1) * (y2 - y1),
                    iscrowd=0,
                    score=f['score'],
                    attributes=dict(attrs, **scores, **{f'{key}_sure': True for key in sure}),
                )
            )

    def finish(self, out: Path, info: dict) -> None:
        coco = dict(info=info, images=self.images, annotations=self.anns, categories=[dict(id=1, name='face')])
        atomic_write_json(out / 'annotations.coco.json', coco, indent=None)


class W3CWriter:
    """``w3c/<stem>.json``: each page's proposals as a W3C AnnotationPage (on its canvas), to review."""

    def __init__(self, out: Path, base_url: str):
        self.out, self.base_url = out, base_url

    def add(self, po: PageOut) -> None:
        items = []
        for f in po.faces:
            attrs, _, sure = face_labels(f)
            items.append(
                dict(
                    bbox=po.on_canvas(f),
                    score=f['score'],
                    tags=list(attrs.values()),
                    sure=sure,
                    model=model_name(po.pred.get('model')),
                )
            )
        doc = annotation_page(po.page['canvas'], items, w3c_url(self.base_url, po.page['key']), state='to review')
        atomic_write_json(self.out / 'w3c' / f'{po.stem}.json', doc, indent=1)


class ManifestWriter:
    """``manifest.json``: the book as a IIIF manifest (its canvases, their image services)."""

    def __init__(self):
        self.canvases = []

    def add(self, po: PageOut) -> None:
        (cw, ch), (pw, ph) = po.canvas_size, po.pixels
        self.canvases.append(dict(po.page, width=cw, height=ch, pixel_width=pw, pixel_height=ph))

    def finish(self, out: Path, base_url: str, label) -> None:
        atomic_write_json(out / 'manifest.json', book_manifest(self.canvases, base_url, label), indent=1)


class CurationWriter:
    """``curation.json``: the proposals for IIIF Curation Viewer (CODH's tool): regions of the
    canvases, score and labels as metadata."""

    def __init__(self):
        self.regions = []

    def add(self, po: PageOut) -> None:
        for f in po.faces:
            attrs, _, _ = face_labels(f)
            self.regions.append(dict(canvas=po.page['canvas'], bbox=po.on_canvas(f), score=f['score'], **attrs))

    def finish(self, out: Path, base: str, within: str, label) -> None:
        atomic_write_json(
            out / 'curation.json', curation(f'{base}/curation.json', within, label, self.regions), indent=1
        )


class CsvWriter:
    """``annotations.csv``: one row per face (pixels), its label and the label's score."""

    HEADER = ['page_key', 'canvas', 'x', 'y', 'w', 'h', 'score', 'label', 'label_score']

    def __init__(self):
        self.rows = []

    def add(self, po: PageOut) -> None:
        for f in po.faces:
            x1, y1, x2, y2 = f['box']
            label = f.get('status', f.get('gender', ''))
            label_score = round(f.get('status_score', f.get('gender_score', 0.0)), 4)
            box = [round(x1, 1), round(y1, 1), round(x2 - x1, 1), round(y2 - y1, 1)]
            self.rows.append([po.page['key'], po.page['canvas'], *box, round(f['score'], 4), label, label_score])

    def finish(self, out: Path) -> None:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator='\n')
        w.writerow(self.HEADER)
        w.writerows(self.rows)
        atomic_write_text(out / 'annotations.csv', buf.getvalue())


class PictureWriter:
    """What needs the pixels, one page decoded at a time: each page's level-0 tiles, its review
    picture (the proposals drawn) and the contact sheet of the ``sheet_size`` most doubtful
    face crops (a heap: memory bounded by the sheet, not the book)."""

    def __init__(self, out: Path, base_url: str, score_thr: float, sheet_size: int = 300):
        self.out, self.base_url, self.score_thr, self.sheet_size = out, base_url, score_thr, sheet_size
        self.worst = []

    def add(self, po: PageOut) -> None:
        img = read_page_or_report(po.page['path'])
        write_tiles(img, self.out / 'iiif' / po.stem, tiles_url(self.base_url, po.page['key']))
        pic = draw_page_boxes(
            img,
            pred_boxes=[f['box'] for f in po.faces],
            pred_scores=[f['score'] for f in po.faces],
            score_thr=self.score_thr,
            labels=[f.get('status', '') for f in po.faces],
        )
        atomic_write_bytes(self.out / 'review' / f'{po.stem}.jpg', cv2.imencode('.jpg', pic)[1].tobytes())
        for i, f in enumerate(po.faces):
            # named by page, so a doubtful crop leads the annotator to its page
            label = (
                f'{f["score"]:.2f}' + (f' {f["status"][:4]}' if f.get('status') else ''),
                Path(po.page['key']).stem[-16:],
            )
            item = (-f['score'], po.first_face + i)
            if len(self.worst) < self.sheet_size or item > self.worst[0][:2]:
                entry = (*item, cut_crop(img, face_window(f['box']), THUMB), label)
                (heapq.heapreplace if len(self.worst) >= self.sheet_size else heapq.heappush)(self.worst, entry)

    def finish(self) -> None:
        contact_sheet([(-s, i, t, lab) for s, i, t, lab in self.worst], self.out / 'review' / 'contact_sheet.jpg')


def contact_sheet(crops, path: Path, cols: int = 10) -> None:
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
