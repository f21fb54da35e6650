"""End to end: train briefly, annotate a held-out book, merge its ground truth as corrections."""

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import load_tool
from tests.converters.iiif_server import FaultyIIIFServer
from tests.test_compat import DEMO, tiny_opts

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def detector(tiny_data, tmp_path_factory):
    work = tmp_path_factory.mktemp('det')
    load_tool('train').main([DEMO, '--work-dir', str(work), *tiny_opts(tiny_data, 2)])
    return work / 'iter_2.pth'


def test_annotate_then_merge_corrections(tiny_data, detector, tmp_path):
    coco = json.loads((tiny_data / 'annotations/pages.json').read_text())
    held_out = [im for im in coco['images'] if im['book_id'] == 'book003']
    book = tmp_path / 'newbook'
    book.mkdir()
    for im in held_out:
        shutil.copy(tiny_data / im['file_name'], book / Path(im['file_name']).name)
    out = tmp_path / 'annotated'
    annotate = load_tool('annotate')
    args = [DEMO, str(detector), '--images', str(book), '--out', str(out), '--score-thr', '0.0']
    meta = annotate.main(args)
    assert meta['pages'] == len(held_out) and meta['pages_predicted_now'] == len(held_out)
    assert annotate.main(args)['pages_predicted_now'] == 0  # resumable: nothing predicted again
    # COCO loads with pycocotools
    from pycocotools.coco import COCO

    c = COCO(str(out / 'annotations.coco.json'))
    assert len(c.getImgIds()) == len(held_out) and all('score' in a for a in c.dataset['annotations'])
    assert c.dataset['info']['score_thr'] == 0.0
    # W3C Web Annotation model: type, target source and selector
    for page in sorted((out / 'w3c').glob('*.json')):
        doc = json.loads(page.read_text())
        assert doc['@context'][0] == 'http://www.w3.org/ns/anno.jsonld' and doc['type'] == 'AnnotationPage'
        for a in doc['items']:
            assert a['type'] == 'Annotation' and a['target']['type'] == 'SpecificResource'
            assert a['target']['source'].startswith('http://127.0.0.1:8000/canvas/')  # never a file:// path
            sel = a['target']['selector']
            assert sel['type'] == 'FragmentSelector' and sel['conformsTo'] == 'http://www.w3.org/TR/media-frags/'
            assert re.fullmatch(r'xywh=\d+,\d+,\d+,\d+', sel['value'])  # integer pixels (Media Fragments)
    rows = list(csv.DictReader(io.StringIO(Path(out / 'annotations.csv').read_text())))
    assert len(rows) == len(c.dataset['annotations'])
    assert (out / 'review' / 'contact_sheet.jpg').exists() or not rows
    assert len(list((out / 'review').glob('*.jpg'))) >= len(held_out)

    # the annotator's corrections = the true faces of the book, as COCO on the same pages
    by_name = {Path(im['file_name']).name: im for im in held_out}
    corrected = dict(images=[], annotations=[], categories=[dict(id=1, name='face')])
    for im in c.dataset['images']:
        src = by_name[Path(im['file_name']).name]
        corrected['images'].append(dict(im))
        for a in coco['annotations']:
            if a['image_id'] == src['id']:
                corrected['annotations'].append(
                    dict(
                        id=len(corrected['annotations']) + 1,
                        image_id=im['id'],
                        category_id=1,
                        bbox=a['bbox'],
                        attributes=a['attributes'],
                    )
                )
    corr_file = out / 'corrected.coco.json'
    corr_file.write_text(json.dumps(corrected))
    train_ann = tmp_path / 'data' / 'annotations' / 'pages.json'
    train_ann.parent.mkdir(parents=True)
    for im in coco['images']:  # the other books' pages, as in a real training set
        if im['book_id'] != 'book003':
            (tmp_path / 'data' / im['file_name']).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(tiny_data / im['file_name'], tmp_path / 'data' / im['file_name'])
    train_ann.write_text(
        json.dumps(
            dict(
                coco,
                images=[im for im in coco['images'] if im['book_id'] != 'book003'],
                annotations=[a for a in coco['annotations'] if a['image_id'] not in {im['id'] for im in held_out}],
            )
        )
    )
    merge = load_tool('merge_corrections')
    margs = [
        '--corrections',
        str(corr_file),
        '--pages',
        str(out / 'annotations.coco.json'),
        '--book-id',
        'newbook',
        '--train-ann',
        str(train_ann),
        '--data-root',
        str(tmp_path / 'data'),
        '--predictions',
        str(out / 'annotations.coco.json'),
    ]
    assert merge.main(margs) == 0
    merged = json.loads(train_ann.read_text())
    new_pages = [im for im in merged['images'] if im['book_id'] == 'newbook']
    assert len(new_pages) == len(held_out)
    assert all((tmp_path / 'data' / im['file_name']).is_file() for im in new_pages)
    got = sorted(
        tuple(round(v, 2) for v in a['bbox'])
        for a in merged['annotations']
        if a['image_id'] in {im['id'] for im in new_pages}
    )
    want = sorted(
        tuple(round(v, 2) for v in a['bbox'])
        for a in coco['annotations']
        if a['image_id'] in {im['id'] for im in held_out}
    )
    assert got == want  # the book is in the training set with the right boxes
    report = json.loads((train_ann.parent / 'merge_newbook.json').read_text())
    assert report['num_gt'] == len(want) and 0 <= report['recall'] <= 1 and 'manual_share' in report
    from kaokore_mm.utils.cli import UserError

    with pytest.raises(UserError, match='already in the training set'):
        merge.main(margs)
    assert merge.main([*margs, '--replace']) == 0
    assert len([im for im in json.loads(train_ann.read_text())['images'] if im['book_id'] == 'newbook']) == len(
        held_out
    )
    # re-training sees the new book through the usual dataset
    from mmengine.registry import init_default_scope

    from kaokore_mm.datasets import KaoKoreFaceDataset

    init_default_scope('mmdet')
    ds = KaoKoreFaceDataset(ann_file=str(train_ann), data_root=str(tmp_path / 'data'), pipeline=[])
    assert 'newbook' in {ds.get_data_info(i)['book_id'] for i in range(len(ds))}


def test_w3c_corrections_placed_on_canvases(tiny_data, detector, tmp_path):
    book = tmp_path / 'b'
    book.mkdir()
    im = json.loads((tiny_data / 'annotations/pages.json').read_text())['images'][0]
    shutil.copy(tiny_data / im['file_name'], book / 'p.jpg')
    out = tmp_path / 'ann'
    load_tool('annotate').main([DEMO, str(detector), '--images', str(book), '--out', str(out)])
    canvas = json.loads((out / 'annotations.coco.json').read_text())['images'][0]['canvas']  # an http id
    assert canvas.startswith('http://127.0.0.1:8000/canvas/p.jpg-')
    w3c = {'type': 'AnnotationPage', 'items': [{'type': 'Annotation', 'target': f'{canvas}#xywh=10,20,30,40'}]}
    (out / 'fixed.json').write_text(json.dumps(w3c))
    train = tmp_path / 'train.json'
    train.write_text(json.dumps(dict(images=[], annotations=[], categories=[dict(id=1, name='face')])))
    assert (
        load_tool('merge_corrections').main(
            [
                '--corrections',
                str(out / 'fixed.json'),
                '--pages',
                str(out / 'annotations.coco.json'),
                '--book-id',
                'w3cbook',
                '--train-ann',
                str(train),
                '--data-root',
                str(tmp_path / 'd'),
            ]
        )
        == 0
    )
    merged = json.loads(train.read_text())
    assert merged['annotations'][0]['bbox'] == [10, 20, 30, 40] and merged['images'][0]['book_id'] == 'w3cbook'


def test_annotate_a_iiif_manifest(detector, tmp_path):

    with FaultyIIIFServer(['scroll/p1', 'scroll/p2'], faults={'scroll/p2': ['503']}) as srv:
        items = [
            {
                'id': f'https://example.org/canvas/{k}',
                'type': 'Canvas',
                'width': 320,
                'height': 200,
                'items': [
                    {
                        'type': 'AnnotationPage',
                        'items': [
                            {
                                'type': 'Annotation',
                                'motivation': 'painting',
                                'body': {
                                    'type': 'Image',
                                    'service': [{'id': f'{srv.base}/scroll/p{k}', 'type': 'ImageService3'}],
                                },
                            }
                        ],
                    }
                ],
            }
            for k in (1, 2)
        ]
        # the manifest by URL, from the same server (fetched with the downloader's retries and limits)
        srv.documents['/books/scroll.json'] = {
            '@context': 'http://iiif.io/api/presentation/3/context.json',
            'type': 'Manifest',
            'items': items,
        }
        manifest = srv.base.rsplit('/', 1)[0] + '/books/scroll.json'
        out = tmp_path / 'out'
        meta = load_tool('annotate').main([DEMO, str(detector), '--iiif-manifest', manifest, '--out', str(out)])
    assert meta['pages'] == 2 and meta['book_id'] == 'scroll'
    coco = json.loads((out / 'annotations.coco.json').read_text())
    assert [im['canvas'] for im in coco['images']] == ['https://example.org/canvas/1', 'https://example.org/canvas/2']
    assert all((out / im['file_name']).is_file() for im in coco['images'])
    assert {
        json.loads(p.read_text())['items'][0]['target']['source'] if json.loads(p.read_text())['items'] else None
        for p in (out / 'w3c').glob('*.json')
    } <= {None, *[im['canvas'] for im in coco['images']]}


def test_a_manifest_url_or_file_that_cannot_be_read_is_one_line(tmp_path, capsys):
    """--iiif-manifest by URL is fetched with the downloader's limits; a 404, a file that is not
    JSON: one line naming the manifest, exit 2, before any model is built."""
    import torch

    from kaokore_mm.utils.cli import cli_main

    not_json = tmp_path / 'm.json'
    not_json.write_bytes(b'\xff\xfe<html>')
    ckpt = tmp_path / 'c.pth'  # a checkpoint file (checked first, cheaply; never loaded here)
    torch.save(dict(state_dict={}), ckpt)
    with FaultyIIIFServer(['p1']) as srv:
        cases = [(f'{srv.base}/none/manifest.json', 'the manifest not fetched: HTTP 404'), (str(not_json), 'UTF-8')]
        for src, needle in cases:
            args = [DEMO, str(ckpt), '--iiif-manifest', src, '--out', str(tmp_path / 'o')]
            rc = cli_main(load_tool('annotate').main, args)
            err = capsys.readouterr().err
            assert rc == 2 and err.count('\n') == 1 and f'--iiif-manifest {src}: ' in err and needle in err, err


def test_manifest_2x_pages():
    from kaokore_mm.converters.iiif_manifest import ManifestError, manifest_pages

    m = {
        'sequences': [
            {
                'canvases': [
                    {
                        '@id': 'c1',
                        'width': 10,
                        'height': 20,
                        'label': 'p. 1',
                        'images': [{'resource': {'service': {'@id': 'https://x/iiif/p1'}}}],
                    }
                ]
            }
        ]
    }
    (page,) = manifest_pages(m)
    assert (page['canvas'], page['width'], page['height'], page['label']) == ('c1', 10, 20, 'p. 1')
    assert page['iiif_base'] == 'https://x/iiif/p1' and page['image_url'] == 'https://x/iiif/p1/full/full/0/default.jpg'
    with pytest.raises(ManifestError, match='not a IIIF Presentation'):
        manifest_pages({'foo': 1})


def test_cfg_options_change_the_test_settings_and_the_model_tag(tiny_data, detector, tmp_path, capsys):
    """annotate.py --cfg-options (e.g. the papers' plain grid) reaches the predictor, and the
    predictions made with other settings are not reused. By default it proposes at the operating
    point the training's validation kept in the checkpoint."""
    from kaokore_mm.engine.hooks import read_operating_point

    book = tmp_path / 'b'
    book.mkdir()
    im = json.loads((tiny_data / 'annotations/pages.json').read_text())['images'][0]
    shutil.copy(tiny_data / im['file_name'], book / 'p.jpg')
    tool = load_tool('annotate')
    out = tmp_path / 'ann'
    first = tool.main([DEMO, str(detector), '--images', str(book), '--out', str(out)])
    point = read_operating_point(detector)  # train.py validated iteration 2: its checkpoint holds the point
    assert point['iter'] == 2 and point['measured_on'] == 'validation'
    assert first['score_thr'] == point['score_thr'] and first['score_thr_from']['source'] == 'validation'
    assert 'the operating point of the validation at iteration 2' in capsys.readouterr().out
    grid = tool.main(
        [
            DEMO,
            str(detector),
            '--images',
            str(book),
            '--out',
            str(out),
            '--cfg-options',
            'test_cfg.overlap=0.0',
            'test_cfg.merge.ioa_thr=None',
        ]
    )
    assert first['pages_predicted_now'] == grid['pages_predicted_now'] == 1
    assert first['model']['detector']['config_sha256'] != grid['model']['detector']['config_sha256']
