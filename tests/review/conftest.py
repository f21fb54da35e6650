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


def start_review(out, *args, timeout=60.0):
    """``tools/review.py OUT --port 0`` started as a user starts it, in its own process: ``(url, process)``
    once it prints the address it listens on (the process is ended by the caller)."""
    import re
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, str(root / 'tools' / 'review.py'), str(out), '--port', '0', *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=root,
    )
    end = time.time() + timeout
    lines = []
    while time.time() < end:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        m = re.search(r'open (http://\S+?)/ ', line)
        if m:
            return m.group(1), proc
    proc.kill()
    raise AssertionError(f'tools/review.py did not start: {"".join(lines)[-2000:]}')


def stop_review(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except Exception:
        proc.kill()


@pytest.fixture
def server(annotated):
    """The review app as ``tools/review.py OUT`` serves it (its own process, a free port)."""
    out, _ = annotated
    url, proc = start_review(out)
    yield url
    stop_review(proc)
