"""Propose faces on the pages of a book and write what annotators and viewers load.

:func:`annotate_pages` runs in one process or in many (pages sharded by rank,
outputs written by rank 0 from the per-page predictions, so any number of
processes gives the same files and a run resumes after a change of that
number). Per page, ``OUT/predictions/<stem>.json`` holds the boxes with the
model that made them (config and checkpoint, each with a content hash): a page
is predicted again when the model changed, never mixed. Pages that cannot be
used (missing, cut short, not an image) stop the run before any prediction,
with one line naming them, or with ``skip_bad`` are listed in ``annotate.json``
and skipped, so the rest of the book finishes: the policy of train and test.
Memory stays bounded by one page: outputs are written page by page and the
contact sheet keeps only the ``sheet_size`` most doubtful face crops.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from kaokore_mm.core.page_files import bad_pages_message, page_problem
from kaokore_mm.engine.hooks import read_operating_point
from kaokore_mm.errors import BadPageError
from kaokore_mm.utils.config import resolved
from kaokore_mm.utils.dist import rank_and_world
from kaokore_mm.utils.io import atomic_write_json, remove_stale_temp_files

from .pages import page_stem
from .writers import (
    CocoWriter,
    CsvWriter,
    CurationWriter,
    ManifestWriter,
    PictureWriter,
    W3CWriter,
    predicted_pages,
    read_page_or_report,
)


def file_sha256(path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            h.update(block)
    return h.hexdigest()


def model_tag(config, checkpoint, classifier=None) -> dict:
    """What made a prediction: the config (as resolved, hashed) and the checkpoint
    (path and content hash), and the classifier's if any."""
    from mmengine.config import Config

    def one(cfg_path, ckpt):
        cfg = resolved(cfg_path)
        text = cfg.pretty_text  # as resolved, --cfg-options included
        return dict(
            config=str(cfg.filename if isinstance(cfg_path, Config) else cfg_path),
            config_sha256=hashlib.sha256(text.encode('utf-8')).hexdigest()[:16],
            checkpoint=str(ckpt),
            checkpoint_sha256=file_sha256(ckpt)[:16],
        )

    tag = dict(detector=one(config, checkpoint))
    if classifier:
        tag['classifier'] = one(*classifier)
    return tag


DEFAULT_BASE_URL = 'http://127.0.0.1:8000'  # the review tool's own address, as it prints it
DEFAULT_SCORE_THR = 0.3  # without an operating point: low, because a wrong box costs a click, a miss a drawing


def score_threshold(given, checkpoint) -> tuple[float, dict]:
    """The annotation threshold and where it comes from. ``given``: a number (it wins), or
    ``'auto'``: the operating point kept in ``checkpoint`` (the threshold at which proposing
    a box pays on the validation pages, see :class:`~kaokore_mm.engine.hooks.OperatingPointHook`),
    else :data:`DEFAULT_SCORE_THR`."""
    if given != 'auto':
        return float(given), dict(source='given')

    point = read_operating_point(checkpoint)
    if not point or point.get('score_thr') is None:
        return DEFAULT_SCORE_THR, dict(source='default', reason='the checkpoint carries no operating point')
    return float(point['score_thr']), dict(point, source='validation')


def describe_score_threshold(thr: float, how: dict) -> str:
    """One line saying which threshold proposes and why (what the annotate tool prints)."""
    if how['source'] == 'given':
        return f'score threshold {thr:g} (given)'
    if how['source'] == 'default':
        return (
            f'score threshold {thr:g} (the default: {how["reason"]} from validation; train with the '
            'OperatingPointHook and a FaceDetectionMetric validation, or give a number)'
        )

    def fig(key):
        v = how.get(key)
        return 'n/a' if v is None else f'{v:.3f}'

    return (
        f'score threshold {thr:.4f}: the operating point of the validation at iteration {how.get("iter")} '
        f'(precision {fig("precision")}, recall {fig("recall")}, correction effort {fig("effort_share")} '
        'of drawing every face)'
    )


def predict_pages(
    pages, out, predict, tag: dict, rank: int = 0, world_size: int = 1, progress: bool = True
) -> tuple[int, list[dict]]:
    """Predict this rank's share of ``pages`` (``pages[rank::world_size]``) with
    ``predict(img) -> list of face dicts`` unless a prediction by the same model
    exists; returns ``(predicted_now, bad_pages)``."""
    pred_dir = Path(out) / 'predictions'
    pred_dir.mkdir(parents=True, exist_ok=True)
    mine = pages[rank::world_size]
    if progress and rank == 0:
        from tqdm import tqdm

        mine = tqdm(mine, desc=f'pages (rank 0 of {world_size})' if world_size > 1 else 'pages', unit='page')
    done, bad = 0, []
    for p in mine:
        pred_file = pred_dir / f'{page_stem(p["key"])}.json'
        boxes = None
        if pred_file.exists():
            try:
                old = json.loads(pred_file.read_text())
                if old.get('model') == tag and old.get('key') == p['key']:
                    continue  # finished in an earlier run, by the same model
                if (
                    getattr(predict, 'takes_boxes', False)
                    and old.get('key') == p['key']
                    and (old.get('model') or {}).get('detector') == tag.get('detector')
                ):  # the same detector's boxes: only the classifier runs (added or changed)
                    boxes = [dict(box=f['box'], score=f['score']) for f in old['faces']]
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                boxes = None  # unreadable: predict again
        try:
            img = read_page_or_report(p['path'])
        except BadPageError as e:
            bad.append(dict(key=p['key'], path=str(p['path']), reason=str(e)))
            continue
        faces = predict(img) if boxes is None else predict(img, boxes)
        atomic_write_json(
            pred_file, dict(key=p['key'], width=img.shape[1], height=img.shape[0], model=tag, faces=faces), indent=None
        )
        done += 1
    return done, bad


def write_outputs(
    pages,
    out,
    images_root,
    book_id: str,
    score_thr: float,
    book_title=None,
    description: str = '',
    sheet_size: int = 300,
    base_url: str = DEFAULT_BASE_URL,
    source: dict | None = None,
) -> dict:
    """COCO, W3C AnnotationPages, a IIIF manifest, a curation, CSV, review pictures, the
    contact sheet and each page's level-0 tiles from the per-page predictions, one page in
    memory at a time (:mod:`~kaokore_mm.annotation.writers`: one writer per format, fed by one
    page iterator); returns counts. ``base_url``: where the review app serves ``out``: the ids
    of everything IIIF (canvases of a folder's pages, annotations, manifest, image services)
    are http(s) URLs under it. ``source``: the manifest the pages come from (``id`` and
    ``label``), which the curation names as ``within``."""
    out = Path(out)
    missing = []
    coco, w3c, manifest = CocoWriter(book_id, book_title, score_thr), W3CWriter(out, base_url), ManifestWriter()
    curated, table = CurationWriter(), CsvWriter()
    pictures = PictureWriter(out, base_url, score_thr, sheet_size)
    for page in predicted_pages(pages, out, images_root, score_thr, base_url, missing):
        for writer in (coco, w3c, manifest, curated, table, pictures):
            writer.add(page)
    base = base_url.rstrip('/')
    # the curation is "within" the book's manifest: the institution's for a IIIF source (where
    # Mirador and IIIF Curation Viewer load it), else the one the review app serves
    within = (source or {}).get('id') or f'{base}/manifest.json'
    label = book_title or (source or {}).get('label') or book_id
    info = dict(
        description=description,
        score_thr=score_thr,
        images_root=str(images_root),
        manifest=within,
        review_manifest=f'{base}/manifest.json',
    )
    coco.finish(out, info)
    manifest.finish(out, base_url, label)
    curated.finish(out, base, within, label)
    table.finish(out)
    pictures.finish()
    return dict(pages_written=len(coco.images), faces=len(coco.anns), pages_without_prediction=missing)


def face_proposer(inferencer, classifier=None) -> Callable:
    """``predict(page) -> faces`` for :func:`annotate_pages` from a page detector
    (:class:`~kaokore_mm.apis.PageInferencer`) and, optionally, a face classifier
    (:class:`~kaokore_mm.interpretation.FaceClassifier`) whose label, score and sureness
    go with each box under its task's name (``status``, ``status_score``, ``status_sure``:
    sure enough to be confirmed in bulk)."""

    def predict(img, boxes=None) -> list[dict]:
        """The faces of a page; with ``boxes`` (this detector's, from an earlier run) only the classifier runs."""
        if boxes is None:
            r = inferencer(img)
            faces = [dict(box=[float(v) for v in b], score=float(s)) for b, s in zip(r['bboxes'], r['scores'])]
        else:
            faces = [dict(box=[float(v) for v in f['box']], score=float(f['score'])) for f in boxes]
        if classifier is not None and faces:
            for f, (label, score, *sure) in zip(faces, classifier(img, [f['box'] for f in faces])):
                task = classifier.task  # a classifier without a calibrated threshold is never sure
                f[task], f[f'{task}_score'], f[f'{task}_sure'] = label, score, bool(sure and sure[0])
        return faces

    predict.takes_boxes = True
    return predict


OWN_FOLDERS = ('predictions', 'w3c', 'iiif', 'review')  # what annotate writes below OUT, besides its files


def annotate_pages(
    pages,
    out,
    predict,
    tag: dict,
    images_root,
    book_id: str,
    score_thr: float = 0.3,
    skip_bad: bool = False,
    book_title=None,
    description: str = '',
    progress: bool = True,
    base_url: str = DEFAULT_BASE_URL,
    source: dict | None = None,
    score_thr_from: dict | None = None,
) -> dict:
    """Predict (sharded over the ranks of an initialised process group) and
    write the outputs (rank 0); returns the run's summary (``annotate.json``).
    ``source``: the IIIF manifest the pages come from (``id``, ``label``, ``skipped``);
    ``score_thr_from``: where the threshold comes from (:func:`score_threshold`)."""
    rank, world = rank_and_world()
    keys = [p['key'] for p in pages]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f'two pages share the key {dup!r}')
    # the bad-page policy of train and test: checked up front (file headers, no decode), stop unless skip_bad
    bad = [dict(key=p['key'], path=str(p['path']), reason=r) for p in pages if (r := page_problem(p['path']))]
    if bad and not skip_bad:
        raise BadPageError(bad_pages_message([b['reason'] for b in bad], len(pages)))
    checked = {b['key'] for b in bad}
    done, late = predict_pages([p for p in pages if p['key'] not in checked], out, predict, tag, rank, world, progress)
    if world > 1:
        from mmengine.dist import all_gather_object

        parts = all_gather_object(dict(done=done, bad=late))
        done, late = sum(p['done'] for p in parts), [b for p in parts for b in p['bad']]
    if late and not skip_bad:  # a sound header over pixels that do not decode
        raise BadPageError(bad_pages_message([b['reason'] for b in late], len(pages)))
    bad += late
    bad_keys = {b['key'] for b in bad}
    summary = None
    if rank == 0:
        # every rank has predicted (the gather above is the barrier): what a killed run left half-written
        # is nobody's now; its whole files are reused or rewritten below. Only annotate's own files: the
        # review app may be saving corrections/ of the same book now, the downloader minds pages/
        stale = remove_stale_temp_files(out, recursive=False) + sum(
            remove_stale_temp_files(Path(out) / d) for d in OWN_FOLDERS if (Path(out) / d).is_dir()
        )
        good = [p for p in pages if p['key'] not in bad_keys]
        written = write_outputs(
            good, out, images_root, book_id, score_thr, book_title, description, base_url=base_url, source=source
        )
        summary = dict(
            model=tag,
            book_id=book_id,
            score_thr=score_thr,
            score_thr_from=score_thr_from or dict(source='given'),
            pages=len(pages),
            pages_predicted_now=done,
            pages_written=written['pages_written'],
            faces=written['faces'],
            bad_pages=sorted(bad, key=lambda b: b['key']),
            canvases_skipped=(source or {}).get('skipped', []),
            processes=world,
            stale_temp_files_removed=stale,
        )
        atomic_write_json(Path(out) / 'annotate.json', summary)
    if world > 1:
        from mmengine.dist import broadcast_object_list

        box = [summary]
        broadcast_object_list(box)
        summary = box[0]
    return summary
