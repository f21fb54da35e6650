"""A robust downloader of whole pages from IIIF Image API services (stdlib only).

For every page (an image service ``base`` and a destination file):

1. a destination that is already a complete image is skipped (resumable);
   one that is not (cut short by hand, say) is fetched again;
2. ``{base}/info.json`` gives the page size and the API version; it is saved
   beside the page as ``<file>.info.json`` (the converter reads sizes from it);
3. the page is fetched as ``full/max`` (3.0) or ``full/full`` (2.x), or capped with
   ``!w,h``; a 3.0 request refused with 400/404 falls back to 2.x and back;
4. the body must have an image content type, the announced length, and decode
   (JPEG/PNG end markers; other formats are decoded); then it is written to a
   temporary file beside the destination, flushed, and renamed over it, so a
   destination is never partial. Temporary files left by a killed run are
   removed when the next run starts.

Timeouts, 429 and 5xx answers, cut bodies, wrong content types and undecodable
bodies are retried with exponential backoff (``Retry-After`` honoured, in
seconds or as an HTTP date); other 4xx answers fail the page at once. A
semaphore per host bounds concurrent requests to one server. Failures are
collected, never raised, so one bad page does not stop the others.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from kaokore_mm.core.iiif import MAX_PAGE_PIXELS, IIIFError, full_page_url, info_url, parse_image_url
from kaokore_mm.core.page_files import cut_short
from kaokore_mm.core.text import decode_text, parse_json, read_text
from kaokore_mm.errors import UserError
from kaokore_mm.utils.io import atomic_write_bytes, remove_stale_temp_files

from .kaokore_metadata import page_file_name

USER_AGENT = 'kaokore_mm-downloader/0.1 (+https://github.com/)'


class RetryableError(Exception):
    def __init__(self, msg, retry_after=None):
        super().__init__(msg)
        self.retry_after = retry_after


class PermanentError(Exception):
    def __init__(self, msg, status=None):
        super().__init__(msg)
        self.status = status


def valid_image_bytes(data: bytes) -> bool:
    """Whether ``data`` is a complete image that decodes: the end markers of
    JPEG/PNG (a body cut short), then an actual decode (a body that only starts
    and ends like an image; the reduced decode of JPEGs keeps it cheap)."""
    if len(data) < 8 or cut_short(data[:16], data[-64:]):
        return False
    import cv2
    import numpy as np

    flag = cv2.IMREAD_REDUCED_GRAYSCALE_8 if data[:2] == b'\xff\xd8' else cv2.IMREAD_GRAYSCALE
    return cv2.imdecode(np.frombuffer(data, np.uint8), flag) is not None


def image_size(data: bytes) -> tuple[int, int]:
    """``(width, height)`` from an image's header (no decode, no memory for a huge page).

    Raises:
        PermanentError: the page is larger than Pillow's decompression-bomb limit.
    """
    import io
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                return im.size
    except Image.DecompressionBombError as e:
        raise PermanentError(f'{e}; download it smaller (--max-size W H)') from None
    except OSError:
        return (0, 0)  # not an image Pillow reads: the page checks judge it


def valid_image_file(path: Path) -> bool:
    try:
        return valid_image_bytes(Path(path).read_bytes())
    except OSError:
        return False


def _retry_after(value) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            return None


@dataclass
class PageJob:
    """A page to fetch: from its Image API service ``base``, or, for an image a manifest
    publishes without a service, from its own ``url`` (``base`` then names it in reports)."""

    base: str | None
    dest: Path
    url: str | None = None

    def __post_init__(self):
        if self.base is None:
            self.base = self.url


@dataclass
class DownloadReport:
    done: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: list = field(default_factory=list)  # dicts: base, dest, reason
    retries: int = 0
    stale_removed: int = 0

    def as_dict(self) -> dict:
        return dict(
            done=len(self.done),
            skipped=len(self.skipped),
            failed=self.failed,
            retries=self.retries,
            stale_temp_files_removed=self.stale_removed,
        )


class Downloader:
    """Fetch whole pages; see the module docstring.

    Args:
        version: 2 or 3 to force the Image API version; ``None`` reads info.json.
        max_size: ``(w, h)`` cap (``!w,h``), ``None`` for the full resolution.
        workers: pages fetched at once; per_host: requests at once to one server.
        timeout: seconds per read; deadline: seconds per request, however the
        server trickles (default 5 x timeout); retries: attempts after the first;
        backoff: first delay in seconds, doubled each attempt up to max_backoff;
        max_bytes: the largest body accepted (a page is never kept beyond it);
        max_pixels: the largest page accepted (width x height; info.json is
            checked before the download and the image's own header after it);
        allow_file: also fetch ``file:`` URLs (off: a manifest cannot make the
        downloader read local files).
    """

    def __init__(
        self,
        version: int | None = None,
        max_size=None,
        workers: int = 8,
        per_host: int = 2,
        timeout: float = 60.0,
        retries: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        progress: bool = True,
        deadline: float | None = None,
        max_bytes: int = 200 * 2**20,
        allow_file: bool = False,
        max_pixels: int = MAX_PAGE_PIXELS,
    ):
        self.version, self.max_size = version, max_size
        self.workers, self.per_host = workers, per_host
        self.timeout, self.retries, self.backoff, self.max_backoff = timeout, retries, backoff, max_backoff
        self.deadline = deadline if deadline is not None else 5 * timeout
        self.max_bytes, self.allow_file, self.max_pixels = int(max_bytes), allow_file, int(max_pixels)
        self.progress = progress
        self._hosts: dict[str, threading.Semaphore] = {}
        self._lock = threading.Lock()
        self.report = DownloadReport()

    # one HTTP GET, classified
    def _read(self, resp, length) -> bytes:
        """The body, read as it arrives, within ``max_bytes`` and the request's deadline."""
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            raise PermanentError(f'body of {int(length)} bytes is over the limit of {self.max_bytes} bytes (max_bytes)')
        deadline = time.monotonic() + self.deadline
        chunks, size = [], 0
        while True:
            chunk = resp.read1(1 << 16) if hasattr(resp, 'read1') else resp.read(1 << 16)
            if not chunk:
                return b''.join(chunks)
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_bytes:
                raise PermanentError(f'body over the limit of {self.max_bytes} bytes (max_bytes)')
            if time.monotonic() > deadline:
                raise RetryableError(f'deadline of {self.deadline} s passed with {size} bytes read')

    def _get(self, url: str, want_image: bool) -> tuple[bytes, str]:
        scheme = urlsplit(url).scheme
        if scheme not in ('http', 'https') and not (self.allow_file and scheme == 'file'):
            raise PermanentError(
                f'{scheme!r} URLs are not fetched (only http and https; allow_file=True opts in to file:): {url[:80]}'
            )
        host = urlsplit(url).netloc
        with self._lock:
            sem = self._hosts.setdefault(host, threading.Semaphore(self.per_host))
        req = urllib.request.Request(url, headers={'User-Agent': USER_AGENT})
        with sem:
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    ctype = resp.headers.get('Content-Type', '')
                    length = resp.headers.get('Content-Length')
                    body = self._read(resp, length)
            except urllib.error.HTTPError as e:
                e.close()  # the error holds the response and its socket
                if e.code == 429 or e.code >= 500:
                    raise RetryableError(f'HTTP {e.code}', _retry_after(e.headers.get('Retry-After'))) from None
                raise PermanentError(f'HTTP {e.code}', e.code) from None
            except (socket.timeout, TimeoutError) as e:
                raise RetryableError(f'timeout after {self.timeout} s') from e
            except urllib.error.URLError as e:
                raise RetryableError(f'connection failed: {e.reason}') from None
            except http.client.IncompleteRead as e:
                raise RetryableError(
                    f'body cut short: {len(e.partial)} bytes read, {e.expected} more expected'
                ) from None
            except (ConnectionError, OSError, http.client.HTTPException) as e:  # reset, bad status line
                raise RetryableError(f'connection broken: {e!r}') from None
        if length is not None and length.isdigit() and int(length) != len(body):
            raise RetryableError(f'body cut short: {len(body)} of {length} bytes')
        if want_image:
            if not ctype.startswith('image/'):
                raise RetryableError(f'wrong content type {ctype!r}')
            if not valid_image_bytes(body):
                raise RetryableError('body does not decode as a complete image')
        return body, ctype

    def _with_retries(self, url: str, want_image: bool):
        for attempt in range(self.retries + 1):
            try:
                return self._get(url, want_image)
            except RetryableError as e:
                if attempt == self.retries:
                    raise PermanentError(f'{e} (after {self.retries + 1} attempts)') from None
                delay = e.retry_after
                if delay is None:
                    delay = min(self.max_backoff, self.backoff * 2**attempt) * (0.5 + random.random() / 2)
                with self._lock:
                    self.report.retries += 1
                time.sleep(min(delay, self.max_backoff))

    def get_json(self, url: str, what: str = 'document') -> object:
        """One JSON document (a manifest) by URL, with the retries, limits and schemes of the
        page downloads; raises ``PermanentError`` naming ``what`` and why."""
        try:
            body, _ = self._with_retries(url, want_image=False)
        except PermanentError as e:
            raise PermanentError(f'{what} not fetched: {e}', e.status) from None
        try:
            return parse_json(body)
        except ValueError as e:
            raise PermanentError(f'{what} is {e}') from None

    def _info(self, job: PageJob):
        try:
            body, _ = self._with_retries(info_url(job.base), want_image=False)
            info = parse_json(body)
        except (PermanentError, ValueError):
            return None, None
        ctx = json.dumps(info.get('@context', ''))
        version = 3 if 'image/3' in ctx else 2
        atomic_write_bytes(job.dest.with_name(job.dest.name + '.info.json'), json.dumps(info).encode('utf-8'))
        return info, version

    def _check_pixels(self, w, h, what: str) -> None:
        if w * h > self.max_pixels:
            raise PermanentError(
                f'{what} {w}x{h} ({w * h / 1e6:.0f} MP), over the limit of {self.max_pixels / 1e6:.0f} MP a page; '
                'download it smaller (--max-size W H)'
            )

    def fetch(self, job: PageJob) -> str:
        """``'skipped'`` or ``'done'``; raises :class:`PermanentError` with the reason."""
        if job.dest.is_file():
            if valid_image_file(job.dest):
                return 'skipped'
            job.dest.unlink()
        if job.url is not None:  # an image without a service: the file as published
            body, _ = self._with_retries(job.url, want_image=True)
            self._check_pixels(*image_size(body), 'the image is')
            atomic_write_bytes(job.dest, body)
            return 'done'
        version = self.version
        if version is None:
            info, version = self._info(job)
            size = (info.get('width'), info.get('height')) if isinstance(info, dict) else (None, None)
            if self.max_size is None and all(isinstance(v, int) and not isinstance(v, bool) for v in size):
                self._check_pixels(*size, 'its info.json says')
        versions = [version] if self.version else [version or 3, 2 if (version or 3) == 3 else 3]
        last = None
        for v in versions:
            try:
                body, _ = self._with_retries(full_page_url(job.base, v, self.max_size), want_image=True)
                self._check_pixels(*image_size(body), 'the image is')
                atomic_write_bytes(job.dest, body)
                return 'done'
            except PermanentError as e:
                last = e
                if e.status not in (400, 404):
                    break
        raise last

    def run(self, jobs: list[PageJob], root: Path | None = None) -> DownloadReport:
        if root is not None:
            self.report.stale_removed = remove_stale_temp_files(root)
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=len(jobs), desc='pages', unit='page')
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = {pool.submit(self.fetch, job): job for job in jobs}
            for fut in as_completed(futures):
                job = futures[fut]
                try:
                    (self.report.done if fut.result() == 'done' else self.report.skipped).append(job.base)
                except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the rest
                    self.report.failed.append(dict(base=job.base, dest=str(job.dest), reason=str(e)))
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(failed=len(self.report.failed))
        if bar is not None:
            bar.close()
        return self.report


def page_jobs(out, coco=None, ids=None) -> tuple[list, list]:
    """``(jobs, problems)``: the pages to fetch into ``out``, from a COCO file's images
    (``coco``: their ``iiif_base`` and ``file_name``) or from a list of IIIF image services or
    request URLs, one per line (``ids``: a BOM, CRLF, comments and blank lines as editors save
    them), and the input lines that could not become one (not a URL, not UTF-8, a file name
    that would escape ``out``); a page named twice is fetched once."""
    out = Path(out)
    entries, problems = [], []
    if coco:
        coco = json.loads(read_text(coco))
        if not isinstance(coco, dict) or not isinstance(coco.get('images', []), list):
            raise UserError(f'{coco}: not a COCO file (an object with an "images" list)')
        for im in coco.get('images', []):
            if not isinstance(im, dict):
                problems.append(dict(source=coco, reason=f'image entry {str(im)[:40]!r} is not an object'))
                continue
            if not im.get('iiif_base') or not im.get('file_name'):
                problems.append(dict(source=coco, item=im.get('id'), reason='image without iiif_base/file_name'))
                continue
            entries.append((im['iiif_base'], im['file_name'], f'{coco} image {im.get("id")}'))
    else:
        with open(ids, 'rb') as f:
            data = f.read()
        text, _ = decode_text(data)  # a BOM, CRLF as editors save them; else line by line
        raws = text.split('\n') if text is not None else data.split(b'\n')
        for no, raw in enumerate(raws, 1):
            try:
                line = (raw if isinstance(raw, str) else raw.decode('utf-8')).strip()
            except UnicodeDecodeError:
                problems.append(dict(source=f'{ids}:{no}', reason='not UTF-8'))
                continue
            if not line or line.startswith('#'):
                continue
            try:  # a full request URL: take its service
                req = parse_image_url(line)
                base, server, path = req.base, req.server, req.path
            except IIIFError:
                if not line.startswith(('http://', 'https://')):
                    problems.append(dict(source=f'{ids}:{no}', reason=f'not a URL: {line[:60]!r}'))
                    continue
                base = line.rstrip('/')
                server, _, path = base.split('://', 1)[1].partition('/')
            entries.append((base, page_file_name(server, path), f'{ids}:{no}'))
    root = out.resolve()
    jobs, seen = [], set()
    for base, name, source in entries:
        dest = (out / name).resolve()
        if root not in dest.parents:
            problems.append(dict(source=source, reason=f'file name {name!r} would escape {out}'))
            continue
        if dest in seen:
            continue
        seen.add(dest)
        jobs.append(PageJob(base=base, dest=dest))
    return jobs, problems
