"""The pages of a book to annotate, with keys that are unique and stable.

A page is a dict with ``key`` (unique, stable across runs), ``path`` (the image
on disk), ``canvas`` (the IIIF canvas id, or the file URI for a folder) and,
from a manifest, ``iiif_base``, ``label``, ``width``, ``height``. Keys:

* folder: the path relative to the folder, with its extension (``vol1/p1.jpg``
  and ``vol2/p1.jpg`` and ``p1.png`` are three pages);
* manifest: the canvas id; ``width``/``height`` are then the canvas's (its coordinate
  space), which may differ from the image's pixels: the writers convert boxes with
  :mod:`kaokore_mm.core.iiif_presentation`.

Every file the annotator writes for a page is named by :func:`page_stem`: a
readable slug of the key plus a hash of the whole key, so two keys never share
a file, whatever characters they hold.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from kaokore_mm.converters.iiif_download import Downloader, PageJob, PermanentError
from kaokore_mm.converters.iiif_manifest import ManifestError, manifest_book
from kaokore_mm.converters.kaokore_metadata import page_file_name
from kaokore_mm.core.text import parse_json

IMAGE_EXT = ('.jpg', '.jpeg', '.png', '.tif', '.tiff', '.bmp', '.webp', '.jp2')


class PageSourceError(ValueError):
    """A folder or manifest that yields no page, or pages that cannot be told apart."""


def page_stem(key: str) -> str:
    """A file-name stem for the page ``key``: unique (hash of the key) and readable."""
    slug = re.sub(r'[^A-Za-z0-9._-]+', '_', key).strip('._-')[-60:] or 'page'
    return f'{slug}-{hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]}'


def pages_from_folder(folder, exclude=None) -> list[dict]:
    """Image files below ``folder`` (sub-folders included), in path order; keys
    are relative paths. A directory whose name looks like an image is not a page, and
    nothing below ``exclude`` is (the annotator's own output folder inside the book: its
    review pictures and tiles are never read back as pages)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PageSourceError(f'{folder}: not a folder')
    skip = Path(exclude).resolve() if exclude is not None else None
    files = sorted(
        (
            f
            for f in folder.rglob('*')
            if f.suffix.lower() in IMAGE_EXT and f.is_file() and not (skip and f.resolve().is_relative_to(skip))
        ),
        key=lambda f: f.relative_to(folder).as_posix(),
    )
    if not files:
        raise PageSourceError(f'{folder}: no page images ({", ".join(IMAGE_EXT)})')
    return [dict(key=f.relative_to(folder).as_posix(), path=f.resolve(), canvas=f.resolve().as_uri()) for f in files]


def pages_from_manifest_pages(manifest_pages: list[dict], folder) -> list[dict]:
    """Pages of a IIIF manifest (:func:`kaokore_mm.converters.iiif_manifest.manifest_book`),
    keyed by canvas id, each downloaded into ``folder`` under a name unique per
    image (its service, or its own URL when it has none)."""
    pages, seen = [], {}
    for p in manifest_pages:
        if p['canvas'] in seen:
            raise PageSourceError(f'canvas {p["canvas"]} appears twice in the manifest')
        source = p.get('iiif_base') or p['image_url']
        server, _, path = source.split('://', 1)[1].partition('/')
        if not p.get('iiif_base'):  # a plain image URL: its name without the extension
            path = path.rsplit('.', 1)[0] if '.' in path.rsplit('/', 1)[-1] else path
        name = page_file_name(server, path)
        stem, ext = name.rsplit('.', 1) if '.' in name else (name, 'jpg')
        name = f'{stem}-{hashlib.sha1(source.encode("utf-8")).hexdigest()[:8]}.{ext}'
        seen[p['canvas']] = name
        pages.append(dict(p, key=p['canvas'], path=(Path(folder) / name).resolve()))
    return pages


def pages_from_manifest(src: str, out, download: bool = True, log=None) -> tuple[list[dict], dict]:
    """``(pages, book)`` of the IIIF manifest ``src`` (a file, or an http(s) URL fetched with the
    downloader's retries and limits), downloaded into ``out/pages/`` (resumable; with
    ``download=False`` only listed: the other ranks of a distributed run wait for rank 0's
    download). ``book``: the manifest's ``id``, ``label`` and the canvases ``skipped`` (no usable
    image); ``log(line)`` hears of each page that could not be downloaded.
    Raises :class:`PageSourceError` naming ``src`` when it cannot be read or is not a manifest."""
    out = Path(out)
    log = log or print
    try:
        if src.startswith(('http://', 'https://')):
            manifest = Downloader(progress=False).get_json(src, 'the manifest')
        else:
            manifest = parse_json(Path(src).read_bytes())
        found, book = manifest_book(manifest)
        pages = pages_from_manifest_pages(found, out)
    except (PermanentError, ManifestError, PageSourceError) as e:
        raise PageSourceError(f'`iiif_manifest` {src}: {e}') from None
    except OSError as e:
        raise PageSourceError(f'`iiif_manifest` {src}: {e.strerror or e} (give a manifest file or URL)') from None
    except ValueError as e:
        raise PageSourceError(f'`iiif_manifest` {src}: {e}') from None
    if download:
        jobs = [PageJob(p['iiif_base'], p['path'], url=None if p['iiif_base'] else p['image_url']) for p in pages]
        report = Downloader().run(jobs, root=out / 'pages')
        for f in report.failed:
            log(f'page not downloaded: {f["base"]}: {f["reason"]}')
    return pages, book
