"""CorrectionStore, the review app's files on disk, without the web stack: versions and conflicts,
what a save refuses, damaged files named as the page's problem, the effort read from the logs."""

import json

import pytest

from kaokore_mm.review.store import (
    ConflictError,
    CorrectionStore,
    Damaged,
    NotFound,
    ReviewError,
    checked_actions,
    safe_stem,
)


def box(x, y, w, h, *tags, id=None):
    ann = dict(
        type='Annotation',
        target=dict(selector=dict(type='FragmentSelector', value=f'xywh=pixel:{x},{y},{w},{h}')),
        body=[dict(type='TextualBody', purpose='tagging', value=t) for t in ('face', *tags)],
    )
    if id is not None:
        ann['id'] = id
    return ann


@pytest.fixture
def store(annotated):
    out, _ = annotated
    return CorrectionStore(out)


def test_a_page_starts_as_its_proposals_and_each_save_is_a_version(store):
    stem = next(iter(store.pages))
    first = store.load(stem)
    assert first['kaokore:version'] == 0 and first['kaokore:state'] == 'to review'
    assert len(first['items']) == store.pages[stem]['proposals'] > 0
    saved = store.save(stem, [box(10, 10, 40, 40, 'noble')], 0, actions=[dict(op='draw', t=1.0)])
    assert saved['kaokore:version'] == 1 and saved['kaokore:state'] == 'in progress'
    again = store.load(stem)
    assert again['kaokore:version'] == 1 and [a['target']['selector']['value'] for a in again['items']] == [
        'xywh=10,10,40,40'
    ]
    assert [t['value'] for t in again['items'][0]['body']] == ['face', 'noble']
    rows = {r['stem']: r for r in store.summary()}
    assert (rows[stem]['state'], rows[stem]['faces'], rows[stem]['version']) == ('in progress', 1, 1)
    assert all(r['state'] == 'to review' for s, r in rows.items() if s != stem)


def test_a_stale_save_is_a_conflict_and_logs_nothing(store):
    stem = next(iter(store.pages))
    store.save(stem, [], 0, actions=[dict(op='delete', t=1.0)])
    with pytest.raises(ConflictError, match='saved elsewhere .version 1, this view has 0.'):
        store.save(stem, [box(1, 1, 20, 20)], 0, actions=[dict(op='draw', t=2.0)])
    assert store.load(stem)['items'] == []
    assert store.effort()['operations'] == {'delete': 1}  # the refused save's draw is not counted


@pytest.mark.parametrize(
    'items, why',
    [
        ('not a list', 'items must be a list'),
        ([dict(target=dict(selector=dict(value='xywh=percent:1,1,5,5')))], 'must be in pixels'),
        ([box(-100, -100, 50, 50)], 'is not on the page'),
        ([box(1, 1, 20, 20, 'emperor')], "unknown label 'emperor'"),
        ([box(1, 1, 20, 20, id='a'), box(30, 30, 20, 20, id='a')], 'id a is already annotation 0'),
        ([dict(target={})], 'no xywh box'),
    ],
)
def test_a_save_refuses_what_is_not_a_face_on_the_page_and_keeps_the_page(store, items, why):
    stem = next(iter(store.pages))
    with pytest.raises(ReviewError, match=why):
        store.save(stem, items, 0)
    assert store.load(stem)['kaokore:version'] == 0  # nothing half-saved


@pytest.mark.parametrize('state, version', [('to review', 0), ('finished', 0), ('done', True), ('done', -1)])
def test_a_save_refuses_bad_states_and_versions(store, state, version):
    with pytest.raises(ReviewError):
        store.save(next(iter(store.pages)), [], version, state=state)


def test_a_damaged_corrections_file_is_that_pages_problem_named_with_its_file(store):
    stem, other = list(store.pages)[:2]
    path = store.out / 'corrections' / f'{stem}.json'
    path.write_text('{"items": [')  # cut short
    with pytest.raises(Damaged, match=f'{path}.*restore it, or delete it'):
        store.load(stem)
    rows = {r['stem']: r for r in store.summary()}
    assert rows[stem]['state'] == 'damaged' and str(path) in rows[stem]['error']
    assert rows[other]['state'] == 'to review'  # the rest of the book is served
    path.unlink()
    assert store.load(stem)['kaokore:version'] == 0


def test_unknown_pages_and_images_outside_the_book_are_not_found(store):
    with pytest.raises(NotFound):
        store.page('nope')
    page = dict(next(iter(store.pages.values())), path=store.out / '..' / '..' / 'etc' / 'hostname')
    with pytest.raises(NotFound, match="outside the book's folder"):
        store.image_path(page)
    for bad in ('../x', 'a/b', '', 'a b'):
        with pytest.raises(NotFound):
            safe_stem(bad)
    assert safe_stem('book_p0001.jpg') == 'book_p0001.jpg'


def test_the_effort_counts_worked_pages_caps_pauses_and_reports_cut_lines(store):
    stem, opened = list(store.pages)[:2]
    store.log(stem, [dict(op='accept', t=100.0), dict(op='resize', t=110.0), dict(op='done', t=1000.0)])
    store.log(opened, [dict(op='open', t=5.0)])  # only opened: not worked on
    log = store.out / 'corrections' / f'{stem}.log.jsonl'
    log.write_text(log.read_text() + '{"op": "dra')  # a record cut by a crash
    effort = store.effort()
    assert effort['pages'] == 1 and effort['operations'] == {'accept': 1, 'resize': 1, 'done': 1}
    assert effort['active_seconds'] == 10.0 + 60.0  # the 890 s pause counts as the idle cap
    assert effort['edit_operations'] == 1 and effort['damaged_log_lines'] == {stem: [4]}  # its line number


@pytest.mark.parametrize(
    'actions',
    [
        'draw',
        [dict(op='paint', t=1.0)],
        [dict(op='draw', t=True)],
        [dict(op='draw', t=float('nan'))],
        [dict(op='draw', t=10**400)],
        [dict(op='draw')],
    ],
)
def test_actions_are_operations_with_times(actions):
    with pytest.raises(ReviewError):
        checked_actions(actions)


def test_a_folder_that_is_not_annotate_output_is_refused(tmp_path, tiny_data):
    with pytest.raises(ReviewError, match='run annotate.py first'):
        CorrectionStore(tmp_path)
    (tmp_path / 'annotations.coco.json').write_bytes((tiny_data / 'annotations' / 'pages.json').read_bytes())
    with pytest.raises(ReviewError, match='not the output of annotate.py .a training COCO'):
        CorrectionStore(tmp_path)
    (tmp_path / 'annotations.coco.json').write_text(json.dumps([1, 2]))
    with pytest.raises(ReviewError, match='not a COCO file'):
        CorrectionStore(tmp_path)
