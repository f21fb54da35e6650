"""Pages of a IIIF Presentation manifest (2.x or 3.0) as the annotator takes them: the
reading of :mod:`kaokore_mm.core.iiif_presentation` as page dicts (canvas, canvas size,
image service as published, the URL of the whole image), the book's id and label, and the
canvases skipped with their reasons."""

from __future__ import annotations

from dataclasses import asdict

from kaokore_mm.core.iiif_presentation import PresentationError, full_image_url, read_manifest

ManifestError = PresentationError


def manifest_book(manifest) -> tuple[list[dict], dict]:
    """``(pages, book)``: ``pages`` in reading order as dicts (``canvas``, ``width``/``height``
    of the canvas, ``label``, ``iiif_base`` (the Image API service, or ``None``),
    ``image_url`` (the whole image, in its service's syntax), ``services`` (as published),
    ``image_width``/``image_height``, ``format``); ``book``: the manifest's ``id``, ``label``,
    Presentation ``version`` and the ``skipped`` canvases. Raises :class:`ManifestError` when
    the document is not a manifest or has no canvas with a usable image."""
    m = read_manifest(manifest)
    pages = []
    for page in m.pages:
        d = asdict(page)
        d['iiif_base'] = d.pop('service')  # the name every page dict of the project uses
        d['image_url'] = full_image_url(page)
        pages.append(d)
    book = dict(id=m.id, label=m.label, version=m.version, skipped=m.skipped)
    if not pages:
        why = m.skipped[0]['reason'] if m.skipped else 'no canvases'
        raise ManifestError(f'no canvas with a usable image ({len(m.skipped)} canvases skipped; e.g.: {why})')
    return pages, book


def manifest_pages(manifest) -> list[dict]:
    """The pages of :func:`manifest_book` alone."""
    return manifest_book(manifest)[0]
