"""A real manifest annotated end to end, its images served locally: Wellcome's Presentation 3
manifest paints 742 x 1024 images on canvases of 2569 x 3543 (a derivative on a larger canvas,
legal and common). The pages are downloaded at the images' size, faces are found in the
image's pixels, and every document that names a canvas (W3C pages, the cr:Curation, the
manifest) must put them on the same faces in the canvas's coordinates; read back (the review
app, the importer) they are the same page pixels again."""

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.core.test_iiif_presentation import load

HOST = 'https://iiif.wellcomecollection.org'
IMAGE = (742, 1024)  # what the server sends: the painted image's declared size
FACES = {0: (100, 200, 60, 80), 1: (400, 600, 90, 70)}  # x, y, w, h in image pixels, per canvas


def page_image(k):
    img = np.full((IMAGE[1], IMAGE[0], 3), 235, np.uint8)
    x, y, w, h = FACES[k]
    img[y : y + h, x : x + w] = 20  # the "face" a predictor finds
    return cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()


@pytest.fixture
def served():
    """The first two canvases of Wellcome's manifest, its image services moved to a local server that
    answers Image API 2 requests (``full/full``; ``full/max`` is refused as by a real 2 server)."""
    doc = load('manifests/x_wellcome_wunder_vererbung_p3.json')
    doc = copy.deepcopy(doc)
    doc['items'] = doc['items'][:2]
    state = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            state.setdefault('requests', []).append(self.path)
            if self.path == '/manifest.json':
                return self.send(200, json.dumps(state['doc']).encode(), 'application/json')
            for k, sid in enumerate(state['services']):
                rel = sid.split('127.0.0.1', 1)[1].split('/', 1)[1]
                if self.path == f'/{rel}/info.json':
                    info = {
                        '@context': 'http://iiif.io/api/image/2/context.json',
                        '@id': sid,
                        'width': IMAGE[0],
                        'height': IMAGE[1],
                        'profile': ['http://iiif.io/api/image/2/level1.json'],
                    }
                    return self.send(200, json.dumps(info).encode(), 'application/json')
                if self.path == f'/{rel}/full/full/0/default.jpg':
                    return self.send(200, page_image(k), 'image/jpeg')
            return self.send(404, b'not found', 'text/plain')

        def send(self, code, body, ctype):
            self.send_response(code)
            self.send_header('Content-Type', ctype)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    base = f'http://127.0.0.1:{httpd.server_address[1]}'
    text = json.dumps(doc).replace(HOST, base)
    state['doc'] = json.loads(text)
    services = []
    for c in state['doc']['items']:
        body = c['items'][0]['items'][0]['body']
        services.append(body['service'][0]['@id'])
    state['services'] = services
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield base, state
    httpd.shutdown()
    httpd.server_close()


def find_face(img):
    ys, xs = np.nonzero(img[..., 0] < 100)
    return [dict(box=[float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)], score=0.9)]


def test_a_canvas_larger_than_its_image_end_to_end(served, tmp_path):
    from kaokore_mm.annotation import annotate_pages, pages_from_manifest
    from kaokore_mm.converters.curation import read_curation
    from kaokore_mm.converters.import_pages import PageCollector, canvas_index
    from kaokore_mm.converters.web_annotation import read_annotations
    from kaokore_mm.review.store import CorrectionStore

    base, state = served
    out = tmp_path / 'out'
    pages, book = pages_from_manifest(f'{base}/manifest.json', out, log=lambda line: None)
    assert len(pages) == 2 and book['label'].startswith('Wunder der Vererbung')
    assert not any('/full/max/' in r for r in state['requests'])  # an Image API 2 service is asked in 2's syntax
    annotate_pages(pages, out, find_face, {}, out.resolve(), 'wellcome', 0.0, progress=False, source=book)
    sizes = [(c['width'], c['height']) for c in state['doc']['items']]
    assert all(s[0] > IMAGE[0] for s in sizes)
    scales = [(cw / IMAGE[0], ch / IMAGE[1]) for cw, ch in sizes]
    coco = json.loads((out / 'annotations.coco.json').read_text())
    for k, (im, p) in enumerate(zip(coco['images'], pages)):
        x, y, w, h = FACES[k]
        sx, sy = scales[k]
        assert (im['width'], im['height']) == IMAGE and (im['canvas_width'], im['canvas_height']) == sizes[k]
        assert coco['annotations'][k]['bbox'] == pytest.approx([x, y, w, h])  # COCO: page pixels
        # the W3C page names the source canvas, in its coordinates
        w3c = json.loads(next((out / 'w3c').glob(f'*{Path(p["key"]).name[-10:]}*.json')).read_text())
        faces, problems = read_annotations(w3c)
        assert not problems and faces[0]['canvas'] == p['canvas']
        assert faces[0]['bbox'] == pytest.approx(
            [x * sx, y * sy, w * sx, h * sy], abs=2.0
        )  # outward to whole canvas units
    # the curation: the same canvas regions, within the institution's manifest, with its label
    cur = json.loads((out / 'curation.json').read_text())
    assert cur['selections'][0]['within']['@id'] == state['doc']['id']
    assert cur['label'] == book['label']
    faces, _ = read_curation(cur)
    for k, f in enumerate(faces):
        x, y, w, h = FACES[k]
        sx, sy = scales[k]
        assert f['bbox'] == pytest.approx([x * sx, y * sy, w * sx, h * sy], abs=2.0)  # outward to whole canvas units
    # the manifest for Mirador: the source canvases at their size, the services as published
    man = json.loads((out / 'manifest.json').read_text())
    for c, src in zip(man['items'], state['doc']['items']):
        body, src_body = c['items'][0]['items'][0]['body'], src['items'][0]['items'][0]['body']
        assert (c['id'], c['width'], c['height']) == (src['id'], src['width'], src['height'])
        assert body['service'] == src_body['service'] and body['id'].endswith('/full/full/0/default.jpg')
    # read back: the importer and the review app place them on the same page pixels
    col = PageCollector()
    col.add_web_annotations(cur, 'curation.json', canvas_index(coco))
    assert not col.problems and not col.not_faces
    for k, a in enumerate(col.annotations):
        assert a['bbox'] == pytest.approx(list(FACES[k]), abs=0.7)  # outward to whole canvas units: at most 2 x 0.31 px
    store = CorrectionStore(out)
    stem = store.summary()[0]['stem']
    doc = store.load(stem)
    value = doc['items'][0]['target']['selector']['value']
    got = [float(v) for v in value.split(':')[-1].split(',')]
    assert got == pytest.approx(list(FACES[0]), abs=0.7)
    # saved back from the viewer's pixels: stored in canvas units again, and unchanged by a second save
    saved = store.save(stem, doc['items'], 0)
    again = store.save(stem, store.load(stem)['items'], 1)
    assert (
        saved['items'][0]['target']
        == again['items'][0]['target']
        == json.loads((out / 'w3c' / f'{stem}.json').read_text())['items'][0]['target']
    )
