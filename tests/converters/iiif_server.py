"""A small IIIF-like image server on 127.0.0.1 that injects faults (test helper)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np


def page_jpeg(seed: int, w: int = 320, h: int = 200) -> bytes:
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    return cv2.imencode('.jpg', img)[1].tobytes()


class FaultyIIIFServer:
    """Pages ``/iiif/<pid>``; ``faults[pid]`` is a list of faults consumed one per
    image request: '500', '503', '429', 'slow', 'truncate', 'html', 'garbage';
    ``always[pid]`` a fault served every time ('404'); ``v2`` the pages that
    speak Image API 2.x (refusing ``full/max``); ``delay`` slows every image;
    ``documents``: JSON served at other paths (``{'/scroll.json': manifest}``)."""

    def __init__(self, pages, faults=None, always=None, v2=(), delay=0.0, slow=1.5, documents=None):
        self.documents = dict(documents or {})
        self.pages = {pid: page_jpeg(i) for i, pid in enumerate(pages)}
        self.faults = {k: list(v) for k, v in (faults or {}).items()}
        self.always = dict(always or {})
        self.v2, self.delay, self.slow = set(v2), delay, slow
        self.requests = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.handle(self)

        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self):
        return f'http://127.0.0.1:{self.httpd.server_address[1]}/iiif'

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def _send(self, h, code, body=b'', ctype='image/jpeg', length=None, headers=None):
        h.send_response(code)
        h.send_header('Content-Type', ctype)
        h.send_header('Content-Length', str(len(body) if length is None else length))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def handle(self, h):
        parts = h.path.strip('/').split('/')
        with self.lock:
            self.requests.append(h.path)
        if h.path in self.documents:
            return self._send(h, 200, json.dumps(self.documents[h.path]).encode(), 'application/json')
        cut = -1 if parts[-1] == 'info.json' else -4  # page ids may hold slashes: book/page
        pid, rest = '/'.join(parts[1:cut]), parts[cut:]
        if len(parts) < 3 or parts[0] != 'iiif' or pid not in self.pages:
            return self._send(h, 404, b'no such page', 'text/plain')
        body = self.pages[pid]
        if rest == ['info.json']:
            ctx = (
                'http://iiif.io/api/image/2/context.json'
                if pid in self.v2
                else 'http://iiif.io/api/image/3/context.json'
            )
            info = json.dumps({'@context': ctx, 'id': f'{self.base}/{pid}', 'width': 320, 'height': 200})
            return self._send(h, 200, info.encode(), 'application/json')
        if pid in self.always:
            return self._send(h, int(self.always[pid]), b'gone', 'text/plain')
        size = rest[1] if len(rest) == 4 else ''
        if (pid in self.v2 and size == 'max') or (pid not in self.v2 and size == 'full'):
            return self._send(h, 400, b'unsupported size for this API version', 'text/plain')
        with self.lock:
            fault = self.faults.get(pid, []).pop(0) if self.faults.get(pid) else None
        if self.delay:
            time.sleep(self.delay)
        if fault in ('500', '503'):
            return self._send(h, int(fault), b'server error', 'text/plain')
        if fault == '429':
            return self._send(h, 429, b'slow down', 'text/plain', headers={'Retry-After': '0'})
        if fault == 'slow':
            time.sleep(self.slow)
        if fault == 'truncate':
            return self._send(h, 200, body[: len(body) // 2], length=len(body))
        if fault == 'html':
            return self._send(h, 200, b'<html>maintenance</html>', 'text/html')
        if fault == 'garbage':
            return self._send(h, 200, b'\xff\xd8' + b'x' * 100)
        return self._send(h, 200, body)
