"""Checking page image files before hours of work depend on them (Pillow and NumPy only).

A page that is missing, empty, cut short by a failed copy or download, not an
image at all, or of another size than its annotations were drawn on would stop
a training run from a DataLoader worker, or worse, be read as a grey or
rotated page under boxes that no longer fit. :func:`page_problem` finds these
from the file's header and its last bytes (about a millisecond per page,
without decoding the pixels), so the tools can refuse or skip such pages up
front (see ``docs/troubleshooting.md``, "Bad pages").

Sizes are those of the page *as displayed*: a camera JPEG whose EXIF
orientation says "rotate 90°" is a portrait page although its pixels are
stored landscape, as browsers show it. :func:`read_page` is the one page reader of
training, testing and annotation (``LoadPageFromFile`` in every page pipeline, the
page inferencer, the annotator): the same pixels everywhere for alpha (composited on
paper white), 16-bit and float pages, and the EXIF orientation.
"""

from __future__ import annotations

import functools
import os
import warnings

import numpy as np

from kaokore_mm.core.images import to_bgr_uint8

from ..errors import BadPageError
from .iiif import MAX_PAGE_PIXELS

JPEG_START, JPEG_END = b'\xff\xd8', b'\xff\xd9'
PNG_START = b'\x89PNG\r\n\x1a\n'
EXIF_ORIENTATION = 0x0112


def read_page(path) -> np.ndarray:
    """A page file as a BGR uint8 array (grayscale, RGBA, 16-bit and float handled by
    :func:`~kaokore_mm.core.images.to_bgr_uint8`), turned as its EXIF orientation says.

    Raises:
        BadPageError: the file is missing or cannot be decoded (the message
            starts with the path).
    """
    import cv2

    data = np.fromfile(os.fspath(path), dtype=np.uint8) if os.path.isfile(path) else None
    if data is None:
        raise BadPageError(f'{path}: no such page image')
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)  # keeps alpha, 16 bits and floats; ignores EXIF orientation
    if img is None:
        raise BadPageError(f'{path}: not a readable image (corrupt or unsupported format)')
    try:
        img = to_bgr_uint8(img)
    except ValueError as e:
        raise BadPageError(f'{path}: {e}') from None
    return apply_exif_orientation(img, file_orientation(path))


def page_fingerprint(path) -> str:
    """A content hash of the page as decoded (:func:`read_page`): the same pixels give the same
    hash whatever the file's name, format or metadata (a copy of a page under a new book's name)."""
    import hashlib

    img = read_page(path)
    h = hashlib.sha256(f'{img.shape}'.encode())
    h.update(np.ascontiguousarray(img).data)
    return h.hexdigest()


def cut_short(head: bytes, tail: bytes) -> bool:
    """Whether a JPEG or PNG file starting with ``head`` and ending with ``tail``
    lacks its end marker (a copy or download cut short). Other formats: False."""
    if head[:2] == JPEG_START:
        return tail.rstrip(b'\x00\r\n ')[-2:] != JPEG_END
    if head[:8] == PNG_START:
        return b'IEND' not in tail[-12:]
    return False


def exif_orientation(image) -> int:
    """The EXIF orientation (1-8) of an opened Pillow image; 1 when absent or invalid."""
    try:
        value = int(image.getexif().get(EXIF_ORIENTATION, 1))
    except (TypeError, ValueError, OSError, SyntaxError):
        return 1
    return value if 1 <= value <= 8 else 1


def oriented_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """``(width, height)`` as displayed: orientations 5-8 swap the axes."""
    return (size[1], size[0]) if orientation in (5, 6, 7, 8) else (size[0], size[1])


def apply_exif_orientation(img: np.ndarray, orientation: int) -> np.ndarray:
    """The stored pixels ``img`` (H x W [x C]) turned as the EXIF ``orientation`` says
    (as OpenCV's colour decode and browsers do)."""
    if orientation == 2:
        img = img[:, ::-1]
    elif orientation == 3:
        img = img[::-1, ::-1]
    elif orientation == 4:
        img = img[::-1]
    elif orientation == 5:
        img = img.swapaxes(0, 1)
    elif orientation == 6:
        img = img.swapaxes(0, 1)[:, ::-1]
    elif orientation == 7:
        img = img.swapaxes(0, 1)[::-1, ::-1]
    elif orientation == 8:
        img = img.swapaxes(0, 1)[::-1]
    return np.ascontiguousarray(img)


def file_orientation(path) -> int:
    """The EXIF orientation of an image file (1 when it has none or is unreadable)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            return exif_orientation(im)
    except (OSError, ValueError, SyntaxError):
        return 1


def page_size(path) -> tuple[int, int]:
    """``(width, height)`` of a page file as displayed, from its header.

    Raises:
        BadPageError: the file is missing, empty, cut short, or not an image
            Pillow can identify. The message starts with the path.
    """
    from PIL import Image, UnidentifiedImageError

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise BadPageError(f'{path}: no such page image')
    n = os.path.getsize(path)
    if n == 0:
        raise BadPageError(f'{path}: empty file')
    with open(path, 'rb') as f:
        head = f.read(16)
        f.seek(max(0, n - 64))
        tail = f.read()
    if cut_short(head, tail):
        raise BadPageError(f'{path}: truncated ({n} bytes, no end marker): copy or download it again')
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                orientation = exif_orientation(im)
    except Image.DecompressionBombError:
        raise BadPageError(
            f'{path}: over the limit of {MAX_PAGE_PIXELS / 1e6:.0f} MP a page (Pillow refuses its header as a '
            'decompression bomb); downscale it'
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise BadPageError(f'{path}: not a readable image ({type(e).__name__})') from None
    if w < 1 or h < 1:
        raise BadPageError(f'{path}: not a readable image (size {w}x{h})')
    return oriented_size((w, h), orientation)


def page_problem(path, expected_size: tuple[int, int] | None = None) -> str | None:
    """Why the page file at ``path`` cannot be used (a message starting with the
    path), or None when its header is sound and, if given, its displayed size is
    ``expected_size`` (width, height)."""
    path = os.fspath(path)
    try:
        st = os.stat(path)
    except OSError:
        return f'{path}: no such page image'
    size = _checked_size(path, st.st_mtime_ns, st.st_size)
    if isinstance(size, str):
        return size
    if size[0] * size[1] > MAX_PAGE_PIXELS:  # decoded it would take GBs: refused before any decode
        return (
            f'{path}: the page is {size[0]}x{size[1]} ({size[0] * size[1] / 1e6:.0f} MP), over the limit of '
            f'{MAX_PAGE_PIXELS / 1e6:.0f} MP a page; downscale it'
        )
    if expected_size is not None and tuple(expected_size) != size:
        return (
            f'{os.fspath(path)}: the image is {size[0]}x{size[1]} but its annotations say '
            f'{expected_size[0]}x{expected_size[1]}'
        )
    return None


@functools.lru_cache(maxsize=1 << 16)
def _checked_size(path: str, mtime_ns: int, nbytes: int) -> tuple[int, int] | str:
    """:func:`page_size` or its error, remembered while the file is unchanged (a
    dataset checked before the Runner is built is checked again by the Runner)."""
    try:
        return page_size(path)
    except BadPageError as e:
        return str(e)


def bad_pages_message(problems: list[str], total: int, shown: int = 3) -> str:
    """One line for ``problems`` (from :func:`page_problem`) among ``total`` pages:
    how many, the first ``shown`` of them, and what to do."""
    head = '; '.join(problems[:shown]) + (f'; and {len(problems) - shown} more' if len(problems) > shown else '')
    return (
        f'{len(problems)} of {total} pages cannot be used: {head} (fix or remove them, or pass '
        '--skip-bad-pages to go on without them)'
    )
