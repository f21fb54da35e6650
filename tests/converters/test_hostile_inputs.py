"""Hostile and careless inputs: each gives a clear problem naming the item, never a
traceback or a plausible wrong box. A table that grows with every bug found."""
import pytest

from kaokore_mm.converters.web_annotation import AnnotationError, parse_xywh, read_annotations

C = 'https://example.org/canvas/1'


def ann(target):
    return {'type': 'Annotation', 'target': target}


W3C_CASES = [
    # (document, expected problem fragment or None for "read", expected box)
    ({'type': 'AnnotationPage', 'items': [ann(f'{C}#xywh=1.2.3,4,5,6')]}, 'no valid xywh', None),
    ({'type': 'AnnotationPage', 'items': [ann(f'{C}#xywh=.,.,.,.')]}, 'no valid xywh', None),
    ({'type': 'AnnotationPage', 'items': [ann(f'{C}#xywh=percent:10,10,5,5')]}, 'size is unknown', None),
    ({'type': 'AnnotationPage', 'items': [ann({'source': [C], 'selector': {'type': 'FragmentSelector',
                                                                           'value': 'xywh=1,2,3,4'}})]}, None,
     [1, 2, 3, 4]),
    ({'type': 'AnnotationPage', 'items': [ann(f'{C}#xywh=10,20,30,40&t=5')]}, None, [10, 20, 30, 40]),
    ({'type': 'AnnotationPage', 'items': [ann(f'{C}#t=5&xywh=pixel:1,2,3,4')]}, None, [1, 2, 3, 4]),
    ({'type': 'AnnotationPage', 'items': [ann(f'{C}#xywh=1,2,0,4')]}, 'empty box', None),
    ({'type': 'AnnotationPage', 'items': [ann(f'{C}#xywh=1,2,3,4&xywh=5,6,7,8')]}, 'no valid xywh', None),
    ({'type': 'AnnotationPage', 'items': [ann({'source': 5})]}, 'no target canvas', None),
    ({'type': 'AnnotationPage', 'items': [7]}, 'not an object', None),
]


@pytest.mark.parametrize('doc, problem, box', W3C_CASES, ids=[str(i) for i in range(len(W3C_CASES))])
def test_w3c_items(doc, problem, box):
    faces, problems = read_annotations(doc)
    if problem is None:
        assert problems == [] and faces[0]['bbox'] == box and faces[0]['canvas'] == C
    else:
        assert faces == [] and len(problems) == 1 and problems[0][0] == 0 and problem in problems[0][1]


@pytest.mark.parametrize('doc, problem', [
    ({'type': 'AnnotationPage', 'items': 5}, 'not a list'),
    (5, 'not a JSON object'),
    ('text', 'not a JSON object'),
    ({'type': 'Manifest'}, 'not an AnnotationPage'),
])
def test_w3c_documents(doc, problem):
    with pytest.raises(AnnotationError, match=problem):
        read_annotations(doc)


def test_fragments_are_numbers_only():
    assert parse_xywh('xywh=pixel:1.5,2,3,4') == ('pixel', [1.5, 2.0, 3.0, 4.0])
    for bad in ('xywh=1e999,1,1,1', 'xywh=inf,1,2,3', 'xywh=1,2,3', 'xywh=a,b,c,d', None):
        with pytest.raises(AnnotationError):
            parse_xywh(bad)


def test_coco_nan_box_never_becomes_a_page_wide_box():
    from kaokore_mm.converters.import_pages import PageCollector
    col = PageCollector(book_id='b')
    col.add_coco(dict(images=[dict(id=1, file_name='p.jpg', width=100, height=80)],
                      annotations=[dict(id=1, image_id=1, category_id=1, bbox=[float('nan'), 0, 10, 10]),
                                   dict(id=2, image_id=1, category_id=1, bbox=[0, 0, float('inf'), 10])],
                      categories=[dict(id=1, name='face')]), 'x.json')
    coco = col.coco()
    assert coco['annotations'] == [] and [p['reason'][:15] for p in col.problems] == ['non-finite bbox'] * 2


BASE = 'http://iiif.example.org/iipsrv/book/p1.tif'


def metadata(tmp_path, lines):
    d = tmp_path / 'meta'
    d.mkdir()
    (d / 'urls.txt').write_text('\n'.join(lines) + '\n')
    return d


def test_metadata_negative_offsets_bad_urls_and_deferred_regions(tmp_path):
    from kaokore_mm.converters.kaokore_metadata import convert
    d = metadata(tmp_path, [f'{BASE}/-20,-10,100,100/256,/0/default.jpg',       # line 1: clipped at 0
                            'http://[::1/iipsrv/x.tif/0,0,10,10/256,/0/default.jpg',  # line 2: bad URL
                            f'{BASE}/pct:10,10,20,20/256,/0/default.jpg',        # line 3: needs the size
                            f'{BASE}/-200,-200,50,50/256,/0/default.jpg'])       # line 4: wholly outside
    coco, report = convert(d)  # before the pages are downloaded: sizes unknown
    assert [a['bbox'] for a in coco['annotations']] == [[0.0, 0.0, 80.0, 90.0]]
    reasons = {s['line']: s['reason'] for s in report.skipped}
    assert 'not a valid URL' in reasons[2] and 'needs the page size' in reasons[3] and 'wholly outside' in reasons[4]
    coco, report = convert(d, size_of=lambda page: (1000, 800))  # sizes known: the pct region resolves
    assert sorted(a['bbox'] for a in coco['annotations']) == [[0.0, 0.0, 80.0, 90.0], [100.0, 80.0, 200.0, 160.0]]
    assert all(min(a['bbox'][:2]) >= 0 for a in coco['annotations'])


@pytest.mark.parametrize('size', [(1e999, 5), (0, 0), (float('nan'), 10), ('wide', 3), (10.5, 3), (-5, 10)])
def test_bad_page_sizes_are_unknown_not_zero(tmp_path, size):
    from kaokore_mm.converters.kaokore_metadata import convert
    d = metadata(tmp_path, [f'{BASE}/20,10,100,100/256,/0/default.jpg'])
    coco, report = convert(d, size_of=lambda page: size)
    assert coco['images'][0]['width'] is None and coco['annotations'][0]['bbox'] == [20.0, 10.0, 100.0, 100.0]
    assert any('not a valid size' in s['reason'] for s in report.skipped)


IMG = dict(id=1, file_name='p1.jpg', width=100, height=80)
FACE = dict(id=1, image_id=1, category_id=1, bbox=[1, 2, 10, 10])
CATS = [dict(id=1, name='face')]
COCO_CASES = [
    (dict(images=[IMG], annotations=[FACE], categories=['face']), 'not an object with an id', 0),
    (dict(images=[IMG], annotations=[FACE], categories=[dict(name='face')]), 'not an object with an id', 0),
    (dict(images=None, annotations=[FACE], categories=CATS), '"images" is not a list', 0),
    (dict(images=[dict(IMG, width=float('inf'))], annotations=[FACE], categories=CATS), 'no valid size', 0),
    (dict(images=[IMG, dict(IMG, file_name='p2.jpg')], annotations=[FACE], categories=CATS),
     'used by several pages', 0),
    (dict(images=[IMG, 5], annotations=[FACE, 'x'], categories=CATS), 'not an object', 1),
]


@pytest.mark.parametrize('coco, problem, faces', COCO_CASES, ids=[str(i) for i in range(len(COCO_CASES))])
def test_coco_imports(coco, problem, faces):
    from kaokore_mm.converters.import_pages import PageCollector
    col = PageCollector(book_id='b')
    col.add_coco(coco, 'in.json')
    assert len(col.coco()['annotations']) == faces
    assert any(problem in p['reason'] for p in col.problems), col.problems


def test_same_file_name_with_another_size_is_not_merged():
    from kaokore_mm.converters.import_pages import PageCollector
    col = PageCollector(book_id='b')
    col.add_coco(dict(images=[IMG], annotations=[FACE], categories=CATS), 'a.json')
    col.add_coco(dict(images=[dict(IMG, width=200)], annotations=[dict(FACE, bbox=[50, 5, 10, 10])],
                      categories=CATS), 'b.json')
    coco = col.coco()
    assert [im['width'] for im in coco['images']] == [100] and len(coco['annotations']) == 1
    assert any('appears again with another size' in p['reason'] for p in col.problems)


def test_import_tool_keeps_going_and_never_replaces_a_file_silently(tmp_path, capsys):
    import json

    from kaokore_mm.utils.cli import cli_main
    from tests.conftest import load_tool
    good = tmp_path / 'good.json'
    good.write_text(json.dumps(dict(images=[IMG], annotations=[FACE], categories=CATS)))
    (tmp_path / 'number.json').write_text('5')
    (tmp_path / 'cats.json').write_text(json.dumps(dict(images=[IMG], annotations=[FACE], categories=['face'])))
    out = tmp_path / 'pages.json'
    tool = load_tool('dataset_converters/import_annotations')
    args = ['--input', str(tmp_path / 'number.json'), str(tmp_path / 'cats.json'), str(good), '--book-id', 'b',
            '--out', str(out)]
    assert cli_main(tool.main, args) == 0
    assert len(json.loads(out.read_text())['annotations']) == 1
    text = capsys.readouterr().out
    assert 'number.json' in text and 'cats.json' in text
    before = out.read_text()
    assert cli_main(tool.main, args) == 2 and 'exists' in capsys.readouterr().err and out.read_text() == before
    assert cli_main(tool.main, [*args, '--overwrite']) == 0


def test_services_whose_safe_names_collide_get_two_files():
    from kaokore_mm.converters.kaokore_metadata import page_file_name
    a = page_file_name('iiif.example.org', 'iiif/book:A/p1')
    b = page_file_name('iiif.example.org', 'iiif/book_A/p1')
    assert a != b and a.startswith('pages/iiif.example.org/iiif/book_A-') and b == 'pages/iiif.example.org/iiif/book_A/p1.jpg'
    assert '..' not in page_file_name('x', '../../etc/passwd') and page_file_name('x', 'a/./b') == 'pages/x/a/b.jpg'
