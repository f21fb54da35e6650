"""Hostile and careless inputs: each gives a clear problem naming the item, never a
traceback or a plausible wrong box. A table that grows with every bug found."""

import codecs

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
    (
        {
            'type': 'AnnotationPage',
            'items': [ann({'source': [C], 'selector': {'type': 'FragmentSelector', 'value': 'xywh=1,2,3,4'}})],
        },
        None,
        [1, 2, 3, 4],
    ),
    ({'type': 'AnnotationPage', 'items': [ann(f'{C}#xywh=10,20,30,40&t=5')]}, None, [10, 20, 30, 40]),
    ({'type': 'AnnotationPage', 'items': [ann(f'{C}#t=5&xywh=pixel:1,2,3,4')]}, None, [1, 2, 3, 4]),
    ({'type': 'AnnotationPage', 'items': [ann(f'{C}#xywh=1,2,0,4')]}, 'empty box', None),
    ({'type': 'AnnotationPage', 'items': [ann(f'{C}#xywh=1,2,3,4&xywh=5,6,7,8')]}, 'no valid xywh', None),
    ({'type': 'AnnotationPage', 'items': [ann({'source': 5})]}, 'no target canvas', None),
    ({'type': 'AnnotationPage', 'items': [7]}, 'not an object', None),
    # a score that is not a number was written as the score ("high"); an id that is no IRI string
    ({'type': 'AnnotationPage', 'items': [dict(ann(f'{C}#xywh=1,2,3,4'), score='high')]}, 'not a number', None),
    ({'type': 'AnnotationPage', 'items': [dict(ann(f'{C}#xywh=1,2,3,4'), score=True)]}, 'not a number', None),
    ({'type': 'AnnotationPage', 'items': [dict(ann(f'{C}#xywh=1,2,3,4'), score=float('nan'))]}, 'not a number', None),
    ({'type': 'AnnotationPage', 'items': [dict(ann(f'{C}#xywh=1,2,3,4'), **{'kaokore:score': 7})]}, 'in [0, 1]', None),
    ({'type': 'AnnotationPage', 'items': [dict(ann(f'{C}#xywh=1,2,3,4'), id=[1])]}, 'not a string', None),
]


@pytest.mark.parametrize('doc, problem, box', W3C_CASES, ids=[str(i) for i in range(len(W3C_CASES))])
def test_w3c_items(doc, problem, box):
    faces, problems = read_annotations(doc)
    if problem is None:
        assert problems == [] and faces[0]['bbox'] == box and faces[0]['canvas'] == C
    else:
        assert faces == [] and len(problems) == 1 and problems[0][0] == 0 and problem in problems[0][1]


@pytest.mark.parametrize(
    'doc, problem',
    [
        ({'type': 'AnnotationPage', 'items': 5}, 'not a list'),
        (5, 'not a JSON object'),
        ('text', 'not a JSON object'),
        ({'type': 'Manifest'}, 'not an AnnotationPage'),
    ],
)
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
    col.add_coco(
        dict(
            images=[dict(id=1, file_name='p.jpg', width=100, height=80)],
            annotations=[
                dict(id=1, image_id=1, category_id=1, bbox=[float('nan'), 0, 10, 10]),
                dict(id=2, image_id=1, category_id=1, bbox=[0, 0, float('inf'), 10]),
            ],
            categories=[dict(id=1, name='face')],
        ),
        'x.json',
    )
    coco = col.coco()
    assert coco['annotations'] == [] and len(col.problems) == 2
    assert all(
        p['reason'].startswith('annotation: bbox.') and 'not a finite number' in p['reason'] for p in col.problems
    )


BASE = 'http://iiif.example.org/iipsrv/book/p1.tif'


def metadata(tmp_path, lines):
    d = tmp_path / 'meta'
    d.mkdir()
    (d / 'urls.txt').write_text('\n'.join(lines) + '\n')
    return d


def test_metadata_negative_offsets_bad_urls_and_deferred_regions(tmp_path):
    from kaokore_mm.converters.kaokore_metadata import convert

    d = metadata(
        tmp_path,
        [
            f'{BASE}/-20,-10,100,100/256,/0/default.jpg',  # line 1: clipped at 0
            'http://[::1/iipsrv/x.tif/0,0,10,10/256,/0/default.jpg',  # line 2: bad URL
            f'{BASE}/pct:10,10,20,20/256,/0/default.jpg',  # line 3: needs the size
            f'{BASE}/-200,-200,50,50/256,/0/default.jpg',
        ],
    )  # line 4: wholly outside
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
    (
        dict(images=[IMG, dict(IMG, file_name='p2.jpg')], annotations=[FACE], categories=CATS),
        'used by several pages',
        0,
    ),
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
    col.add_coco(
        dict(images=[dict(IMG, width=200)], annotations=[dict(FACE, bbox=[50, 5, 10, 10])], categories=CATS), 'b.json'
    )
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
    args = [
        '--input',
        str(tmp_path / 'number.json'),
        str(tmp_path / 'cats.json'),
        str(good),
        '--book-id',
        'b',
        '--out',
        str(out),
    ]
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
    assert (
        a != b
        and a.startswith('pages/iiif.example.org/iiif/book_A-')
        and b == 'pages/iiif.example.org/iiif/book_A/p1.jpg'
    )
    assert '..' not in page_file_name('x', '../../etc/passwd')
    # segments a file name cannot hold (empty, '.', '..', as '%2e%2e' decodes) made two services one file:
    # one page's faces were drawn on another's image
    for a, b in (('iiif/../x/p1', 'iiif/x/p1'), ('y//p2', 'y/p2'), ('a/./b', 'a/b'), ('x/p1/..', 'x/p1')):
        assert page_file_name('s', a) != page_file_name('s', b) and '..' not in page_file_name('s', a)
    assert page_file_name('x', 'a/b') == 'pages/x/a/b.jpg'  # a plain path keeps its plain name


def _page_bytes(kind, tmp_path):
    import cv2
    import numpy as np

    ok, buf = cv2.imencode('.jpg', np.full((80, 100, 3), 200, np.uint8))
    good = buf.tobytes()
    return {
        'missing': None,
        'empty': b'',
        'cut short': good[: len(good) // 2],
        'html error page': b'<html><body>503 Service Unavailable</body></html>',
        'wrong size': cv2.imencode('.jpg', np.full((80, 90, 3), 200, np.uint8))[1].tobytes(),
    }[kind]


PAGE_CASES = [
    ('missing', 'no such page image'),
    ('empty', 'empty file'),
    ('cut short', 'truncated'),
    ('html error page', 'not a readable image'),
    ('wrong size', 'the image is 90x80 but its annotations say'),
]


@pytest.mark.parametrize('kind, problem', PAGE_CASES)
def test_bad_page_files_stop_a_dataset_naming_them_or_are_skipped(tmp_path, kind, problem):
    """The bad-page policy of train/test (``--skip-bad-pages`` sets ``bad_pages='skip'``)."""
    from mmengine.registry import init_default_scope

    from kaokore_mm.core.page_files import BadPageError
    from kaokore_mm.datasets import KaoKoreFaceDataset, PatchedPageDataset
    from tests.conftest import blank_pages, write_coco

    init_default_scope('mmdet')
    images = [dict(id=k + 1, file_name=f'pages/p{k}.jpg', width=100, height=80, book_id='b') for k in range(3)]
    blank_pages(tmp_path, images)
    content = _page_bytes(kind, tmp_path)
    bad = tmp_path / 'pages' / 'p1.jpg'
    bad.unlink()
    if content is not None:
        bad.write_bytes(content)
    ann = write_coco(tmp_path / 'pages.json', images, [(k + 1, [10, 10, 20, 20]) for k in range(3)])
    kw = dict(ann_file=str(ann), data_root=str(tmp_path), pipeline=[])
    for cls in (KaoKoreFaceDataset, PatchedPageDataset):
        with pytest.raises(BadPageError) as e:
            cls(**kw)
        line = str(e.value)
        assert '\n' not in line and str(bad) in line and problem in line and '1 of 3 pages' in line
        ds = cls(bad_pages='skip', **kw)
        assert [ds.get_data_info(i)['img_path'] for i in range(len(ds))] == [
            str(tmp_path / 'pages' / f'p{k}.jpg') for k in (0, 2)
        ]
    assert (bad.read_bytes() if bad.exists() else None) == content  # nothing changed


def test_a_training_set_without_samples_says_why(tmp_path):
    """A 1x1 page without faces: mmengine's "need at least one array to concatenate" before."""
    from mmengine.registry import init_default_scope

    from kaokore_mm.datasets import KaoKoreFaceDataset, PatchedPageDataset
    from kaokore_mm.datasets.kaokore_face_dataset import EmptyDatasetError
    from tests.conftest import write_coco

    init_default_scope('mmdet')
    ann = write_coco(
        tmp_path / 'pages.json',
        [dict(id=1, file_name='p.jpg', width=1, height=1, book_id='b')],
        [],
        pages_root=tmp_path,
    )
    kw = dict(ann_file=str(ann), data_root=str(tmp_path), pipeline=[])
    with pytest.raises(
        EmptyDatasetError, match='no training sample: 1 pages with 0 faces .* empty_patch_ratio=0.3 keeps 0'
    ):
        PatchedPageDataset(patch_size=(512, 512), empty_patch_ratio=0.3, **kw)
    assert len(PatchedPageDataset(patch_size=(512, 512), empty_patch_ratio=1.0, **kw)) == 1  # background only
    with pytest.raises(EmptyDatasetError, match='filter_cfg'):
        write_coco(ann, [dict(id=1, file_name='p.jpg', width=1, height=1, book_id='b')], [(1, [0, 0, 1, 1])])
        KaoKoreFaceDataset(filter_cfg=dict(filter_empty_gt=True, min_size=32), **kw)
    assert len(KaoKoreFaceDataset(test_mode=True, **kw)) == 1  # testing on such a page is allowed


DEMO = 'configs/demo/faster_rcnn_r18_patch512_demo.py'
CONFIG_CASES = [
    (
        ['train_dataloader.dataset.type=PatchedPageDatset'],
        'train_dataloader.dataset: PatchedPageDatset is not in the mmdet::dataset registry',
    ),
    (['train_dataloader.dataset.patch_sise=3'], "unexpected keyword argument 'patch_sise'"),
    (['train_dataloader.dataset.overlap=1.0'], 'overlap must be a ratio in [0, 1)'),
    (['train_dataloader.dataset.empty_patch_ratio=2'], 'empty_patch_ratio must be in [0, 1]'),
    (['train_dataloader.dataset.bad_pages=ignore'], "bad_pages must be one of ('error', 'skip')"),
    (['train_dataloader.sampler.split=books'], 'train_dataloader.sampler'),
    (['train_dataloader.dataset.ann_file=annotations/nothere.json'], 'annotations/nothere.json not found'),
    (['model.type=FasterRCN'], "model: model type 'FasterRCN' is not registered"),
    (['val_evaluator.type=FaceDetectionMetrik'], 'evaluator FaceDetectionMetrik'),
]


@pytest.mark.parametrize('options, problem', CONFIG_CASES, ids=[c[0][0].split('=')[0] for c in CONFIG_CASES])
def test_config_errors_are_one_line_before_the_runner(tiny_data, options, problem):
    from mmengine.config import Config, DictAction

    from kaokore_mm.utils.cli import UserError
    from kaokore_mm.utils.config import set_data_root
    from kaokore_mm.utils.preflight import check_config

    cfg = Config.fromfile(DEMO)
    set_data_root(cfg, str(tiny_data))
    cfg.merge_from_dict({k: DictAction._parse_iterable(v) for k, v in (o.split('=', 1) for o in options)})
    with pytest.raises(UserError) as e:
        check_config(cfg, DEMO, 'train')
    line = str(e.value)
    assert line.startswith(DEMO) and problem in line and '\n' not in line, line


def test_a_sound_config_passes_the_check(tiny_data):
    from mmengine.config import Config

    from kaokore_mm.utils.config import set_data_root
    from kaokore_mm.utils.preflight import check_config

    cfg = Config.fromfile(DEMO)
    set_data_root(cfg, str(tiny_data))
    check_config(cfg, DEMO, 'train')
    check_config(cfg, DEMO, 'test')


@pytest.mark.parametrize(
    'text, problem',
    [
        ('x = (1,\n', 'syntax error in the config'),
        ("_base_ = ['nothere.py']\n", 'cannot be read as a config'),
        (None, 'not found'),
    ],
)
def test_unreadable_configs(tmp_path, text, problem):
    from kaokore_mm.utils.cli import UserError
    from kaokore_mm.utils.config import load_config

    path = tmp_path / 'c.py'
    if text is not None:
        path.write_text(text)
    with pytest.raises(UserError, match=problem):
        load_config(str(path))


@pytest.mark.parametrize('bom', [b'', codecs.BOM_UTF8])
@pytest.mark.parametrize('newline', [b'\n', b'\r\n'])
def test_metadata_saved_by_a_spreadsheet_keeps_every_line_and_label(tmp_path, bom, newline):
    """A BOM (as spreadsheets save UTF-8 CSV) cost every label with exit 0 and the first URL."""
    from kaokore_mm.converters.kaokore_metadata import convert

    d = tmp_path / 'meta'
    d.mkdir()
    urls = [f'{BASE}/{20 * k},10,100,100/256,/0/default.jpg' for k in range(3)]
    (d / 'urls.txt').write_bytes(bom + newline.join(u.encode() for u in urls) + newline)
    rows = ['image,gender,status,set', *(f'{k:08d}.jpg,1,{k},train' for k in range(3))]
    (d / 'labels.csv').write_bytes(bom + newline.join(r.encode() for r in rows) + newline)
    coco, report = convert(d)
    assert len(coco['annotations']) == 3 and report.skipped == []
    assert [a['attributes']['status_id'] for a in coco['annotations']] == [0, 1, 2]


def test_a_labels_file_with_another_header_stops_instead_of_dropping_every_label(tmp_path):
    from kaokore_mm.converters.kaokore_metadata import convert

    d = metadata(tmp_path, [f'{BASE}/20,10,100,100/256,/0/default.jpg'])
    (d / 'labels.csv').write_text('file;gender;status;set\n00000000.jpg;0;0;train\n')
    with pytest.raises(ValueError, match='labels.csv: header .* is not image,gender,status,set'):
        convert(d)
