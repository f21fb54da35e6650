"""IIIF Presentation manifests (2.x and 3.0) as institutions publish them, read into pages
(pure Python, no network).

A page is a canvas and the one image painted on it. What real manifests hold, and how it is read:

- labels and values in any form: a string, a Presentation 2 language-tagged value
  (``{"@value": ..., "@language": ...}``) or a list of them, a Presentation 3 language map
  (``{"ja": [...], "none": [...]}``, empty lists included): :func:`text_of`;
- image services as published: a dict or a list of them, Image API 1, 2 or 3 (by ``type``,
  ``@type``, ``@context`` or ``profile``), kept whole (:attr:`Page.services`) so that a
  manifest written from the pages re-declares them unchanged; the one used for downloads is
  the first Image API service (:func:`image_service`), with its version;
- a ``Choice`` body (P3 ``Choice``, P2 ``oa:Choice``): its default item (P2 ``default``,
  P3 the first item, as the specification says);
- an image without a service: its own URL (a plain JPEG);
- a canvas whose image has another size than the canvas (a derivative painted on a larger
  canvas: legal and common): both sizes are kept, and boxes move between the image's pixels
  and the canvas's coordinates with :func:`to_canvas` / :func:`to_pixels`;
- several images on one canvas: the first that covers the whole canvas is the page (the
  others are overlays, counted); a canvas composed only of images placed at ``#xywh``
  regions, or whose image shows a region of its source, is skipped by name;
- a canvas without an image, or with one that cannot be fetched (no id, no service), is
  skipped with its reason; the rest of the book is read.

Why not a library: ``iiif-prezi3`` builds and validates Presentation 3 only; Presentation 2,
which most Japanese institutions still publish, has no maintained Python reader, and a
validating reader would refuse the real documents this module exists to read.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

IMAGE_API = re.compile(r'iiif\.io/api/image/(\d)')
_FRAGMENT = re.compile(r'xywh=(?:pixel:)?\s*(-?[\d.]+),(-?[\d.]+),(-?[\d.]+),(-?[\d.]+)')


class PresentationError(ValueError):
    """A document that is not a IIIF Presentation manifest at all (no canvases to look at)."""


def as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def text_of(value, prefer: tuple = ('ja', 'en', 'none')) -> str:
    """The text of a label, summary or metadata value in any IIIF form (empty when none)."""
    if value is None:
        return ''
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        texts = [t for t in (text_of(v, prefer) for v in value) if t]
        tagged = [v for v in value if isinstance(v, dict) and '@language' in v]
        for lang in prefer:  # a P2 list of language-tagged values: the preferred language's
            for v in tagged:
                if v.get('@language') == lang and text_of(v.get('@value')):
                    return text_of(v.get('@value'))
        return texts[0] if texts else ''
    if isinstance(value, dict):
        if '@value' in value:
            return text_of(value['@value'], prefer)
        keys = [k for k in prefer if k in value] + [k for k in value if k not in prefer]
        for k in keys:  # a P3 language map
            t = text_of(value[k], prefer)
            if t:
                return t
    return ''


def id_of(obj) -> str | None:
    if isinstance(obj, str):
        return obj
    if isinstance(obj, dict):
        v = obj.get('id', obj.get('@id'))
        return v if isinstance(v, str) else None
    return None


def type_of(obj) -> str:
    if not isinstance(obj, dict):
        return ''
    t = obj.get('type', obj.get('@type'))
    t = t[0] if isinstance(t, list) and t else t
    return t if isinstance(t, str) else ''


def service_version(service: dict) -> int | None:
    """The Image API version of a service (1, 2, 3), ``None`` when it is not an Image API service."""
    t = type_of(service)
    m = re.fullmatch(r'ImageService(\d)', t)
    if m:
        return int(m.group(1))
    for key in ('@context', 'profile'):
        for v in as_list(service.get(key)):
            m = IMAGE_API.search(v) if isinstance(v, str) else None
            if m:
                return int(m.group(1))
    return None


def image_service(services: list, image_url: str | None = None) -> tuple[str, int | None] | None:
    """``(id, version)`` of the first Image API service with an id among ``services``; a service
    that says nothing of itself (only an ``@id``, as Presentation 2 documents often give it) is
    one when the image's URL is a request to it (version ``None``: its ``info.json`` tells)."""
    for s in services:
        if isinstance(s, dict):
            version = service_version(s)
            sid = id_of(s)
            if version is not None and sid and sid.startswith(('http://', 'https://')):
                return sid.rstrip('/'), version
    for s in services:
        sid = id_of(s)
        if sid and sid.startswith(('http://', 'https://')) and not type_of(s) and image_url:
            if image_url.startswith(sid.rstrip('/') + '/'):
                return sid.rstrip('/'), None
        if sid and sid.startswith(('http://', 'https://')) and not type_of(s) and not image_url:
            return sid.rstrip('/'), None  # the image is its service alone
    return None


def _number(v) -> int | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        return None
    return int(round(v))


@dataclass
class Page:
    """One canvas and the image painted on it."""

    canvas: str
    label: str
    width: int | None  # the canvas's size (its coordinate space), None when not declared
    height: int | None
    image_url: str | None  # the image resource's own URL
    image_width: int | None  # the image resource's size as declared (the service's full size if larger)
    image_height: int | None
    services: list = field(default_factory=list)  # as published (dicts), every one
    service: str | None = None  # the Image API service used for downloads
    service_version: int | None = None
    format: str | None = None
    overlays: int = 0  # other images painted on the canvas (not part of the page)


@dataclass
class ManifestPages:
    id: str | None
    label: str
    version: int  # 2 or 3
    pages: list
    skipped: list  # dicts: index, canvas, reason

    def summary(self) -> str:
        return f'{len(self.pages)} pages' + (f', {len(self.skipped)} canvases skipped' if self.skipped else '')


def _whole(target, canvas_id: str, w, h) -> bool:
    """Whether an annotation target is the whole canvas (no fragment, or one covering it; an
    annotation that names no target paints its own canvas)."""
    if target is None:
        return True
    tid = id_of(target)
    if isinstance(target, dict) and type_of(target) in ('SpecificResource', 'oa:SpecificResource'):
        tid = id_of(target.get('source', target.get('full'))) or tid
        if target.get('selector') is not None:
            sel = as_list(target.get('selector'))
            frag = next((s.get('value') for s in sel if isinstance(s, dict) and 'xywh=' in str(s.get('value'))), None)
            if frag is None:
                return True
            tid = f'{tid}#{frag}'
    if not isinstance(tid, str):
        return False
    _, _, frag = tid.partition('#')
    m = _FRAGMENT.search(frag)
    if not m:
        return True
    x, y, fw, fh = (float(v) for v in m.groups())
    return x <= 0 and y <= 0 and w is not None and h is not None and fw >= w and fh >= h


def _resource(body) -> tuple[dict | None, str | None]:
    """The image of a painting body: itself, or a Choice's default item; ``(None, why)`` otherwise."""
    if isinstance(body, list):
        body = body[0] if body else None
    if not isinstance(body, dict):
        return None, 'its painting annotation has no body'
    t = type_of(body)
    if t in ('Choice', 'oa:Choice'):
        default = body.get('default')
        items = as_list(body.get('items', body.get('item')))
        pick = default if isinstance(default, dict) else (items[0] if items else None)
        if pick is None or isinstance(pick, str) and pick == 'rdf:nil':
            return None, 'a Choice without items'
        return _resource(pick)
    if t == 'SpecificResource':  # an image region (P3 ImageApiSelector): not the whole image
        return None, 'its image shows a region of its source (SpecificResource): not supported'
    return body, None


def _page(canvas: dict, index: int, paintings: list) -> tuple[Page | None, str | None]:
    cid = id_of(canvas)
    if not cid:
        return None, 'canvas without an id'
    w, h = _number(canvas.get('width')), _number(canvas.get('height'))
    if not paintings:
        return None, 'no image painted on it'
    whole = [a for a in paintings if _whole(a.get('target', a.get('on')), cid, w, h)]
    if not whole:
        return None, f'composed of {len(paintings)} images placed on regions of the canvas: not supported'
    res, why = _resource(whole[0].get('body', whole[0].get('resource')))
    if res is None:
        return None, why
    services = [s for s in as_list(res.get('service')) if isinstance(s, dict)]
    url = id_of(res)
    svc = image_service(services, url)
    if svc is None and not (url and url.startswith(('http://', 'https://'))):
        return None, 'its image has neither an Image API service nor an http(s) URL'
    return (
        Page(
            canvas=cid,
            label=text_of(canvas.get('label')) or f'canvas {index + 1}',
            width=w,
            height=h,
            image_url=url,
            image_width=_number(res.get('width')),
            image_height=_number(res.get('height')),
            services=services,
            service=svc[0] if svc else None,
            service_version=svc[1] if svc else None,
            format=res.get('format') if isinstance(res.get('format'), str) else None,
            overlays=len(paintings) - 1,
        ),
        None,
    )


def _paintings_p2(canvas: dict) -> list:
    return [
        dict(body=a.get('resource'), target=a.get('on'))
        for a in as_list(canvas.get('images'))
        if isinstance(a, dict) and a.get('motivation', 'sc:painting') in ('sc:painting', 'painting')
    ]


def _paintings_p3(canvas: dict) -> list:
    out = []
    for page in as_list(canvas.get('items')):
        for a in as_list(page.get('items') if isinstance(page, dict) else None):
            if isinstance(a, dict) and a.get('motivation', 'painting') in ('painting', 'sc:painting'):
                out.append(dict(body=a.get('body'), target=a.get('target')))
    return out


def read_manifest(doc) -> ManifestPages:
    """The pages of a manifest, in order, and the canvases skipped with their reasons.

    Raises :class:`PresentationError` only for a document that is not a manifest."""
    if not isinstance(doc, dict):
        raise PresentationError(f'not a IIIF manifest: a JSON {type(doc).__name__}, not an object')
    if isinstance(doc.get('sequences'), list):
        version = 2
        seq = next((s for s in doc['sequences'] if isinstance(s, dict)), {})
        canvases, paint = as_list(seq.get('canvases')), _paintings_p2
    elif isinstance(doc.get('items'), list):
        version = 3
        canvases, paint = doc['items'], _paintings_p3
    else:
        raise PresentationError('not a IIIF Presentation 2.x or 3.0 manifest (no sequences or items)')
    pages, skipped, seen = [], [], set()
    for k, c in enumerate(canvases):
        if not isinstance(c, dict):
            skipped.append(dict(index=k, canvas=None, reason=f'a {type(c).__name__}, not a canvas object'))
            continue
        if type_of(c) not in ('', 'Canvas', 'sc:Canvas'):
            skipped.append(dict(index=k, canvas=id_of(c), reason=f'a {type_of(c)}, not a canvas'))
            continue
        page, why = _page(c, k, paint(c))
        if page is not None and page.canvas in seen:
            page, why = None, 'the same canvas id again (read once)'
        if page is None:
            skipped.append(dict(index=k, canvas=id_of(c), reason=why))
            continue
        seen.add(page.canvas)
        pages.append(page)
    return ManifestPages(id=id_of(doc), label=text_of(doc.get('label')), version=version, pages=pages, skipped=skipped)


def full_image_url(page: Page, max_size: tuple[int, int] | None = None) -> str:
    """The URL of the whole image in the syntax of its service's version (``full/max`` is Image
    API 3 only; 2 and 1 say ``full/full``, and 1's quality is ``native``), or the image's own URL."""
    if page.service is None:
        return page.image_url
    v = page.service_version or 2
    size = f'!{int(max_size[0])},{int(max_size[1])}' if max_size else ('max' if v >= 3 else 'full')
    return f'{page.service}/full/{size}/0/{"native" if v == 1 else "default"}.jpg'


def canvas_scale(canvas_size, pixel_size) -> tuple[float, float]:
    """``(sx, sy)``: canvas units per image pixel (1 when the canvas size is not declared)."""
    cw, ch = canvas_size if canvas_size else (None, None)
    pw, ph = pixel_size
    if not cw or not ch:
        return 1.0, 1.0
    return cw / pw, ch / ph


def to_canvas(bbox, scale) -> list[float]:
    """``[x, y, w, h]`` from image pixels to canvas coordinates."""
    sx, sy = scale
    x, y, w, h = bbox
    return [x * sx, y * sy, w * sx, h * sy]


def to_pixels(bbox, scale) -> list[float]:
    """``[x, y, w, h]`` from canvas coordinates to image pixels."""
    sx, sy = scale
    x, y, w, h = bbox
    return [x / sx, y / sy, w / sx, h / sy]
