import json
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from kaokore_mm.annotation import annotate_pages, pages_from_folder


@pytest.fixture
def annotated(tiny_data, tmp_path):
    """tools/annotate.py's output for two pages of a book: the true faces as
    proposals (scores 0.3, 0.5, ...) plus one false box per page."""
    src = tmp_path / 'book'
    src.mkdir()
    coco = json.loads((tiny_data / 'annotations' / 'pages.json').read_text())
    chosen = [im for im in coco['images'] if any(a['image_id'] == im['id'] for a in coco['annotations'])][:2]
    for im in chosen:
        shutil.copy(tiny_data / im['file_name'], src / Path(im['file_name']).name)
    truth = {
        Path(im['file_name']).name: [a['bbox'] for a in coco['annotations'] if a['image_id'] == im['id']]
        for im in chosen
    }
    pages = pages_from_folder(src)
    it = iter(pages)

    def predict(img):
        faces = truth[next(it)['key']]
        return [dict(box=[x, y, x + w, y + h], score=0.3 + 0.2 * i) for i, (x, y, w, h) in enumerate(faces)] + [
            dict(box=[5.0, 5.0, 60.0, 70.0], score=0.4)
        ]

    out = tmp_path / 'out'
    annotate_pages(pages, out, predict, {}, src, 'newbook', 0.0, progress=False)
    return out, truth


@pytest.fixture
def server(annotated):
    import uvicorn

    from kaokore_mm.review import create_app

    out, _ = annotated
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(out), host='127.0.0.1', port=port, log_level='warning'))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield f'http://127.0.0.1:{port}'
    srv.should_exit = True
    thread.join(timeout=10)
