"""Pages of a IIIF Presentation manifest (2.x or 3.0): canvas, size, image service."""

from __future__ import annotations


class ManifestError(ValueError):
    pass


def _service_id(service):
    if isinstance(service, list):
        service = service[0] if service else None
    if isinstance(service, dict):
        return service.get('@id') or service.get('id')
    return None


def manifest_pages(manifest: dict) -> list[dict]:
    """``[dict(canvas, width, height, iiif_base, label)]`` in reading order; a
    document of another shape (``items`` not a list, a canvas that is a string,
    ...) raises :class:`ManifestError` naming the canvas, never a ``TypeError``."""
    if not isinstance(manifest, dict):
        raise ManifestError(f'not a IIIF manifest: a JSON {type(manifest).__name__}, not an object')
    try:
        return _manifest_pages(manifest)
    except (TypeError, AttributeError, KeyError, IndexError) as e:
        raise ManifestError(f'not a IIIF Presentation 2.x or 3.0 manifest: {type(e).__name__}: {e}') from None


def _manifest_pages(manifest: dict) -> list[dict]:
    pages = []
    if 'sequences' in manifest:  # Presentation 2.x
        canvases = manifest['sequences'][0].get('canvases', []) if manifest['sequences'] else []
        for c in canvases:
            res = ((c.get('images') or [{}])[0]).get('resource') or {}
            pages.append(
                dict(
                    canvas=c.get('@id'),
                    width=c.get('width'),
                    height=c.get('height'),
                    iiif_base=_service_id(res.get('service')),
                    label=c.get('label'),
                )
            )
    elif 'items' in manifest:  # Presentation 3.0
        for k, c in enumerate(manifest['items']):
            if not isinstance(c, dict):
                raise ManifestError(f'canvas {k} is a {type(c).__name__}, not an object')
            body = {}
            for page in c.get('items', []):
                for anno in page.get('items', []):
                    b = anno.get('body')
                    body = (b[0] if isinstance(b, list) else b) or {}
                    break
                break
            label = c.get('label')
            if isinstance(label, dict):
                label = next(iter(label.values()), [''])[0]
            pages.append(
                dict(
                    canvas=c.get('id'),
                    width=c.get('width'),
                    height=c.get('height'),
                    iiif_base=_service_id(body.get('service')),
                    label=label,
                )
            )
    else:
        raise ManifestError('not a IIIF Presentation 2.x or 3.0 manifest (no sequences or items)')
    bad = [p['canvas'] for p in pages if not isinstance(p['canvas'], str) or not isinstance(p['iiif_base'], str)]
    if bad:
        raise ManifestError(f'{len(bad)} canvases without an id or an image service, e.g. {bad[0]}')
    return pages
