import csv
import io
import json
from pathlib import Path

import cv2

from kaokore_mm.synthetic.emaki import make_synthetic


def test_synthetic_layout_is_complete_and_deterministic(tmp_path):
    kw = dict(pages=6, books=3, seed=5, long_side=(2000, 2200), face_range=(40, 120), progress=False)
    s1 = make_synthetic(tmp_path / 'a', **kw)
    s2 = make_synthetic(tmp_path / 'b', **kw)
    coco = json.loads((tmp_path / 'a/annotations/pages.json').read_text())
    assert coco == json.loads((tmp_path / 'b/annotations/pages.json').read_text())
    assert (tmp_path / 'a/pages/book000_p0000.jpg').read_bytes() == (
        tmp_path / 'b/pages/book000_p0000.jpg'
    ).read_bytes()
    assert s1['faces'] == s2['faces'] == len(coco['annotations']) > 0
    assert len(coco['images']) == 6 and {im['book_id'] for im in coco['images']} == {'book000', 'book001', 'book002'}
    for im in coco['images']:
        img = cv2.imread(str(tmp_path / 'a' / im['file_name']))
        assert img.shape[:2] == (im['height'], im['width'])
        assert 2000 <= max(img.shape[:2]) <= 2200
    for a in coco['annotations']:
        x, y, w, h = a['bbox']
        assert 40 * 0.99 <= w <= 120 * 1.01
        assert a['attributes']['status'] in ('noble', 'warrior', 'incarnation', 'commoner')
        assert a['attributes']['gender'] in ('male', 'female')
        assert len(a['status_part_bbox']) == 4
    rows = list(csv.DictReader(io.StringIO(Path(tmp_path / 'a/labels.csv').read_text())))
    assert list(rows[0]) == ['image', 'gender', 'status', 'set']
    assert len(rows) == len(coco['annotations'])
    by_crop = {a['crop']: a for a in coco['annotations']}
    for r in rows:
        a = by_crop[r['image']]
        assert int(r['gender']) == a['attributes']['gender_id'] and int(r['status']) == a['attributes']['status_id']
        assert r['set'] in ('train', 'dev', 'test')
        assert cv2.imread(str(tmp_path / 'a/images_256' / r['image'])).shape == (256, 256, 3)
    parts = list(csv.DictReader(io.StringIO(Path(tmp_path / 'a/status_parts.csv').read_text())))
    assert len(parts) == len(rows)
    assert all(0 <= float(p['x1']) < float(p['x2']) <= 256 for p in parts)


def test_status_is_drawn_where_recorded(tmp_path):
    """The recorded status part differs from the paper around it (something is drawn there)."""
    make_synthetic(tmp_path, pages=3, books=1, seed=1, long_side=(2000, 2000), face_range=(80, 120), progress=False)
    for p in csv.DictReader(io.StringIO(Path(tmp_path / 'status_parts.csv').read_text())):
        crop = cv2.imread(str(tmp_path / 'images_256' / p['image'])).astype(float)
        x1, y1, x2, y2 = (int(float(p[k])) for k in ('x1', 'y1', 'x2', 'y2'))
        part = crop[y1:y2, x1:x2]
        assert part.std() > 20
