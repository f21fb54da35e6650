"""Metadata -> COCO -> download -> sizes and clipping -> crops -> book-aware splits."""

import csv
import io
import json
from pathlib import Path

import cv2
import pytest
from mmengine.registry import init_default_scope

import kaokore_mm  # noqa: F401
from kaokore_mm.datasets import BookSplitSampler, KaoKoreFaceDataset
from tests.conftest import load_tool
from tests.converters.iiif_server import FaultyIIIFServer

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / 'shared' / 'data' / 'kaokore-v1.0'
PAGES = ['bookA/p0', 'bookA/p1', 'bookA/p2', 'bookB/p0', 'bookB/p1', 'bookC/p0', 'bookC/p1', 'bookD/p0']


def write_metadata(d: Path, base: str) -> None:
    d.mkdir(parents=True)
    lines, tags = [], []
    for i, page in enumerate(PAGES):
        lines.append(f'{base}/{page}/{20 + i},{30 + i},50,50/256,/0/default.jpg'.encode())
        tags.append(f'{len(lines) - 1:08d}.jpg:原典=title {page.split("/")[0]};所蔵=test;向き=横')
    lines += [
        b'',  # blank
        f'{base}/bookA/p0/1,2,3/256,/0/default.jpg'.encode(),  # malformed region
        b'\xff\xfe not utf-8',
        lines[0],  # duplicate face
        f'{base}/bookB/p0/400,300,20,20/256,/0/default.jpg'.encode(),  # outside the 320x200 page
        f'{base}/bookB/p1/300,180,40,40/256,/0/default.jpg'.encode(),
    ]  # partly outside: clipped
    (d / 'urls.txt').write_bytes(b'\n'.join(lines) + b'\n')
    (d / 'original_tags.txt').write_text('\n'.join(tags) + '\n', encoding='utf-8')
    (d / 'labels.csv').write_text(
        'image,gender,status,set\n00000000.jpg,1,0,train\n00000001.jpg,0,3,test\n00000002.jpg,7,0,train\n'
    )


def test_metadata_to_training_pages(tmp_path):
    convert = load_tool('dataset_converters/kaokore_pages')
    download = load_tool('download_pages')
    crops = load_tool('dataset_converters/kaokore_crops')
    out = tmp_path / 'kaokore'
    with FaultyIIIFServer(PAGES, faults={'bookA/p1': ['500'], 'bookC/p0': ['truncate']}) as srv:
        write_metadata(tmp_path / 'meta', srv.base)
        assert convert.main(['--kaokore-dir', str(tmp_path / 'meta'), '--out', str(out)]) == 0
        coco = json.loads((out / 'annotations/pages.json').read_text())
        assert len(coco['images']) == 8 and all(im['width'] is None for im in coco['images'])
        assert (
            download.main(
                ['--coco', str(out / 'annotations/pages.json'), '--out', str(out), '--no-progress', '--backoff', '0.01']
            )
            == 0
        )
    assert convert.main(['--kaokore-dir', str(tmp_path / 'meta'), '--out', str(out)]) == 0
    coco = json.loads((out / 'annotations/pages.json').read_text())
    report = json.loads((out / 'annotations/conversion_report.json').read_text())
    assert report['summary'] == dict(lines=14, faces=9, pages=8, books=4, labelled=2, skipped=6)
    reasons = sorted(
        (Path(r['file']).name, r['line'], r['reason'].split(':')[0].split(' (')[0]) for r in report['skipped']
    )
    assert reasons == [
        ('labels.csv', 4, "bad label row '00000002.jpg,7,0,train'"),
        ('urls.txt', 9, 'blank line'),
        ('urls.txt', 10, "bad region '1,2,3'"),
        ('urls.txt', 11, 'not UTF-8'),
        ('urls.txt', 12, 'duplicate face'),
        ('urls.txt', 13, 'face box [400.0, 300.0, 420.0, 320.0] lies wholly outside its page'),
    ]
    assert all((im['width'], im['height']) == (320, 200) for im in coco['images'])
    clipped = next(a for a in coco['annotations'] if a['line'] == 13)  # 0-based: the 14th line
    assert clipped['bbox'] == [300, 180, 20, 20]
    assert {im['book_title'] for im in coco['images']} == {'title bookA', 'title bookB', 'title bookC', 'title bookD'}
    assert crops.main(['--coco', str(out / 'annotations/pages.json'), '--pages-root', str(out), '--out', str(out)]) == 0
    assert cv2.imread(str(out / 'images_256/00000000.jpg')).shape == (256, 256, 3)
    assert list(csv.reader(io.StringIO(Path(out / 'labels.csv').read_text()))) == [
        ['image', 'gender', 'status', 'set'],
        ['00000000.jpg', '1', '0', 'train'],
        ['00000001.jpg', '0', '3', 'test'],
    ]
    init_default_scope('mmdet')
    ds = KaoKoreFaceDataset(ann_file=str(out / 'annotations/pages.json'), data_root=str(out), pipeline=[])
    books = {ds.get_data_info(i)['img_id']: ds.get_data_info(i)['book_id'] for i in range(len(ds))}
    per_subset = {}
    for subset in ('train', 'test'):
        s = BookSplitSampler(ds, split='inter_book', subset=subset, ratios=(0.6, 0, 0.4), shuffle=False)
        per_subset[subset] = {books[ds.get_data_info(i)['img_id']] for i in s}
    assert per_subset['train'] and per_subset['test'] and not per_subset['train'] & per_subset['test']
    for subset in ('train', 'test'):
        s = BookSplitSampler(ds, split='intra_book', subset=subset, ratios=(0.5, 0, 0.5), shuffle=False)
        per_subset[subset] = {books[ds.get_data_info(i)['img_id']] for i in s}
    multi = {b for b in books.values() if list(books.values()).count(b) > 1}
    assert multi <= per_subset['train'] & per_subset['test']


def test_dataset_refuses_pages_without_size(tmp_path):
    from tests.conftest import write_coco

    ann = write_coco(tmp_path / 'a.json', [dict(id=1, file_name='p.jpg', width=None, height=None, book_id='b')], [])
    init_default_scope('mmdet')
    with pytest.raises(ValueError, match='no width/height'):
        KaoKoreFaceDataset(ann_file=str(ann), pipeline=[])


@pytest.mark.skipif(not SHARED.is_dir(), reason='shared KaoKore 1.0 metadata not present')
def test_official_metadata_converts(tmp_path, capsys):
    convert = load_tool('dataset_converters/kaokore_pages')
    assert convert.main(['--kaokore-dir', str(SHARED), '--out', str(tmp_path)]) == 0
    report = json.loads((tmp_path / 'annotations/conversion_report.json').read_text())
    assert report['summary'] == dict(lines=5824, faces=5552, pages=804, books=54, labelled=5298, skipped=272)
    assert {r['reason'] for r in report['skipped']} == {'blank line (no face)'}
    coco = json.loads((tmp_path / 'annotations/pages.json').read_text())
    books = {im['book_id'] for im in coco['images']}
    assert 'keio:110X-445-3' in books and 'kyoto:RB00013182' in books and 'nijl:200016476' in books
    assert not any(b.startswith('keio:110X-445-3-') for b in books)  # volumes are one book
