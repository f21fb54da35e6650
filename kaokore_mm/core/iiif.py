"""IIIF Image API request URLs (2.x and 3.0), parsed without network access.

A request is ``{base}/{region}/{size}/{rotation}/{quality}.{format}`` where
``base`` is ``{scheme}://{server}{/prefix}/{identifier}``. Identifiers may
contain unencoded slashes (KaoKore's ``.../iipsrv/NRE/110X-445-3-2/tif/2_004.tif``),
so the URL is read from the right: the last four path segments are the
parameters and everything before them is the image service (``base``), which
identifies the page.

Grammar (both versions unless noted):

- region: ``full``, ``square``, ``x,y,w,h`` (pixels), ``pct:x,y,w,h`` (percent of
  the full image); offsets may be negative and boxes may run past the image:
  :func:`region_box` keeps them as they are and :func:`clip_box` cuts them to
  the page once its size is known;
- size: ``full`` (2.x), ``max``, ``w,``, ``,h``, ``pct:n``, ``w,h``, ``!w,h``, and in
  3.0 each with a ``^`` prefix that allows upscaling;
- rotation: ``n`` or ``!n`` (mirrored first), degrees in ``[0, 360]``;
- quality: ``default``, ``color``, ``gray``, ``bitonal`` (``native`` in 1.x);
  format: ``jpg``, ``tif``, ``png``, ``gif``, ``jp2``, ``pdf``, ``webp``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

QUALITIES = ('default', 'color', 'gray', 'bitonal', 'native', 'grey')
FORMATS = ('jpg', 'jpeg', 'tif', 'tiff', 'png', 'gif', 'jp2', 'pdf', 'webp')
_NUM = r'-?\d+(?:\.\d+)?'
_REGION_XYWH = re.compile(rf'^(pct:)?({_NUM}),({_NUM}),({_NUM}),({_NUM})$')
_SIZE = re.compile(r'^(\^)?(?:(full|max)|pct:(\d+(?:\.\d+)?)|(!)?(\d+)?,(\d+)?)$')
_ROTATION = re.compile(r'^(!)?(\d+(?:\.\d+)?)$')


class IIIFError(ValueError):
    """A URL that is not a valid IIIF Image API request; the message says why."""


@dataclass(frozen=True)
class Region:
    kind: str  # 'full', 'square', 'pixels' or 'percent'
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0


@dataclass(frozen=True)
class Size:
    kind: str  # 'full', 'max', 'w', 'h', 'pct', 'wh', 'confined'
    w: int | None = None
    h: int | None = None
    pct: float | None = None
    upscale: bool = False


@dataclass(frozen=True)
class ImageRequest:
    url: str
    base: str  # the image service: scheme://server/prefix/identifier
    server: str
    path: str  # prefix and identifier, percent-decoded
    region: Region
    size: Size
    rotation: float
    mirror: bool
    quality: str
    format: str


def parse_region(text: str) -> Region:
    if text in ('full', 'square'):
        return Region(text)
    m = _REGION_XYWH.match(text)
    if not m:
        raise IIIFError(f'bad region {text!r}: expected full, square, x,y,w,h or pct:x,y,w,h')
    x, y, w, h = (float(v) for v in m.groups()[1:])
    if w <= 0 or h <= 0:
        raise IIIFError(f'bad region {text!r}: width and height must be positive')
    if m.group(1):
        return Region('percent', x, y, w, h)
    if any(not float(v).is_integer() for v in (x, y, w, h)):
        raise IIIFError(f'bad region {text!r}: pixel regions take integers')
    return Region('pixels', x, y, w, h)


def parse_size(text: str) -> Size:
    m = _SIZE.match(text)
    if not m:
        raise IIIFError(f'bad size {text!r}: expected full, max, w,, ,h, pct:n, w,h or !w,h (3.0: ^ prefix)')
    up, word, pct, bang, w, h = m.groups()
    upscale = bool(up)
    if word:
        return Size(word, upscale=upscale)
    if pct is not None:
        if float(pct) <= 0 or (float(pct) > 100 and not upscale):
            raise IIIFError(f'bad size {text!r}: percentage must be in (0, 100] (or above with ^)')
        return Size('pct', pct=float(pct), upscale=upscale)
    w = int(w) if w else None
    h = int(h) if h else None
    if w is None and h is None:
        raise IIIFError(f'bad size {text!r}: give a width, a height or both')
    if (w is not None and w <= 0) or (h is not None and h <= 0):
        raise IIIFError(f'bad size {text!r}: width and height must be positive')
    if bang:
        if w is None or h is None:
            raise IIIFError(f'bad size {text!r}: !w,h needs both')
        return Size('confined', w, h, upscale=upscale)
    kind = 'wh' if w is not None and h is not None else ('w' if w is not None else 'h')
    return Size(kind, w, h, upscale=upscale)


def parse_image_url(url: str) -> ImageRequest:
    """Parse one IIIF Image API request URL; raises :class:`IIIFError` with the reason."""
    url = url.strip()
    if not url:
        raise IIIFError('empty line')
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as e:  # e.g. "Invalid IPv6 URL"
        raise IIIFError(f'not a valid URL ({e}): {url[:80]!r}') from None
    if parts.scheme not in ('http', 'https') or not parts.netloc:
        raise IIIFError(f'not an http(s) URL: {url[:80]!r}')
    segments = parts.path.split('/')
    if len(segments) < 6 or not all(segments[-4:]):
        raise IIIFError(f'too few path segments for {{identifier}}/region/size/rotation/quality.format: {url[:120]!r}')
    region_s, size_s, rot_s, qf = segments[-4:]
    if '.' not in qf:
        raise IIIFError(f'bad quality.format {qf!r}')
    quality, fmt = qf.rsplit('.', 1)
    if quality not in QUALITIES:
        raise IIIFError(f'bad quality {quality!r}: expected one of {", ".join(QUALITIES)}')
    if fmt.lower() not in FORMATS:
        raise IIIFError(f'bad format {fmt!r}: expected one of {", ".join(FORMATS)}')
    m = _ROTATION.match(rot_s)
    if not m or float(m.group(2)) > 360:
        raise IIIFError(f'bad rotation {rot_s!r}: expected n or !n with 0 <= n <= 360')
    prefix_path = '/'.join(segments[:-4])
    if not prefix_path.strip('/'):
        raise IIIFError(f'no identifier before the parameters: {url[:120]!r}')
    base = f'{parts.scheme}://{parts.netloc}{prefix_path}'
    return ImageRequest(
        url=url,
        base=base,
        server=parts.netloc,
        path=unquote(prefix_path.strip('/')),
        region=parse_region(unquote(region_s)),
        size=parse_size(unquote(size_s)),
        rotation=float(m.group(2)),
        mirror=bool(m.group(1)),
        quality=quality,
        format=fmt.lower(),
    )


def region_box(region: Region, page_w: float | None = None, page_h: float | None = None) -> list[float]:
    """``[x1, y1, x2, y2]`` of a region in page pixels (unclipped). ``full``,
    ``square`` and percentages need the page size; pixel regions do not."""
    if region.kind == 'pixels':
        return [region.x, region.y, region.x + region.w, region.y + region.h]
    if page_w is None or page_h is None:
        raise IIIFError(f'region {region.kind!r} needs the page size')
    if region.kind == 'full':
        return [0.0, 0.0, float(page_w), float(page_h)]
    if region.kind == 'square':
        side = min(page_w, page_h)
        x, y = (page_w - side) / 2, (page_h - side) / 2
        return [x, y, x + side, y + side]
    return [
        region.x * page_w / 100,
        region.y * page_h / 100,
        (region.x + region.w) * page_w / 100,
        (region.y + region.h) * page_h / 100,
    ]


def clip_box(box, page_w: float, page_h: float) -> list[float] | None:
    """The box cut to the page, or ``None`` when nothing of it lies on the page."""
    x1, y1, x2, y2 = max(0.0, box[0]), max(0.0, box[1]), min(float(page_w), box[2]), min(float(page_h), box[3])
    if x2 <= x1 or y2 <= y1:
        return None
    return [x1, y1, x2, y2]


def full_page_url(base: str, version: int = 3, max_size: tuple[int, int] | None = None, fmt: str = 'jpg') -> str:
    """URL of the whole page: ``full/max`` (3.0) or ``full/full`` (2.x), or at most
    ``max_size`` (``!w,h``, aspect kept)."""
    if max_size is not None:
        size = f'!{int(max_size[0])},{int(max_size[1])}'
    else:
        size = 'max' if version >= 3 else 'full'
    return f'{base.rstrip("/")}/full/{size}/0/default.{fmt}'


def info_url(base: str) -> str:
    return f'{base.rstrip("/")}/info.json'


MAX_PAGE_PIXELS = 180_000_000  # Pillow's decompression-bomb limit; KaoKore's largest scans are ~50 MP


def valid_page_size(width, height, limit: int = 1_000_000) -> tuple[int, int] | None:
    """``(width, height)`` as positive ints when they are a plausible page size,
    else ``None`` (0, negative, NaN, infinite, absurdly large, more than
    :data:`MAX_PAGE_PIXELS`, or not numbers: ``True`` and ``"100"`` are not sizes)."""
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in (width, height)):
        return None
    w, h = float(width), float(height)
    if not (math.isfinite(w) and math.isfinite(h)) or not (1 <= w <= limit and 1 <= h <= limit):
        return None
    if w * h > MAX_PAGE_PIXELS:
        return None
    if w != int(w) or h != int(h):
        return None
    return int(w), int(h)


TILE = 512  # the level-0 tile side (OpenSeadragon's and most servers' choice)


def level0_tiles(width: int, height: int, tile: int = TILE) -> tuple[list[int], list[dict]]:
    """A static IIIF Image API 3 level-0 tile pyramid of a ``width`` x ``height``
    image: ``(scale_factors, tiles)``; each tile is ``dict(scale, region, size, box,
    out)``: its canonical URL parts (``{base}/{region}/{size}/0/default.jpg``),
    the full-resolution box ``x, y, w, h`` it shows and its pixel size ``w, h``.

    Scale factors 1, 2, 4, ... until one tile holds the whole image. URL parts
    are the canonical forms a client computes from ``info.json`` (region
    ``full`` for the whole image, size ``max`` at full size, else ``w,h``), as
    OpenSeadragon's IIIF tile source asks for them, so files on disk serve it
    without an image server.
    """
    scales = [1]
    while max(-(-width // scales[-1]), -(-height // scales[-1])) > tile:
        scales.append(scales[-1] * 2)
    tiles = []
    for s in scales:
        lw, lh = -(-width // s), -(-height // s)  # the level's size, rounded up
        if lw < tile and lh < tile:
            size = 'max' if (lw, lh) == (width, height) else f'{lw},{lh}'
            tiles.append(dict(scale=s, region='full', size=size, box=(0, 0, width, height), out=(lw, lh)))
            continue
        step = tile * s
        for row in range(-(-lh // tile)):
            for col in range(-(-lw // tile)):
                x, y = col * step, row * step
                w, h = min(step, width - x), min(step, height - y)
                ow, oh = min(tile, lw - col * tile), min(tile, lh - row * tile)
                region = 'full' if (x, y, w, h) == (0, 0, width, height) else f'{x},{y},{w},{h}'
                size = 'max' if (ow, oh) == (width, height) else f'{ow},{oh}'
                tiles.append(dict(scale=s, region=region, size=size, box=(x, y, w, h), out=(ow, oh)))
    return scales, tiles


def level0_info(image_id: str, width: int, height: int, tile: int = TILE) -> dict:
    """The ``info.json`` of :func:`level0_tiles`'s pyramid (IIIF Image API 3, level 0)."""
    scales, _ = level0_tiles(width, height, tile)
    return {
        '@context': 'http://iiif.io/api/image/3/context.json',
        'id': image_id,
        'type': 'ImageService3',
        'protocol': 'http://iiif.io/api/image',
        'profile': 'level0',
        'width': int(width),
        'height': int(height),
        'tiles': [dict(width=tile, height=tile, scaleFactors=scales)],
    }
