"""Two review servers on one book, each started as ``tools/review.py OUT`` in its own process:
a save is checked against the page's version and written under a lock both share, so of two
saves from the same version exactly one lands and the other is a 409 (never two 200s with
the same new version, which lost one annotator's work before)."""

import json
import threading
import urllib.error
import urllib.request

from tests.review.conftest import start_review, stop_review


def request(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def item(canvas, x):
    return dict(
        type='Annotation',
        body=[dict(type='TextualBody', purpose='tagging', value='face')],
        target=dict(
            type='SpecificResource', source=canvas, selector=dict(type='FragmentSelector', value=f'xywh={x},10,20,20')
        ),
    )


def save(go, answers, name, url, stem, canvas, x, version):
    go.wait()  # both servers get the two saves at once
    answers[name] = request('PUT', f'{url}/api/pages/{stem}', dict(items=[item(canvas, x)], version=version))


def test_two_servers_on_one_book_never_both_accept_a_version(annotated):
    out, _ = annotated
    (a, pa), (b, pb) = start_review(out), start_review(out)
    try:
        stem = request('GET', f'{a}/api/pages')[1]['pages'][0]['stem']
        canvas = request('GET', f'{a}/api/pages/{stem}')[1]['page']['canvas']
        for trial in range(10):
            version = request('GET', f'{b}/api/pages/{stem}')[1]['kaokore:version']
            answers = {}
            go = threading.Barrier(2)

            threads = [
                threading.Thread(target=save, args=(go, answers, n, u, stem, canvas, 10 + k, version))
                for k, (n, u) in enumerate((('a', a), ('b', b)))
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            statuses = sorted(s for s, _ in answers.values())
            assert statuses == [200, 409], f'trial {trial}: {answers}'
            winner = next(doc for s, doc in answers.values() if s == 200)
            stored = json.loads((out / 'corrections' / f'{stem}.json').read_text())
            assert stored['kaokore:version'] == version + 1 == winner['kaokore:version']
            assert stored['items'][0]['target'] == winner['items'][0]['target']  # the file is the one that got 200
    finally:
        stop_review(pa)
        stop_review(pb)
