import codecs
import json
from pathlib import Path

import pytest

from kaokore_mm.converters.web_annotation import annotation_page, parse_xywh, read_annotations
from tests.conftest import load_tool

CANVAS = 'https://example.org/iiif/book1/canvas/p1'


def test_w3c_and_iiif_list_targets():
    doc = {
        'type': 'AnnotationPage',
        'items': [
            {
                'type': 'Annotation',
                'target': f'{CANVAS}#xywh=10,20,30,40',
                'body': [{'type': 'TextualBody', 'value': 'noble'}, {'type': 'TextualBody', 'value': 'female'}],
            },
            {
                'type': 'Annotation',
                'target': {
                    'type': 'SpecificResource',
                    'source': CANVAS,
                    'selector': {'type': 'FragmentSelector', 'value': 'xywh=percent:10,10,5,5'},
                },
            },
            {
                'type': 'Annotation',
                'target': {'source': CANVAS, 'selector': {'type': 'SvgSelector', 'value': '<svg/>'}},
            },
        ],
    }
    faces, problems = read_annotations(doc, {CANVAS: (1000, 800)})
    assert faces[0]['bbox'] == [10, 20, 30, 40] and faces[0]['attributes'] == dict(status='noble', gender='female')
    assert faces[1]['bbox'] == [100, 80, 50, 40]
    assert problems == [(2, f'target {CANVAS}: an SVG selector without a rectangle, polygon or straight path')]
    prezi2 = {
        '@type': 'sc:AnnotationList',
        'resources': [
            {
                '@type': 'oa:Annotation',
                'resource': {'@type': 'dctypes:Text', 'chars': '<p>武士</p>'},
                'on': {
                    '@type': 'oa:SpecificResource',
                    'full': CANVAS,
                    'selector': {
                        '@type': 'oa:Choice',
                        'default': {'@type': 'oa:FragmentSelector', 'value': 'xywh=5,6,7,8'},
                    },
                },
            }
        ],
    }
    faces, problems = read_annotations(prezi2)
    assert faces[0]['bbox'] == [5, 6, 7, 8] and faces[0]['attributes'] == dict(status='warrior') and not problems
    assert parse_xywh('xywh=pixel:1,2,3,4') == ('pixel', [1, 2, 3, 4])


def test_annotation_page_round_trip():
    page = annotation_page(CANVAS, [dict(bbox=[10, 20, 30, 40], score=0.87, tags=['noble'])])
    assert page['type'] == 'AnnotationPage' and page['items'][0]['target']['source'] == CANVAS
    assert page['items'][0]['target']['selector']['value'] == 'xywh=10,20,30,40'
    faces, problems = read_annotations(page)
    assert faces[0]['bbox'] == [10, 20, 30, 40] and faces[0]['score'] == 0.87 and not problems
    assert faces[0]['attributes'] == dict(status='noble')


def test_import_tool_reports_and_clips(tmp_path, capsys):
    tool = load_tool('dataset_converters/import_annotations')
    pages = tmp_path / 'pages.json'
    pages.write_text(
        json.dumps(
            dict(
                images=[dict(id=1, file_name='p1.jpg', width=1000, height=800, canvas=CANVAS, book_id='book1')],
                annotations=[],
            )
        )
    )
    w3c = tmp_path / 'w3c.json'
    w3c.write_text(
        json.dumps(
            {
                'type': 'AnnotationPage',
                'label': 'faces of book1',  # the document says what its regions are
                'items': [
                    {'type': 'Annotation', 'target': f'{CANVAS}#xywh=990,790,30,40'},
                    {'type': 'Annotation', 'target': f'{CANVAS}#xywh=2000,10,30,40'},
                    {'type': 'Annotation', 'target': 'https://elsewhere/canvas#xywh=1,1,2,2'},
                ],
            }
        )
    )
    coco = tmp_path / 'user_coco.json'  # saved by Notepad: UTF-8 with a BOM
    coco.write_bytes(
        codecs.BOM_UTF8
        + json.dumps(
            dict(
                images=[
                    dict(id=7, file_name='../x.jpg', width=5, height=5),
                    dict(id=8, file_name='q.jpg', width=100, height=100),
                ],
                annotations=[
                    dict(id=1, image_id=8, category_id=1, bbox=[10, 10, 20, 20]),
                    dict(id=2, image_id=8, category_id=1, bbox=[10, 10, 0, 5]),
                    dict(id=3, image_id=7, category_id=1, bbox=[1, 1, 2, 2]),
                ],
                categories=[dict(id=1, name='face')],
            )
        ).encode('utf-8')
    )
    (tmp_path / 'broken.json').write_text('{not json')
    out = tmp_path / 'out.json'
    assert (
        tool.main(
            [
                '--input',
                str(w3c),
                str(coco),
                str(tmp_path / 'broken.json'),
                '--pages',
                str(pages),
                '--book-id',
                'mine',
                '--out',
                str(out),
            ]
        )
        == 0
    )
    result = json.loads(out.read_text())
    assert [im['file_name'] for im in result['images']] == ['p1.jpg', 'q.jpg']
    assert [im['book_id'] for im in result['images']] == ['book1', 'mine']
    assert [a['bbox'] for a in result['annotations']] == [[990, 790, 10, 10], [10, 10, 20, 20]]
    text = capsys.readouterr().out
    assert '6 items skipped' in text
    for reason in (
        'lies wholly outside page p1.jpg',
        'https://elsewhere/canvas is not among the pages',
        "unsafe or empty file name '../x.jpg'",
        'empty bbox',
        'unknown or unusable image 7',
        'broken.json: not a readable JSON file',
    ):
        assert reason in text


def test_a_curation_round_trips_and_bad_members_are_named():
    """cr:Curation (CODH's IIIF Curation API) as annotate and merge_corrections write it, read back by the importer."""
    from kaokore_mm.converters.curation import curation, read_curation

    doc = curation(
        'http://h/curation.json',
        'http://h/manifest.json',
        'book',
        [
            dict(canvas='http://h/canvas/p1', bbox=[10.2, 20, 30, 40], status='noble', gender='female', score=0.87),
            dict(canvas='http://h/canvas/p2', bbox=[1, 2, 3, 4]),
        ],
    )
    assert doc['@type'] == 'cr:Curation' and doc['selections'][0]['within']['@id'] == 'http://h/manifest.json'
    members = doc['selections'][0]['members']
    assert members[0]['@id'] == 'http://h/canvas/p1#xywh=10,20,31,40'
    assert {m['label']: m['value'] for m in members[0]['metadata']} == dict(
        status='noble', gender='female', score='0.8700'
    )
    faces, problems = read_curation(doc)
    assert not problems and [f['canvas'] for f in faces] == ['http://h/canvas/p1', 'http://h/canvas/p2']
    assert faces[0]['bbox'] == [10, 20, 31, 40] and faces[0]['attributes'] == dict(status='noble', gender='female')
    assert faces[0]['score'] == 0.87 and faces[1]['attributes'] == {}
    members.append({'@id': 'http://h/canvas/p3'})  # no region
    members.append({'@id': 'http://h/canvas/p3#xywh=1,1,5,5', 'metadata': [dict(label='score', value='high')]})
    faces, problems = read_curation(doc)
    assert len(faces) == 2 and [k for k, _ in problems] == [2, 3] and 'not a number' in problems[1][1]


CORPUS = Path(__file__).resolve().parents[3] / 'shared' / 'data' / 'iiif-corpus'


def pages_for(doc_faces, size=(10000, 10000)):
    """A page COCO with every canvas the document's regions name (the canvases' sizes unknown here:
    large pages, so that only the face rule decides)."""
    canvases = sorted({f['canvas'] for f in doc_faces})
    return {
        c: dict(id=k + 1, file_name=f'p{k}.jpg', width=size[0], height=size[1], canvas=c, book_id='b')
        for k, c in enumerate(canvases)
    }


def collect(doc, all_regions=False, size=(10000, 10000)):
    from kaokore_mm.converters.curation import is_curation, read_curation
    from kaokore_mm.converters.import_pages import PageCollector

    faces, _ = read_curation(doc) if is_curation(doc) else read_annotations(doc)
    col = PageCollector(all_regions=all_regions)
    col.add_web_annotations(doc, 'doc', pages_for(faces, size))
    return col, faces


@pytest.mark.parametrize(
    'name, faces_kept',
    [
        ('curations/cur_ndl_face_finder_ayame.json', 'all'),  # "顔 18点": machine-found faces
        ('curations/cur_ndl_face_finder_genji54gekko.json', 'all'),
        ('curations/cur_kyushu_genji_mpexnii_27.json', 'none'),  # text positions
        ('curations/cur_hi_chukaizuhen_4256312.json', 'none'),  # ships, buildings
        ('curations/cur_utda_genji_vol27_kagaribi.json', 'none'),  # whole pages of a text
        ('annotations/ann_nijl_gagakufu_100376839_p296_1.json', 'none'),  # music layout regions
        ('annotations/ann_mirador_svg_annotations_page.json', 'none'),  # comments on shapes
    ],
)
def test_the_importer_keeps_the_faces_of_real_documents(name, faces_kept):
    """Documents as institutions and viewers write them: a curation of faces comes in, curations of
    text positions, ships or whole pages and regions tagged as music do not, each counted with
    why; with --all-regions (``all_regions``) every box comes in."""
    doc = json.loads((CORPUS / name).read_text(encoding='utf-8-sig'))
    col, faces = collect(doc)
    assert faces
    if faces_kept == 'all':
        assert len(col.annotations) == len(faces) and not col.not_faces
    else:
        assert not col.annotations and len(col.not_faces) == len(faces)
        assert all(n['reason'] for n in col.not_faces)
    everything, _ = collect(doc, all_regions=True)
    assert len(everything.annotations) == len(faces)


def test_a_whole_page_region_of_a_face_document_is_not_a_face():
    doc = {
        'label': 'faces',
        'items': [
            {'type': 'Annotation', 'target': f'{CANVAS}#xywh=0,0,1000,800'},
            {'type': 'Annotation', 'target': f'{CANVAS}#xywh=10,10,50,60'},
        ],
    }
    col, _ = collect(doc, size=(1000, 800))
    assert [a['bbox'] for a in col.annotations] == [[10, 10, 50, 60]]
    assert 'covers 100% of its page' in col.not_faces[0]['reason']
    tagged = {
        'items': [
            {
                'type': 'Annotation',
                'body': {'type': 'TextualBody', 'value': 'face'},
                'target': f'{CANVAS}#xywh=0,0,1000,800',
            }
        ]
    }
    assert len(collect(tagged, size=(1000, 800))[0].annotations) == 1  # named a face itself: kept


def test_rectangles_drawn_in_mirador_and_annotorious_come_in_as_svg():
    """Mirador's annotation plugin saves a rectangle as an SVG path; a Mirador 2 annotation offers
    the same box as a fragment and an SVG path; polygons are not boxes."""
    from kaokore_mm.converters.web_annotation import svg_rectangle

    ext = json.loads((CORPUS / 'annotations/ann_mirador_annotations_extended_svg_page.json').read_text())
    faces, problems = read_annotations(ext)
    assert not problems and faces[0]['bbox'] == pytest.approx([784.25, 845.47, 200.33, 183.36], abs=0.01)
    dual = json.loads((CORPUS / 'annotations/ann_mirador2_dual_choice_anno.json').read_text())
    sel = dual['on']['selector']
    box, _ = svg_rectangle(sel['item']['value'])
    assert box == pytest.approx([1000, 219, 198, 148], abs=1)  # the same box as its fragment
    osd = json.loads((CORPUS / 'annotations/ann_annotorious_osd_w3c_list.json').read_text())
    triangle = osd[2]['target']['selector']['value']  # Annotorious's polygon tool
    assert 'not an axis-aligned rectangle' in svg_rectangle(triangle)[1]
    assert svg_rectangle('<svg><rect x="1" y="2" width="3" height="4"/></svg>') == ([1, 2, 3, 4], None)


def test_a_device_or_a_folder_as_input_is_refused_at_once(tmp_path, capsys):
    """``--input /dev/zero`` read forever; a folder was a traceback: each is one reported item."""
    tool = load_tool('dataset_converters/import_annotations')
    rc = tool.main(['--input', '/dev/zero', str(tmp_path), '--book-id', 'b', '--out', str(tmp_path / 'o.json')])
    text = capsys.readouterr().out
    assert rc == 1 and text.count('not a regular file') == 2 and not (tmp_path / 'o.json').exists()
