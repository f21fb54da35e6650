"""Synthetic emaki pages: page images, page-level COCO and the KaoKore crop layout.

Output of :func:`make_synthetic` under ``out``::

    pages/<book_id>_p<NNNN>.jpg          page images
    annotations/pages.json               COCO, one image per page, one annotation per face
    images_256/%08d.jpg                  KaoKore-style 256 x 256 face crops
    labels.csv                           image,gender,status,set (KaoKore ids)
    status_parts.csv                     image,x1,y1,x2,y2: the status part inside each crop
    meta.json                            the generator's arguments

Deterministic: page ``i`` is drawn from its own random stream derived from
``(seed, i)``, so the same arguments give the same bytes. Files are written
atomically, and an image already complete on disk is not encoded again, so an
interrupted run resumes where it stopped.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import cv2
import numpy as np

from kaokore_mm.core.labels import GENDERS, STATUSES
from kaokore_mm.utils.image_ops import cut_crop, face_window
from kaokore_mm.utils.io import atomic_write_bytes, atomic_write_text

from .drawing import BookStyle, calligraphy, figure, kaokore_face_size, make_book_style, page_size, paper, scenery

STATUS_P = (0.45, 0.25, 0.1, 0.2)  # roughly KaoKore's imbalance: commoner and incarnation are rare
CROP_SETS = ('train', 'dev', 'test')
CROP_SET_P = (0.8, 0.1, 0.1)


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *key]))


def _overlaps(box, boxes, margin):
    for b in boxes:
        if box[0] < b[2] + margin and b[0] < box[2] + margin and box[1] < b[3] + margin and b[1] < box[3] + margin:
            return True
    return False


def draw_page(
    rng: np.random.Generator, style: BookStyle, long_side=(2000, 6000), max_figures: int = 12
) -> tuple[np.ndarray, list[dict]]:
    """One page: ``(image BGR uint8, faces)`` with faces as dicts of
    ``bbox`` (x1, y1, x2, y2), ``part`` (x1, y1, x2, y2), ``gender``, ``status``."""
    w, h = page_size(rng, style, long_side)
    img = paper(rng, style, w, h)
    lo, hi = style.face_range
    scale = float(np.sqrt(lo * hi)) * 0.6
    text_only = rng.random() < style.text_share
    if text_only:
        calligraphy(rng, img, style, (0.08 * w, 0.08 * h, 0.92 * w, 0.92 * h), max(12, int(min(w, h) / 45)))
        return img, []
    scenery(rng, img, style, scale)
    if rng.random() < 0.5:  # a text block at the right edge, as in illustrated books
        calligraphy(rng, img, style, (0.75 * w, 0.05 * h, 0.97 * w, 0.6 * h), max(12, int(min(w, h) / 60)))
    faces, bodies = [], []
    n = int(rng.integers(1, max_figures + 1))
    for _ in range(n * 4):
        if len(faces) == n:
            break
        if style.realistic:  # KaoKore's face sizes (longest side = height) on this page
            s = kaokore_face_size(rng, style.size_range) / style.aspect
        else:
            s = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
        s = min(s, 0.2 * min(w, h))
        fh = s * style.aspect
        cx, cy = rng.uniform(s, w - s), rng.uniform(fh * 1.6, h - fh * 2)
        extent = [cx - s * 1.3, cy - fh * 1.6, cx + s * 1.3, cy + fh * 2.8]
        if _overlaps(extent, bodies, 0):
            continue
        status = STATUSES[int(rng.choice(4, p=STATUS_P))]
        female_p = 0.05 if status == 'warrior' else 0.45
        gender = GENDERS[int(rng.random() < female_p)]
        face, part = figure(rng, img, style, cx, cy, s, gender, status)
        bodies.append(extent)
        faces.append(dict(bbox=face, part=part, gender=gender, status=status))
    return img, faces


def _encode_jpg(img, quality=90) -> bytes:
    ok, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError('JPEG encoding failed')
    return buf.tobytes()


def _valid_jpg(path: Path) -> bool:
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return len(data) > 4 and data[:2] == b'\xff\xd8' and data[-2:] == b'\xff\xd9'


def make_synthetic(
    out,
    pages: int = 40,
    books: int = 4,
    seed: int = 0,
    long_side=(2000, 6000),
    face_range=None,
    crop_size: int = 256,
    progress: bool = True,
    look: str = 'demo',
) -> dict:
    """Write a synthetic dataset; returns a summary dict (pages, faces, books, paths).

    ``look='demo'`` draws clear figures at ``face_range``; ``look='realistic'``
    draws them as real scans are (KaoKore's face sizes, 1-2 px facial strokes,
    face-like crests and fans, aged paper, faded ink, stains: see
    :data:`kaokore_mm.synthetic.drawing.KAOKORE_FACE_QUANTILES`), cut to ``face_range`` when it is
    given (e.g. ``(40, 120)``: KaoKore's lower quantiles). ``face_range=None``: ``(30, 250)`` for the
    demo look, all of KaoKore's sizes for the realistic one.
    """
    if look not in ('demo', 'realistic'):
        raise ValueError(f"look must be 'demo' or 'realistic', got {look!r}")
    if pages < 1 or books < 1:
        raise ValueError(f'pages and books must be >= 1, got pages={pages}, books={books}')
    size_range = tuple(face_range) if face_range is not None and look == 'realistic' else None
    face_range = (30, 250) if face_range is None or look == 'realistic' else tuple(face_range)
    if not (0 < face_range[0] < face_range[1]) or not (0 < long_side[0] <= long_side[1]):
        raise ValueError(f'bad ranges: face_range={face_range}, long_side={long_side}')
    out = Path(out)
    for sub in ('pages', 'annotations', f'images_{crop_size}'):
        (out / sub).mkdir(parents=True, exist_ok=True)
    if size_range is not None and not (0 < size_range[0] < size_range[1]):
        raise ValueError(f'bad ranges: face_range={size_range}')
    styles = [make_book_style(_rng(seed, 1, b), b, face_range, look == 'realistic') for b in range(books)]
    for style in styles:
        style.size_range = size_range
    images, anns, labels, parts = [], [], [], []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=pages, desc='synthetic pages', unit='page')
    for i in range(pages):
        style = styles[i % books]  # pages dealt to books in turn: every book gets pages
        page_no = i // books
        name = f'pages/{style.book_id}_p{page_no:04d}.jpg'
        rng = _rng(seed, 2, i)
        img, faces = draw_page(rng, style, long_side)
        h, w = img.shape[:2]
        if not _valid_jpg(out / name):
            atomic_write_bytes(out / name, _encode_jpg(img))
        images.append(
            dict(
                id=i + 1,
                file_name=name,
                width=w,
                height=h,
                book_id=style.book_id,
                book_title=style.title,
                page_no=page_no,
            )
        )
        crop_rng = _rng(seed, 3, i)
        for face in faces:
            x1, y1, x2, y2 = face['bbox']
            px1, py1, px2, py2 = face['part']
            cx1, cy1 = max(0.0, x1), max(0.0, y1)
            box = [cx1, cy1, min(float(w), x2) - cx1, min(float(h), y2) - cy1]
            ann_id = len(anns) + 1
            crop_id = ann_id - 1
            anns.append(
                dict(
                    id=ann_id,
                    image_id=i + 1,
                    category_id=1,
                    bbox=[round(v, 2) for v in box],
                    area=round(box[2] * box[3], 2),
                    iscrowd=0,
                    attributes=dict(
                        gender=face['gender'],
                        status=face['status'],
                        gender_id=GENDERS.index(face['gender']),
                        status_id=STATUSES.index(face['status']),
                    ),
                    status_part_bbox=[round(v, 2) for v in (px1, py1, px2 - px1, py2 - py1)],
                    crop=f'{crop_id:08d}.jpg',
                )
            )
            win = face_window(face['bbox'])
            crop_path = out / f'images_{crop_size}' / f'{crop_id:08d}.jpg'
            if not _valid_jpg(crop_path):
                atomic_write_bytes(crop_path, _encode_jpg(cut_crop(img, win, crop_size), 95))
            k = crop_size / (win[2] - win[0])
            part = np.clip(np.array([px1 - win[0], py1 - win[1], px2 - win[0], py2 - win[1]]) * k, 0, crop_size)
            labels.append(
                (
                    f'{crop_id:08d}.jpg',
                    GENDERS.index(face['gender']),
                    STATUSES.index(face['status']),
                    CROP_SETS[int(crop_rng.choice(3, p=CROP_SET_P))],
                )
            )
            parts.append((f'{crop_id:08d}.jpg', *[round(float(v), 1) for v in part]))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(faces=len(anns))
    if bar is not None:
        bar.close()
    coco = dict(
        info=dict(description='kaokore_mm synthetic emaki pages', seed=seed),
        images=images,
        annotations=anns,
        categories=[dict(id=1, name='face')],
    )
    atomic_write_text(out / 'annotations' / 'pages.json', json.dumps(coco, ensure_ascii=False))
    atomic_write_text(out / 'labels.csv', _csv(['image', 'gender', 'status', 'set'], labels))
    atomic_write_text(out / 'status_parts.csv', _csv(['image', 'x1', 'y1', 'x2', 'y2'], parts))
    meta = dict(
        pages=pages,
        books=books,
        seed=seed,
        long_side=list(long_side),
        face_range=list(size_range or face_range),
        crop_size=crop_size,
        look=look,
        faces=len(anns),
        book_ids=[s.book_id for s in styles],
    )
    atomic_write_text(out / 'meta.json', json.dumps(meta, indent=2))
    return dict(meta, out=os.fspath(out), ann_file=os.fspath(out / 'annotations' / 'pages.json'))


def ensure_synthetic(out, **want) -> bool:
    """Write the synthetic data of :func:`make_synthetic` into ``out`` unless the
    data made with the same arguments is already there; returns whether it wrote."""
    out = Path(out)
    meta = json.loads((out / 'meta.json').read_text()) if (out / 'meta.json').exists() else {}
    if meta and all(meta.get(k) == (list(v) if isinstance(v, tuple) else v) for k, v in want.items()):
        return False
    make_synthetic(out, **want)
    return True


def _csv(header, rows) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator='\n')
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()
