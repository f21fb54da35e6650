"""How long a large page takes to open in the review app, and how many bytes it moves:
the page's level-0 tiles against the whole JPEG, side by side in one run (headless
Chromium, the app on 127.0.0.1). The review-open benchmark tool is its command line.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from kaokore_mm.annotation import annotate_pages, pages_from_folder
from kaokore_mm.annotation.pages import page_stem
from kaokore_mm.core.coco_faces import faces_by_image
from kaokore_mm.review.app import serve
from kaokore_mm.review.scripted_annotator import Browser
from kaokore_mm.synthetic.emaki import ensure_synthetic

# what the browser fetched for the page image: tiles and their info.json, or the whole scan
IMAGE_ROUTES = ('/iiif/', '/pages/')  # path prefixes (not /api/pages/...)


def annotated_page(work: Path, long_side: int) -> Path:
    """One realistic synthetic page of ``long_side`` px, annotated with its true faces as proposals."""
    data = work / 'data'
    ensure_synthetic(data, pages=1, books=1, seed=5, long_side=(long_side, long_side), look='realistic')
    coco = json.loads((data / 'annotations' / 'pages.json').read_text())
    src = work / 'book'
    src.mkdir(parents=True, exist_ok=True)
    im = coco['images'][0]
    shutil.copy(data / im['file_name'], src / Path(im['file_name']).name)

    faces = faces_by_image(coco)[im['id']][:, :4].tolist()

    def predict(img):
        return [dict(box=box, score=0.9) for box in faces]

    out = work / 'tiles'
    annotate_pages(pages_from_folder(src), out, predict, {}, src, 'bench', 0.0, progress=False)
    return out


def open_page(browser, url: str, timeout: float = 120.0) -> dict:
    """Open ``url`` with an empty cache; seconds until the page is ready and every image
    tile on screen is drawn, and the bytes and requests of the page image."""
    drv = browser.drv
    drv.execute_cdp_cmd('Network.enable', {})
    drv.execute_cdp_cmd('Network.clearBrowserCache', {})
    t0 = time.perf_counter()
    drv.get(url)
    browser.wait(
        'const r = window.review; if (!r || !r.ready) return false; const it = r.viewer.world.getItemAt(0); '
        'return !!it && it.getFullyLoaded();',
        timeout,
    )
    seconds = time.perf_counter() - t0
    opened = image_traffic(drv)
    # then what an annotator does first: n, the view zooms onto the most doubtful box
    t1 = time.perf_counter()
    drv.execute_script('window.review.step(1);')
    time.sleep(1.5)  # the zoom animation (OpenSeadragon springs about a second)
    browser.wait('return window.review.viewer.world.getItemAt(0).getFullyLoaded();', timeout)
    first_box = time.perf_counter() - t1
    total = image_traffic(drv)
    return dict(
        open_s=seconds,
        image_bytes=opened[0],
        image_requests=opened[1],
        first_box_s=first_box,
        bytes_after_first_box=total[0],
    )


def image_traffic(drv) -> tuple[int, int]:
    """Bytes and requests of the page image so far (tiles and info.json, or the whole scan)."""
    from urllib.parse import urlparse

    entries = drv.execute_script(
        "return performance.getEntriesByType('resource').map(e => [e.name, e.transferSize || e.encodedBodySize]);"
    )
    image = [b for n, b in entries if urlparse(n).path.startswith(IMAGE_ROUTES)]
    return int(sum(image)), len(image)


def review_open_benchmark(work, long_side: int = 6000, repeats: int = 3) -> dict:
    """Median open time and bytes of one ``long_side`` page, tiles vs the whole JPEG."""
    work = Path(work)
    tiled = annotated_page(work, long_side)
    whole = work / 'whole'
    if whole.exists():
        shutil.rmtree(whole)
    shutil.copytree(tiled, whole)
    shutil.rmtree(whole / 'iiif')  # the app falls back to the whole image
    stem = json.loads((tiled / 'annotations.coco.json').read_text())['images'][0]['page_key']

    rows = {}
    b = Browser()
    try:
        for name, out in (('tiles', tiled), ('whole JPEG', whole)):
            url, srv, _ = serve(out)
            runs = [open_page(b, f'{url}/review/{page_stem(stem)}') for _ in range(repeats)]
            srv.should_exit = True
            med = sorted(runs, key=lambda r: r['open_s'])[len(runs) // 2]
            rows[name] = dict(med, runs=[r['open_s'] for r in runs])
    finally:
        b.drv.quit()
    page = next((tiled / 'book').glob('*')) if (tiled / 'book').exists() else None
    return dict(
        long_side=long_side,
        page_bytes=(page.stat().st_size if page else None),
        rows=rows,
        time_ratio=rows['tiles']['open_s'] / rows['whole JPEG']['open_s'],
        bytes_ratio=rows['tiles']['image_bytes'] / max(1, rows['whole JPEG']['image_bytes']),
    )
