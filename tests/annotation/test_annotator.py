import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from kaokore_mm.annotation import BadPageError, annotate_pages, page_stem, pages_from_folder

ROOT = Path(__file__).resolve().parents[2]


def book(folder, n=4, size=(300, 200)):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img = np.full((size[1], size[0], 3), 180 + i, np.uint8)
        cv2.imwrite(str(folder / f'p{i}.png'), img)
    return folder


def fake_predict(img):
    """One face whose position depends on the page's pixels: mixed-up pages would show."""
    v = float(img[0, 0, 0])
    return [dict(box=[v - 150, 10.0, v - 100, 60.0], score=0.9), dict(box=[5.0, 5.0, 25.0, 30.0], score=0.2)]


def test_same_stem_other_extension_is_another_page(tmp_path):
    src = book(tmp_path / 'book', 1)
    cv2.imwrite(str(src / 'p0.jpg'), np.full((200, 300, 3), 50, np.uint8))
    pages = pages_from_folder(src)
    meta = annotate_pages(pages, tmp_path / 'out', fake_predict, dict(m=1), src, 'b', 0.0, progress=False)
    assert meta['pages'] == meta['pages_written'] == 2
    coco = json.loads((tmp_path / 'out' / 'annotations.coco.json').read_text())
    assert sorted(im['file_name'] for im in coco['images']) == ['p0.jpg', 'p0.png']
    x1 = {
        im['file_name']: a['bbox'][0]
        for im in coco['images']
        for a in coco['annotations']
        if a['image_id'] == im['id'] and a['score'] == 0.9
    }
    assert x1['p0.png'] == 30.0 and abs(x1['p0.jpg'] - (-100.0)) < 3  # each page its own boxes
    assert len(list((tmp_path / 'out' / 'w3c').glob('*.json'))) == 2
    assert len(list((tmp_path / 'out' / 'review').glob('p0*.jpg'))) == 2


def test_a_new_model_predicts_again_and_the_same_model_does_not(tmp_path):
    src = book(tmp_path / 'book', 3)
    pages = pages_from_folder(src)
    calls = []

    def predict(img):
        calls.append(1)
        return fake_predict(img)

    annotate_pages(pages, tmp_path / 'out', predict, dict(checkpoint='a', sha='1'), src, 'b', progress=False)
    meta = annotate_pages(pages, tmp_path / 'out', predict, dict(checkpoint='a', sha='1'), src, 'b', progress=False)
    assert len(calls) == 3 and meta['pages_predicted_now'] == 0
    meta = annotate_pages(pages, tmp_path / 'out', predict, dict(checkpoint='a', sha='2'), src, 'b', progress=False)
    assert len(calls) == 6 and meta['pages_predicted_now'] == 3 and meta['model'] == dict(checkpoint='a', sha='2')
    pred = json.loads((tmp_path / 'out' / 'predictions' / f'{page_stem("p0.png")}.json').read_text())
    assert pred['model'] == dict(checkpoint='a', sha='2') and pred['key'] == 'p0.png'


def test_a_rerun_removes_the_temporary_files_a_killed_run_left(tmp_path):
    src, out = book(tmp_path / 'book', 2), tmp_path / 'out'
    annotate_pages(pages_from_folder(src), out, fake_predict, {}, src, 'b', progress=False)
    left = [next(out.glob('iiif/*')) / '.info.json.part-k1ll3d', out / 'predictions' / '.x.json.part-abc123']
    left.append(out / '.manifest.json.part-0dd')
    saving = out / 'corrections' / '.p0.json.part-r3v13w'  # the review app's save in flight: not annotate's
    saving.parent.mkdir()
    for f in [*left, saving]:
        f.write_text('{"half": ')
    meta = annotate_pages(pages_from_folder(src), out, fake_predict, {}, src, 'b', progress=False)
    assert meta['stale_temp_files_removed'] == 3 and not any(f.exists() for f in left) and saving.exists()


def test_bad_pages_stop_the_run_before_any_prediction_or_are_listed_and_skipped(tmp_path):
    src = book(tmp_path / 'book', 4)
    (src / 'p1.png').write_bytes(b'\x89PNG\r\n\x1a\n truncated')
    good = (src / 'p2.png').read_bytes()  # a sound header and end marker over pixels that do not decode
    (src / 'p2.png').write_bytes(good[:60] + bytes(255 - b for b in good[60:-20]) + good[-20:])
    pages = pages_from_folder(src)
    calls = []

    def predict(img):
        calls.append(img.shape)
        return fake_predict(img)

    with pytest.raises(BadPageError, match=r'1 of 4 pages cannot be used: .*p1.png: truncated.*--skip-bad-pages'):
        annotate_pages(pages, tmp_path / 'out', predict, {}, src, 'b', progress=False)
    assert calls == [] and not (tmp_path / 'out' / 'annotate.json').exists()  # stopped up front
    meta = annotate_pages(pages, tmp_path / 'out', predict, {}, src, 'b', skip_bad=True, progress=False)
    assert meta['pages_written'] == 2 and [b['key'] for b in meta['bad_pages']] == ['p1.png', 'p2.png']
    assert 'p1.png: truncated' in meta['bad_pages'][0]['reason'] and 'p2.png' in meta['bad_pages'][1]['reason']
    saved = json.loads((tmp_path / 'out' / 'annotate.json').read_text())
    assert saved['bad_pages'] == meta['bad_pages'] and len(calls) == 2


SCRIPT = """
import resource, sys
from pathlib import Path
from kaokore_mm.annotation import annotate_pages, pages_from_folder
src = Path(sys.argv[1])
def predict(img):
    return [dict(box=[10.0 * i, 10.0, 10.0 * i + 80, 90.0], score=0.1 + 0.01 * i) for i in range(30)]
annotate_pages(pages_from_folder(src), Path(sys.argv[2]), predict, {}, src, 'b', 0.0, progress=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def test_memory_is_bounded_by_one_page(tmp_path):
    """Peak RSS annotating 16 pages exceeds that of 4 pages by less than one decoded page."""
    size = (3000, 2000)  # one page: 18 MB decoded
    page_kb = size[0] * size[1] * 3 / 1024
    peaks = {}
    for n in (4, 16):
        src = book(tmp_path / f'b{n}', n, size)
        r = subprocess.run(
            [sys.executable, '-c', SCRIPT, str(src), str(tmp_path / f'o{n}')],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=600,
        )
        assert r.returncode == 0, r.stderr[-2000:]
        peaks[n] = int(r.stdout.split()[-1])
    assert peaks[16] - peaks[4] < page_kb, peaks


def test_manifest_has_one_canvas_per_page_pointing_at_its_w3c_page(tmp_path):
    src = book(tmp_path / 'book', 3)
    pages = pages_from_folder(src)
    annotate_pages(
        pages,
        tmp_path / 'out',
        fake_predict,
        {},
        src,
        'b',
        0.0,
        book_title='A book',
        progress=False,
        base_url='http://localhost:8123/',
    )
    m = json.loads((tmp_path / 'out' / 'manifest.json').read_text())
    assert m['@context'] == 'http://iiif.io/api/presentation/3/context.json' and m['type'] == 'Manifest'
    assert m['id'] == 'http://localhost:8123/manifest.json' and m['label'] == {'none': ['A book']}
    # a folder's pages get http canvas ids under --base-url (never file://), and the manifest is valid IIIF
    assert [c['id'] for c in m['items']] == [f'http://localhost:8123/canvas/{page_stem(p["key"])}' for p in pages]
    validate_iiif(m)
    for c, p in zip(m['items'], pages):
        stem = page_stem(p['key'])
        body = c['items'][0]['items'][0]['body']
        assert body['service'] == [
            {'id': f'http://localhost:8123/iiif/{stem}', 'type': 'ImageService3', 'profile': 'level0'}
        ]
        info = json.loads((tmp_path / 'out' / 'iiif' / stem / 'info.json').read_text())
        assert info['id'] == body['service'][0]['id'] and (info['width'], info['height']) == (300, 200)
        assert (tmp_path / 'out' / 'iiif' / stem / 'full' / 'max' / '0' / 'default.jpg').is_file()
        assert (c['width'], c['height']) == (300, 200) and body['id'] == f'http://localhost:8123/pages/{stem}'
        assert body['format'] == 'image/png' and c['items'][0]['items'][0]['target'] == c['id']
        ref = c['annotations'][0]
        assert ref == {'id': f'http://localhost:8123/w3c/{stem}.json', 'type': 'AnnotationPage'}
        page = json.loads((tmp_path / 'out' / 'w3c' / f'{stem}.json').read_text())
        assert page['id'] == ref['id'] and all(a['target']['source'] == c['id'] for a in page['items'])
        assert len(page['items']) == 2


def validate_iiif(manifest: dict) -> None:
    """Against the IIIF Presentation 3 JSON schema of IIIF's presentation validator (tests/data/iiif)."""
    jsonschema = pytest.importorskip('jsonschema')
    schema = json.loads((Path(__file__).parents[1] / 'data' / 'iiif' / 'iiif_3_0.json').read_text())
    error = next(iter(jsonschema.Draft7Validator(schema).iter_errors(manifest)), None)
    while error is not None and error.context:  # "not valid under any of the given schemas": the deepest cause
        error = max(error.context, key=lambda e: len(e.absolute_path))
    assert error is None, f'{list(error.absolute_path)}: {error.message[:300]}'


def test_a_file_canvas_fails_the_schema():
    """The validator catches what the review-loop issue found: ``file://`` ids."""
    from kaokore_mm.annotation.manifest import book_manifest

    m = book_manifest(
        [dict(key='p.jpg', canvas='file:///home/me/p.jpg', width=10, height=10, path='p.jpg')], 'http://h', 'b'
    )
    assert m['items'][0]['id'].startswith('http://h/canvas/')
    m['items'][0]['id'] = 'file:///home/me/p.jpg'
    with pytest.raises(AssertionError, match="file:///home/me/p.jpg' does not match"):
        validate_iiif(m)


def test_manifest_keeps_the_source_canvases_and_image_services(tmp_path):
    """A real manifest (Wellcome: Image API 2 services, canvases larger than the painted images):
    the book's manifest keeps each canvas's id and size and re-declares its image with the
    source's services as published (type, profile, every one of a list), in their syntax."""
    from kaokore_mm.annotation.manifest import book_manifest
    from kaokore_mm.converters.iiif_manifest import manifest_book
    from tests.core.test_iiif_presentation import load

    source, _ = manifest_book(load('manifests/x_wellcome_wunder_vererbung_p3.json'))
    p = source[0]
    page = dict(p, key=p['canvas'], path=tmp_path / 'a.jpg', pixel_width=742, pixel_height=1024)
    m = book_manifest([page], 'http://localhost:8000', 'book')
    canvas = m['items'][0]
    body = canvas['items'][0]['items'][0]['body']
    assert canvas['id'] == p['canvas'] and (canvas['width'], canvas['height']) == (2569, 3543)
    assert body['service'] == p['services'] and body['service'][0]['@type'] == 'ImageService2'
    assert body['id'] == f'{p["iiif_base"]}/full/full/0/default.jpg'  # Image API 2: no "max"
    assert (body['width'], body['height']) == (742, 1024)
    validate_iiif(m)


ANNOTATOR = r"""
import sys, time
from pathlib import Path
import numpy as np
from kaokore_mm.annotation import annotate_pages, pages_from_folder

def predict(img):
    time.sleep(0.02)  # a model's time per page, so that kills land while predicting and while writing
    v = float(img[0, 0, 0])
    return [dict(box=[v - 150, 10.0, v - 100, 60.0], score=0.9)]

src, out = Path(sys.argv[1]), Path(sys.argv[2])
print('ready', flush=True)
annotate_pages(pages_from_folder(src), out, predict, dict(m=1), src, 'b', 0.0, progress=False)
"""


def test_annotate_killed_at_any_moment_then_rerun_equals_one_clean_run(tmp_path):
    """SIGKILL at random moments of annotate (predicting, writing COCO / W3C / tiles / manifest): every file
    left is whole JSON, and a rerun gives exactly the outputs of an uninterrupted run."""
    import random
    import signal
    import subprocess
    import sys
    import time

    src = book(tmp_path / 'book', 12)
    clean, killed = tmp_path / 'clean', tmp_path / 'killed'
    run = [sys.executable, '-c', ANNOTATOR, str(src)]
    subprocess.run([*run, str(clean)], check=True, capture_output=True)
    rng = random.Random(3)
    for _ in range(2):
        proc = subprocess.Popen([*run, str(killed)], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == 'ready'
        time.sleep(rng.uniform(0.05, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for f in killed.rglob('*.json'):  # atomic writes: a file is there whole or not at all
            json.loads(f.read_text())
    subprocess.run([*run, str(killed)], check=True, capture_output=True)

    def files(root):
        return {f.relative_to(root).as_posix() for f in root.rglob('*') if f.is_file()}

    assert files(killed) == files(clean)
    for name in ('annotations.coco.json', 'manifest.json', 'curation.json'):
        a, b = (json.loads((r / name).read_text()) for r in (clean, killed))
        if name == 'annotations.coco.json':
            a['info'].pop('images_root'), b['info'].pop('images_root')
        assert a == b, name


def test_face_proposer_gives_each_box_the_classifier_label_of_its_task():
    from kaokore_mm.annotation import face_proposer

    class Classifier:
        task = 'status'

        def __call__(self, img, boxes):
            return [('noble' if b[0] < 50 else 'warrior', 0.8) for b in boxes]

    def inferencer(img):
        return dict(bboxes=np.array([[10, 10, 40, 40], [60, 5, 90, 30]], np.float32), scores=np.array([0.9, 0.4]))

    faces = face_proposer(inferencer, Classifier())(np.zeros((100, 100, 3), np.uint8))
    assert faces == [  # a classifier that says nothing of its sureness is never sure
        dict(box=[10.0, 10.0, 40.0, 40.0], score=0.9, status='noble', status_score=0.8, status_sure=False),
        dict(box=[60.0, 5.0, 90.0, 30.0], score=0.4, status='warrior', status_score=0.8, status_sure=False),
    ]

    class Calibrated(Classifier):  # FaceClassifier with a checkpoint that carries its label confidence
        def __call__(self, img, boxes):
            return [(label, score, label == 'noble') for label, score in super().__call__(img, boxes)]

    faces = face_proposer(inferencer, Calibrated())(np.zeros((100, 100, 3), np.uint8))
    assert [f['status_sure'] for f in faces] == [True, False]
    assert face_proposer(lambda img: dict(bboxes=np.zeros((0, 4)), scores=np.zeros(0)), Classifier())(None) == []


def test_adding_a_classifier_reuses_the_detectors_boxes(tmp_path):
    """annotate.py --classifier on a book the same detector annotated: the boxes come from the
    earlier predictions (the detector does not run again), only the classifier runs; another
    detector predicts every page again."""
    import cv2

    from kaokore_mm.annotation import annotate_pages, face_proposer, pages_from_folder

    book = tmp_path / 'book'
    book.mkdir()
    for k in range(2):
        cv2.imwrite(str(book / f'p{k}.jpg'), np.full((100, 120, 3), 200, np.uint8))
    calls = []

    def inferencer(img):
        calls.append(1)
        return dict(bboxes=np.array([[10, 10, 40, 40]], np.float32), scores=np.array([0.9]))

    class Classifier:
        task = 'status'

        def __call__(self, img, boxes):
            return [('noble', 0.7) for _ in boxes]

    pages = pages_from_folder(book)
    det = dict(config='a.py', config_sha256='1', checkpoint='a.pth', checkpoint_sha256='2')
    out = tmp_path / 'out'
    annotate_pages(pages, out, face_proposer(inferencer), dict(detector=det), book, 'b', progress=False)
    assert len(calls) == 2
    tag = dict(
        detector=det, classifier=dict(config='c.py', config_sha256='3', checkpoint='c.pth', checkpoint_sha256='4')
    )
    annotate_pages(pages, out, face_proposer(inferencer, Classifier()), tag, book, 'b', progress=False)
    assert len(calls) == 2  # the detector's boxes reused
    coco = json.loads((out / 'annotations.coco.json').read_text())
    assert [a['attributes']['status'] for a in coco['annotations']] == ['noble', 'noble']
    other = dict(tag, detector=dict(det, checkpoint_sha256='9'))
    annotate_pages(pages, out, face_proposer(inferencer, Classifier()), other, book, 'b', progress=False)
    assert len(calls) == 4
