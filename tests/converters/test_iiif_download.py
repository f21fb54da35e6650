import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from kaokore_mm.converters.iiif_download import Downloader, PageJob, valid_image_file
from tests.conftest import load_tool
from tests.converters.iiif_server import FaultyIIIFServer

ROOT = Path(__file__).resolve().parents[2]


def no_temp_files(root):
    return [p for p in Path(root).rglob('*') if '.part-' in p.name]


def test_every_fault_is_survived_and_no_partial_file_is_left(tmp_path):
    faults = {
        'p1': ['500', '503'],
        'p2': ['429', '429'],
        'p3': ['slow'],
        'p4': ['truncate'],
        'p5': ['html'],
        'p6': ['garbage'],
    }
    pages = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'gone']
    with FaultyIIIFServer(pages, faults=faults, always={'gone': 404}, v2=['p7'], slow=1.0) as srv:
        jobs = [PageJob(f'{srv.base}/{p}', tmp_path / 'pages' / f'{p}.jpg') for p in pages]
        dl = Downloader(workers=4, per_host=2, timeout=0.5, retries=3, backoff=0.01, progress=False)
        report = dl.run(jobs, root=tmp_path)
        assert sorted(report.done) == sorted(f'{srv.base}/{p}' for p in pages if p != 'gone')
        assert [f['base'] for f in report.failed] == [f'{srv.base}/gone'] and 'HTTP 404' in report.failed[0]['reason']
        assert report.retries >= 7
        assert any(r.endswith('/p7/full/full/0/default.jpg') for r in srv.requests)  # 2.x page
    for p in pages[:-1]:
        dest = tmp_path / 'pages' / f'{p}.jpg'
        assert valid_image_file(dest) and cv2.imread(str(dest)).shape == (200, 320, 3)
        assert json.loads(dest.with_name(dest.name + '.info.json').read_text())['width'] == 320
    assert not (tmp_path / 'pages' / 'gone.jpg').exists()
    assert no_temp_files(tmp_path) == []


def test_rerun_skips_complete_and_refetches_corrupt(tmp_path):
    with FaultyIIIFServer(['a', 'b']) as srv:
        jobs = [PageJob(f'{srv.base}/{p}', tmp_path / f'{p}.jpg') for p in 'ab']
        Downloader(progress=False, backoff=0.01).run(jobs)
        data = (tmp_path / 'b.jpg').read_bytes()
        (tmp_path / 'b.jpg').write_bytes(data[: len(data) // 2])  # cut short by hand
        report = Downloader(progress=False, backoff=0.01).run(jobs)
        assert report.skipped == [f'{srv.base}/a'] and report.done == [f'{srv.base}/b']
        assert (tmp_path / 'b.jpg').read_bytes() == data


def test_retries_run_out_into_a_clear_failure(tmp_path):
    with FaultyIIIFServer(['x'], faults={'x': ['500'] * 10}) as srv:
        report = Downloader(progress=False, retries=2, backoff=0.01).run([PageJob(f'{srv.base}/x', tmp_path / 'x.jpg')])
    assert 'HTTP 500 (after 3 attempts)' in report.failed[0]['reason']
    assert not (tmp_path / 'x.jpg').exists() and no_temp_files(tmp_path) == []


@pytest.mark.processes
def test_killed_and_restarted_download_completes(tmp_path):
    pages = [f'k{i}' for i in range(8)]
    with FaultyIIIFServer(pages, delay=0.3) as srv:
        ids = tmp_path / 'ids.txt'
        ids.write_text('\n'.join(f'{srv.base}/{p}' for p in pages) + '\n# a comment\n\n')
        out = tmp_path / 'out'
        cmd = [
            sys.executable,
            str(ROOT / 'tools/download_pages.py'),
            '--ids',
            str(ids),
            '--out',
            str(out),
            '--workers',
            '1',
            '--per-host',
            '1',
            '--no-progress',
            '--backoff',
            '0.01',
        ]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while not list(out.rglob('k*.jpg')) and time.time() < deadline:  # wait for the first page
            time.sleep(0.05)
        time.sleep(0.4)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        images = sorted(out.rglob('k*.jpg'))
        assert 0 < len(images) < len(pages)  # killed half-way
        assert all(valid_image_file(p) for p in images)
        stale = images[0].with_name('.k9.jpg.part-abc')
        stale.write_bytes(b'\xff\xd8half')  # what a kill during a write leaves
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f'{len(images)} already complete' in done.stdout and '1 stale temporary files removed' in done.stdout
    images = sorted(out.rglob('k*.jpg'))
    assert len(images) == len(pages) and all(valid_image_file(p) for p in images)
    assert no_temp_files(out) == []


def test_tool_reports_bad_input_lines(tmp_path):
    tool = load_tool('download_pages')
    ids = tmp_path / 'ids.txt'
    ids.write_bytes(b'not a url\n\xff\xfe bad bytes\n')
    assert tool.main(['--ids', str(ids), '--out', str(tmp_path / 'o'), '--no-progress']) == 0
    report = json.loads((tmp_path / 'o' / 'download_report.json').read_text())
    assert [p['reason'] for p in report['input_problems']] == ["not a URL: 'not a url'", 'not UTF-8']
    coco = tmp_path / 'c.json'
    coco.write_text(json.dumps(dict(images=[dict(id=1, file_name='../../escape.jpg', iiif_base='http://x/i/p')])))
    assert tool.main(['--coco', str(coco), '--out', str(tmp_path / 'o2'), '--no-progress']) == 0
    report = json.loads((tmp_path / 'o2' / 'download_report.json').read_text())
    assert 'would escape' in report['input_problems'][0]['reason']


@pytest.mark.parametrize(
    'data, ok',
    [
        (b'\xff\xd8' + b'x' * 10 + b'\xff\xd9', False),  # looks like a JPEG, no decode
        (b'\xff\xd8' + b'x' * 10, False),
        (cv2.imencode('.jpg', np.zeros((40, 40, 3), np.uint8))[1].tobytes(), True),
        (cv2.imencode('.png', np.zeros((4, 4), np.uint8))[1].tobytes(), True),
    ],
)
def test_valid_image_bytes(data, ok):
    from kaokore_mm.converters.iiif_download import valid_image_bytes

    assert valid_image_bytes(data) is ok


def test_limits_deadline_and_schemes(tmp_path):
    """A body over max_bytes (announced or not) is refused without keeping it; a trickling
    server meets the per-request deadline; file: URLs are refused unless allowed."""
    import http.server
    import threading
    import time

    from kaokore_mm.converters.iiif_download import Downloader, PermanentError

    big = b'\xff\xd8' + b'x' * 300_000

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header('Content-Type', 'image/jpeg')
            if self.path == '/huge-length':
                self.send_header('Content-Length', str(10**12))
                self.end_headers()
                return
            self.end_headers()
            if self.path == '/trickle':
                for _ in range(40):
                    self.wfile.write(b'x')
                    self.wfile.flush()
                    time.sleep(0.1)
                return
            self.wfile.write(big)  # no Content-Length

    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f'http://127.0.0.1:{srv.server_address[1]}'
    d = Downloader(retries=0, timeout=2, deadline=1.0, max_bytes=100_000, progress=False)
    try:
        for path, msg in (('/huge-length', 'over the limit'), ('/nolength', 'over the limit')):
            with pytest.raises(PermanentError, match=msg):
                d._with_retries(base + path, want_image=True)
        t0 = time.time()
        with pytest.raises(PermanentError, match='deadline'):
            d._with_retries(base + '/trickle', want_image=True)
        assert time.time() - t0 < 3
    finally:
        srv.shutdown()
    (tmp_path / 'secret.jpg').write_bytes(b'secret')
    with pytest.raises(PermanentError, match="'file' URLs are not fetched"):
        d._with_retries((tmp_path / 'secret.jpg').as_uri(), want_image=False)


def test_a_page_over_the_pixel_limit_is_refused_before_and_after_the_download(tmp_path):
    """A 30000 x 30000 page was accepted (2.6 GB decoded): a limit per page, checked on
    info.json before the download and on the image's header after it."""
    with FaultyIIIFServer(['big']) as srv:  # pages of 320 x 200 = 64000 px
        job = PageJob(f'{srv.base}/big', tmp_path / 'big.jpg')
        report = Downloader(progress=False, retries=0, max_pixels=50_000).run([job], root=tmp_path)
        assert report.done == [] and 'over the limit' in report.failed[0]['reason']
        assert '320x200' in report.failed[0]['reason'] and '--max-size' in report.failed[0]['reason']
        n = len(srv.requests)
        assert not any('/full/' in r for r in srv.requests)  # refused from info.json, nothing downloaded
        report = Downloader(progress=False, retries=0, max_pixels=50_000, version=3).run([job], root=tmp_path)
        assert 'the image is 320x200' in report.failed[0]['reason'] and len(srv.requests) > n
    assert not (tmp_path / 'big.jpg').exists()
