"""A IIIF Presentation 3 manifest of an annotated book (built with ``iiif-prezi3``).

One canvas per page. From a IIIF manifest, the source's canvas ids and sizes and its
image services are kept as published (an Image API 2 service stays one: its images are
``full/full``, never 3's ``full/max``); for a folder, canvases get http ids under ``base_url``
(``{base_url}/canvas/<stem>``) and image bodies served by the review app (the
review tool (``review.py``)) with a level-0 image service of the page's tiles
(``{base_url}/iiif/<stem>``). Every id is an http(s) URL, as the IIIF
Presentation 3 schema requires.
Every canvas's ``annotations`` points at its W3C AnnotationPage
(``{base_url}/w3c/<stem>.json``), so Mirador (or any Presentation 3 viewer)
shows the proposals.
"""

from __future__ import annotations

import json
import mimetypes

from .pages import page_stem


def w3c_url(base_url: str, key: str) -> str:
    return f'{base_url.rstrip("/")}/w3c/{page_stem(key)}.json'


def tiles_url(base_url: str, key: str) -> str:
    """The page's level-0 image service (``OUT/iiif/<stem>/``, served by the review app)."""
    return f'{base_url.rstrip("/")}/iiif/{page_stem(key)}'


def public_canvas(page: dict, base_url: str) -> str:
    """The page's canvas id: the source's (a IIIF manifest's, http), else one under
    ``base_url`` (a folder's pages: never a ``file://`` path)."""
    canvas = page.get('canvas') or ''
    if canvas.startswith(('http://', 'https://')):
        return canvas
    return f'{base_url.rstrip("/")}/canvas/{page_stem(page["key"])}'


def book_manifest(pages: list[dict], base_url: str, label: str) -> dict:
    """``pages``: dicts with ``key``, ``canvas``, ``width``, ``height`` (the canvas's size),
    ``pixel_width``/``pixel_height`` (the page image's, when they differ), ``path`` and, from
    a IIIF source, ``iiif_base``, ``image_url``, ``image_width``/``image_height``, ``format``
    and ``services``: the source's canvases keep their ids and sizes and their images are
    declared as published (every service, with its own type, profile and version)."""
    from iiif_prezi3 import AnnotationPage, Manifest

    base = base_url.rstrip('/')
    manifest = Manifest(id=f'{base}/manifest.json', label={'none': [label]})
    published = {}  # canvas id -> the source's services, written back unchanged below
    for p in pages:
        p = dict(p, canvas=public_canvas(p, base))
        canvas = manifest.make_canvas(
            id=p['canvas'], width=int(p['width']), height=int(p['height']), label={'none': [p.get('label') or p['key']]}
        )
        stem = page_stem(p['key'])
        from_source = bool(p.get('iiif_base') or p.get('image_url'))
        if from_source:
            url = p.get('image_url') or f'{p["iiif_base"].rstrip("/")}/full/full/0/default.jpg'
            fmt = p.get('format') or 'image/jpeg'
            size = (
                p.get('image_width') or p.get('pixel_width') or p['width'],
                p.get('image_height') or p.get('pixel_height') or p['height'],
            )
        else:
            url = f'{base}/pages/{stem}'
            fmt = mimetypes.guess_type(str(p['path']))[0] or 'image/jpeg'
            size = (p.get('pixel_width') or p['width'], p.get('pixel_height') or p['height'])
        canvas.add_image(
            image_url=url,
            anno_page_id=f'{p["canvas"]}/painting',
            anno_id=f'{p["canvas"]}/image',
            format=fmt,
            width=int(size[0]),
            height=int(size[1]),
        )
        if from_source:
            published[p['canvas']] = list(p.get('services') or [])
        else:  # the page's own level-0 tiles: viewers load what is on screen, not the whole scan
            canvas.items[0].items[0].body.make_service(
                id=tiles_url(base, p['key']), type='ImageService3', profile='level0'
            )
        canvas.annotations = [AnnotationPage(id=w3c_url(base, p['key']))]
    doc = json.loads(manifest.jsonld())
    for canvas in doc['items']:  # referenced, not embedded: no empty "items"
        for page in canvas.get('annotations', []):
            if not page.get('items'):
                page.pop('items', None)
        if canvas['id'] in published:
            body = canvas['items'][0]['items'][0]['body']
            body.pop('service', None)
            if published[canvas['id']]:
                body['service'] = published[canvas['id']]
    return doc
