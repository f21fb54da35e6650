"""Corrections back into training: an annotator's corrected book joins the training COCO.

The merge tool is its command line. Corrections are COCO or W3C Web Annotation
/ IIIF annotation lists (the formats the annotate tool and the review app
write; W3C targets are placed on the pages of annotate's COCO, ``percent:``
fragments on their sizes).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from kaokore_mm.annotation.pages import page_stem
from kaokore_mm.converters.curation import curation
from kaokore_mm.converters.import_pages import PageCollector, canvas_index, load_json, page_scale
from kaokore_mm.converters.schemas import CocoImage, problem
from kaokore_mm.converters.web_annotation import page_canvas
from kaokore_mm.core.coco_faces import faces_by_file_name
from kaokore_mm.core.face_metrics import annotation_effort, counts_at, match_page
from kaokore_mm.core.hard_negatives import false_fire_flags
from kaokore_mm.core.iiif_presentation import to_canvas
from kaokore_mm.core.page_files import page_fingerprint
from kaokore_mm.errors import BadPageError
from kaokore_mm.utils.cli import UserError
from kaokore_mm.utils.io import atomic_write_bytes, atomic_write_json, atomic_write_text, folder_lock

BOOK_ID = re.compile(r'[A-Za-z0-9_-][A-Za-z0-9._-]*')
SAFE = re.compile(r'[^A-Za-z0-9._-]+')


def check_book_id(book_id: str) -> str:
    """Letters, digits, ``-``, ``_`` and ``.`` (not first): no path separators, no ``..``."""
    if not BOOK_ID.fullmatch(book_id or '') or '..' in book_id:
        raise UserError(
            f'`book_id` {book_id!r} is not valid: use letters, digits, "-", "_" and "." (not first), no path separators'
        )
    return book_id


def page_dest_names(file_names, book_id: str) -> list:
    """``pages/<book>/<relative path>`` per page, made safe; pages whose safe names
    would collide get a hash of their original name, so two pages never share a file."""
    names = []
    for f in file_names:
        segs = [SAFE.sub('_', s).strip('.') or '_' for s in Path(f).as_posix().split('/') if s not in ('', '.', '..')]
        names.append('/'.join(segs))
    counts = defaultdict(int)
    for n in names:
        counts[n.lower()] += 1
    out = []
    for f, n in zip(file_names, names):
        if counts[n.lower()] > 1:
            stem, dot, ext = n.rpartition('.')
            tag = hashlib.sha1(str(f).encode('utf-8')).hexdigest()[:8]
            n = f'{stem}-{tag}.{ext}' if dot else f'{n}-{tag}'
        out.append(f'pages/{book_id}/{n}')
    return out


def staged_page(data_root: Path, dest_name: str, data: bytes, created: list | None = None) -> str:
    """Write a page's bytes at ``dest_name`` under ``data_root``, or, when that name
    holds other bytes (a page of the book's earlier version, still named by the
    current COCO), at the name with the content's hash; returns the name used (a file
    it made is appended to ``created``, for a merge that fails later to remove)."""
    dest = data_root / dest_name
    if dest.exists() and dest.read_bytes() != data:
        stem, dot, ext = dest_name.rpartition('.')
        tag = hashlib.sha256(data).hexdigest()[:12]
        dest_name = f'{stem}.r{tag}.{ext}' if dot else f'{dest_name}.r{tag}'
        dest = data_root / dest_name
    if not dest.exists() or dest.read_bytes() != data:
        new = not dest.exists()
        atomic_write_bytes(dest, data)
        if new and created is not None:
            created.append(dest)
    return dest_name


def remove_staged(files: list, data_root: Path) -> None:
    """Undo a failed merge's copies: the files it made, then the folders left empty below ``data_root``."""
    for f in files:
        Path(f).unlink(missing_ok=True)
        for parent in Path(f).parents:
            if parent == data_root or not parent.is_relative_to(data_root):
                break
            try:
                parent.rmdir()
            except OSError:
                break


def remove_unreferenced_pages(data_root: Path, book_id: str, coco: dict) -> int:
    """Remove the files under ``pages/<book_id>/`` that ``coco`` does not name (the
    book's replaced pages, or what a killed merge staged); returns how many."""
    folder = data_root / 'pages' / book_id
    keep = {(data_root / im['file_name']).resolve() for im in coco['images']}
    n = 0
    for f in sorted(folder.rglob('*')) if folder.is_dir() else []:
        if f.is_file() and f.resolve() not in keep:
            f.unlink()
            n += 1
    return n


def write_curation(corrected: dict, out: Path, book_id: str, book_title=None, info: dict | None = None) -> Path | None:
    """The merged faces as a ``cr:Curation`` (IIIF Curation Viewer) beside the COCO:
    ``curation_<book>.json``, with the confirmed labels only, in the canvases' coordinates,
    ``within`` the book's manifest (annotate's ``info.manifest``: the institution's for a IIIF
    source); ``None`` when the pages have no canvases (COCO corrections of plain files)."""
    info = info or {}
    pages = {im['id']: im for im in corrected['images'] if im.get('canvas')}
    faces = [
        dict(
            canvas=pages[a['image_id']]['canvas'],
            bbox=to_canvas(a['bbox'], page_scale(pages[a['image_id']])),
            **{k: v for k, v in (a.get('attributes') or {}).items() if k in ('status', 'gender')},
        )
        for a in corrected['annotations']
        if a['image_id'] in pages
    ]
    if not faces:
        return None
    path = out.with_name(f'curation_{book_id}.json')
    first = next(iter(pages.values()))['canvas']
    manifest_id = info.get('manifest') or f'{first.rsplit("/canvas/", 1)[0]}/manifest.json'
    own = info.get('review_manifest') or manifest_id  # the curation's id: beside the review app's manifest
    curation_id = f'{own.rsplit("/", 1)[0]}/{path.name}'
    atomic_write_json(path, curation(curation_id, manifest_id, book_title or book_id, faces), indent=1)
    return path


HASHES = '.page_hashes.json'  # beside the training COCO: file name -> [size, mtime_ns, content hash]


def training_page_hashes(train: dict, data_root: Path, cache_file: Path, skip_book=None) -> dict:
    """``{content hash: image}`` of the training COCO's pages whose files are there (the hashes
    kept in ``cache_file`` while a file's size and time are unchanged: a large dataset is decoded
    once), without the pages of ``skip_book`` (the book a replace takes out)."""
    try:
        cache = json.loads(cache_file.read_text())
        cache = cache if isinstance(cache, dict) else {}
    except (OSError, ValueError):
        cache = {}
    out, changed = {}, False
    for im in train['images']:
        if skip_book is not None and im.get('book_id') == skip_book:
            continue
        path = data_root / im['file_name']
        try:
            st = path.stat()
        except OSError:
            continue  # a page not on this machine cannot be compared
        key = [st.st_size, st.st_mtime_ns]
        hit = cache.get(im['file_name'])
        if isinstance(hit, list) and hit[:2] == key and len(hit) == 3:
            digest = hit[2]
        else:
            try:
                digest = page_fingerprint(path)
            except BadPageError:
                continue
            cache[im['file_name']] = [*key, digest]
            changed = True
        out.setdefault(digest, im)
    if changed:
        try:
            atomic_write_json(cache_file, cache, indent=None)
        except OSError:
            pass  # a cache: the next merge decodes again
    return out


def duplicate_pages(corrected: dict, pages_root: Path, known: dict) -> list[tuple[dict, dict]]:
    """``[(new page, training page)]``: pages of the merge whose pixels are a training page's."""
    return [
        (im, known[d]) for im in corrected['images'] if (d := page_fingerprint(pages_root / im['file_name'])) in known
    ]


def book_pages(pages: dict, saved: dict) -> list[dict]:
    """Every page of the annotated book (annotate's COCO) with its review state: the state its
    saved corrections have (``done``, ``in progress``), or ``never saved`` (never opened, or
    opened and left without a change)."""
    out = []
    for im in pages.get('images', []):
        canvas = im.get('canvas')
        out.append(
            dict(page=im.get('page_key') or im['file_name'], canvas=canvas, state=saved.get(canvas) or 'never saved')
        )
    return out


def review_counts(corrected: dict) -> dict:
    """What the annotator did to the faces of the merged pages, from their provenance:
    boxes by review state (``proposed`` = left as proposed on a page marked done),
    and labels confirmed (in bulk, or one by one) vs left as the classifier's proposal."""
    states, confirmed, proposed, bulk = defaultdict(int), 0, 0, 0
    for a in corrected['annotations']:
        states[a.get('review') or 'unknown'] += 1
        confirmed += sum(k in (a.get('attributes') or {}) for k in ('status', 'gender'))
        proposed += len(a.get('proposed_attributes') or {})
        bulk += len(a.get('labels_bulk') or ())
    return dict(
        boxes=dict(states),
        labels_confirmed=confirmed,
        labels_confirmed_in_bulk=bulk,
        labels_decided_one_by_one=confirmed - bulk,
        labels_proposed_only=proposed,
    )


def page_pairs(predictions: dict, corrected: dict, only_corrected: bool) -> dict:
    """``{file_name: (proposals [x1, y1, x2, y2, score], faces [x1, y1, x2, y2, ignore])}`` of the
    corrected pages (and, unless ``only_corrected``, of the pages with proposals alone)."""
    gt = faces_by_file_name(corrected)
    dets = faces_by_file_name(predictions, column='score')
    none = np.zeros((0, 5))
    names = gt.keys() | (set() if only_corrected else dets.keys())
    return {n: (dets.get(n, none), gt.get(n, none)) for n in sorted(names)}


def score_proposals(predictions: dict, corrected: dict, thr: float, only_corrected: bool = False) -> dict:
    """Precision, recall and effort of the proposals (score >= thr) against the corrections
    (with ``only_corrected``, on the corrected pages only)."""
    matches = [
        match_page(d[:, :4], d[:, 4], g[:, :4], max_dets=None, gt_ignore=g[:, 4])
        for d, g in page_pairs(predictions, corrected, only_corrected).values()
    ]
    c = counts_at(matches, thr)
    return dict(c, **annotation_effort(c['tp'], c['fp'], c['fn']), score_thr=thr)


def rejected_proposals(predictions: dict, corrected: dict, thr: float) -> dict:
    """``{file_name: [{'bbox': [x, y, w, h], 'score': s}, ...]}``: the proposals the annotator was
    shown (score >= thr) on each corrected page and deleted, those that overlap no face they left
    (a loose box they redrew is no rejection): the next training's hard negatives."""
    out = {}
    for name, (d, g) in page_pairs(predictions, corrected, only_corrected=True).items():
        flags = false_fire_flags(d[:, :4], d[:, 4], g[:, :4], g[:, 4] > 0, score_thr=thr)
        out[name] = [dict(bbox=[x1, y1, x2 - x1, y2 - y1], score=sc) for x1, y1, x2, y2, sc in d[flags].tolist()]
    return out


def read_input(path) -> dict:
    """A JSON input of the merge; one that cannot be read (missing, not JSON) is a one-line user error."""
    try:
        return load_json(path)
    except ValueError as e:
        raise UserError(f'{e}; nothing merged') from None


def merge_corrections(
    corrections,
    train_ann,
    data_root,
    book_id: str,
    pages_file=None,
    predictions=None,
    replace: bool = False,
    out=None,
    book_title=None,
    include_unfinished: bool = False,
) -> dict:
    """Fold an annotator's corrections of a book into the training COCO.

    Only pages the annotator marked done join (a W3C page of the review app with
    ``kaokore:state`` other than ``done`` is listed in the report's ``unfinished``
    and left out, unless ``include_unfinished``); of each face, only the labels
    the annotator confirmed are labels (``attributes``), the classifier's other
    guesses stay ``proposed_attributes``.

    Everything is validated before anything is written: corrections that cannot
    all be read, a box that is not finite or empty, a missing page image, a
    destination outside ``data_root`` or a book already in the training set
    (unless ``replace``) raise a one-line :class:`UserError` and nothing changes.
    Then the pages are copied into ``DATA_ROOT/pages/<book_id>/`` and the COCO
    is written atomically.

    Args:
        corrections: COCO or W3C files (or folders of them, e.g. the review app's ``OUT/corrections/``).
        train_ann: the training COCO (page level).
        data_root: the folder its file names are relative to.
        book_id: the book's id in the training set.
        pages_file: annotate's COCO: canvases and page files (``info.images_root``).
        predictions: annotate's COCO, to score the proposals against the corrections.
        replace: replace the book's pages when it is already in the training set.
        out: where to write the merged COCO (default: ``train_ann``).
        book_title: the book's title.
        include_unfinished: merge pages in progress (or never opened) as if done.

    Returns:
        The report written to ``merge_<book_id>.json`` (with the proposals'
        precision, recall and effort when ``predictions`` is given), and the
        training set's new page and face counts.
    """
    check_book_id(book_id)
    pages, pages_root = read_pages_file(pages_file)
    col, unfinished, book, files = read_corrections(
        corrections, pages, pages_file, book_id, book_title, include_unfinished
    )
    corrected = check_corrections(col, unfinished, files, replace)
    dest_names = check_page_files(corrected, pages_root, data_root, book_id)
    report, rejected = {}, {}
    if predictions:
        preds = read_input(predictions)
        thr = preds.get('info', {}).get('score_thr', 0.0)
        # the effort of the pages merged: a page left out (unfinished, never opened) is not "all proposals deleted"
        report = score_proposals(preds, corrected, thr, only_corrected=True)
        rejected = rejected_proposals(preds, corrected, thr)
        report['rejected'] = sum(len(r) for r in rejected.values())
    report['review'] = review_counts(corrected)
    report['unfinished'] = unfinished
    report['book_pages'] = {
        state: sum(p['state'] == state for p in book) for state in ('done', 'in progress', 'to review', 'never saved')
    }
    train = read_input(train_ann)
    existing = check_training_set(train, train_ann, corrected, pages_root, data_root, book_id, replace)
    out = Path(out or train_ann)
    added_pages, added_faces = write_merge(
        train, existing, corrected, dest_names, pages_root, data_root, book_id, out, rejected
    )
    if out.resolve() == Path(train_ann).resolve():  # the old COCO is gone: its book's files can go
        remove_unreferenced_pages(Path(data_root).resolve(), book_id, train)
    curation_file = write_curation(corrected, out, book_id, book_title, pages.get('info', {}))
    report.update(
        book_id=book_id,
        pages=added_pages,
        faces=added_faces,
        skipped=len(col.problems),
        out=str(out),
        curation=str(curation_file) if curation_file else None,
    )
    atomic_write_json(out.with_name(f'merge_{book_id}.json'), report)
    return dict(report, train_pages=len(train['images']), train_faces=len(train['annotations']))


def read_pages_file(pages_file) -> tuple[dict, Path]:
    """Step 1 of the merge: annotate's COCO of the book's pages (validated), and the folder its
    file names are relative to (``info.images_root``, else its own folder)."""
    pages = read_input(pages_file) if pages_file else {'images': []}
    if not isinstance(pages, dict) or not isinstance(pages.get('images', []), list):
        raise UserError(f'`pages_file` {pages_file}: not a COCO file (an object with an "images" list); nothing merged')
    for k, im in enumerate(pages.get('images', [])):
        why = problem(CocoImage, im)
        if why is not None:
            raise UserError(f'`pages_file` {pages_file}, image {k}: {why}; nothing merged')
    info = pages.get('info', {})
    if not isinstance(info, dict) or not isinstance(info.get('images_root', ''), (str, type(None))):
        raise UserError(
            f'`pages_file` {pages_file}: "info" must be an object whose images_root is a folder; nothing merged'
        )
    return pages, Path(info.get('images_root') or (Path(pages_file).parent if pages_file else '.'))


def correction_files(corrections) -> list[str]:
    """The correction files (a folder, e.g. the review app's ``OUT/corrections/``, stands for its
    JSON files); the same file twice would add its faces twice: refused."""
    files = []
    for path in corrections:
        files += sorted(str(f) for f in Path(path).glob('*.json')) if Path(path).is_dir() else [path]
    seen = {}
    for path in files:
        key = str(Path(path).resolve())
        if key in seen:
            raise UserError(f'{path} is given twice (also as {seen[key]}); give each correction once; nothing merged')
        seen[key] = path
    return files


def read_corrections(corrections, pages: dict, pages_file, book_id, book_title, include_unfinished: bool) -> tuple:
    """Step 2: the corrections of the book's faces (every box the annotator left is a face; the
    importer of other documents keeps only what is named a face), read under the review
    servers' lock. Returns the collector, the pages left out (not done, never saved), the book's
    pages with their states and the files read."""
    col = PageCollector(book_id=book_id, book_title=book_title, all_regions=True)
    by_canvas = canvas_index(pages)
    files = correction_files(corrections)
    unfinished = []
    with contextlib.ExitStack() as locks:  # the review servers of these folders wait while they are read
        for folder in sorted({str(Path(f).parent) for f in files}):
            if (Path(folder) / '.lock').is_file():  # a review app's corrections (it makes the lock file)
                locks.enter_context(folder_lock(folder))
        docs = [(path, read_input(path)) for path in files]
    saved = {}  # canvas -> state, of the pages the review app saved
    for path, doc in docs:
        if isinstance(doc, dict) and 'images' in doc and 'annotations' in doc:
            col.add_coco(doc, path)
            continue
        state = doc.get('kaokore:state') if isinstance(doc, dict) else None
        canvas = page_canvas(doc) if state is not None else None
        if canvas is not None:
            saved[canvas] = state
        if state is not None and state != 'done' and not include_unfinished:
            unfinished.append(dict(file=str(path), state=state))
            continue
        col.add_web_annotations(doc, path, by_canvas)
    book = book_pages(pages, saved) if saved else []
    for page in book:  # never saved: listed, and with include_unfinished merged as proposed
        if page['state'] != 'never saved':
            continue
        proposals = Path(pages_file).parent / 'w3c' / f'{page_stem(page["page"])}.json'
        if include_unfinished and proposals.is_file():
            col.add_web_annotations(read_input(proposals), str(proposals), by_canvas)
        else:
            unfinished.append(dict(file=str(proposals), state='never saved', page=page['page']))
    for u in unfinished:
        print(f'  not merged: {u.get("page") or u["file"]} is {u["state"]!r}, not done', file=sys.stderr)
    return col, unfinished, book, files


def check_corrections(col, unfinished: list, files: list, replace: bool) -> dict:
    """Step 3: the corrected pages as COCO, validated whole before anything is written: a page
    corrected in two files, a box without a valid place or a canvas not among the pages (a box
    the annotator drew is never dropped), no page done, a box not finite or empty: refused."""
    corrected = col.coco()
    twice = {name: srcs for name, srcs in col.page_sources.items() if len(srcs) > 1}
    if twice:  # one page corrected in two files: which is right is the annotator's call, not the merge's
        name, srcs = next(iter(twice.items()))
        raise UserError(
            f'page {name} is in {len(srcs)} correction files ({", ".join(srcs)}); keep one correction per page '
            f'({len(twice)} pages like this); nothing merged'
        )
    for p in col.problems[1:]:
        print(f'  problem: {p["file"]} [{p["item"]}]: {p["reason"]}', file=sys.stderr)
    if col.problems:
        p = col.problems[0]
        more = f' (and {len(col.problems) - 1} more problems, listed above)' if len(col.problems) > 1 else ''
        raise UserError(f'{p["file"]}, item {p["item"]}: {p["reason"]}{more}; fix the corrections; nothing merged')
    if not corrected['images']:
        why = (
            f'none of the {len(unfinished)} pages is marked done (finish them in the review app, or set '
            '`include_unfinished`)'
            if unfinished
            else f'no corrected page could be read from {", ".join(files) or "`corrections`"}'
        )
        raise UserError(
            f'{why}; nothing merged' + (' (the book in the training set is left as it is)' if replace else '')
        )
    names = {im['id']: im['file_name'] for im in corrected['images']}
    for a in corrected['annotations']:
        b = a.get('bbox')
        if not (
            isinstance(b, (list, tuple))
            and len(b) == 4
            and all(isinstance(v, (int, float)) for v in b)
            and all(math.isfinite(v) for v in b)
            and b[2] > 0
            and b[3] > 0
        ):
            raise UserError(
                f'page {names.get(a["image_id"])!r}, annotation {a.get("id")}: box {b!r} is not a '
                'finite box with positive size; nothing merged'
            )
    return corrected


def check_page_files(corrected: dict, pages_root: Path, data_root, book_id: str) -> list[str]:
    """Step 4: every corrected page's image is there, and its name under ``data_root`` stays
    inside it; returns those names."""
    missing = [
        str(pages_root / im['file_name']) for im in corrected['images'] if not (pages_root / im['file_name']).is_file()
    ]
    if missing:
        raise UserError(
            f'page image {missing[0]} not found ({len(missing)} missing; `pages_file` names the folder in '
            'info.images_root); nothing merged'
        )
    dest_names = page_dest_names([im['file_name'] for im in corrected['images']], book_id)
    root = Path(data_root).resolve()
    for d in dest_names:
        if not (root / d).resolve().is_relative_to(root):
            raise UserError(f'page {d!r} would be written outside `data_root`; nothing merged')
    return dest_names


def check_training_set(train: dict, train_ann, corrected: dict, pages_root: Path, data_root, book_id, replace) -> set:
    """Step 5: the book is not in the training set yet (unless ``replace``: then the ids of its
    pages there, to go), and no corrected page is pixel for pixel a page of another book there."""
    existing = {im['id'] for im in train['images'] if im.get('book_id') == book_id}
    if existing and not replace:
        raise UserError(
            f'{train_ann}: book {book_id!r} is already in the training set '
            f'({len(existing)} pages); set `replace` to replace it'
        )
    known = training_page_hashes(
        train, Path(data_root).resolve(), Path(train_ann).parent / HASHES, book_id if replace else None
    )
    dups = duplicate_pages(corrected, pages_root, known)
    if dups:  # e.g. the held-out test book again under a new name: test pages would leak into training
        new, old = dups[0]
        raise UserError(
            f'page {new["file_name"]} is pixel for pixel page {old["file_name"]} of book {old.get("book_id")!r}, '
            f'already in {train_ann} ({len(dups)} pages like this); a book is merged once (`replace` '
            f'{old.get("book_id")} to correct that book); nothing merged'
        )
    return existing


def write_merge(
    train, existing, corrected, dest_names, pages_root, data_root, book_id, out, rejected=None
) -> tuple[int, int]:
    """Step 6, a transaction: the book's old pages out of ``train`` (``existing``), the corrected
    pages and faces in (each page with the proposals the annotator ``rejected`` on it, as its
    ``rejected`` boxes: hard negatives of the trainings to come), the page files staged, the COCO
    switched in one atomic rename; returns the pages and faces added."""
    data_root = Path(data_root).resolve()
    train['images'] = [im for im in train['images'] if im['id'] not in existing]
    train['annotations'] = [a for a in train['annotations'] if a['image_id'] not in existing]
    next_img = max((im['id'] for im in train['images']), default=0) + 1
    next_ann = max((a['id'] for a in train['annotations']), default=0) + 1
    new_ids = {}
    # a transaction: page files are never overwritten with other bytes (a page whose name is taken by other
    # bytes, as with --replace, goes to a name with its content hash), so until the COCO is switched (one
    # atomic rename) the old COCO still matches its files; a kill at any moment leaves the old state or the new
    created = []  # the page files this merge makes: removed again if it fails before the COCO is switched
    try:
        for im, dest_name in zip(corrected['images'], dest_names):
            data = (pages_root / im['file_name']).read_bytes()
            dest_name = staged_page(data_root, dest_name, data, created)
            new_ids[im['id']] = next_img
            page = dict(im, id=next_img, file_name=dest_name, book_id=book_id)
            if (rejected or {}).get(im['file_name']):
                page['rejected'] = rejected[im['file_name']]
            train['images'].append(page)
            next_img += 1
        added = 0
        for a in corrected['annotations']:
            if a['image_id'] in new_ids:
                a = {k: v for k, v in a.items() if k != 'score'}
                train['annotations'].append(dict(a, id=next_ann, image_id=new_ids[a['image_id']]))
                next_ann += 1
                added += 1
        atomic_write_text(out, json.dumps(train, ensure_ascii=False))
    except BaseException:
        remove_staged(created, data_root)
        raise
    return len(new_ids), added
