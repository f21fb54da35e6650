"""merge_corrections.py validates the whole merge before it writes anything."""

import json

import cv2
import numpy as np
import pytest

from kaokore_mm.utils.cli import cli_main
from tests.conftest import load_tool


@pytest.fixture
def setup(tmp_path):
    book = tmp_path / 'book'
    for rel in ('a/p1.jpg', 'b/p1.jpg', 'p1.png'):
        (book / rel).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(book / rel), np.full((50, 60, 3), len(rel), np.uint8))
    images = [
        dict(id=i + 1, file_name=f, width=60, height=50) for i, f in enumerate(('a/p1.jpg', 'b/p1.jpg', 'p1.png'))
    ]
    corr = dict(
        info=dict(images_root=str(book)),
        images=images,
        annotations=[dict(id=i + 1, image_id=i + 1, category_id=1, bbox=[1, 2, 10, 12]) for i in range(3)],
        categories=[dict(id=1, name='face')],
    )
    corr_file = tmp_path / 'corr.json'
    corr_file.write_text(json.dumps(corr))
    train = tmp_path / 'data' / 'annotations' / 'pages.json'
    train.parent.mkdir(parents=True)
    old = dict(
        images=[dict(id=1, file_name='pages/old/x.jpg', width=5, height=5, book_id='old')],
        annotations=[dict(id=1, image_id=1, category_id=1, bbox=[0, 0, 2, 2])],
        categories=[dict(id=1, name='face')],
    )
    train.write_text(json.dumps(old))
    args = [
        '--corrections',
        str(corr_file),
        '--pages',
        str(corr_file),
        '--train-ann',
        str(train),
        '--data-root',
        str(tmp_path / 'data'),
    ]
    return tmp_path, args, train, corr, corr_file


def run(args, capsys):
    rc = cli_main(load_tool('merge_corrections').main, args)
    return rc, capsys.readouterr()


@pytest.mark.parametrize('book_id', ['../../../x', 'a/b', '..', '.hidden', 'a\\\\b', ''])
def test_bad_book_ids_write_nothing(setup, capsys, book_id):
    tmp_path, args, train, _, _ = setup
    before = train.read_text()
    rc, out = run([*args, '--book-id', book_id], capsys)
    assert rc == 2 and 'is not valid' in out.err and out.err.count('\n') == 1
    assert train.read_text() == before
    assert not (tmp_path / 'data' / 'pages').exists() and not (tmp_path / 'x').exists()


def test_two_pages_with_one_file_name_stay_two_files(setup, capsys):
    tmp_path, args, train, _, _ = setup
    rc, _ = run([*args, '--book-id', 'new-book_1.v2'], capsys)
    assert rc == 0
    merged = json.loads(train.read_text())
    names = [im['file_name'] for im in merged['images'] if im['book_id'] == 'new-book_1.v2']
    assert names == ['pages/new-book_1.v2/a/p1.jpg', 'pages/new-book_1.v2/b/p1.jpg', 'pages/new-book_1.v2/p1.png']
    pixels = {n: int(cv2.imread(str(tmp_path / 'data' / n))[0, 0, 0]) for n in names}
    assert len(set(pixels.values())) == 2 and pixels[names[0]] == pixels[names[1]]  # same-length rel paths
    assert all((tmp_path / 'data' / n).is_file() for n in names)


def test_replace_never_removes_a_book_without_adding_it(setup, capsys):
    tmp_path, args, train, _, corr_file = setup
    assert run([*args, '--book-id', 'nb'], capsys)[0] == 0
    before = train.read_text()
    empty = tmp_path / 'empty.json'
    empty.write_text(json.dumps(dict(images=[], annotations=[], categories=[dict(id=1, name='face')])))
    rc, out = run(['--corrections', str(empty), *args[2:], '--book-id', 'nb', '--replace'], capsys)
    assert rc == 2 and 'no corrected page' in out.err and train.read_text() == before


@pytest.mark.parametrize('bbox', [[float('nan'), 2, 10, 12], [1, 2, float('inf'), 12], [1, 2, 0, 5]])
def test_non_finite_or_empty_boxes_are_refused(setup, capsys, bbox):
    tmp_path, args, train, corr, corr_file = setup
    corr['annotations'][1]['bbox'] = bbox
    corr_file.write_text(json.dumps(corr))
    before = train.read_text()
    rc, out = run([*args, '--book-id', 'nb'], capsys)
    assert rc == 2 and train.read_text() == before and not (tmp_path / 'data' / 'pages').exists()


def test_missing_page_image_refuses_the_merge(setup, capsys):
    tmp_path, args, train, _, _ = setup
    (tmp_path / 'book' / 'p1.png').unlink()
    before = train.read_text()
    rc, out = run([*args, '--book-id', 'nb'], capsys)
    assert rc == 2 and 'p1.png' in out.err and train.read_text() == before


def test_a_folder_of_corrections(setup, capsys, tmp_path):
    _, args, train, corr, _ = setup
    folder = tmp_path / 'corrections'
    folder.mkdir()
    (folder / 'all.json').write_text(json.dumps(corr))
    rc, _ = run(['--corrections', str(folder), *args[2:], '--book-id', 'fb'], capsys)
    assert rc == 0 and sum(im['book_id'] == 'fb' for im in json.loads(train.read_text())['images']) == 3


def w3c_page(items):
    return dict(
        type='AnnotationPage', items=[dict(type='Annotation', id=f'a{k}', target=t) for k, t in enumerate(items)]
    )


def test_w3c_percent_fragments_are_placed_on_the_pages_size(setup, capsys, tmp_path):
    """``percent:`` (from other W3C tools) becomes pixels of the page named by --pages;
    a fragment that cannot be placed stops the merge, naming file and item."""
    _, args, train, corr, corr_file = setup
    for k, im in enumerate(corr['images']):
        im['canvas'] = f'https://example.org/c{k}'
    corr_file.write_text(json.dumps(corr))
    w3c = tmp_path / 'w3c.json'
    w3c.write_text(
        json.dumps(
            w3c_page(['https://example.org/c0#xywh=percent:10,20,50,40', 'https://example.org/c2#xywh=pixel:1,2,3,4'])
        )
    )
    rc, _ = run(['--corrections', str(w3c), *args[2:], '--book-id', 'pb'], capsys)
    merged = json.loads(train.read_text())
    pages = {im['id']: im['file_name'] for im in merged['images'] if im['book_id'] == 'pb'}
    boxes = sorted((pages[a['image_id']], a['bbox']) for a in merged['annotations'] if a['image_id'] in pages)
    assert rc == 0 and boxes == [('pages/pb/a/p1.jpg', [6.0, 10.0, 30.0, 20.0]), ('pages/pb/p1.png', [1, 2, 3, 4])]
    before = train.read_text()
    for bad, problem in (
        ('https://example.org/other#xywh=percent:10,20,50,40', 'whose size is unknown'),
        ('https://example.org/c0#xywh=percent:10,20', 'no valid xywh'),
    ):
        w3c.write_text(json.dumps(w3c_page(['https://example.org/c1#xywh=1,2,3,4', bad])))
        rc, out = run(['--corrections', str(w3c), *args[2:], '--book-id', 'qb'], capsys)
        assert rc == 2 and problem in out.err and 'w3c.json, item 1' in out.err and train.read_text() == before


def test_the_same_file_twice_or_a_page_in_two_files_is_refused(setup, capsys):
    tmp_path, args, train, corr, corr_file = setup
    before = train.read_text()
    rc, out = run(['--corrections', str(corr_file), str(corr_file), *args[2:], '--book-id', 'nb'], capsys)
    assert rc == 2 and 'is given twice' in out.err and train.read_text() == before
    other = tmp_path / 'corr2.json'
    other.write_text(json.dumps(dict(corr, images=corr['images'][:1], annotations=corr['annotations'][:1])))
    rc, out = run(['--corrections', str(corr_file), str(other), *args[2:], '--book-id', 'nb'], capsys)
    assert rc == 2 and 'page a/p1.jpg is in 2 correction files' in out.err and train.read_text() == before
    assert not (tmp_path / 'data' / 'pages').exists()


def book_versions(tmp_path, train, book='nb'):
    """The pixel values of the book's pages as the training COCO names them (all files must exist)."""
    coco = json.loads(train.read_text())
    pages = [im for im in coco['images'] if im['book_id'] == book]
    values = set()
    for im in pages:
        img = cv2.imread(str(tmp_path / 'data' / im['file_name']))
        assert img is not None, im['file_name']
        values.add(int(img[0, 0, 0]))
    return len(pages), values


def test_a_replace_killed_at_any_moment_leaves_the_old_book_or_the_new(tmp_path):
    """--replace overwrote the old pages in place: SIGKILL after ~20 files left 22 of 150 old
    images replaced under the old COCO. Now files are never overwritten with other bytes, and
    the COCO switch is one rename."""
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    n = 120

    def version(value):
        folder = tmp_path / f'v{value}'
        images = []
        for i in range(n):
            name = f'p{i:03d}.png'
            folder.mkdir(exist_ok=True)
            cv2.imwrite(str(folder / name), np.full((120, 160, 3), value, np.uint8))
            images.append(dict(id=i + 1, file_name=name, width=160, height=120))
        anns = [dict(id=i + 1, image_id=i + 1, category_id=1, bbox=[1, 2, 10, 12]) for i in range(n)]
        corr = tmp_path / f'v{value}.json'
        corr.write_text(json.dumps(dict(info=dict(images_root=str(folder)), images=images, annotations=anns)))
        return corr

    train = tmp_path / 'data' / 'annotations' / 'pages.json'
    train.parent.mkdir(parents=True)
    train.write_text(json.dumps(dict(images=[], annotations=[], categories=[dict(id=1, name='face')])))
    old, new = version(10), version(200)

    def cmd(corr, *extra):
        return [
            sys.executable,
            str(root / 'tools/merge_corrections.py'),
            '--corrections',
            str(corr),
            '--pages',
            str(corr),
            '--train-ann',
            str(train),
            '--data-root',
            str(tmp_path / 'data'),
            '--book-id',
            'nb',
            *extra,
        ]

    subprocess.run(cmd(old), check=True, capture_output=True, cwd=root)
    assert book_versions(tmp_path, train) == (n, {10})
    book = tmp_path / 'data' / 'pages' / 'nb'
    for delay in (0.0, 0.05, 0.3):
        before = set(book.rglob('*'))
        proc = subprocess.Popen(cmd(new, '--replace'), cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while set(book.rglob('*')) == before and proc.poll() is None and time.time() < deadline:
            time.sleep(0.005)  # the merge is writing the new pages
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        count, values = book_versions(tmp_path, train)  # the old book or the new, never a mix
        assert count == n and values in ({10}, {200}), (delay, values)
        if values == {200}:
            break
    done = subprocess.run(cmd(new, '--replace'), capture_output=True, text=True, cwd=root)
    assert done.returncode == 0, done.stderr
    assert book_versions(tmp_path, train) == (n, {200})
    named = {im['file_name'] for im in json.loads(train.read_text())['images']}
    on_disk = {f.relative_to(tmp_path / 'data').as_posix() for f in book.rglob('*') if f.is_file()}
    assert on_disk == named  # the old version's files and what killed runs staged are gone


def fuzz_documents(corr):
    """A valid correction of each format merge_corrections reads: COCO, a review-app W3C page (with
    provenance and state), a cr:Curation; W3C and curation on the canvases of ``corr``."""
    from kaokore_mm.converters.curation import curation

    tag = lambda v: dict(type='TextualBody', purpose='tagging', value=v)  # noqa: E731
    w3c = {
        'type': 'AnnotationPage',
        'kaokore:state': 'done',
        'kaokore:canvas': 'https://example.org/c0',
        'items': [
            {
                'id': 'https://example.org/c0/a/1',
                'type': 'Annotation',
                'body': [tag('face'), tag('noble')],
                'target': {
                    'type': 'SpecificResource',
                    'source': 'https://example.org/c0',
                    'selector': {'type': 'FragmentSelector', 'value': 'xywh=1,2,10,12'},
                },
                'kaokore:origin': 'proposal',
                'kaokore:review': 'accepted',
                'kaokore:score': 0.8,
                'kaokore:proposed': {'status': 'noble'},
                'kaokore:confirmed': ['status'],
            },
            {
                'type': 'Annotation',
                'body': [tag('face')],
                'target': 'https://example.org/c1#xywh=5,5,20,20',
                'kaokore:origin': 'drawn',
            },
        ],
    }
    faces = [dict(canvas='https://example.org/c2', bbox=[3, 4, 10, 10], status='warrior', score=0.5)]
    cur = curation('https://example.org/cur.json', 'https://example.org/manifest.json', 'b', faces)
    return dict(coco=corr, w3c=w3c, curation=cur)


@pytest.mark.parametrize('kind, n', [('coco', 60), ('w3c', 60), ('curation', 40)])
def test_fuzzed_corrections_merge_validly_or_change_nothing(setup, capsys, kind, n):
    """Mutated corrections of each format (types, NaN, huge numbers, deep nesting, duplicates, missing
    keys): exit 2 with one line and the training set untouched, or a merge whose every box
    is finite, positive and on its page."""
    import math
    import random

    from tests.fuzz import mutate, to_json

    tmp_path, args, train, corr, corr_file = setup
    for k, im in enumerate(corr['images']):
        im['canvas'] = f'https://example.org/c{k}'
    corr_file.write_text(json.dumps(corr))
    valid = fuzz_documents(json.loads(json.dumps(corr)))[kind]
    fuzz_file = tmp_path / f'fuzz_{kind}.json'
    pristine = train.read_text()
    rng = random.Random(1)
    codes = {}
    for k in range(n):
        doc, what = mutate(valid, rng)
        fuzz_file.write_text(to_json(doc))
        train.write_text(pristine)
        rc, out = run(['--corrections', str(fuzz_file), *args[2:], '--book-id', f'fz{k}'], capsys)
        codes[rc] = codes.get(rc, 0) + 1
        assert rc in (0, 2), (what, out.err)
        assert 'Traceback' not in out.err, what
        if rc == 2:
            lines = [ln for ln in out.err.rstrip('\n').splitlines() if not ln.startswith('  not merged: ')]
            assert lines[-1].startswith('error: ') and out.err.count('error: ') == 1, (what, out.err)
            assert all(line.startswith('  problem: ') for line in lines[:-1]), (what, out.err)
            assert train.read_text() == pristine, what
            continue
        merged = json.loads(train.read_text())
        sizes = {im['id']: (im['width'], im['height']) for im in merged['images']}
        for a in merged['annotations']:
            x, y, w, h = a['bbox']
            assert all(isinstance(v, (int, float)) and math.isfinite(v) for v in a['bbox']) and w > 0 and h > 0, what
            W, H = sizes[a['image_id']]
            assert x >= 0 and y >= 0 and x + w <= W + 1e-6 and y + h <= H + 1e-6, what
            assert a.get('attributes', {}).get('status') in (None, 'noble', 'warrior', 'incarnation', 'commoner')
    assert codes.get(2, 0) > 5 and codes.get(0, 0) > 5, codes


def review_page(canvas, state, items):
    """A page as the review app saves it: provenance and confirmed labels per item."""
    return {
        'type': 'AnnotationPage',
        'kaokore:state': state,
        'items': [dict(a, target=f'{canvas}#xywh={a.pop("xywh")}') for a in items],
    }


def test_a_half_reviewed_book_merges_only_done_pages_and_confirmed_labels(setup, capsys, tmp_path):
    """Item 4 of the review-loop issue: unfinished pages are listed and left out (not merged as final, not
    counted as all proposals deleted); an unconfirmed classifier status never becomes a label."""
    _, args, train, corr, corr_file = setup
    for k, im in enumerate(corr['images']):
        im['canvas'] = f'https://example.org/c{k}'
    corr_file.write_text(json.dumps(corr))
    tag = lambda v: dict(type='TextualBody', purpose='tagging', value=v)  # noqa: E731
    proposal = {'kaokore:origin': 'proposal', 'kaokore:score': 0.8, 'kaokore:proposed': dict(status='noble')}
    folder = tmp_path / 'corrections'
    folder.mkdir()
    done = [
        # accepted box, classifier's status untouched: the box is truth, the status a proposal
        dict(
            xywh='1,2,10,12',
            body=[tag('face'), tag('noble')],
            **proposal,
            **{'kaokore:review': 'accepted', 'kaokore:confirmed': []},
        ),
        # the annotator set the status (commoner): a label
        dict(
            xywh='20,20,10,10',
            body=[tag('face'), tag('commoner')],
            **proposal,
            **{'kaokore:review': 'accepted', 'kaokore:confirmed': ['status']},
        ),
        dict(
            xywh='30,5,8,8',
            body=[tag('face')],
            **{'kaokore:origin': 'drawn', 'kaokore:review': 'drawn', 'kaokore:confirmed': []},
        ),
    ]
    (folder / 'c0.json').write_text(json.dumps(review_page('https://example.org/c0', 'done', done)))
    (folder / 'c1.json').write_text(
        json.dumps(review_page('https://example.org/c1', 'in progress', [dict(xywh='1,1,5,5', body=[tag('face')])]))
    )
    # a page done with every proposal deleted: a page of the book (a negative), its deletion counted
    empty = review_page('https://example.org/c2', 'done', [])
    (folder / 'c2.json').write_text(json.dumps(dict(empty, **{'kaokore:canvas': 'https://example.org/c2'})))
    base = ['--corrections', str(folder), *args[2:], '--predictions', str(corr_file)]
    rc, out = run([*base, '--book-id', 'half'], capsys)
    assert rc == 0, out.err
    assert 'c1.json' in out.err and "'in progress', not done" in out.err and '1 pages not marked done' in out.out
    merged = json.loads(train.read_text())
    pages = {im['id'] for im in merged['images'] if im['book_id'] == 'half'}
    faces = [a for a in merged['annotations'] if a['image_id'] in pages]
    assert len(pages) == 2 and len(faces) == 3
    by_x = {a['bbox'][0]: a for a in faces}
    assert 'status' not in by_x[1]['attributes'] and by_x[1]['proposed_attributes'] == dict(status='noble')
    assert 'noble' not in by_x[1]['attributes'].get('tags', [])
    assert by_x[20]['attributes']['status'] == 'commoner' and 'proposed_attributes' not in by_x[20]
    assert by_x[30]['review'] == 'drawn' and by_x[1]['review'] == 'accepted'
    report = json.loads((train.parent / 'merge_half.json').read_text())
    # the effort covers the merged pages only: c0's prediction matched (2 faces drawn), c2's deleted; c1 not counted
    assert report['boxes_to_delete'] == 1 and report['faces_to_draw'] == 2
    # the deleted proposal stays on its page as a rejected box: the next training's hard negative
    half = [im for im in merged['images'] if im['book_id'] == 'half']
    assert report['rejected'] == 1
    assert sorted(json.dumps(im.get('rejected')) for im in half) == [
        '[{"bbox": [1.0, 2.0, 10.0, 12.0], "score": 1.0}]',
        'null',
    ]
    assert report['review']['labels_confirmed'] == 1 and report['review']['labels_proposed_only'] == 1
    # the merged faces as a cr:Curation for IIIF Curation Viewer: http ids, the confirmed label only
    from kaokore_mm.converters.curation import read_curation

    cur = json.loads((train.parent / 'curation_half.json').read_text())
    assert cur['@id'].startswith('https://example.org/') and report['curation'].endswith('curation_half.json')
    faces, problems = read_curation(cur)
    assert not problems and sorted(f.get('attributes', {}).get('status', '') for f in faces) == ['', '', 'commoner']
    assert report['book_pages'] == {'done': 2, 'in progress': 1, 'to review': 0, 'never saved': 0}
    # the same pages again under another book id: refused (pages already in the training set)
    before = train.read_text()
    rc, out = run([*base, '--book-id', 'again', '--include-unfinished'], capsys)
    assert rc == 2 and 'is pixel for pixel page' in out.err and "of book 'half'" in out.err
    assert train.read_text() == before
    # --include-unfinished merges the page in progress too (replacing the book); nothing done at all is refused
    rc, out = run([*base, '--book-id', 'half', '--replace', '--include-unfinished'], capsys)
    assert rc == 0, out.err
    assert sum(im['book_id'] == 'half' for im in json.loads(train.read_text())['images']) == 3
    (folder / 'c0.json').unlink()
    (folder / 'c2.json').unlink()
    before = train.read_text()
    rc, out = run([*base, '--book-id', 'none'], capsys)
    assert rc == 2 and 'none of the 3 pages is marked done' in out.err and train.read_text() == before  # 2 never saved


@pytest.mark.parametrize('failure', ['full disk', 'read-only out'])
def test_a_failed_merge_removes_what_it_staged(setup, capsys, monkeypatch, failure):
    """The pages are copied, then the COCO cannot be written (the disk fills, ``--out`` is not
    writable): one line naming the file, exit 2, and ``DATA_ROOT/pages/<book>/`` as it was."""
    import errno

    from kaokore_mm.utils import io

    tmp_path, args, train, _, _ = setup
    before = train.read_text()
    real = io.atomic_write_bytes

    def failing(path, data):
        if str(path).endswith('.json'):
            if failure == 'full disk':
                raise io.named_os_error(OSError(errno.ENOSPC, 'No space left on device'), path)
            raise OSError(errno.EACCES, 'Permission denied', str(path))
        return real(path, data)

    monkeypatch.setattr(io, 'atomic_write_bytes', failing)
    monkeypatch.setattr('kaokore_mm.annotation.corrections.atomic_write_bytes', failing)
    rc, out = run([*args, '--book-id', 'nb'], capsys)
    assert rc == 2 and 'Traceback' not in out.err and str(train) in out.err
    assert train.read_text() == before
    assert not (tmp_path / 'data' / 'pages' / 'nb').exists()
    assert not [p for p in (tmp_path / 'data').rglob('*') if p.is_file() and p != train]


def test_merge_waits_for_a_save_in_flight(setup, tmp_path):
    """The merge takes the review app's lock on ``OUT/corrections`` while it reads: a page held
    by a save (here: the lock taken by another process) is read after the save, not half-way."""
    import subprocess
    import sys
    import time

    from kaokore_mm.annotation.corrections import merge_corrections

    _, args, train, corr, _ = setup
    folder = tmp_path / 'corrections'
    folder.mkdir()
    (folder / '.lock').touch()
    (folder / 'corr.json').write_text(json.dumps(dict(corr, annotations=[])))
    holder = subprocess.Popen(
        [
            sys.executable,
            '-c',
            'import sys, time, json; from pathlib import Path; from kaokore_mm.utils.io import folder_lock\n'
            'with folder_lock(sys.argv[1]):\n'
            '    print("locked", flush=True); time.sleep(1.5)\n'
            '    Path(sys.argv[1], "corr.json").write_text(sys.argv[2])\n',
            str(folder),
            json.dumps(corr),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == 'locked'
    t0 = time.time()
    report = merge_corrections([str(folder)], str(train), str(tmp_path / 'data'), 'nb', pages_file=args[3])
    assert time.time() - t0 > 0.5 and report['faces'] == 3  # the saved version, with its faces
    holder.wait(30)


def test_a_linked_training_coco_is_updated_through_its_link(setup, capsys, tmp_path):
    """A --train-ann that is a symbolic link to a shared COCO: the shared file gets the book and the
    link stays a link (before: the link was replaced by a file and the shared COCO stayed old)."""
    _, args, train, _, _ = setup
    shared = tmp_path / 'shared_pages.json'
    train.rename(shared)
    train.symlink_to(shared)
    rc, out = run([*args, '--book-id', 'linked'], capsys)
    assert rc == 0, out.err
    assert train.is_symlink() and any(im['book_id'] == 'linked' for im in json.loads(shared.read_text())['images'])
