"""W3C Web Annotation and IIIF annotation lists <-> face boxes (pure Python).

Reads what IIIF viewers (Mirador, ...) and annotation tools write:

- W3C ``AnnotationPage`` (``items``), ``AnnotationCollection`` (``first.items``), a
  list of ``Annotation`` objects, or one ``Annotation``;
- IIIF Presentation 2 ``sc:AnnotationList`` (``resources``, target in ``on``);

with targets as ``"<canvas>#xywh=x,y,w,h"`` strings or ``SpecificResource``
objects (``source``/``full`` plus a ``FragmentSelector`` with ``xywh=...``; a
list of selectors or a ``Choice`` is searched for one). ``xywh=pixel:...`` and
``xywh=percent:...`` are understood (percent needs the canvas size). Bodies
(``TextualBody`` values, Presentation 2 ``chars``) become tags; KaoKore's
status and gender words among them become attributes.

Writes W3C ``AnnotationPage`` documents (one per canvas) for the annotation tool.
"""

from __future__ import annotations

import json
import math
import re

from kaokore_mm.core.iiif_presentation import as_list, text_of
from kaokore_mm.core.labels import GENDER_WORDS, STATUS_WORDS

from .schemas import provenance

_NUM = r'(-?(?:\d+(?:\.\d*)?|\.\d+))'
# one Media Fragments name-value pair; others (``t=5``, ``track=...``) may come with it, joined by ``&``
_XYWH = re.compile(rf'^xywh=(?:(pixel|percent):)?\s*{_NUM},{_NUM},{_NUM},{_NUM}\s*$')


class AnnotationError(ValueError):
    pass


def parse_xywh(fragment: str) -> tuple[str, list[float]]:
    """``('pixel'|'percent', [x, y, w, h])`` of a media fragment ``xywh=...``."""
    if not isinstance(fragment, str):
        raise AnnotationError(f'the xywh fragment is not a string: {fragment!r:.80}')
    parts = fragment.strip().lstrip('#').split('&')
    found = [p for p in parts if p.strip().startswith('xywh=')]
    m = _XYWH.match(found[0].strip()) if len(found) == 1 else None
    if not m:
        raise AnnotationError(f'no valid xywh media fragment in {fragment[:80]!r} (xywh=[pixel:|percent:]x,y,w,h)')
    x, y, w, h = (float(v) for v in m.groups()[1:])
    if not all(math.isfinite(v) for v in (x, y, w, h)):
        raise AnnotationError(f'non-finite box in {fragment[:80]!r}')
    if w <= 0 or h <= 0:
        raise AnnotationError(f'empty box in {fragment[:80]!r}')
    return m.group(1) or 'pixel', [x, y, w, h]


def _items(doc):
    items = _raw_items(doc)
    if not isinstance(items, list):
        raise AnnotationError(f'the annotations ("items") are not a list but {type(items).__name__}')
    return items


def _raw_items(doc):
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        raise AnnotationError(f'not a JSON object or list but {type(doc).__name__}')
    kind = doc.get('type') or doc.get('@type')
    if kind in ('Annotation', 'oa:Annotation'):
        return [doc]
    if 'items' in doc:
        return doc['items']
    if 'resources' in doc:
        return doc['resources']
    if isinstance(doc.get('first'), dict):
        return doc['first'].get('items', [])
    raise AnnotationError('not an AnnotationPage, AnnotationCollection, AnnotationList or Annotation')


_SVG_NUM = r'[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?'


def _svg_points(svg: str) -> list[tuple[float, float]] | None:
    """The corners of the first shape of an SVG selector (``rect``, ``polygon`` or a ``path`` of
    straight lines, as Annotorious and Mirador's annotation plugin write rectangles), or
    ``None`` when it has curves or no shape."""
    svg = svg.replace('\\"', '"')
    attr = lambda tag, name: re.search(rf'\b{name}\s*=\s*["\']([^"\']*)["\']', tag)  # noqa: E731
    m = re.search(r'<rect\b[^>]*>', svg)
    if m:
        vals = [attr(m.group(0), k) for k in ('x', 'y', 'width', 'height')]
        if all(vals):
            x, y, w, h = (float(v.group(1)) for v in vals)
            return [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
    m = re.search(r'<polygon\b[^>]*>', svg)
    if m and attr(m.group(0), 'points'):
        nums = [float(v) for v in re.findall(_SVG_NUM, attr(m.group(0), 'points').group(1))]
        return list(zip(nums[0::2], nums[1::2]))
    m = re.search(r'<path\b[^>]*>', svg)
    d = attr(m.group(0), 'd') if m else None
    if not d:
        return None
    points, x, y, start = [], 0.0, 0.0, None
    for cmd, args in re.findall(r'([A-Za-z])([^A-Za-z]*)', d.group(1)):
        nums = [float(v) for v in re.findall(_SVG_NUM, args)]
        rel = cmd.islower()
        c = cmd.upper()
        if c in ('M', 'L'):
            for k, (a, b) in enumerate(zip(nums[0::2], nums[1::2])):
                x, y = (x + a, y + b) if rel else (a, b)
                if c == 'M' and k == 0 and start is None:
                    start = (x, y)
                points.append((x, y))
        elif c == 'H':
            for a in nums:
                x = x + a if rel else a
                points.append((x, y))
        elif c == 'V':
            for b in nums:
                y = y + b if rel else b
                points.append((x, y))
        elif c == 'Z':
            if start is not None:
                x, y = start
        else:  # curves and arcs: not a rectangle
            return None
    return points or None


def svg_rectangle(svg: str, tol: float = 0.5) -> tuple[list[float] | None, str | None]:
    """``([x, y, w, h], None)`` when an SVG selector draws an axis-aligned rectangle, else
    ``(None, why)`` (a polygon, a curve: only boxes are faces here)."""
    pts = _svg_points(svg) if isinstance(svg, str) else None
    if not pts:
        return None, 'an SVG selector without a rectangle, polygon or straight path'
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x1, x2, y1, y2 = min(xs), max(xs), min(ys), max(ys)
    on_edge = all(min(abs(px - x1), abs(px - x2), abs(py - y1), abs(py - y2)) <= tol for px, py in pts)
    ring = [*pts, pts[0]]
    straight = all(abs(a[0] - b[0]) <= tol or abs(a[1] - b[1]) <= tol for a, b in zip(ring, ring[1:]))
    if not (on_edge and straight) or x2 - x1 <= 0 or y2 - y1 <= 0:
        return None, f'an SVG shape of {len(pts)} points that is not an axis-aligned rectangle (only boxes are read)'
    return [x1, y1, x2 - x1, y2 - y1], None


def _selector_value(sel):
    """The ``xywh=`` fragment of a selector (a list, a Choice, a FragmentSelector, or an
    SvgSelector drawing a rectangle); ``'svg!<why>'`` for an SVG shape that is not one."""
    if isinstance(sel, list):
        found = [_selector_value(s) for s in sel]
        return next((v for v in found if v and not v.startswith('svg!')), next((v for v in found if v), None))
    if not isinstance(sel, dict):
        return None
    kind = sel.get('type') or sel.get('@type')
    if kind in ('Choice', 'oa:Choice'):
        return _selector_value([sel.get('default'), sel.get('item')])
    value = sel.get('value') or ''
    if not isinstance(value, str):
        return None
    if kind in ('SvgSelector', 'oa:SvgSelector') or value.lstrip().startswith('<'):
        box, why = svg_rectangle(value)
        return f'xywh={box[0]},{box[1]},{box[2]},{box[3]}' if box else f'svg!{why}'
    return value if 'xywh=' in value else None


def _target(ann):
    target = ann.get('target', ann.get('on'))
    if isinstance(target, list):
        target = target[0] if target else None
    if isinstance(target, str):
        canvas, _, frag = target.partition('#')
        return canvas, frag
    if isinstance(target, dict):
        canvas = target.get('source') or target.get('full') or target.get('id') or target.get('@id')
        if isinstance(canvas, list):  # a list of sources: the first
            canvas = canvas[0] if canvas else None
        if isinstance(canvas, dict):
            canvas = canvas.get('id') or canvas.get('@id')
        if not isinstance(canvas, str):
            return None, None
        frag = _selector_value(target.get('selector'))
        if frag is None and isinstance(canvas, str) and '#' in canvas:
            canvas, _, frag = canvas.partition('#')
        return canvas, frag
    return None, None


def _tags(ann):
    bodies = ann.get('body', ann.get('resource', []))
    bodies = bodies if isinstance(bodies, list) else [bodies]
    tags = []
    for b in bodies:
        if isinstance(b, str):
            tags.append(b)
        elif isinstance(b, dict):
            value = b.get('value') or b.get('chars') or b.get('label')
            if isinstance(value, str):
                tags.append(re.sub(r'<[^>]+>', '', value).strip())
    return [t for t in tags if t]


def page_canvas(doc) -> str | None:
    """The canvas a page of annotations is about: the review app's ``kaokore:canvas`` (also on a
    page whose faces were all deleted), else the one canvas its items target."""
    if not isinstance(doc, dict):
        return None
    own = doc.get('kaokore:canvas')
    if isinstance(own, str):
        return own
    try:
        canvases = {_target(a)[0] for a in _items(doc) if isinstance(a, dict)}
    except AnnotationError:
        return None
    canvases.discard(None)
    return canvases.pop() if len(canvases) == 1 else None


def read_annotations(doc, canvas_sizes=None) -> tuple[list[dict], list[tuple]]:
    """``(faces, problems)``: faces as dicts ``canvas, bbox [x, y, w, h], tags,
    attributes, id, score``; problems as ``(index, reason)`` for annotations
    that could not be read (the rest are kept)."""
    faces, problems = [], []
    for i, ann in enumerate(_items(doc)):
        try:
            if not isinstance(ann, dict):
                raise AnnotationError('not an object')
            canvas, frag = _target(ann)
            if not canvas:
                raise AnnotationError('no target canvas')
            if not frag:
                raise AnnotationError(f'target {canvas} has no xywh selector (only boxes are read)')
            if frag.startswith('svg!'):
                raise AnnotationError(f'target {canvas}: {frag[4:]}')
            unit, box = parse_xywh(frag)
            if unit == 'percent':
                size = (canvas_sizes or {}).get(canvas)
                if not size:
                    raise AnnotationError(f'percent box on {canvas} whose size is unknown')
                box = [box[0] * size[0] / 100, box[1] * size[1] / 100, box[2] * size[0] / 100, box[3] * size[1] / 100]
        except AnnotationError as e:
            problems.append((i, str(e)))
            continue
        tags = _tags(ann)
        attributes = {}
        for t in tags:
            low = t.lower()
            for word, value in STATUS_WORDS.items():
                if low == word or low == f'status:{word}':
                    attributes['status'] = value
            for word, value in GENDER_WORDS.items():
                if low == word or low == f'gender:{word}':
                    attributes['gender'] = value
        score = ann.get('score', (ann.get('kaokore:score')))
        if score is not None and (
            isinstance(score, bool)
            or not isinstance(score, (int, float))
            or not math.isfinite(score)
            or not 0 <= score <= 1
        ):
            problems.append((i, f'score {score!r:.40} is not a number in [0, 1]'))
            continue
        ann_id = ann.get('id') or ann.get('@id')
        if ann_id is not None and not isinstance(ann_id, str):
            problems.append((i, f'id {ann_id!r:.40} is not a string (W3C ids are IRIs)'))
            continue
        try:
            prov = provenance(ann)
        except ValueError as e:
            problems.append((i, str(e)))
            continue
        faces.append(
            imported_face(
                canvas,
                box,
                tags,
                attributes,
                ann_id,
                score,
                origin=prov.origin,
                review=prov.review,
                confirmed=None if prov.confirmed is None else list(prov.confirmed),
                proposed=dict(prov.proposed),
                bulk=list(prov.bulk),
                words=tags,
                motivation=[m for m in as_list(ann.get('motivation')) if isinstance(m, str)],
                own=any(str(k).startswith('kaokore:') for k in ann),
            )
        )
    return faces, problems


def imported_face(
    canvas: str,
    bbox,
    tags,
    attributes: dict,
    ident,
    score,
    origin=None,
    review=None,
    confirmed=None,
    proposed=None,
    words=(),
    motivation=(),
    own: bool = False,
    bulk=(),
) -> dict:
    """One region read from a W3C AnnotationPage or a cr:Curation, as the importer takes it:
    ``origin``/``review``/``confirmed``/``proposed``/``bulk`` are the review app's provenance,
    ``None`` (``{}``) for a file of another tool, whose labels are then the annotator's; ``words`` (its
    bodies, labels, metadata values) and ``motivation`` tell whether it is a face at all
    (:func:`not_a_face`); ``own``: written by this project (the review app, the annotator)."""
    return dict(
        own=own,
        words=[w for w in words if isinstance(w, str) and w.strip()],
        motivation=list(motivation),
        canvas=canvas,
        bbox=bbox,
        tags=list(tags),
        attributes=attributes,
        id=ident,
        score=score,
        origin=origin,
        review=review,
        confirmed=confirmed,
        proposed=proposed or {},
        bulk=list(bulk),
    )


FACE_WORDS = re.compile(r'\bfaces?\b|顔|kaokore', re.IGNORECASE)
NOT_FACE_MOTIVATIONS = ('painting', 'sc:painting', 'supplementing', 'linking', 'oa:linking')


def mentions_face(texts) -> bool:
    """Whether any text names a face (``face``, ``顔``, ``kaokore``) or is a face label (status, gender)."""
    for t in texts:
        if not isinstance(t, str):
            continue
        low = t.strip().lower()
        if FACE_WORDS.search(low) or low in STATUS_WORDS or low in GENDER_WORDS:
            return True
        if low.split(':', 1)[-1] in STATUS_WORDS or low.split(':', 1)[-1] in GENDER_WORDS:
            return True
    return False


def document_says_faces(doc) -> bool:
    """Whether a whole document is about faces: the project's own files (its namespace, its
    provenance keys), or a label of the document or of a curation's selections that names faces."""
    if not isinstance(doc, dict):
        return False
    if KAOKORE_NS in json.dumps(doc.get('@context', ''), ensure_ascii=False) or 'kaokore:state' in doc:
        return True
    texts = [text_of(doc.get('label')), text_of(doc.get('summary'))]
    texts += [text_of(s.get('label')) for s in as_list(doc.get('selections')) if isinstance(s, dict)]
    return mentions_face(texts)


def not_a_face(face: dict, document_faces: bool) -> str | None:
    """Why an imported region is not taken as a face, or ``None``: a painting or
    transcription (its motivation), or a region that no word of its own or of its document
    names a face (a text line, a region tagged ``music``)."""
    bad = [m for m in face.get('motivation', []) if m in NOT_FACE_MOTIVATIONS]
    if bad:
        return f'motivation {bad[0]!r} (an image or a transcription, not a face)'
    if face.get('own') or mentions_face(face.get('words', [])) or face.get('attributes'):
        return None
    if document_faces:
        return None
    said = ', '.join(repr(w[:24]) for w in face.get('words', [])[:2])
    return 'no word says it is a face' + (f' (it says {said})' if said else ' (no body or label)')


# the W3C context plus the project's prefix, so that ``kaokore:score`` expands to an IRI in JSON-LD
KAOKORE_NS = 'https://w3id.org/kaokore-mm/ns#'
CONTEXT = ['http://www.w3.org/ns/anno.jsonld', {'kaokore': KAOKORE_NS}]


def pixel_fragment(bbox, eps: float = 1e-6) -> tuple[int, int, int, int]:
    """``[x, y, w, h]`` as the integers of a Media Fragments ``xywh=`` (pixels are
    integers there), rounded outwards so the fragment covers the box; a value within
    ``eps`` of an integer is that integer (a box read back from the canvas's coordinates,
    ``c / s * s``, does not grow by one at each save)."""
    x, y, w, h = (float(v) for v in bbox)
    x0, y0 = math.floor(x + eps), math.floor(y + eps)
    return x0, y0, max(1, math.ceil(x + w - eps) - x0), max(1, math.ceil(y + h - eps) - y0)


def annotation_page(canvas: str, faces, page_id: str | None = None, state: str | None = None) -> dict:
    """A W3C AnnotationPage for one canvas; ``faces``: dicts with ``bbox`` [x, y, w, h]
    and optional ``score`` and ``model`` (then the face is a proposal: its
    ``tags``, the classifier's labels, are written as proposed, not confirmed; ``sure``
    names the label kinds the classifier is sure of),
    or ``tags`` alone (labels someone gave). ``state``: ``kaokore:state`` of
    the page (annotate writes ``to review``)."""
    items = []
    for k, f in enumerate(faces):
        x, y, w, h = pixel_fragment(f['bbox'])
        body = [dict(type='TextualBody', purpose='tagging', value='face')]
        body += [dict(type='TextualBody', purpose='tagging', value=t) for t in f.get('tags', [])]
        if f.get('score') is not None:
            body.append(dict(type='TextualBody', purpose='commenting', value=f'score {float(f["score"]):.3f}'))
        ann = dict(
            id=f'{page_id or canvas}/annotation/{k}',
            type='Annotation',
            motivation='tagging',
            body=body,
            target=dict(
                type='SpecificResource',
                source=canvas,
                selector=dict(
                    type='FragmentSelector',
                    conformsTo='http://www.w3.org/TR/media-frags/',
                    value=f'xywh={x},{y},{w},{h}',
                ),
            ),
        )
        if f.get('score') is not None:
            ann['kaokore:origin'] = 'proposal'
            ann['kaokore:review'] = 'proposed'
            ann['kaokore:score'] = round(float(f['score']), 4)
            if f.get('model'):
                ann['kaokore:model'] = str(f['model'])
            proposed = {kind: t for t in f.get('tags', []) for kind in _label_kind(t)}
            if proposed:
                ann['kaokore:proposed'] = proposed
            sure = [kind for kind in f.get('sure', []) if kind in proposed]
            if sure:
                ann['kaokore:sure'] = sure
            ann['kaokore:confirmed'] = []
        items.append(ann)
    doc = {'@context': CONTEXT, 'id': page_id or f'{canvas}/annotations', 'type': 'AnnotationPage', 'items': items}
    if state is not None:
        doc['kaokore:state'] = state
        doc['kaokore:canvas'] = canvas
    return doc


def _label_kind(tag: str) -> list:
    low = tag.lower()
    return [kind for kind, words in (('status', STATUS_WORDS), ('gender', GENDER_WORDS)) if low in words]
