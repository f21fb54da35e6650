"""The review server's API (Starlette's TestClient): storage, conflicts, validation, logs."""

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from kaokore_mm.review import create_app


@pytest.fixture
def client(annotated):
    return TestClient(create_app(annotated[0]), base_url='http://127.0.0.1:8000')


def first(client):
    pages = client.get('/api/pages').json()['pages']
    return pages, pages[0]['stem']


def box(canvas, xywh, *tags):
    return dict(
        type='Annotation',
        body=[dict(type='TextualBody', purpose='tagging', value=t) for t in ('face', *tags)],
        target=dict(
            type='SpecificResource', source=canvas, selector=dict(type='FragmentSelector', value=f'xywh=pixel:{xywh}')
        ),
    )


def test_pages_proposals_save_and_state(client):
    pages, stem = first(client)
    assert [p['state'] for p in pages] == ['to review', 'to review'] and pages[0]['proposals'] >= 2
    doc = client.get(f'/api/pages/{stem}').json()
    assert doc['kaokore:version'] == 0 and len(doc['items']) == pages[0]['proposals']
    canvas = doc['page']['canvas']
    r = client.put(f'/api/pages/{stem}', json=dict(items=[box(canvas, '10.4,20.6,30.2,40', 'warrior')], version=0))
    assert r.status_code == 200 and r.json()['kaokore:version'] == 1
    saved = client.get(f'/api/pages/{stem}').json()
    assert saved['items'][0]['target']['selector']['value'] == 'xywh=10,20,31,41'  # integer pixels, outwards
    assert [b['value'] for b in saved['items'][0]['body']] == ['face', 'warrior']
    r = client.put(f'/api/pages/{stem}', json=dict(items=saved['items'], version=1, state='done'))
    assert r.json()['kaokore:state'] == 'done'
    assert client.get('/api/pages').json()['pages'][0]['state'] == 'done'
    # Mirador sees the corrections through the manifest's W3C URL
    assert client.get(f'/w3c/{stem}.json').json()['kaokore:version'] == 2
    assert client.get('/manifest.json').json()['type'] == 'Manifest'
    assert client.get(f'/pages/{stem}').headers['content-type'].startswith('image/')


def test_a_stale_save_is_a_conflict_not_an_overwrite(client, annotated):
    _, stem = first(client)
    canvas = client.get(f'/api/pages/{stem}').json()['page']['canvas']
    assert client.put(f'/api/pages/{stem}', json=dict(items=[box(canvas, '1,1,9,9')], version=0)).status_code == 200
    r = client.put(f'/api/pages/{stem}', json=dict(items=[], version=0))  # a second tab, loaded before
    assert r.status_code == 409 and 'reload' in r.json()['error']
    stored = json.loads((annotated[0] / 'corrections' / f'{stem}.json').read_text())
    assert len(stored['items']) == 1 and stored['kaokore:version'] == 1


@pytest.mark.parametrize(
    'item, message',
    [
        (lambda c: box(c, '1,1,9,9', 'emperor'), 'unknown label'),
        (lambda c: box(c, '5000,5000,10,10'), 'not on the page'),
        (lambda c: box(c, 'nan,1,2,3'), 'no xywh box'),
        (lambda c: dict(type='Annotation', target=c), 'no xywh box'),
        # bulk confirmation: only of proposed labels, only of confirmed ones
        (lambda c: dict(box(c, '1,1,9,9'), **{'kaokore:score': 0.9, 'kaokore:sure': ['status']}), 'not proposed'),
        (
            lambda c: dict(box(c, '1,1,9,9'), **{'kaokore:confirmed': [], 'kaokore:bulk': ['gender']}),
            'not confirmed',
        ),
    ],
)
def test_bad_annotations_are_refused(client, annotated, item, message):
    _, stem = first(client)
    canvas = client.get(f'/api/pages/{stem}').json()['page']['canvas']
    r = client.put(f'/api/pages/{stem}', json=dict(items=[item(canvas)], version=0))
    assert r.status_code == 400 and message in r.json()['error']
    assert not (annotated[0] / 'corrections' / f'{stem}.json').exists()


def test_unknown_pages_and_path_tricks(client):
    assert client.get('/api/pages/nope').status_code == 404
    assert client.get('/api/pages/..%2F..%2Fetc').status_code in (400, 404)
    assert client.get('/pages/%2E%2E').status_code in (400, 404)
    assert client.get('/w3c/..%2Fannotate.json').status_code in (400, 404)
    assert client.put('/api/pages/nope', content=b'not json').status_code in (400, 404, 415)


def test_actions_are_logged_and_give_the_effort(client):
    _, stem = first(client)
    acts = [dict(op='open', t=100.0), dict(op='delete', t=103.0), dict(op='draw', t=110.0), dict(op='done', t=500.0)]
    assert client.post(f'/api/pages/{stem}/log', json=dict(actions=acts)).json() == dict(logged=4)
    assert client.post(f'/api/pages/{stem}/log', json=dict(actions=[dict(op='rm -rf', t=1)])).status_code == 400
    effort = client.get('/api/pages').json()['effort']
    assert effort['pages'] == 1 and effort['edit_operations'] == 2
    assert effort['active_seconds'] == pytest.approx(3 + 7 + 60)  # a pause counts at most 60 s


def test_the_label_vocabulary_is_the_packages(client):
    """review.js fills its menus and keys from here: one vocabulary (kaokore_mm/core/labels.py)."""
    from kaokore_mm.core.labels import GENDERS, STATUSES

    assert client.get('/api/labels').json() == dict(status=list(STATUSES), gender=list(GENDERS))


def test_a_page_that_repeats_an_annotation_is_refused(client):
    pages, stem = first(client)
    doc = client.get(f'/api/pages/{stem}').json()
    item = doc['items'][0]
    r = client.put(f'/api/pages/{stem}', json=dict(items=[item, dict(item)], version=0))
    assert r.status_code == 400 and 'is already annotation 0' in r.json()['error']
    assert client.get(f'/api/pages/{stem}').json()['kaokore:version'] == 0  # nothing saved


def test_a_log_cut_by_a_crash_is_reported_and_the_next_append_stands_alone(client, annotated):
    """The log was appended in place: a cut last line made GET /api/pages answer 500 from
    then on, and the next append was glued onto it."""
    _, stem = first(client)
    log = annotated[0] / 'corrections' / f'{stem}.log.jsonl'
    log.write_bytes(b'{"op": "open", "t": 100.0}\n{"op": "del')  # a record cut by a full disk or a kill
    r = client.get('/api/pages')
    assert r.status_code == 200 and r.json()['effort']['damaged_log_lines'] == {stem: [2]}
    assert client.post(f'/api/pages/{stem}/log', json=dict(actions=[dict(op='draw', t=104.0)])).json() == dict(logged=1)
    assert log.read_bytes().splitlines()[1:] == [b'{"op": "del', b'{"op": "draw", "t": 104.0}']
    effort = client.get('/api/pages').json()['effort']
    assert effort['operations'] == dict(open=1, draw=1) and effort['active_seconds'] == pytest.approx(4)


def hostile_requests(canvas, stem):
    good = dict(items=[box(canvas, '1,1,9,9')], version=0)
    js = {'Content-Type': 'application/json'}
    return {
        'cross-site text/plain beacon (CSRF)': (
            'post',
            f'/api/pages/{stem}/log',
            dict(content=json.dumps(dict(actions=[dict(op='open', t=1)])), headers={'Content-Type': 'text/plain'}),
            415,
        ),
        'write from another origin': (
            'put',
            f'/api/pages/{stem}',
            dict(json=good, headers={'Origin': 'http://evil.example'}),
            403,
        ),
        'another Host (DNS rebinding)': ('get', '/api/pages', dict(headers={'Host': 'evil.example'}), 400),
        'a JSON array': ('put', f'/api/pages/{stem}', dict(content='[1, 2]', headers=js), 400),
        'version null': ('put', f'/api/pages/{stem}', dict(json=dict(good, version=None)), 400),
        'version true': ('put', f'/api/pages/{stem}', dict(json=dict(good, version=True)), 400),
        'state a list': ('put', f'/api/pages/{stem}', dict(json=dict(good, state=['done'])), 400),
        'an item body that is a string': (
            'put',
            f'/api/pages/{stem}',
            dict(json=dict(good, items=[dict(box(canvas, '1,1,9,9'), body='face')])),
            400,
        ),
        'an item that is a number': ('put', f'/api/pages/{stem}', dict(json=dict(good, items=[7])), 400),
        'nested 100000 deep': ('put', f'/api/pages/{stem}', dict(content='[' * 100000 + ']' * 100000, headers=js), 400),
        'not UTF-8': ('put', f'/api/pages/{stem}', dict(content=b'{"items": "\xff"}', headers=js), 400),
        'log actions not a list of objects': (
            'post',
            f'/api/pages/{stem}/log',
            dict(json=dict(actions=['open', None])),
            400,
        ),
    }


@pytest.mark.parametrize(
    'case',
    [
        'cross-site text/plain beacon (CSRF)',
        'write from another origin',
        'another Host (DNS rebinding)',
        'a JSON array',
        'version null',
        'version true',
        'state a list',
        'an item body that is a string',
        'an item that is a number',
        'nested 100000 deep',
        'not UTF-8',
        'log actions not a list of objects',
    ],
)
def test_the_server_trusts_no_caller(client, annotated, case):
    """Each answered 500 or was accepted before: now a 4xx with a message, and nothing written."""
    _, stem = first(client)
    canvas = client.get(f'/api/pages/{stem}').json()['page']['canvas']
    method, url, kwargs, status = hostile_requests(canvas, stem)[case]
    r = getattr(client, method)(url, **kwargs)
    assert r.status_code == status, (r.status_code, r.text)
    if status != 400 or case != 'another Host (DNS rebinding)':
        assert r.json()['error']
    corrections = annotated[0] / 'corrections'
    assert not [f for f in corrections.iterdir() if f.name != '.lock']  # no correction, no log line


def test_bodies_are_limited_and_only_the_iiif_routes_are_open_to_other_origins(client, annotated, monkeypatch):
    import kaokore_mm.review.app as app_module

    _, stem = first(client)
    monkeypatch.setattr(app_module, 'MAX_BODY', 1000)
    r = client.put(
        f'/api/pages/{stem}', content='{"items": [' + '0,' * 2000 + '0]}', headers={'Content-Type': 'application/json'}
    )
    assert r.status_code == 413 and 'larger than 1000 bytes' in r.json()['error']
    for url in ('/manifest.json', f'/w3c/{stem}.json', f'/pages/{stem}'):
        assert client.get(url).headers.get('access-control-allow-origin') == '*', url
    for url in ('/api/pages', f'/api/pages/{stem}', '/api/labels'):
        assert 'access-control-allow-origin' not in client.get(url).headers, url


def test_page_images_are_served_only_from_the_books_folder(annotated):
    """A crafted annotations.coco.json with file_name ../../../etc/hostname served that file to any origin."""
    out = annotated[0]
    coco_file = out / 'annotations.coco.json'
    coco = json.loads(coco_file.read_text())
    coco['images'][0]['file_name'] = '../../../../../../../etc/hostname'
    coco_file.write_text(json.dumps(coco))
    client = TestClient(create_app(out), base_url='http://127.0.0.1:8000')
    pages = client.get('/api/pages').json()['pages']
    r = client.get(f'/pages/{pages[0]["stem"]}')
    assert r.status_code == 404 and 'outside the book' in r.json()['error']
    second = next(p for p in (out / 'annotations.coco.json',))  # a page whose image was deleted: 404, not 500
    image = Path(json.loads(second.read_text())['info']['images_root']) / coco['images'][1]['file_name']
    image.unlink()
    r = client.get(f'/pages/{pages[1]["stem"]}')
    assert r.status_code == 404 and 'missing' in r.json()['error']


def test_fuzzed_saves_are_a_4xx_with_a_message_or_a_valid_page(client, annotated):
    """Mutated page bodies (types, NaN, huge numbers, deep nesting, duplicates, missing keys):
    never a 500; a refused body changes nothing; an accepted one reads back as it was stored."""
    import random

    from tests.fuzz import mutate, to_json

    _, stem = first(client)
    doc = client.get(f'/api/pages/{stem}').json()
    valid = dict(items=doc['items'], version=0, state='in progress')
    rng = random.Random(0)
    corrections = annotated[0] / 'corrections' / f'{stem}.json'
    outcomes = {}
    for _ in range(80):
        body, what = mutate(valid, rng)
        version = client.get(f'/api/pages/{stem}').json()['kaokore:version']
        if isinstance(body.get('version'), int) and not isinstance(body.get('version'), bool) and body['version'] == 0:
            body['version'] = version  # keep the save current, so that the mutation is what is judged
        before = corrections.read_bytes() if corrections.exists() else None
        text = to_json(body)  # NaN and Infinity as a careless client sends them
        r = client.put(f'/api/pages/{stem}', content=text, headers={'Content-Type': 'application/json'})
        assert r.status_code < 500, (what, r.text)
        outcomes[r.status_code] = outcomes.get(r.status_code, 0) + 1
        if r.status_code >= 400:
            assert r.json()['error'] and '\n' not in r.json()['error'], what
            assert (corrections.read_bytes() if corrections.exists() else None) == before, what
        else:
            stored = client.get(f'/api/pages/{stem}').json()
            assert stored['items'] == r.json()['items'], what
    assert outcomes.get(400, 0) > 20 and outcomes.get(200, 0) > 5, outcomes  # the fuzzer reached both sides


SAVER = r"""
import json, sys
from kaokore_mm.review.store import CorrectionStore
store = CorrectionStore(sys.argv[1])
stem = sys.argv[2]
doc = store.load(stem)
items = doc['items']
print('ready', flush=True)
while True:  # save and log as fast as it can, until killed
    doc = store.save(stem, items, doc['kaokore:version'])
    store.log(stem, [dict(op='relabel', t=1.0 + doc['kaokore:version'])])
"""


def test_a_server_killed_while_saving_leaves_a_whole_page_and_a_readable_log(annotated, tmp_path):
    """SIGKILL at random moments of the store's save + log loop: the corrections file is always one whole
    version (atomic rename), the log loses at most its cut last record (skipped and reported, never fatal),
    and a new server then loads, saves and counts the effort."""
    import random
    import signal
    import subprocess
    import sys
    import time

    from kaokore_mm.review.store import CorrectionStore

    out, _ = annotated
    stem = next(iter(CorrectionStore(out).pages))
    rng = random.Random(0)
    last = 0
    for kills in range(1, 4):
        proc = subprocess.Popen([sys.executable, '-c', SAVER, str(out), stem], stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == 'ready'
        time.sleep(rng.uniform(0.05, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        doc = json.loads((out / 'corrections' / f'{stem}.json').read_text())  # whole JSON, never a cut file
        assert doc['kaokore:version'] >= last and len(doc['items']) > 0
        last = doc['kaokore:version']
        store = CorrectionStore(out)
        effort = store.effort()  # a cut last record is reported, the rest counts
        # each kill may fall between a save and its log record: at most one record lost per kill
        logged = effort['operations'].get('relabel', 0)
        assert last - kills - len(effort['damaged_log_lines'].get(stem, [])) <= logged <= last
        assert store.load(stem)['kaokore:version'] == last
    assert last > 3  # the loop did save between the kills
    saved = CorrectionStore(out).save(stem, doc['items'], last, 'done')
    assert saved['kaokore:version'] == last + 1 and saved['kaokore:state'] == 'done'


WRONG = [None, True, -1, 2**70, 'x', '', [], {}, [1], {'a': 1}, 1.5]


def test_every_field_of_every_body_refuses_wrong_types(client, annotated):
    """By class: each field of the save and log bodies given each wrong JSON type or an absurd number:
    always a 4xx with a message (never a 500, never a 200), and nothing written."""
    _, stem = first(client)
    canvas = client.get(f'/api/pages/{stem}').json()['page']['canvas']
    good = dict(items=[box(canvas, '1,1,9,9')], version=0, state='in progress', actions=[dict(op='draw', t=1.0)])
    answers = []
    for field in ('items', 'version', 'state', 'actions'):
        for value in WRONG:
            if field == 'items' and value == []:
                continue  # no face on the page: a valid save
            if field == 'state' and value is None:
                continue
            if field == 'actions' and (value is None or value == []):
                continue  # no actions to log
            r = client.put(f'/api/pages/{stem}', json=dict(good, **{field: value}))
            answers.append((field, value, r.status_code))
            assert 400 <= r.status_code < 500 and r.json()['error'], (field, value, r.status_code, r.text)
    for action in WRONG + [dict(op='open'), dict(op='open', t=True), dict(op='open', t=-5), dict(op=['open'], t=1)]:
        r = client.post(f'/api/pages/{stem}/log', json=dict(actions=[action]))
        assert r.status_code == 400, (action, r.text)
    for text in ('{"actions": [{"op": "open", "t": 1' + '0' * 400 + '}]}', '{"actions": {"op": "open", "t": 1}}'):
        r = client.post(f'/api/pages/{stem}/log', content=text, headers={'Content-Type': 'application/json'})
        assert r.status_code == 400, (text[:60], r.text)
    item_with_object_id = dict(box(canvas, '1,1,9,9'), id={'a': 1})
    r = client.put(f'/api/pages/{stem}', json=dict(items=[item_with_object_id], version=0))
    assert r.status_code == 400 and 'id must be a string' in r.json()['error']
    corrections = annotated[0] / 'corrections'
    assert not [f for f in corrections.iterdir() if f.name != '.lock']
    assert len(answers) > 30


def test_actions_are_logged_only_with_the_save_the_server_accepted(client, annotated):
    """A stale tab's "accept" and "done" are refused with the conflict and not logged; an only
    opened page is not counted as worked on."""
    _, stem = first(client)
    canvas = client.get(f'/api/pages/{stem}').json()['page']['canvas']
    client.post(f'/api/pages/{stem}/log', json=dict(actions=[dict(op='open', t=10.0)]))
    assert client.get('/api/pages').json()['effort']['pages'] == 0  # only opened
    ok = client.put(f'/api/pages/{stem}', json=dict(items=[], version=0, actions=[dict(op='delete', t=11.0)]))
    stale = client.put(
        f'/api/pages/{stem}',
        json=dict(items=[box(canvas, '1,1,9,9')], version=0, state='done', actions=[dict(op='done', t=12.0)]),
    )
    assert ok.status_code == 200 and stale.status_code == 409
    effort = client.get('/api/pages').json()['effort']
    assert effort['pages'] == 1 and effort['operations'] == dict(open=1, delete=1)


def test_damaged_files_are_the_pages_problem_and_a_full_disk_is_named(client, annotated, monkeypatch):
    import errno

    out = annotated[0]
    pages, stem = first(client)
    other = pages[1]['stem']
    (out / 'corrections' / f'{stem}.json').write_text('{"items": [')  # cut short
    listed = client.get('/api/pages')
    assert listed.status_code == 200
    row = next(p for p in listed.json()['pages'] if p['stem'] == stem)
    assert row['state'] == 'damaged' and f'{stem}.json' in row['error']
    r = client.get(f'/api/pages/{stem}')
    assert r.status_code == 409 and 'restore it, or delete it' in r.json()['error']
    (out / 'w3c' / f'{other}.json').unlink()
    r = client.get(f'/api/pages/{other}')
    assert r.status_code == 409 and 'run annotate.py again' in r.json()['error']
    from kaokore_mm.review import store as store_module
    from kaokore_mm.utils.io import named_os_error

    def full(path, *a, **k):
        raise named_os_error(OSError(errno.ENOSPC, 'No space left on device'), path)

    monkeypatch.setattr(store_module, 'atomic_write_json', full)
    (out / 'corrections' / f'{stem}.json').unlink()
    r = client.put(f'/api/pages/{stem}', json=dict(items=[], version=0))
    assert r.status_code == 507 and f'{stem}.json' in r.json()['error'] and 'No space left' in r.json()['error']


def test_head_is_answered_only_where_get_is(client):
    _, stem = first(client)
    assert client.head('/api/pages').status_code == 200
    for url in (f'/api/pages/{stem}/log',):
        assert client.head(url).status_code == 405


def test_a_drawn_box_gets_its_label_proposed_when_a_classifier_is_there(annotated):
    from kaokore_mm.review.box_labeler import BoxLabeler
    from tests.review.test_box_labeler import Classifier

    plain = TestClient(create_app(annotated[0]), base_url='http://127.0.0.1:8000')
    _, stem = first(plain)
    r = plain.post(f'/api/pages/{stem}/labels', json=dict(bbox=[10, 10, 30, 30]))
    assert r.status_code == 501 and '--classifier' in r.json()['error']  # no classifier: said, not a failure
    client = TestClient(create_app(annotated[0], labeler=BoxLabeler(Classifier())), base_url='http://127.0.0.1:8000')
    r = client.post(f'/api/pages/{stem}/labels', json=dict(bbox=[10, 10, 30, 30]))
    assert r.status_code == 200 and r.json() == dict(status=dict(label='noble', score=0.97, sure=True))
    bad = client.post(f'/api/pages/{stem}/labels', json=dict(bbox=[10, 10, -3, 30]))
    assert bad.status_code == 400 and 'positive' in bad.json()['error']
    for box, why in [
        (None, 'bbox: Input should be a valid list'),
        ([1, 2, 3], 'bbox: List should have at least 4 items'),
        ([1, 2, 3, '4'], "bbox.3: Input should be a valid integer, got '4'"),  # strict: no string of digits
        ([1, 2, True, 4], 'bbox.2: Input should be a valid integer, got True'),  # nor a bool
        ([1, 2, 3, 1e400], 'bbox.3: not a finite number'),
    ]:
        body = json.dumps(dict(bbox=box)).replace('Infinity', '1e400')  # JSON as a client may send it
        r = client.post(f'/api/pages/{stem}/labels', content=body, headers={'content-type': 'application/json'})
        assert r.status_code == 400 and r.json()['error'].startswith(why), (box, r.json())
    assert client.post('/api/pages/nosuchpage/labels', json=dict(bbox=[1, 1, 5, 5])).status_code == 404
    plain_text = {'content-type': 'text/plain'}
    text = client.post(f'/api/pages/{stem}/labels', content='{"bbox": [1, 1, 5, 5]}', headers=plain_text)
    assert text.status_code == 415  # a write like any other: JSON from this origin only
