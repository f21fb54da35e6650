"""The annotate step's writers: one page iterator, one writer per format."""

import json

from kaokore_mm.annotation.pages import page_stem
from kaokore_mm.annotation.writers import (
    CocoWriter,
    CsvWriter,
    CurationWriter,
    PageOut,
    contact_sheet,
    face_labels,
    model_name,
    predicted_pages,
)


def page_out(canvas_size=(200, 100), faces=None):
    faces = faces if faces is not None else [dict(box=[10, 20, 30, 60], score=0.9, status='noble', status_score=0.8)]
    page = dict(key='p1.jpg', path='/x/p1.jpg', canvas='http://h/canvas/p1')
    return PageOut(1, page, 'p1', {}, faces, 'p1.jpg', (100, 50), canvas_size, 0)


def test_boxes_go_onto_the_canvas_in_its_units():
    po = page_out()
    assert po.scale == (2.0, 2.0)
    assert po.on_canvas(po.faces[0]) == [20.0, 40.0, 40.0, 80.0]


def test_labels_scores_and_sure_kinds_of_a_face():
    f = dict(status='noble', status_score=0.9, status_sure=True, gender='male', gender_score=0.6)
    assert face_labels(f) == (
        dict(status='noble', gender='male'),
        dict(status_score=0.9, gender_score=0.6),
        ['status'],
    )
    assert model_name(None) is None
    assert model_name(dict(detector=dict(config='a/b/det.py', checkpoint_sha256='0123456789'))) == 'det@01234567'


def test_the_iterator_reads_each_prediction_once_and_lists_pages_without_one(tmp_path):
    (tmp_path / 'predictions').mkdir()
    pred = dict(width=100, height=50, faces=[dict(box=[1, 2, 3, 4], score=0.2), dict(box=[5, 6, 7, 8], score=0.7)])
    (tmp_path / 'predictions' / f'{page_stem("a.jpg")}.json').write_text(json.dumps(pred))
    pages = [dict(key='a.jpg', path=str(tmp_path / 'a.jpg')), dict(key='b.jpg', path=str(tmp_path / 'b.jpg'))]
    missing = []
    got = list(predicted_pages(pages, tmp_path, tmp_path, 0.5, 'http://127.0.0.1:8000', missing))
    assert missing == ['b.jpg'] and len(got) == 1
    po = got[0]
    assert (po.id, po.stem, po.file_name) == (1, page_stem('a.jpg'), 'a.jpg')
    assert po.pixels == po.canvas_size == (100, 50)
    assert [f['score'] for f in po.faces] == [0.7]  # the threshold applied once, for every writer
    assert po.page['canvas'].startswith('http://127.0.0.1:8000/')  # a folder's canvas is public, not file://


def test_coco_keeps_pixels_and_the_canvas_size_the_curation_and_csv_their_units(tmp_path):
    coco, cur, table = CocoWriter('bk', 'Title', 0.3), CurationWriter(), CsvWriter()
    for w in (coco, cur, table):
        w.add(page_out())
    coco.finish(tmp_path, dict(score_thr=0.3))
    cur.finish(tmp_path, 'http://h', 'http://h/manifest.json', 'Title')
    table.finish(tmp_path)
    doc = json.loads((tmp_path / 'annotations.coco.json').read_text())
    assert doc['images'][0]['canvas_width'] == 200 and doc['images'][0]['width'] == 100
    assert doc['annotations'][0]['bbox'] == [10, 20, 20, 40]
    assert doc['annotations'][0]['attributes'] == dict(status='noble', status_score=0.8)
    assert cur.regions[0]['bbox'] == [20.0, 40.0, 40.0, 80.0]
    rows = (tmp_path / 'annotations.csv').read_text().splitlines()
    assert rows[0].startswith('page_key,canvas,x') and rows[1].split(',')[2:5] == ['10', '20', '20']


def test_the_contact_sheet_puts_the_most_doubtful_first(tmp_path):
    import cv2
    import numpy as np

    tiles = [np.full((96, 96, 3), v, np.uint8) for v in (0, 255)]
    contact_sheet([(0.9, 0, tiles[1], '0.90'), (0.1, 1, tiles[0], '0.10')], tmp_path / 's.jpg', cols=2)
    sheet = cv2.imread(str(tmp_path / 's.jpg'))
    assert sheet[48, 48].mean() < 40 and sheet[48, 96 + 48].mean() > 200  # dark (score 0.1) first
    contact_sheet([], tmp_path / 'none.jpg')
    assert not (tmp_path / 'none.jpg').exists()
