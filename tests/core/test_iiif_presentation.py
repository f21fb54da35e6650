"""Manifests as institutions publish them (the shared corpus, read in place): every one read, its
pages counted against an independent count, skipped canvases named, nothing refused whole for
one bad canvas; labels, services, Choice, canvas sizes and coordinates (pure Python)."""

import csv
import json
from pathlib import Path

import pytest

from kaokore_mm.core.iiif_presentation import (
    PresentationError,
    canvas_scale,
    full_image_url,
    image_service,
    read_manifest,
    text_of,
    to_canvas,
    to_pixels,
)

CORPUS = Path(__file__).resolve().parents[3] / 'shared' / 'data' / 'iiif-corpus'


def corpus_rows():
    if not CORPUS.is_dir():  # the corpus is part of every checkout's shared/: its absence is a failure
        pytest.fail(f'the IIIF corpus is missing: {CORPUS}', pytrace=False)
    with open(CORPUS / 'SOURCES.tsv', encoding='utf-8') as f:
        return list(csv.DictReader(f, delimiter='\t'))


MANIFESTS = [r for r in corpus_rows() if r['file'].startswith('manifests/')]
# canvases that are not one whole image: refused by name (the corpus's own feature tags)
WHOLLY_COMPOSED = {'manifests/x_tudelft_inventing_creativity_p3.json', 'manifests/cb_0299_region.json'}


def load(rel):
    return json.loads((CORPUS / rel).read_text(encoding='utf-8-sig'))


def painted_canvases(doc):
    """An independent count: canvases with at least one painting annotation."""
    if 'sequences' in doc:
        canvases = doc['sequences'][0].get('canvases', [])
        return len(canvases), sum(1 for c in canvases if c.get('images'))
    canvases = doc['items']
    return len(canvases), sum(1 for c in canvases if any(p.get('items') for p in c.get('items', [])))


def test_the_corpus_is_large_and_japanese_first():
    assert len(MANIFESTS) >= 40
    assert sum(r['file'].startswith('manifests/jp_') for r in MANIFESTS) >= 20


@pytest.mark.parametrize('row', MANIFESTS, ids=[Path(r['file']).stem for r in MANIFESTS])
def test_every_real_manifest_is_read(row):
    doc = load(row['file'])
    m = read_manifest(doc)
    total, painted = painted_canvases(doc)
    assert len(m.pages) + len(m.skipped) == total  # every canvas is a page or named as skipped
    assert all(s['reason'] for s in m.skipped)
    blank = total - painted
    assert sum(s['reason'] == 'no image painted on it' for s in m.skipped) == blank
    if row['file'] in WHOLLY_COMPOSED:
        assert not m.pages and all('not supported' in s['reason'] for s in m.skipped)
        return
    assert m.pages, f'{row["file"]}: no page read ({m.skipped[:2]})'
    assert len(m.pages) == painted  # one bad canvas never costs the book
    assert m.version == (2 if row['version'] == 'P2' else 3)
    for p in m.pages:
        assert isinstance(p.label, str) and p.label.strip() != '' or p.label == ' '
        assert p.service or p.image_url.startswith(('http://', 'https://'))
        url = full_image_url(p)
        if p.service_version == 2:
            assert url.endswith('/full/full/0/default.jpg')  # max is not Image API 2
        if p.service_version == 3:
            assert url.endswith('/full/max/0/default.jpg')
    assert isinstance(m.label, str)


def test_japanese_institutions_publish_image_api_2_and_it_is_kept():
    versions = {}
    for row in MANIFESTS:
        if row['file'].startswith('manifests/jp_') and 'imageapi2' in row['features']:
            m = read_manifest(load(row['file']))
            versions[row['file']] = {p.service_version for p in m.pages if p.service}
    assert versions and all(v == {2} for v in versions.values()), versions


def test_p2_language_tagged_labels_and_p3_language_maps():
    assert text_of([{'@value': 'Genji', '@language': 'en'}, {'@value': '源氏', '@language': 'ja'}]) == '源氏'
    assert text_of({'@value': 'x', '@language': 'fr'}) == 'x'
    assert text_of({'none': [], 'en': ['Book']}) == 'Book'
    assert text_of({'none': []}) == '' and text_of(None) == '' and text_of(['a', 'b']) == 'a'
    riksarkivet = read_manifest(load('manifests/x_riksarkivet_traktater_valuelist.json'))  # P2 value lists
    assert all(isinstance(p.label, str) and p.label for p in riksarkivet.pages)


def test_every_service_of_a_list_is_kept_and_the_image_api_one_used():
    m = read_manifest(load('manifests/x_bodleian_lp44_p3_imageapi3.json'))  # Image API 2 and 3 both listed
    p = m.pages[0]
    assert len(p.services) >= 2
    assert image_service(p.services) == (p.service, p.service_version)
    assert {s.get('type') or s.get('@type') for s in p.services} >= {'ImageService2', 'ImageService3'}


def test_blank_canvases_are_listed_not_fatal():
    m = read_manifest(load('manifests/x_biblissima_florus_dispersus_blank.json'))
    assert len(m.skipped) == 84 and len(m.pages) == 322 - 84
    cb = read_manifest(load('manifests/cb_0283_missing_image.json'))
    assert [s['reason'] for s in cb.skipped] == ['no image painted on it'] and len(cb.pages) == 3


def test_a_choice_takes_its_default_item():
    m = read_manifest(load('manifests/jp_utokyo_kunshujo_mosaic_choice.json'))  # oa:Choice, P2
    doc = load('manifests/jp_utokyo_kunshujo_mosaic_choice.json')
    choice = doc['sequences'][0]['canvases'][0]['images'][0]['resource']
    assert m.pages[0].image_url == choice['default']['@id']
    p3 = read_manifest(load('manifests/cb_0033_choice.json'))
    body = load('manifests/cb_0033_choice.json')['items'][0]['items'][0]['items'][0]['body']
    assert p3.pages[0].image_url == body['items'][0]['id']


def test_composed_canvases_take_the_image_covering_the_canvas():
    m = read_manifest(load('manifests/jp_utokyo_kaishi_okoshiezu_7-2-24.json'))  # a pop-up drawing, 16 images
    assert len(m.pages) == 1 and m.pages[0].overlays == 15


def test_a_canvas_larger_than_its_image_maps_boxes_both_ways():
    m = read_manifest(load('manifests/x_wellcome_wunder_vererbung_p3.json'))
    p = m.pages[0]
    assert (p.width, p.height) == (2569, 3543) and (p.image_width, p.image_height) == (742, 1024)
    scale = canvas_scale((p.width, p.height), (742, 1024))  # the page as downloaded at the body's size
    face = [100.0, 200.0, 50.0, 60.0]
    on_canvas = to_canvas(face, scale)
    assert on_canvas[0] == pytest.approx(100 * 2569 / 742) and on_canvas[3] == pytest.approx(60 * 3543 / 1024)
    assert to_pixels(on_canvas, scale) == pytest.approx(face)
    assert canvas_scale(None, (742, 1024)) == (1.0, 1.0)


def test_not_a_manifest_is_one_error():
    for doc in ([], 'x', {'@type': 'sc:Collection'}):
        with pytest.raises(PresentationError):
            read_manifest(doc)
    m = read_manifest({'items': ['canvas', {'type': 'Range'}, {'id': 'c'}]})
    assert not m.pages and len(m.skipped) == 3
