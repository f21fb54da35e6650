"""KaoKore metadata (urls.txt, labels.csv, original_tags.txt) -> page-level COCO.

Pure Python. Every line of ``urls.txt`` is a IIIF Image API request for one
face (the 0-based line number is the KaoKore crop id, ``%08d.jpg``); faces are
grouped by image service (one COCO image per page, with its ``iiif_base``).

Which field identifies a book
    The book is the *work* a page belongs to, with its volumes together:
    volumes of one picture book share its painter and style, and splitting them
    between train and test would leak. KaoKore's ``原典ID`` tag is not that key:
    for Keio it names a volume (``110X@445@3@1`` .. ``@3``), for Kyoto the work
    (``RB00013182``, while the URL has the volume ``/01/``). The converter
    therefore derives ``book_id`` from the URL, per holder:

    - Keio ``.../iipsrv/NRE/110X-445-3-2/tif/...`` -> ``keio:110X-445-3`` (last
      component, the volume, dropped);
    - Kyoto ``.../iiif/RB00013182/01/...`` -> ``kyoto:RB00013182`` (volume dropped);
    - NIJL/CODH ``.../pmjt/iiif/200016476/...`` -> ``nijl:200016476`` (one DOI
      10.20730/200016476 per book);
    - any other server: ``<server>:<first path segment after the service prefix>``.

    ``book_title`` is the ``原典`` tag.
"""

from __future__ import annotations

import csv
import io
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path

from kaokore_mm.core.iiif import IIIFError, clip_box, parse_image_url, region_box, valid_page_size
from kaokore_mm.core.labels import GENDERS, STATUSES
from kaokore_mm.core.page_files import page_size
from kaokore_mm.core.text import decode_text, parse_json
from kaokore_mm.errors import BadPageError, UserError

SAFE = re.compile(r'[^A-Za-z0-9._-]+')


def read_text_lines(path) -> Iterator[tuple[int, str | None, str | None]]:
    """``(line_no, text, error)`` for every line of a file, decoded as
    :func:`kaokore_mm.core.text.decode_text` does (a BOM, CRLF or a Shift-JIS
    file as spreadsheets save them); in a file that is none of those, a line
    that is not UTF-8 gives ``text=None`` and the error, without stopping the others."""
    with open(path, 'rb') as f:
        data = f.read()
    text, _ = decode_text(data)
    if text is not None:
        lines = text.split('\n')
        if lines and lines[-1] == '':
            lines.pop()
        yield from ((no, line, None) for no, line in enumerate(lines))
        return
    lines = data.split(b'\n')
    if lines and lines[-1] == b'':
        lines.pop()  # the newline that ends the last line
    for no, raw in enumerate(lines):
        try:
            yield no, raw.rstrip(b'\r').decode('utf-8'), None
        except UnicodeDecodeError as e:
            yield no, None, f'not UTF-8 ({e.reason} at byte {e.start})'


def parse_tags(text: str) -> dict:
    """``key=value;key=value`` -> dict; repeated keys give lists; values stripped."""
    tags: dict = {}
    for item in text.split(';'):
        if '=' not in item:
            continue
        key, value = (s.strip() for s in item.split('=', 1))
        if key in tags:
            tags[key] = (tags[key] if isinstance(tags[key], list) else [tags[key]]) + [value]
        else:
            tags[key] = value
    return tags


def read_tags(path, report) -> dict:
    """``{crop_id: tags}`` from ``original_tags.txt`` (``00000012.jpg:k=v;...``)."""
    out = {}
    for no, text, err in read_text_lines(path):
        if err:
            report.skip(path, no, err)
            continue
        if not text.strip():
            continue
        name, sep, rest = text.partition(':')
        m = re.fullmatch(r'(\d+)\.jpg', name.strip())
        if not sep or not m:
            report.skip(path, no, f'expected "00000012.jpg:key=value;...", got {text[:60]!r}')
            continue
        out[int(m.group(1))] = parse_tags(rest)
    return out


def read_labels(path, report) -> dict:
    """``{crop_id: (gender_id, status_id, set)}`` from ``labels.csv``."""
    out = {}
    lines = [(no, t) for no, t, err in read_text_lines(path) if not (err and report.skip(path, no, err))]
    rows = csv.reader(io.StringIO('\n'.join(t for _, t in lines)))
    header = next(rows, None)
    if header != ['image', 'gender', 'status', 'set']:  # every label would be lost: not a line to skip
        raise ValueError(f"{path}: header {header} is not image,gender,status,set (KaoKore's labels.csv)")
    for (no, _), row in zip(lines[1:], rows):
        if not row:
            continue
        try:
            name, g, s, subset = row
            crop = int(re.fullmatch(r'(\d+)\.jpg', name).group(1))
            g, s = int(g), int(s)
            if g not in (0, 1) or s not in (0, 1, 2, 3) or subset not in ('train', 'dev', 'test'):
                raise ValueError
        except (ValueError, AttributeError):
            report.skip(path, no, f'bad label row {",".join(row)[:60]!r}')
            continue
        out[crop] = (g, s, subset)
    return out


def book_id_from(base: str, server: str, path: str) -> str:
    segs = [s for s in path.split('/') if s]
    if 'keio' in server and 'NRE' in segs and segs.index('NRE') + 1 < len(segs):
        vol = segs[segs.index('NRE') + 1]
        parts = vol.split('-')
        return 'keio:' + ('-'.join(parts[:-1]) if len(parts) > 2 else vol)
    if 'kulib.kyoto-u' in server and 'iiif' in segs and segs.index('iiif') + 1 < len(segs):
        return 'kyoto:' + segs[segs.index('iiif') + 1]
    if 'codh.rois.ac.jp' in server and 'iiif' in segs and segs.index('iiif') + 1 < len(segs):
        return 'nijl:' + segs[segs.index('iiif') + 1]
    for marker in ('iiif', 'iipsrv', 'images'):
        if marker in segs and segs.index(marker) + 1 < len(segs) - 1:
            return f'{server}:{segs[segs.index(marker) + 1]}'
    return f'{server}:{segs[0] if len(segs) > 1 else "/".join(segs)}'


def page_file_name(server: str, path: str, ext: str = 'jpg') -> str:
    """A relative file name for a page that cannot escape the output directory
    and is unique per image service: a segment whose characters had to be
    replaced gets a hash of the original (``book:A`` and ``book_A`` stay apart)."""
    import hashlib

    segs, dropped = [], False
    for s in [server, *path.split('/')]:
        if not s or s in ('.', '..'):
            dropped = True
            continue
        safe = SAFE.sub('_', s).strip('.') or '_'
        if safe != s:
            safe = f'{safe}-{hashlib.sha1(s.encode("utf-8")).hexdigest()[:6]}'
        segs.append(safe)
    if dropped:  # 'y//p2', 'x/../p1', 'a/./b' are other URLs than 'y/p2', 'p1', 'a/b': never one file for two
        segs[-1] = f'{segs[-1]}-{hashlib.sha1(f"{server}/{path}".encode("utf-8")).hexdigest()[:8]}'
    return 'pages/' + '/'.join(segs) + f'.{ext}'


class Report:
    """Lines read, what became of them, and every skipped line with its reason."""

    def __init__(self):
        self.lines = 0
        self.skipped: list[dict] = []

    def skip(self, path, line_no, reason) -> bool:
        self.skipped.append(dict(file=str(path), line=int(line_no) + 1, reason=reason))
        return True


def convert(kaokore_dir, size_of=None, report: Report | None = None) -> tuple[dict, Report]:
    """Convert the metadata of ``kaokore_dir``; returns ``(coco, report)``.

    ``size_of(page)`` gives ``(width, height)`` of a page (dict with
    ``file_name`` and ``iiif_base``) when known (downloaded image or info.json);
    then boxes are clipped to the page and faces wholly outside it are skipped.
    Three steps: the faces of ``urls.txt`` with their tags and labels
    (:func:`read_faces`), the page sizes (:func:`set_page_sizes`), the boxes on
    their pages (:func:`place_boxes`).
    """
    d = Path(kaokore_dir)
    report = report or Report()
    if not (d / 'urls.txt').is_file():
        raise FileNotFoundError(f'{d / "urls.txt"}: missing (the KaoKore metadata folder needs urls.txt)')
    tags = read_tags(d / 'original_tags.txt', report) if (d / 'original_tags.txt').is_file() else {}
    labels = read_labels(d / 'labels.csv', report) if (d / 'labels.csv').is_file() else {}
    pages, faces = read_faces(d / 'urls.txt', tags, labels, report)
    set_page_sizes(pages, size_of, report)
    anns = place_boxes(faces, {p['id']: p for p in pages}, d / 'urls.txt', report)
    used = {a['image_id'] for a in anns}
    coco = dict(
        info=dict(
            description='KaoKore pages from the official metadata',
            licence='CC BY-SA 4.0, KaoKore Dataset (CODH), doi:10.20676/00000353',
        ),
        images=[p for p in pages if p['id'] in used],
        annotations=anns,
        categories=[dict(id=1, name='face')],
    )
    return coco, report


def read_faces(urls: Path, tags: dict, labels: dict, report: Report) -> tuple[list, list]:
    """``(pages, faces)`` of ``urls.txt``, one face per line (its IIIF image request): pages in the
    order they first appear (size unknown yet), faces with their line, crop name, attributes
    (labels and tags) and requested region (its box where given in pixels); blank, unreadable,
    malformed and repeated lines are reported and skipped."""
    pages: OrderedDict = OrderedDict()
    faces, seen = [], {}
    for no, text, err in read_text_lines(urls):
        report.lines += 1
        if err or not text.strip():
            report.skip(urls, no, err or 'blank line (no face)')
            continue
        try:
            req = parse_image_url(text)
        except IIIFError as e:
            report.skip(urls, no, str(e))
            continue
        # full, square and pct: regions are resolved once the page sizes are known (place_boxes)
        box = region_box(req.region) if req.region.kind == 'pixels' else None
        key = (
            req.base,
            tuple(box) if box else (req.region.kind, req.region.x, req.region.y, req.region.w, req.region.h),
        )
        if key in seen:
            report.skip(urls, no, f'duplicate face: same page and region as line {seen[key] + 1}')
            continue
        seen[key] = no
        tag = tags.get(no, {})
        page = pages.get(req.base)
        if page is None:
            title = tag.get('原典')
            page = dict(
                id=len(pages) + 1,
                file_name=page_file_name(req.server, req.path),
                iiif_base=req.base,
                book_id=book_id_from(req.base, req.server, req.path),
                book_title=title[0] if isinstance(title, list) else title,
                width=None,
                height=None,
                holder=tag.get('所蔵'),
            )
            pages[req.base] = page
        lab = labels.get(no)
        attributes = dict(
            gender=GENDERS[lab[0]] if lab else None,
            status=STATUSES[lab[1]] if lab else None,
            gender_id=lab[0] if lab else None,
            status_id=lab[1] if lab else None,
            set=lab[2] if lab else None,
            orientation=tag.get('向き'),
            tags=tag,
        )
        faces.append(
            dict(
                id=len(faces) + 1,
                image_id=page['id'],
                category_id=1,
                box=box,
                req_region=req.region,
                line=no,
                crop=f'{no:08d}.jpg',
                attributes=attributes,
            )
        )
    return list(pages.values()), faces


def set_page_sizes(pages: list, size_of, report: Report) -> None:
    """Each page's ``width`` and ``height`` from ``size_of`` where it knows them; a size that is
    not a valid page size is reported and left unknown."""
    for page in pages:
        size = size_of(page) if size_of else None
        if size is None:
            continue
        valid = valid_page_size(*size) if isinstance(size, (tuple, list)) and len(size) == 2 else None
        if valid is None:
            report.skip(page['file_name'], 0, f'page size {size!r} is not a valid size: treated as unknown')
        else:
            page['width'], page['height'] = valid


def place_boxes(faces: list, pages_by_id: dict, urls: Path, report: Report) -> list:
    """The COCO annotations of ``faces``: regions resolved on their pages (a region relative to
    the page needs its size), boxes clipped to known pages (left and top borders always);
    faces that cannot be placed or lie wholly outside their page are reported and left out."""
    out = []
    for a in faces:
        page = pages_by_id[a['image_id']]
        box, region = a.pop('box'), a.pop('req_region')
        if box is None:
            if not page['width']:
                report.skip(
                    urls,
                    a['line'],
                    f'region {region.kind!r} needs the page size, which is '
                    'unknown: download the pages (download_pages.py) and convert again',
                )
                continue
            box = region_box(region, page['width'], page['height'])
        a['region'] = [box[0], box[1], box[2] - box[0], box[3] - box[1]]
        if page['width']:
            clipped = clip_box(box, page['width'], page['height'])
        else:  # the size is unknown, but the left and top borders are at 0
            clipped = clip_box(box, float('inf'), float('inf'))
        if clipped is None:
            size = f'{page["width"]}x{page["height"]}' if page['width'] else 'size unknown'
            report.skip(urls, a['line'], f'face box {box} lies wholly outside its page ({size})')
            continue
        x1, y1, x2, y2 = clipped
        a.update(bbox=[x1, y1, x2 - x1, y2 - y1], area=(x2 - x1) * (y2 - y1), iscrowd=0)
        out.append(a)
    return out


def downloaded_page_sizes(root, disagreements: list) -> Callable:
    """``size_of(page)`` for :func:`convert`: the size of the page downloaded under ``root`` as it
    is displayed (its header, EXIF orientation applied: :func:`~kaokore_mm.core.page_files.page_size`,
    the one page-size reader), else the width and height of the ``.info.json`` saved beside it;
    a disagreement between the two is recorded in ``disagreements``; ``None`` when neither is there."""
    root = Path(root)

    def info_size(info: Path):
        try:
            data = parse_json(info.read_bytes())
            return data['width'], data['height']  # checked by the converter (valid_page_size)
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            return None

    def size_of(page):
        img = root / page['file_name']
        info = img.with_name(img.name + '.info.json')
        said = info_size(info) if info.is_file() else None
        if img.is_file():
            try:
                size = page_size(img)
            except BadPageError as e:
                if 'decompression bomb' in str(e):  # a page too large to read is the user's to downscale
                    raise UserError(f'{e}, and convert again') from None
                size = None
            if size is not None:
                if said is not None and tuple(said) != tuple(size):
                    disagreements.append(f'{img}: the image is {size[0]}x{size[1]}, its info.json says {said}')
                return size
        return said

    return size_of


def summary(coco, report) -> dict:
    return dict(
        lines=report.lines,
        faces=len(coco['annotations']),
        pages=len(coco['images']),
        books=len({im['book_id'] for im in coco['images']}),
        labelled=sum(a['attributes']['status'] is not None for a in coco['annotations']),
        skipped=len(report.skipped),
    )
