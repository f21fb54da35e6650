"""A IIIF Presentation 3 manifest of an annotated book (built with ``iiif-prezi3``).

One canvas per page. From a IIIF manifest, the source's canvas ids and image
services are kept; for a folder, canvases carry the pages' ids and image
bodies served by the review app (the review tool (``review.py``)) under ``base_url``.
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


def book_manifest(pages: list[dict], base_url: str, label: str) -> dict:
    """``pages``: dicts with ``key``, ``canvas``, ``width``, ``height``, ``path`` and,
    from a IIIF source, ``iiif_base`` (its image service)."""
    from iiif_prezi3 import AnnotationPage, Manifest

    base = base_url.rstrip('/')
    manifest = Manifest(id=f'{base}/manifest.json', label={'none': [label]})
    for p in pages:
        canvas = manifest.make_canvas(
            id=p['canvas'], width=int(p['width']), height=int(p['height']), label={'none': [p.get('label') or p['key']]}
        )
        stem = page_stem(p['key'])
        if p.get('iiif_base'):
            url = f'{p["iiif_base"].rstrip("/")}/full/max/0/default.jpg'
            fmt = 'image/jpeg'
        else:
            url = f'{base}/pages/{stem}'
            fmt = mimetypes.guess_type(str(p['path']))[0] or 'image/jpeg'
        canvas.add_image(
            image_url=url,
            anno_page_id=f'{p["canvas"]}/painting',
            anno_id=f'{p["canvas"]}/image',
            format=fmt,
            width=int(p['width']),
            height=int(p['height']),
        )
        if p.get('iiif_base'):
            canvas.items[0].items[0].body.make_service(id=p['iiif_base'], type='ImageService3', profile='level1')
        canvas.annotations = [AnnotationPage(id=w3c_url(base, p['key']))]
    doc = json.loads(manifest.jsonld())
    for canvas in doc['items']:  # referenced, not embedded: no empty "items"
        for page in canvas.get('annotations', []):
            if not page.get('items'):
                page.pop('items', None)
    return doc
