"""The review app's web server (Starlette): the pages of an annotated book, their
proposals and corrections (see :mod:`kaokore_mm.review.store`), the page
images, the IIIF manifest and W3C pages for Mirador, and the vendored
OpenSeadragon / Annotorious front end. Runs without npm and without internet.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kaokore_mm.core.labels import TASKS

from .store import ConflictError, CorrectionStore, ReviewError, safe_stem

STATIC = Path(__file__).parent / 'static'


def create_app(out_dir) -> Starlette:
    store = CorrectionStore(out_dir)
    out = Path(out_dir)

    def error(e: Exception, status: int) -> JSONResponse:
        return JSONResponse({'error': str(e)}, status_code=status)

    async def index(request: Request):
        return FileResponse(STATIC / 'index.html', headers={'Cache-Control': 'no-store'})

    async def review(request: Request):
        try:
            store.page(safe_stem(request.path_params['stem']))
        except ReviewError as e:
            return error(e, 404)
        return FileResponse(STATIC / 'review.html', headers={'Cache-Control': 'no-store'})

    async def pages(request: Request):
        return JSONResponse(dict(pages=store.summary(), effort=store.effort()))

    async def labels(request: Request):
        return JSONResponse({task: list(names) for task, names in TASKS.items()})

    async def page(request: Request):
        try:
            stem = safe_stem(request.path_params['stem'])
            if request.method == 'GET':
                return JSONResponse(store.load(stem), headers={'Cache-Control': 'no-store'})
            body = await request.json()
            doc = store.save(stem, body.get('items'), body.get('version', -1), body.get('state', 'in progress'))
            return JSONResponse(doc)
        except ConflictError as e:
            return error(e, 409)
        except ReviewError as e:
            return error(e, 404 if 'no page' in str(e) else 400)
        except ValueError as e:  # a body that is not JSON
            return error(ReviewError(f'bad request: {e}'), 400)

    async def log(request: Request):
        try:
            stem = safe_stem(request.path_params['stem'])
            body = await request.json()
            return JSONResponse(dict(logged=store.log(stem, body.get('actions'))))
        except ReviewError as e:
            return error(e, 400)
        except ValueError as e:
            return error(ReviewError(f'bad request: {e}'), 400)

    async def image(request: Request):
        try:
            p = store.page(safe_stem(request.path_params['stem']))
        except ReviewError as e:
            return error(e, 404)
        return FileResponse(p['path'])

    async def manifest(request: Request):
        path = out / 'manifest.json'
        return FileResponse(path, media_type='application/ld+json') if path.exists() else Response(status_code=404)

    async def w3c(request: Request):
        try:
            stem = safe_stem(request.path_params['stem'])
            store.page(stem)
        except ReviewError as e:
            return error(e, 404)
        corrected = out / 'corrections' / f'{stem}.json'  # Mirador sees the latest state of the page
        return FileResponse(
            corrected if corrected.exists() else out / 'w3c' / f'{stem}.json', media_type='application/ld+json'
        )

    async def favicon(request: Request):
        return Response(status_code=204)

    routes = [
        Route('/', index),
        Route('/favicon.ico', favicon),
        Route('/review/{stem}', review),
        Route('/api/labels', labels),
        Route('/api/pages', pages),
        Route('/api/pages/{stem}', page, methods=['GET', 'PUT']),
        Route('/api/pages/{stem}/log', log, methods=['POST']),
        Route('/pages/{stem}', image),
        Route('/manifest.json', manifest),
        Route('/w3c/{stem}.json', w3c),
        Mount('/static', StaticFiles(directory=STATIC), name='static'),
    ]
    # Mirador (or any viewer) on another origin may read the manifest, W3C pages and images
    middleware = [Middleware(CORSMiddleware, allow_origins=['*'], allow_methods=['GET'])]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.store = store
    return app
