"""KaoKore's crop layout (``images_<size>/%08d.jpg``, ``labels.csv``) cut from downloaded pages.

One download serves the detector and the classifier: every face of the page COCO
of KaoKore 1.0 (:mod:`.kaokore_metadata`, after the pages were downloaded) is cut from its page with
its original IIIF region (the part beyond the page filled by replicating the
border, as a IIIF server would not; the face stays centred) and resized to
``size`` x ``size``. ``labels.csv`` gets the faces with gender and status, with
KaoKore's official set. Complete crops of an earlier run are kept (resumable);
missing or unreadable pages are reported and skipped.

The COCO is validated before anything is written (:mod:`.schemas`, ``CropFace``: the page
COCO's items, plus each face's ``crop`` name, a file name without folders, and
its ``region``), so a crop can never be written outside ``images_<size>/``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from kaokore_mm.converters.iiif_download import valid_image_file
from kaokore_mm.utils.image_ops import cut_crop
from kaokore_mm.utils.io import atomic_write_bytes, atomic_write_text

from .import_pages import load_faces_coco
from .schemas import CropFace, CropLabels, problem


def read_crop_faces(coco_file) -> dict:
    """The page COCO ``coco_file`` with every face checked as a :class:`CropFace`
    (``ValueError``: one line naming the file, the annotation and the field)."""
    coco = load_faces_coco(coco_file, 'page COCO')
    for k, a in enumerate(coco.get('annotations', [])):
        why = problem(CropFace, a) or problem(CropLabels, a.get('attributes') or {})
        if why is None:
            x, y, w, h = a.get('region') or a['bbox']
            why = None if w > 0 and h > 0 else f'region: an empty box {[x, y, w, h]}'
        if why is not None:
            raise ValueError(
                f'page COCO {coco_file}, annotation {k}: {why} (a page COCO as the KaoKore converter writes it)'
            )
    return coco


def write_crops(coco_file, pages_root, out, size: int = 256) -> dict:
    """Cut every face of ``coco_file`` from its page under ``pages_root`` into
    ``out/images_<size>/`` and write ``out/labels.csv`` (atomically, both).

    Returns:
        ``dict(written, kept, rows, problems, labels)``: crops written and kept
        from an earlier run, labelled rows, ``problems`` (``page``, ``reason``,
        ``faces`` skipped) and the path of ``labels.csv``.
    """
    import cv2

    coco = read_crop_faces(coco_file)
    out = Path(out)
    crop_dir = out / f'images_{size}'
    faces = {}
    for a in coco['annotations']:
        faces.setdefault(a['image_id'], []).append(a)
    rows, problems, written, kept = [], [], 0, 0
    for im in coco['images']:
        anns = faces.get(im['id'], [])
        have = [valid_image_file(crop_dir / a['crop']) for a in anns]  # complete crops of an earlier run
        img = None
        if not all(have):
            path = Path(pages_root) / im['file_name']
            img = cv2.imread(str(path)) if path.is_file() else None
            if img is None:
                missing = have.count(False)
                problems.append(dict(page=im['file_name'], reason='page missing or unreadable', faces=missing))
        for a, kept_crop in zip(anns, have):
            x, y, w, h = a.get('region') or a['bbox']
            if not kept_crop:
                if img is None:
                    continue
                crop = cut_crop(img, [x, y, x + w, y + h], size)
                jpg = cv2.imencode('.jpg', crop, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
                atomic_write_bytes(crop_dir / a['crop'], jpg)
                written += 1
            else:
                kept += 1
            at = a.get('attributes') or {}
            if at.get('gender_id') is not None and at.get('status_id') is not None:
                rows.append((a['crop'], at['gender_id'], at['status_id'], at.get('set') or 'train'))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator='\n')
    w.writerow(['image', 'gender', 'status', 'set'])
    w.writerows(sorted(rows))
    atomic_write_text(out / 'labels.csv', buf.getvalue())
    return dict(written=written, kept=kept, rows=len(rows), problems=problems, labels=str(out / 'labels.csv'))
