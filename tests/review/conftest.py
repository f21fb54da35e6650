import json
import shutil
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
    from kaokore_mm.review.app import serve  # the one way the project starts the app in a thread

    out, _ = annotated
    url, srv, _ = serve(out)
    yield url
    srv.should_exit = True
