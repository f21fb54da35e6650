"""The annotation campaign, measured: round after round a detector proposes the faces of a new
book, an annotator corrects them in the review app, the corrected book joins the training set.

A collection of books with their true faces (a COCO file with ``book_id``s) is split into
``start`` books annotated from the outset, a pool in collection order, and ``heldout`` books that
never join (AP50 is measured on them). Every round of a strategy:

1. **train** on the books annotated so far but the last ``val_pages`` pages of each (round 0
   from the config's own initialisation, shared by the strategies; later rounds fine-tune from
   the round before with ``finetune_iters`` at ``finetune_lr_scale`` of the config's learning
   rate: at the full rate a fine-tune undoes much of what the model knew, and where it lands
   depends on the seed; docs/benchmarks.md), and validate on those pages with the held-out
   books: the operating point (the threshold at which proposing a box pays) the checkpoint
   keeps is chosen on a page of every annotated book, not on the held-out books alone (one
   small book is no sample of the collection's distractors: docs/benchmarks.md); AP50 is
   tested on the held-out books alone;
2. **choose** the next book of the pool: ``in_order`` takes the next one; ``active`` scouts
   pages of every book left with the current model and takes the book whose faces it expects
   to cost most each: the effort share it forecasts from its scores, read as chances of a face
   through the Platt calibration its validation fitted
   (:func:`~kaokore_mm.core.operating_point.expected_share`; recorded as ``forecast``, beside
   the share the book then cost); ``easy_first`` scouts the same way and takes the book it
   expects to cost least (:func:`choose_book`); ``active_pages`` scouts every page left and
   takes as many pages as a book of the pool holds on average, the costliest of every book
   in turn (:func:`choose_pages`), merged as one part named after the round (``pages_r<r>``);
3. **propose** its faces at the operating point (the annotate tool's own steps), with a face
   classifier's labels when one is given (its sure labels marked, as ``annotate.py --classifier``;
   the faces the annotator draws get theirs from the review app, as ``review.py --classifier``);
4. **correct** them to the truth in the review app, in Chromium, as a person would (the
   scripted annotator: accept, adjust, delete, draw; with a classifier, sure labels that are
   right confirmed in bulk, the others set one by one; every corrected page checked against
   the truth), counting the actions;
5. **merge** the corrected book into the training set with ``merge_corrections``.

Each round records the effort share of the book (the cost of its actions over drawing each
of its faces), the actions, the proposals' precision and recall, AP50 on the held-out books,
the effort share the round's model would cost on the held-out books at its operating point
(the same pages every round: the books annotated differ in difficulty, the held-out ones do
not) and the training minutes; with a classifier, the labels confirmed in bulk and set one by one,
and how often the sure ones were right. Every step writes its result atomically before the next starts, so
a campaign killed at any point resumes where it was (a correction cut short is done again
from the proposals). The campaign tool is its command line.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from kaokore_mm.annotation import annotate_pages, face_proposer, model_tag, pages_from_folder, score_threshold
from kaokore_mm.annotation.corrections import merge_corrections
from kaokore_mm.core.operating_point import expected_share, pooled_share
from kaokore_mm.core.page_files import read_page
from kaokore_mm.engine.hooks import read_operating_point
from kaokore_mm.inference import PageInferencer
from kaokore_mm.interpretation import FaceClassifier
from kaokore_mm.review.box_labeler import BoxLabeler
from kaokore_mm.review.scripted_annotator import correct_book
from kaokore_mm.utils.cli import UserError
from kaokore_mm.utils.config import load_config
from kaokore_mm.utils.io import atomic_write_json, atomic_write_text
from kaokore_mm.visualization.plots import campaign_figure, save_figure

from .experiments import markdown_table, parse_cfg_options, say, train_and_test

STRATEGIES = ('in_order', 'active', 'easy_first', 'active_pages')
BOOK_STRATEGIES = ('in_order', 'active', 'easy_first')  # a book a round; active_pages: pages of every book


def choose_book(strategy: str, pool: list, expected: dict) -> str:
    """The next book of ``pool`` for ``strategy``, from the forecast ``{book: {'share': ...}}``:
    ``active`` the book the current model expects to cost most per face (its hardest: the most
    to learn from), ``easy_first`` the one it expects to cost least. Every book of the pool is
    annotated in the end; if each round's model cut every book's cost by the same factor, the
    campaign's total would be least with the costliest books left to the best (last) models
    (the rearrangement inequality), which is what ``easy_first`` bets on; ``active`` bets that
    what a hard book teaches makes up for paying it with the weakest model. Ties go to the
    earlier book of the pool."""
    if strategy == 'in_order':
        return pool[0]
    sign = 1 if strategy == 'active' else -1
    return max(pool, key=lambda b: (sign * expected[b]['share'], -pool.index(b)))


def choose_pages(pool: list, expected: dict, budget: int) -> list:
    """``budget`` pages of ``pool`` (``[(page_id, book), ...]`` in collection order) for
    ``active_pages``, from the forecast ``{page_id: {'share': ...}}``: the pages the current
    model expects to cost most per face, taken book by book in turn (every book's costliest
    page before any book's second; each turn costliest first). A book's hard
    pages teach the model that book's distractors; taken across the books, one round shows it
    the distractors of every book left, where a book a round shows it one book's (and its
    easy pages wait for a better model). Ties go to the earlier page of the pool."""
    order = {pid: i for i, (pid, _) in enumerate(pool)}
    by_book = {}
    for pid, book in pool:
        by_book.setdefault(book, []).append(pid)
    ranked = []
    for pages in by_book.values():
        pages.sort(key=lambda pid: (-expected[pid]['share'], order[pid]))
        ranked.extend((k, -expected[pid]['share'], order[pid], pid) for k, pid in enumerate(pages))
    # rank within its book first, then the page's own forecast: the books take turns
    return [pid for *_, pid in sorted(ranked)[:budget]]


COLUMNS = (
    'strategy',
    'round',
    'book',
    'faces',
    'effort_share',
    'forecast',
    'accept',
    'resize',
    'delete',
    'draw',
    'score_thr',
    'precision',
    'recall',
    'heldout_AP50',
    'heldout_effort',
    'labels_bulk',
    'labels_by_hand',
    'sure_accuracy',
    'train_books',
    'train_min',
)


@dataclass(frozen=True)
class Plan:
    """What every round of a campaign shares (and a resumed campaign must keep): the detector
    ``config``, the iterations of the first training and of each later one, the
    ``cfg_options`` of every training and prediction, the pages per book the active strategy
    scouts, the face ``classifier`` (``(config, checkpoint)``) whose labels are proposed, the
    pages of each annotated book kept out of training for the validation (``val_pages``; 0:
    validate on the held-out books alone), the ``device`` of the predictions (where the work
    runs, not what it computes: a campaign may resume on another device; the trainings take the
    Runner's own, CUDA where there is one), and ``finetune_lr_scale``, the share of the config's
    peak learning rate the later rounds' fine-tunes start from (their warm-up and decay scaled to
    ``finetune_iters`` as the first training's), and ``finetune_ema``, the momentum of an
    exponential moving average of the fine-tunes' weights (mmengine's ``EMAHook``: the round's
    checkpoint, its validation and its proposals are the average's; 0: the last iterate's), and
    ``finetune_precise_bn``, the training patches a fine-tune's batch-norm statistics are
    recomputed on with its final weights (mmpretrain's ``PreciseBNHook``; 0: the running
    averages of its last batches)."""

    config: str
    max_iters: int = 500
    finetune_iters: int = 200
    cfg_options: tuple = ()
    scout_pages: int = 2
    classifier: tuple | None = None
    device: str = 'cpu'
    val_pages: int = 1
    finetune_lr_scale: float = 0.2
    finetune_ema: float = 0.0
    finetune_precise_bn: int = 0


def finetune_options(plan: Plan) -> list[str]:
    """The ``cfg_options`` a later round adds: the optimizer's learning rate (after
    ``plan.cfg_options``) times ``plan.finetune_lr_scale``; none at a scale of 1."""
    if plan.finetune_lr_scale == 1:
        return []
    cfg = load_config(plan.config, parse_cfg_options(plan.cfg_options))
    lr = ((cfg.get('optim_wrapper') or {}).get('optimizer') or {}).get('lr')
    if not isinstance(lr, (int, float)) or isinstance(lr, bool):
        raise UserError(
            f'{plan.config} has no optim_wrapper.optimizer.lr to scale for the fine-tunes: '
            'give --finetune-lr-scale 1, or set the rate through --cfg-options'
        )
    return [f'optim_wrapper.optimizer.lr={lr * plan.finetune_lr_scale!r}']


def finetune_hooks(plan: Plan) -> list[dict]:
    """The hooks a later round's training adds (the first training has none, so a start model is
    shared by campaigns with and without them): an ``EMAHook`` at ``plan.finetune_ema``, its
    buffers averaged with the weights (the normalization statistics of the last iterations
    beside averaged weights would pair two different models); a ``PreciseBNHook`` over
    ``plan.finetune_precise_bn`` patches at the last iteration, before the checkpoint is saved
    (with a batch of 2 patches, the running statistics are an average of the last few batches:
    docs/benchmarks.md). Given both, the statistics are recomputed for the last iterate's
    weights and enter the average as one more step at its momentum: the checkpoint's
    statistics are then mostly the average's own, not recomputed for its weights."""
    hooks = []
    if plan.finetune_precise_bn:
        hooks.append(
            dict(
                type='mmpretrain.PreciseBNHook',
                num_samples=plan.finetune_precise_bn,
                interval=plan.finetune_iters,
                priority='ABOVE_NORMAL',
            )
        )
    if plan.finetune_ema:
        hooks.append(dict(type='EMAHook', momentum=plan.finetune_ema, update_buffers=True))
    return hooks


def split_books(truth: dict, start: int, heldout: int) -> tuple[list, list, list]:
    """``(start books, pool in collection order, held-out books)`` of a COCO file's books
    (collection order: their first page's id)."""
    order = []
    for im in sorted(truth['images'], key=lambda im: im['id']):
        if im.get('book_id') is None:
            raise UserError(f'page {im["file_name"]} has no book_id: a campaign needs books')
        if im['book_id'] not in order:
            order.append(im['book_id'])
    if start < 1 or heldout < 1 or start + heldout >= len(order):
        raise UserError(
            f'{len(order)} books: need at least one start book, one held-out book and one to annotate '
            f'(start={start}, heldout={heldout})'
        )
    return order[:start], order[start : len(order) - heldout], order[len(order) - heldout :]


def book_subset(truth: dict, books) -> dict:
    """The pages (and their faces) of ``books``."""
    books = set(books)
    return pages_subset(truth, [im['id'] for im in truth['images'] if im.get('book_id') in books])


def _link_pages(coco: dict, src_root: Path, dst_root: Path) -> None:
    """The page files of ``coco`` from ``src_root`` into ``dst_root`` (hard links where the
    file system allows, else copies), same relative paths."""
    for im in coco['images']:
        src, dst = src_root / im['file_name'], dst_root / im['file_name']
        if dst.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)


def make_root(root: Path, truth: dict, truth_root: Path, books) -> Path:
    """A data root holding ``books`` of the truth (COCO + pages); kept if already made."""
    ann = root / 'annotations' / 'pages.json'
    if not ann.exists():
        coco = book_subset(truth, books)
        _link_pages(coco, truth_root, root)
        atomic_write_json(ann, coco)
    return root


def run_options(train_root: Path, heldout_root: Path, cfg_options=(), load_from=None, val_root=None) -> list[str]:
    """``--cfg-options`` of a round: train on every page of ``train_root``, validate on every page
    of ``val_root`` (default: ``heldout_root``) and test on every page of ``heldout_root``."""
    opts = [
        'train_dataloader.sampler.ratios=(1,0,0)',
        'val_dataloader.sampler.ratios=(0,1,0)',
        'test_dataloader.sampler.ratios=(0,1,0)',
        'test_dataloader.sampler.subset=val',
        f'val_dataloader.dataset.data_root={val_root or heldout_root}/',
        f'test_dataloader.dataset.data_root={heldout_root}/',
        # a round's hard negatives are the proposals its annotator deleted (merge keeps them as `rejected`),
        # not a mining pass over every training page each round
        'default_hooks.hard_negatives.at=None',
        *cfg_options,
    ]
    if load_from is not None:
        opts.append(f'load_from={load_from}')
    return opts


def split_pages(coco: dict, val_pages: int) -> tuple[dict, dict]:
    """``(training part, validation part)`` of annotated books: the last ``val_pages`` pages (by
    id) of every book go to validation, leaving at least one page of each to train on."""
    books = {}
    for im in sorted(coco['images'], key=lambda im: im['id']):
        books.setdefault(im.get('book_id'), []).append(im['id'])
    val = {i for ids in books.values() for i in ids[len(ids) - min(val_pages, len(ids) - 1) :]} if val_pages else set()

    def part(keep):
        images = [im for im in coco['images'] if keep(im['id'])]
        return dict(coco, images=images, annotations=[a for a in coco['annotations'] if keep(a['image_id'])])

    return part(lambda i: i not in val), part(lambda i: i in val)


def join_sets(*parts: dict) -> dict:
    """COCO sets of different pages as one, image and annotation ids numbered afresh (the books
    of a campaign come from different files); the same page file twice is refused."""
    images, annotations, names = [], [], set()
    for coco in parts:
        new_id = {}
        for im in coco['images']:
            if im['file_name'] in names:
                raise UserError(f'page {im["file_name"]} is in two of the sets joined for validation')
            names.add(im['file_name'])
            new_id[im['id']] = len(images) + 1
            images.append(dict(im, id=new_id[im['id']]))
        for a in coco['annotations']:
            annotations.append(dict(a, id=len(annotations) + 1, image_id=new_id[a['image_id']]))
    return dict(parts[0], images=images, annotations=annotations)


def round_roots(here: Path, data: Path, heldout_root: Path, val_pages: int) -> tuple[Path, Path]:
    """``(train root, val root)`` of a round in ``here``: the annotated books of ``data`` but their
    last ``val_pages`` pages, and those pages with the held-out books (``(data, heldout_root)``
    when ``val_pages`` is 0). Made once (the validation set last: it marks the split done)."""
    if not val_pages:
        return data, heldout_root
    train_root, val_root = here / 'train_data', here / 'val_data'
    ann = Path('annotations') / 'pages.json'
    if not (val_root / ann).exists():
        train, val = split_pages(json.loads((data / ann).read_text()), val_pages)
        held = json.loads((heldout_root / ann).read_text())
        _link_pages(train, data, train_root)
        atomic_write_json(train_root / ann, train)
        _link_pages(val, data, val_root)
        _link_pages(held, heldout_root, val_root)
        atomic_write_json(val_root / ann, join_sets(held, val))
    return train_root, val_root


def scout(
    inferencer, truth: dict, truth_root: Path, books, pages_per_book: int, score_thr: float, calibration=None
) -> dict:
    """``{book: forecast}`` of the current model on the first ``pages_per_book`` pages of each book
    (0: all of them): the effort share it expects (``share``), the cost in drawings per page and the
    faces it expects per page, reading its scores through the validation's ``calibration``
    (:func:`~kaokore_mm.core.operating_point.expected_share`)."""
    out = {}
    for book in books:
        pages = sorted(im['id'] for im in truth['images'] if im.get('book_id') == book)
        pages = pages[:pages_per_book] if pages_per_book else pages
        e = pooled_share(scout_pages(inferencer, truth, truth_root, pages, score_thr, calibration).values())
        n = max(1, len(pages))
        out[book] = dict(share=e['share'], cost_per_page=e['cost'] / n, faces_per_page=e['faces'] / n)
    return out


def scout_pages(inferencer, truth: dict, truth_root: Path, page_ids, score_thr: float, calibration=None) -> dict:
    """``{page_id: forecast}`` of the current model on each page of ``page_ids``: the effort share
    it expects (``share``), its cost in drawings and the faces it expects (as :func:`scout`)."""
    pages = {im['id']: im for im in truth['images']}
    out = {}
    for pid in page_ids:
        scores = inferencer(read_page(truth_root / pages[pid]['file_name']))['scores']
        out[pid] = expected_share([scores], score_thr, calibration=calibration)
    return out


def pages_subset(truth: dict, page_ids) -> dict:
    """The pages ``page_ids`` (and their faces)."""
    ids = set(page_ids)
    return dict(
        truth,
        images=[im for im in truth['images'] if im['id'] in ids],
        annotations=[a for a in truth['annotations'] if a['image_id'] in ids],
    )


def propose(
    plan: Plan, checkpoint: str, subset: dict, truth_root: Path, book: str, out: Path, classifier=None
) -> tuple:
    """The annotate tool's steps for the pages of ``subset`` (a COCO subset of the truth) as book ``book``, at
    the checkpoint's operating point (with the plan's ``classifier``, a
    :class:`~kaokore_mm.interpretation.FaceClassifier`, if any); returns the threshold, where it
    came from and the label kinds proposed."""
    pages_dir = out.parent / 'book'
    _link_pages(subset, truth_root, pages_dir)
    pages = pages_from_folder(pages_dir / 'pages')
    cfg = load_config(plan.config, parse_cfg_options(plan.cfg_options))
    thr, how = score_threshold('auto', checkpoint)
    inferencer = PageInferencer(cfg, checkpoint, device=plan.device)
    annotate_pages(
        pages,
        out,
        face_proposer(inferencer, classifier),
        model_tag(cfg, checkpoint, plan.classifier),
        pages_dir / 'pages',
        book,
        thr,
        progress=False,
        score_thr_from=how,
    )
    return thr, how, (classifier.task,) if classifier else ()


def _read(path: Path):
    return json.loads(path.read_text()) if path.exists() else None


def run_round(
    plan: Plan,
    strategy: str,
    r: int,
    work: Path,
    truth: dict,
    truth_root: Path,
    heldout_root: Path,
    pool: list,
    done_books: list,
    budget: int | None = None,
) -> dict:
    """One round of ``strategy`` (see the module); returns its record, also in ``round.json``.
    ``pool``: the books left (a book strategy) or ``[(page_id, book), ...]``, the pages left
    (``active_pages``, which takes ``budget`` of them)."""
    here = work / strategy / f'round_{r}'
    record_file = here / 'round.json'
    run_dir = work / 'start' if r == 0 else here  # round 0 is the same for every strategy (the start books)
    if (rec := _read(record_file)) is not None:
        say('campaign', f'{strategy} round {r}: finished earlier ({rec["book"]})')
        if set(heldout_figures({})) - set(rec):  # recorded before a held-out column: from the round's own test
            rec = {**heldout_figures((_read(run_dir / 'test' / 'test_metrics.json') or {}).get('metrics', {})), **rec}
        return rec
    data = work / strategy / 'data'  # the books annotated so far, as merge_corrections leaves them
    previous = None if r == 0 else _read(work / strategy / f'round_{r - 1}' / 'round.json')
    # 1. train
    load_from = None if r == 0 else previous['checkpoint']
    iters = plan.max_iters if r == 0 else plan.finetune_iters
    train_root, val_root = round_roots(run_dir, data, heldout_root, plan.val_pages)
    run = train_and_test(
        plan.config,
        run_dir,
        train_root,
        iters,
        run_options(
            train_root, heldout_root, (*plan.cfg_options, *(finetune_options(plan) if r else ())), load_from, val_root
        ),
        tag='campaign',
        train_hooks=finetune_hooks(plan) if r else (),
    )
    # 2. choose
    chosen_file = here / 'chosen.json'
    if (chosen := _read(chosen_file)) is None:
        chosen = choose(plan, strategy, r, run['checkpoint'], truth, truth_root, pool, budget)
        atomic_write_json(chosen_file, chosen)
    book = chosen['book']
    subset = pages_subset(truth, chosen['pages']) if 'pages' in chosen else book_subset(truth, [book])
    say('campaign', f'{strategy} round {r}: annotating {book} ({len(done_books)} parts annotated)')
    # 3. propose, 4. correct (again from the proposals when a correction was cut short)
    out = here / 'annotate'
    effort_file = here / 'effort.json'
    if (effort := _read(effort_file)) is None:
        if (out / 'corrections').exists():
            shutil.rmtree(out / 'corrections')
        classifier = FaceClassifier(*plan.classifier, device=plan.device) if plan.classifier else None
        thr, how, kinds = propose(plan, run['checkpoint'], subset, truth_root, book, out, classifier)
        # the review app as `review.py --classifier` runs it: a face drawn gets its label proposed too
        labeler = BoxLabeler(classifier) if classifier else None
        effort = correct_book(out, subset, log=lambda line: None, labels=kinds, labeler=labeler)
        effort.update(score_thr=thr, score_thr_from=how)
        atomic_write_json(effort_file, effort)
    # 5. merge (a book already in the training set was merged before a kill)
    train_ann = data / 'annotations' / 'pages.json'
    if book not in {im.get('book_id') for im in json.loads(train_ann.read_text())['images']}:
        merge_corrections(
            [out / 'corrections'],
            train_ann,
            data,
            book,
            pages_file=out / 'annotations.coco.json',
            predictions=out / 'annotations.coco.json',
        )
    ops = effort['operations']
    proposed, found = ops['accept'] + ops['resize'] + ops['delete'], ops['accept'] + ops['resize']
    record = dict(
        strategy=strategy,
        round=r,
        book=chosen.get('label', book),
        part=book,
        faces=effort['faces'],
        effort_share=effort['effort_share'],
        forecast=chosen.get('forecast', forecast_of(chosen, book)),
        **ops,
        score_thr=effort['score_thr'],
        precision=found / proposed if proposed else None,
        recall=found / effort['faces'] if effort['faces'] else None,
        **heldout_figures(run['metrics']),
        **label_figures(effort.get('labels')),
        train_books=len(done_books),
        train_min=run['train_s'] / 60,
        checkpoint=run['checkpoint'],
        expected=chosen.get('expected', {}),
        **({'pages': chosen['pages']} if 'pages' in chosen else {}),
    )
    atomic_write_json(record_file, record)
    return record


def choose(
    plan: Plan, strategy: str, r: int, checkpoint: str, truth: dict, truth_root: Path, pool: list, budget
) -> dict:
    """What ``strategy`` annotates next: ``{'book', 'expected'}`` (a book strategy: the book and
    the forecast of every book scouted), or for ``active_pages`` ``{'book': 'pages_r<r>', 'pages',
    'expected', 'forecast'}`` (the pages chosen, merged as one part named after the round; the
    forecast of every page left; the share forecast for the pages chosen together)."""
    if strategy == 'in_order':
        return dict(book=choose_book(strategy, pool, {}), expected={})  # nothing to forecast
    thr, _ = score_threshold('auto', checkpoint)
    point = read_operating_point(checkpoint) or {}
    calibration = dict(slope=point.get('calib_slope'), intercept=point.get('calib_intercept'))
    cfg = load_config(plan.config, parse_cfg_options(plan.cfg_options))
    inferencer = PageInferencer(cfg, checkpoint, device=plan.device)
    if strategy != 'active_pages':
        # by the cost it expects per face (not the number of faces)
        expected = scout(inferencer, truth, truth_root, pool, plan.scout_pages, thr, calibration)
        return dict(book=choose_book(strategy, pool, expected), expected=expected)
    expected = scout_pages(inferencer, truth, truth_root, [pid for pid, _ in pool], thr, calibration)
    pages = choose_pages(pool, expected, budget)
    owner, books = dict(pool), dict.fromkeys((b for _, b in pool), 0)
    for pid in pages:
        books[owner[pid]] += 1
    books = {b: n for b, n in books.items() if n}
    return dict(
        book=f'pages_r{r}',
        label=' '.join(f'{b}x{n}' if n > 1 else b for b, n in books.items()),
        pages=pages,
        books=books,
        expected={str(p): e for p, e in expected.items()},
        forecast=pooled_share(expected[p] for p in pages)['share'],
    )


def forecast_of(chosen: dict, book: str) -> float | None:
    """The effort share the scouting forecast for ``book`` (``None`` where nothing was scouted, or
    by a campaign that ranked by cost per page before the forecast)."""
    f = (chosen.get('expected') or {}).get(book)
    return f.get('share') if isinstance(f, dict) else None


def heldout_figures(metrics: dict) -> dict:
    """A round's figures on the held-out books from its test metrics: AP50, and the effort share at
    the operating point the round chose on its validation (``None`` where the test has none)."""
    return dict(heldout_AP50=metrics.get('face/AP50'), heldout_effort=metrics.get('face/at_val_point/effort_share'))


def label_figures(counts: dict | None) -> dict:
    """A round's label figures from the scripted annotator's counts: labels confirmed in bulk,
    set by hand, and the share of the sure proposals that were right (``None`` without labels)."""
    if not counts:
        return dict(labels_bulk=None, labels_by_hand=None, sure_accuracy=None, labels=None)
    return dict(
        labels_bulk=counts['bulk'],
        labels_by_hand=counts['one_by_one'],
        sure_accuracy=counts['sure_right'] / counts['sure'] if counts['sure'] else None,
        labels=counts,
    )


def run_campaign(
    work_dir, data_root, plan: Plan, rounds: int, strategies=STRATEGIES, start: int = 1, heldout: int = 1
) -> list[dict]:
    """Run (or resume) the campaign of every strategy; writes ``WORK/campaign.md``, ``campaign.json``
    and ``effort.png`` after each round; returns the records (strategy by strategy, round by round)."""
    for s in strategies:
        if s not in STRATEGIES:
            raise UserError(f'unknown strategy {s!r}: the strategies are {", ".join(STRATEGIES)}')
    work, truth_root = Path(work_dir), Path(data_root)
    ann = truth_root / 'annotations' / 'pages.json'
    if not ann.is_file():
        raise UserError(f'{ann} not found: give the data root of the collection (its true faces)')
    for f in plan.classifier or ():
        if not Path(f).is_file():
            raise UserError(f'classifier file {f} not found: give its config and a checkpoint trained with it')
    truth = json.loads(ann.read_text())
    start_books, pool, held = split_books(truth, start, heldout)
    if rounds > len(pool):
        raise UserError(f'{rounds} rounds need {rounds} books to annotate; the pool has {len(pool)}')
    # what a resumed campaign must share (more rounds may follow)
    shared = {k: v for k, v in asdict(plan).items() if k != 'device'}
    settings = json.loads(json.dumps(dict(shared, data_root=str(truth_root.resolve()), start=start, heldout=heldout)))
    meta = work / 'settings.json'
    if (old := _read(meta)) is not None:
        old.setdefault('val_pages', 0)  # written before the option: validated on the held-out books alone
        old.setdefault('finetune_lr_scale', 1.0)  # written before the option: fine-tuned at the full rate
        old.setdefault('finetune_ema', 0.0)  # written before the option: no average
        old.setdefault('finetune_precise_bn', 0)  # nor statistics recomputed
    if old is not None and old != settings:
        changed = ', '.join(
            f'{k} {old.get(k)!r} -> {settings.get(k)!r}'
            for k in sorted({*old, *settings})
            if old.get(k) != settings.get(k)
        )
        raise UserError(f'{meta} was written with other settings ({changed}): use another work dir or remove it')
    atomic_write_json(meta, settings)
    heldout_root = make_root(work / 'heldout', truth, truth_root, held)
    # active_pages annotates as many pages a round as a book holds on average: the same pages in all
    pool_pages = [(im['id'], im['book_id']) for im in sorted(truth['images'], key=lambda im: im['id'])]
    pool_pages = [(pid, b) for pid, b in pool_pages if b in pool]
    budget = max(1, round(len(pool_pages) / len(pool)))
    records = []
    for s in strategies:
        make_root(work / s / 'data', truth, truth_root, start_books)
        done, left = list(start_books), list(pool if s in BOOK_STRATEGIES else pool_pages)
        for r in range(rounds):
            rec = run_round(plan, s, r, work, truth, truth_root, heldout_root, left, done, budget)
            records.append(rec)
            done.append(rec.get('part', rec['book']))
            if 'pages' in rec:
                taken = set(rec['pages'])
                left = [(pid, b) for pid, b in left if pid not in taken]
            else:
                left.remove(rec['book'])
            write_report(work, records, held)
    return records


def write_report(work: Path, records: list[dict], heldout) -> None:
    """``campaign.md`` (the table, with each strategy's cumulative effort), ``campaign.json`` and
    ``effort.png`` (effort share per round per strategy)."""
    totals = {}
    for rec in records:
        t = totals.setdefault(rec['strategy'], dict(cost=0.0, faces=0))
        t['cost'] += rec['effort_share'] * rec['faces']
        t['faces'] += rec['faces']
    lines = [markdown_table(records, COLUMNS), '']
    for s, t in totals.items():
        lines.append(f'- {s}: cumulative effort {t["cost"] / max(1, t["faces"]):.3f} of drawing its {t["faces"]} faces')
    for s, t in label_totals(records).items():
        lines.append(
            f'- {s}: labels confirmed in bulk {t["bulk"]} of {t["bulk"] + t["one_by_one"]} '
            f'({t["bulk_share"]:.1%}); the sure ones right {t["sure_right"]} of {t["sure"]} ({t["sure_accuracy"]:.1%})'
        )
    lines.append(f'- held-out books (AP50): {", ".join(heldout)}')
    atomic_write_text(work / 'campaign.md', '\n'.join(lines) + '\n')
    atomic_write_json(work / 'campaign.json', dict(records=records, cumulative=totals, labels=label_totals(records)))
    save_figure(campaign_figure(records), work / 'effort.png')


def label_totals(records: list[dict]) -> dict:
    """Per strategy, the label counts of its rounds summed, with the share confirmed in bulk and
    the accuracy of the sure labels (strategies without labels left out)."""
    out = {}
    for rec in records:
        if not rec.get('labels'):
            continue
        t = out.setdefault(rec['strategy'], dict.fromkeys(rec['labels'], 0))
        for k, v in rec['labels'].items():
            t[k] += v
    for t in out.values():
        t['bulk_share'] = t['bulk'] / max(1, t['bulk'] + t['one_by_one'])
        t['sure_accuracy'] = t['sure_right'] / t['sure'] if t['sure'] else 0.0
    return out
