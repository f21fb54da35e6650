"""A user's own page annotations (COCO, W3C Web Annotation, IIIF lists) -> kaokore page COCO."""

from __future__ import annotations

import math
from pathlib import PurePosixPath

from kaokore_mm.core.iiif import clip_box, valid_page_size
from kaokore_mm.core.iiif_presentation import canvas_scale, to_pixels
from kaokore_mm.core.text import parse_json

from .curation import is_curation, read_curation
from .schemas import CocoAnnotation, CocoCategory, CocoImage, problem
from .web_annotation import AnnotationError, document_says_faces, mentions_face, not_a_face, read_annotations


def _item_id(item: dict):
    i = item.get('id')
    return i if isinstance(i, (int, str)) and not isinstance(i, bool) else None


def _safe_name(name: str) -> bool:
    p = PurePosixPath(str(name).replace('\\', '/'))
    return bool(name) and not p.is_absolute() and '..' not in p.parts


MAX_FACE_SHARE = 0.5  # a region over half its page, named a face only by its document, is a picture or the page


class PageCollector:
    """Builds one COCO of pages and faces from several sources, reporting every
    item that cannot be used (``problems``: file, item, reason) and every region of W3C
    annotations or curations that is not a face (``not_faces``, same fields; with
    ``all_regions`` every region is taken as a face)."""

    def __init__(self, book_id: str | None = None, book_title: str | None = None, all_regions: bool = False):
        self.book_id, self.book_title, self.all_regions = book_id, book_title, all_regions
        self.images, self.annotations, self.problems, self.not_faces = [], [], [], []
        self._by_name = {}
        self.page_sources: dict[str, list[str]] = {}  # page file name -> the sources that gave it, in order

    def page(self, info: dict, source: str) -> dict | None:
        name = info.get('file_name')
        if not _safe_name(name):
            self.problems.append(dict(file=source, item=info.get('id'), reason=f'unsafe or empty file name {name!r}'))
            return None
        size = valid_page_size(info.get('width'), info.get('height'))
        if size is None:
            self.problems.append(
                dict(
                    file=source,
                    item=info.get('id'),
                    reason=f'page {name} has no valid size ({info.get("width")!r} x {info.get("height")!r})',
                )
            )
            return None
        book = info.get('book_id') or self.book_id
        sources = self.page_sources.setdefault(name, [])
        if source not in sources:
            sources.append(str(source))
        if name in self._by_name:  # the same page again (another file): it must be the same page
            known = self._by_name[name]
            if (known['width'], known['height']) != size or known['book_id'] != book:
                self.problems.append(
                    dict(
                        file=source,
                        item=info.get('id'),
                        reason=(
                            f'page {name} appears again with another size or book ({size[0]}x{size[1]}, {book}; first '
                            f'{known["width"]}x{known["height"]}, {known["book_id"]}): skipped with its faces'
                        ),
                    )
                )
                return None
            return known
        img = dict(
            id=len(self.images) + 1,
            file_name=name,
            width=size[0],
            height=size[1],
            book_id=book,
            book_title=info.get('book_title') or self.book_title,
        )
        for key in ('canvas', 'iiif_base', 'page_no', 'canvas_width', 'canvas_height'):
            if info.get(key) is not None:
                img[key] = info[key]
        if img['book_id'] is None:
            self.problems.append(
                dict(file=source, item=info.get('id'), reason=f'page {name} has no book_id (give --book-id)')
            )
        self.images.append(img)
        self._by_name[name] = img
        return img

    def face(self, img, bbox, attributes, source, item, score=None, extra=None) -> None:
        try:
            x, y, w, h = (float(v) for v in bbox)
        except (TypeError, ValueError):
            self.problems.append(dict(file=source, item=item, reason=f'bad bbox {bbox!r}'))
            return
        if not all(math.isfinite(v) for v in (x, y, w, h)):  # NaN would clip to a plausible page-wide box
            self.problems.append(dict(file=source, item=item, reason=f'non-finite bbox {bbox!r}'))
            return
        if w <= 0 or h <= 0:
            self.problems.append(dict(file=source, item=item, reason=f'empty bbox {bbox!r}'))
            return
        box = clip_box([x, y, x + w, y + h], img['width'], img['height'])
        if box is None:
            self.problems.append(
                dict(
                    file=source,
                    item=item,
                    reason=f'bbox {bbox} lies wholly outside page {img["file_name"]} ({img["width"]}x{img["height"]})',
                )
            )
            return
        x1, y1, x2, y2 = box
        ann = dict(
            id=len(self.annotations) + 1,
            image_id=img['id'],
            category_id=1,
            bbox=[x1, y1, x2 - x1, y2 - y1],
            area=(x2 - x1) * (y2 - y1),
            iscrowd=0,
            attributes=dict(attributes or {}),
        )
        if score is not None:
            ann['score'] = score
        ann.update(extra or {})
        self.annotations.append(ann)

    def add_coco(self, coco: dict, source: str) -> None:
        for key in ('images', 'annotations', 'categories'):
            if not isinstance(coco.get(key, []), list):
                self.problems.append(dict(file=source, item=key, reason=f'"{key}" is not a list: file skipped'))
                return
        cats = {}
        for c in coco.get('categories', []):
            why = problem(CocoCategory, c)
            if why is not None:
                self.problems.append(
                    dict(
                        file=source,
                        item='categories',
                        reason=(
                            f'category {c!r:.60} is not an object with an id (COCO: {{"id": 1, "name": "face"}}; '
                            f'{why}): file skipped'
                        ),
                    )
                )
                return
            cats[c['id']] = c.get('name')
        face_cats = {k for k, v in cats.items() if v == 'face'} or set(cats) or None
        pages, ids = {}, [_item_id(info) for info in coco.get('images', []) if isinstance(info, dict)]
        dup_ids = {i for i in ids if i is not None and ids.count(i) > 1}
        for info in coco.get('images', []):
            if not isinstance(info, dict):
                self.problems.append(dict(file=source, item=None, reason=f'image {info!r:.60} is not an object'))
                continue
            why = problem(CocoImage, info)
            if why is not None:
                self.problems.append(dict(file=source, item=_item_id(info), reason=f'image: {why}; skipped'))
                continue
            if info.get('id') in dup_ids:
                self.problems.append(
                    dict(
                        file=source,
                        item=info.get('id'),
                        reason=(
                            f'image id {info.get("id")} is used by several pages: their faces cannot be placed; skipped'
                        ),
                    )
                )
                continue
            img = self.page(info, source)
            if img is not None:
                pages[info.get('id')] = img
        for a in coco.get('annotations', []):
            if not isinstance(a, dict):
                self.problems.append(dict(file=source, item=None, reason=f'annotation {a!r:.60} is not an object'))
                continue
            why = problem(CocoAnnotation, a)
            if why is not None:
                self.problems.append(dict(file=source, item=_item_id(a), reason=f'annotation: {why}'))
                continue
            if face_cats is not None and a.get('category_id') not in face_cats:
                continue
            img = pages.get(a.get('image_id'))
            if img is None:
                self.problems.append(
                    dict(
                        file=source,
                        item=a.get('id'),
                        reason=f'annotation of unknown or unusable image {a.get("image_id")}',
                    )
                )
                continue
            self.face(img, a.get('bbox'), a.get('attributes'), source, a.get('id'), a.get('score'))

    def add_web_annotations(self, doc, source: str, pages_by_canvas: dict) -> None:
        """Faces of W3C / IIIF annotations or a curation, placed on the pages by canvas: their
        boxes are in the canvas's coordinates and become page pixels (:func:`page_scale`)."""
        sizes = {c: canvas_size(p) for c, p in pages_by_canvas.items()}
        try:
            faces, problems = read_curation(doc) if is_curation(doc) else read_annotations(doc, sizes)
        except AnnotationError as e:
            self.problems.append(dict(file=source, item=None, reason=str(e)))
            return
        self.problems += [dict(file=source, item=i, reason=r) for i, r in problems]
        document_faces = document_says_faces(doc)
        # a page the review app saved names its canvas: a page done with no face (every proposal deleted) is a
        # page of the book all the same, a negative for training, and its deletions count in the effort
        own = doc.get('kaokore:canvas') if isinstance(doc, dict) else None
        if isinstance(own, str):
            info = pages_by_canvas.get(own)
            if info is None:
                self.problems.append(dict(file=source, item=None, reason=f'canvas {own} is not among the pages'))
            else:
                self.page(info, source)
        for k, f in enumerate(faces):
            info = pages_by_canvas.get(f['canvas'])
            if info is None:
                self.problems.append(dict(file=source, item=k, reason=f'canvas {f["canvas"]} is not among the pages'))
                continue
            why = None if self.all_regions else not_a_face(f, document_faces)
            if why is None and not self.all_regions and not (f.get('own') or mentions_face(f['words'])):
                x, y, w, h = f['bbox']  # named a face by its document only: a face is not most of its page
                cw, ch = canvas_size(info)
                if w * h > MAX_FACE_SHARE * cw * ch:
                    why = f'covers {w * h / (cw * ch):.0%} of its page: a picture or the page, not a face'
            if why is not None:
                self.not_faces.append(dict(file=source, item=f['id'] or k, reason=why))
                continue
            img = self.page(info, source)
            if img is not None:
                attrs, extra = confirmed_labels(f)
                guesses = {str(v).lower() for v in (extra.get('proposed_attributes') or {}).values()}
                tags = [t for t in f['tags'] if t.lower() not in guesses]
                attrs = dict(attrs, tags=tags) if tags else attrs
                bbox = to_pixels(f['bbox'], page_scale(info))
                self.face(img, bbox, attrs, source, f['id'] or k, f['score'], extra)

    def coco(self) -> dict:
        return dict(images=self.images, annotations=self.annotations, categories=[dict(id=1, name='face')])


def canvas_size(page: dict) -> tuple:
    """The canvas's size of a page COCO image (its pixels' when the canvas is not another size)."""
    return (page.get('canvas_width') or page['width'], page.get('canvas_height') or page['height'])


def page_scale(page: dict) -> tuple[float, float]:
    """Canvas units per page pixel of a page COCO image (``canvas_width`` / ``width``)."""
    return canvas_scale(canvas_size(page), (page['width'], page['height']))


def confirmed_labels(face: dict) -> tuple[dict, dict]:
    """``(labels, provenance)`` of a face read from W3C: the labels are the status and
    gender the annotator confirmed (all of them for a file without the review app's
    provenance); the classifier's unconfirmed guesses go to ``proposed_attributes``,
    never to ``attributes``, and the review state rides along (``review``, ``origin``; the
    label kinds confirmed in bulk as ``labels_bulk``)."""
    attrs = dict(face['attributes'])
    extra = {}
    if face.get('origin') == 'proposal' or face.get('confirmed') is not None:
        extra = dict(review=face.get('review'), origin=face.get('origin'))
    if face.get('confirmed') is not None:
        proposed = dict(face.get('proposed') or {})
        for kind in ('status', 'gender'):
            if kind not in face['confirmed'] and kind in attrs:
                proposed.setdefault(kind, attrs.pop(kind))
        proposed = {k: v for k, v in proposed.items() if k not in face['confirmed']}
        if proposed:
            extra['proposed_attributes'] = proposed
        bulk = [k for k in face.get('bulk') or () if k in face['confirmed']]
        if bulk:
            extra['labels_bulk'] = bulk  # confirmed in bulk (the classifier was sure), not one by one
    return attrs, extra


MAX_JSON_BYTES = 1 << 30  # a JSON document the importers read: a whole-book manifest is a few MB


def read_document(path, limit: int = MAX_JSON_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (``/dev/zero``, a pipe or a folder
    is refused at once instead of read forever)."""
    import os
    import stat

    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise ValueError('not a regular file (a device, a pipe or a folder)')
    if st.st_size > limit:
        raise ValueError(f'{st.st_size} bytes, over the limit of {limit} bytes for a JSON document')
    with open(path, 'rb') as f:
        return f.read(limit + 1)[:limit]


def load_json(path) -> dict:
    try:
        return parse_json(read_document(path))
    except OSError as e:
        raise ValueError(f'{path}: not a readable JSON file ({e.strerror or e})') from None
    except ValueError as e:
        raise ValueError(f'{path}: not a readable JSON file: {e}') from None


def load_faces_coco(path, what: str = 'COCO file') -> dict:
    """A COCO file of true faces (a benchmark's truth), checked as the importer checks
    its items (:mod:`.schemas`): an object with ``images`` and ``annotations`` lists,
    every image and annotation valid, every annotation on a listed image. Raises
    ``ValueError`` with one line naming the file, the item and what is wrong."""
    coco = load_json(path)
    if not isinstance(coco, dict) or not all(isinstance(coco.get(k, []), list) for k in ('images', 'annotations')):
        raise ValueError(f'{what} {path}: not a COCO file (an object with "images" and "annotations" lists)')
    ids = set()
    for k, im in enumerate(coco.get('images', [])):
        why = problem(CocoImage, im)
        if why is not None:
            raise ValueError(f'{what} {path}, image {k}: {why}')
        if im['id'] in ids:
            raise ValueError(f'{what} {path}, image {k}: the id {im["id"]!r} is used by another image')
        ids.add(im['id'])
    for k, a in enumerate(coco.get('annotations', [])):
        why = problem(CocoAnnotation, a)
        if why is None and a['image_id'] not in ids:
            why = f'image_id: no image has the id {a["image_id"]!r}'
        if why is not None:
            raise ValueError(f'{what} {path}, annotation {k}: {why}')
    return coco


def canvas_index(pages_coco: dict) -> dict:
    """``{canvas or iiif_base: page info}`` of a page COCO (to place W3C targets)."""
    index = {}
    for im in pages_coco.get('images', []):
        for key in ('canvas', 'iiif_base'):
            if im.get(key):
                index[im[key]] = im
    return index
