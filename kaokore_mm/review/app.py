"""The review app's web server (Starlette): the pages of an annotated book, their
proposals and corrections (see :mod:`kaokore_mm.review.store`), the page
images, the IIIF manifest and W3C pages for Mirador, and the vendored
OpenSeadragon / Annotorious front end. Runs without npm and without internet.

It trusts no caller: requests must name an allowed host (``hosts``: no DNS
rebinding); writes must be JSON (``Content-Type: application/json``, which a
cross-site form or ``text/plain`` beacon cannot send without a CORS preflight
that is never granted) from the same origin, and at most ``MAX_BODY`` bytes;
only the read-only IIIF routes (manifest, W3C pages, page images and tiles) are open to
other origins; and every answer to a bad request is a 4xx with a message.
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kaokore_mm.converters.schemas import BoxRequest, problem
from kaokore_mm.core.iiif import level0_info
from kaokore_mm.core.labels import TASKS
from kaokore_mm.core.text import parse_json
from kaokore_mm.utils.cli import input_error_message

from .store import ConflictError, CorrectionStore, Damaged, NotFound, ReviewError, safe_stem

STATIC = Path(__file__).parent / 'static'
MAX_BODY = 8 << 20  # bytes of a request body: a page of a few thousand faces is far below
HOSTS = ('127.0.0.1', 'localhost', '::1')
OPEN = {'Access-Control-Allow-Origin': '*'}  # the read-only IIIF routes, for Mirador on another origin


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


async def read_json_body(request: Request) -> dict:
    """The JSON object of a write request, refused unless it is JSON (by its
    content type), from this origin, at most ``MAX_BODY`` bytes and an object."""
    ctype = request.headers.get('content-type', '').split(';')[0].strip().lower()
    if ctype != 'application/json':
        raise BadRequest(f'writes must be application/json, not {ctype or "no content type"}', 415)
    origin = request.headers.get('origin')
    if origin is not None and origin != f'{request.url.scheme}://{request.headers.get("host", "")}':
        raise BadRequest(f'a write from another origin ({origin}) is refused', 403)
    length = request.headers.get('content-length')
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        raise BadRequest(f'body larger than {MAX_BODY} bytes', 413)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise BadRequest(f'body larger than {MAX_BODY} bytes', 413)
    try:
        body = parse_json(bytes(data))
    except ValueError as e:
        raise BadRequest(f'body is {e}') from None
    except RecursionError:
        raise BadRequest('body is nested too deeply') from None
    if not isinstance(body, dict):
        raise BadRequest(f'body must be a JSON object, not {type(body).__name__}')
    return body


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug is still one line to the client (the server's log has the traceback)."""
    return JSONResponse({'error': f'internal error ({type(exc).__name__}); see the server log'}, status_code=500)


async def request_error(request: Request, exc: Exception) -> JSONResponse:
    """The one mapping of the app's errors to statuses: no such page 404, a stale version or a
    damaged file of the page 409 (the page's problem, named), a refused body its own status,
    annotations the store cannot accept 400, a full disk 507 and another error of a file 500,
    both naming the file."""
    if isinstance(exc, BadRequest):
        status = exc.status
    elif isinstance(exc, OSError):
        status = 507 if exc.errno == errno.ENOSPC else 500
        return JSONResponse({'error': input_error_message(exc) or str(exc)}, status_code=status)
    else:
        status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, (ConflictError, Damaged)) else 400
    return JSONResponse({'error': str(exc)}, status_code=status)


ERROR_HANDLERS = {BadRequest: request_error, ConflictError: request_error, ReviewError: request_error}
ERROR_HANDLERS[OSError] = request_error
ERROR_HANDLERS[Exception] = internal_error


def create_app(out_dir, hosts=HOSTS, labeler=None) -> Starlette:
    """The app serving ``out_dir`` (annotate's output) to requests for ``hosts``
    (the host names it is reached by; the review tool adds the one it listens on); with a
    ``labeler`` (:class:`~kaokore_mm.review.box_labeler.BoxLabeler`) a box the annotator draws
    gets the classifier's labels as a proposal does (``POST /api/pages/<page>/labels``)."""
    store = CorrectionStore(out_dir)
    out = Path(out_dir)

    def page_of(request: Request) -> tuple[str, dict]:
        """The page a route names (``NotFound`` unless the id is safe and the page is the book's)."""
        stem = safe_stem(request.path_params['stem'])
        return stem, store.page(stem)

    async def index(request: Request):
        return FileResponse(STATIC / 'index.html', headers={'Cache-Control': 'no-store'})

    async def review(request: Request):
        page_of(request)
        return FileResponse(STATIC / 'review.html', headers={'Cache-Control': 'no-store'})

    async def pages(request: Request):
        return JSONResponse(dict(pages=store.summary(), effort=store.effort()))

    async def labels(request: Request):
        return JSONResponse({task: list(names) for task, names in TASKS.items()})

    async def page(request: Request):
        stem, _ = page_of(request)
        if request.method == 'GET':
            return JSONResponse(store.load(stem), headers={'Cache-Control': 'no-store'})
        body = await read_json_body(request)
        state = body.get('state', 'in progress')
        if not isinstance(state, str):
            raise BadRequest(f'state must be a string, got {state!r:.40}')
        return JSONResponse(store.save(stem, body.get('items'), body.get('version'), state, body.get('actions')))

    async def log(request: Request):
        stem, _ = page_of(request)
        body = await read_json_body(request)
        return JSONResponse(dict(logged=store.log(stem, body.get('actions'))))

    def box_labels(request: Request, body: dict) -> dict:
        if labeler is None:
            no = 'no classifier proposes labels here: start the review tool with --classifier CONFIG CKPT'
            raise BadRequest(no, 501)
        _, p = page_of(request)
        why = problem(BoxRequest, body)
        if why is not None:
            raise BadRequest(why)
        try:
            return labeler(store.image_path(p), body['bbox'], p['width'], p['height'])
        except ValueError as e:
            raise BadRequest(str(e)) from None

    async def propose_labels(request: Request):
        body = await read_json_body(request)
        return JSONResponse(await run_in_threadpool(box_labels, request, body))  # the model off the event loop

    async def image(request: Request):
        _, p = page_of(request)
        return FileResponse(store.image_path(p), headers=OPEN)

    async def favicon(request: Request):
        return Response(status_code=204)

    async def tile_info(request: Request):
        """The page's level-0 ``info.json``, its id at the address this request used (tiles resolve
        whatever name the app is reached by)."""
        stem, p = page_of(request)
        if not (out / 'iiif' / stem / 'info.json').is_file():
            raise NotFound(f'page {p["key"]} has no tiles (annotate it again to write them)')
        info = level0_info(f'{str(request.base_url).rstrip("/")}/iiif/{stem}', p['width'], p['height'])
        return JSONResponse(info, media_type='application/ld+json', headers=OPEN)

    async def tile(request: Request):
        stem, _ = page_of(request)
        root = (out / 'iiif' / stem).resolve()
        path = (root / request.path_params['tile']).resolve()
        if not path.is_relative_to(root) or path.suffix != '.jpg' or not path.is_file():
            raise NotFound(f'no tile {request.path_params["tile"]!r} of page {stem}')
        return FileResponse(path, media_type='image/jpeg', headers={**OPEN, 'Cache-Control': 'max-age=86400'})

    async def manifest(request: Request):
        path = out / 'manifest.json'
        if not path.exists():
            return Response(status_code=404, headers=OPEN)
        return FileResponse(path, media_type='application/ld+json', headers=OPEN)

    async def w3c(request: Request):
        stem, _ = page_of(request)
        corrected = out / 'corrections' / f'{stem}.json'  # Mirador sees the latest state of the page
        return FileResponse(
            corrected if corrected.exists() else out / 'w3c' / f'{stem}.json',
            media_type='application/ld+json',
            headers=OPEN,
        )

    routes = [
        Route('/', index),
        Route('/favicon.ico', favicon),
        Route('/review/{stem}', review),
        Route('/api/labels', labels),
        Route('/api/pages', pages),
        Route('/api/pages/{stem}', page, methods=['GET', 'PUT']),
        Route('/api/pages/{stem}/log', log, methods=['POST']),
        Route('/api/pages/{stem}/labels', propose_labels, methods=['POST']),
        Route('/pages/{stem}', image),
        Route('/iiif/{stem}/info.json', tile_info),
        Route('/iiif/{stem}/{tile:path}', tile),
        Route('/manifest.json', manifest),
        Route('/w3c/{stem}.json', w3c),
        Mount('/static', StaticFiles(directory=STATIC), name='static'),
    ]
    # no DNS rebinding: a page of another site that resolves its name to 127.0.0.1 sends its own Host
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=list(dict.fromkeys(hosts)))]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=ERROR_HANDLERS)
    app.state.store = store
    return app


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (``port`` 0: a free one, chosen by the system), so that
    the address printed is the one served, with no race between choosing a port and using it."""
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ReviewError(f'cannot listen on {host}:{port} ({e.strerror}): choose another port') from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock) -> str:
    host, port = sock.getsockname()[:2]
    return f'http://[{host}]:{port}' if ':' in host else f'http://{host}:{port}'


def _server(app):
    import uvicorn

    return uvicorn.Server(uvicorn.Config(app, log_level='warning', timeout_graceful_shutdown=2))


def run(out_dir, host: str = '127.0.0.1', port: int = 8000, allow_hosts=(), labeler=None) -> None:
    """Serve ``out_dir`` in the foreground until interrupted (the review tool): requests may name
    the loopback names, ``host`` and ``allow_hosts``; prints the address once it listens."""
    app = create_app(out_dir, hosts=[*HOSTS, host, *allow_hosts], labeler=labeler)
    sock = bind(host, port)
    url = url_of(sock)
    print(f'reviewing {out_dir}: open {url}/ (manifest: {url}/manifest.json)', flush=True)
    _server(app).run(sockets=[sock])


def serve(out_dir, labeler=None) -> tuple:
    """The review app for ``out_dir`` on a free port of 127.0.0.1, in a thread (benchmarks; the
    review tool serves it in the foreground with :func:`run`): ``(url, server, store)``; set
    ``server.should_exit`` to stop it."""
    import threading
    import time

    app = create_app(out_dir, labeler=labeler)
    sock = bind('127.0.0.1', 0)
    srv = _server(app)
    threading.Thread(target=srv.run, kwargs=dict(sockets=[sock]), daemon=True).start()
    while not srv.started:
        time.sleep(0.05)
    return url_of(sock), srv, app.state.store
