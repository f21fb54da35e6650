"""The patching benchmark: one light detector, the same iterations, whole page vs patches vs views.

For each regime of synthetic pages (split by book, ``inter_book``) the demo
detector (half-width ResNet-18 Faster R-CNN from scratch) is trained for the
same iterations, batch 2:

* ``page1333``: on whole pages resized to fit 1333x800 (the papers' whole-page setting);
* ``grid512`` / ``grid1333``: on patches of 512x512 / 1333x800 of the page at
  its own scale, one view (the papers' grid);
* ``views1333``: the multi-view default (patches of 1333x800 of the page at
  the rates the faces need, and the whole page; the shipped configs' views),
  with its hard negatives: halfway the model predicts the training pages and
  the windows of its confident false boxes are trained on from then on
  (``HardNegativeMiningHook``, every patched config's default); the same
  iterations, plus one prediction pass over the training pages;
* ``views1333_nomine`` (on request): the same without the mining;
* ``views512`` (on request): the demo config's own views.

The single-view trainings are the papers' method: no mining.

Patched detectors are tested with their config's test setting (overlap from
the faces, containment-aware NMS) and, for the single-view ones, with the
papers' plain grid too. Each row reports AP50, recall and precision at the
metric's 0.5 and at annotate's 0.3, the annotation effort at 0.5 and at the
operating point its validation book chose (each detector at its own threshold,
as ``annotate.py --score-thr auto`` proposes), the faces the detector saw in
training, train minutes and test seconds per page; a picture
of each regime's missed faces goes to ``WORK/<regime>/misses.jpg``.
Resumable. Its command line is the ``benchmark_patching`` tool.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np

from kaokore_mm.apis.experiments import (
    effective_schedule,
    markdown_table,
    run_cfg,
    say,
    test_checkpoint,
    train_and_test,
)
from kaokore_mm.core.coco_faces import faces_by_image
from kaokore_mm.core.face_metrics import counts_at, match_page
from kaokore_mm.datasets.samplers.book_split_sampler import loader_subset_indices
from kaokore_mm.engine.hooks.hard_negative_mining_hook import FILE as MINED_FILE
from kaokore_mm.synthetic.emaki import ensure_synthetic
from kaokore_mm.utils.io import atomic_write_json, atomic_write_text
from kaokore_mm.visualization.draw import draw_misses, draw_prediction_pages

REGIMES = {
    # the pages of make demo: clear figures, 2000-2600 px pages, faces 30-150 px
    'demo': dict(pages=48, books=6, seed=0, long_side=(2000, 2600), face_range=(30, 150)),
    'small_faces': dict(pages=48, books=6, seed=1, long_side=(3000, 4000), face_range=(30, 80)),
    # pages as hard as real scans: KaoKore's face sizes on 4000-6000 px pages (synthetic/drawing.py)
    'realistic': dict(pages=48, books=6, seed=2, long_side=(4000, 6000), look='realistic'),
    # the case patching exists for: the realistic look with KaoKore's lower quantiles (40-120 px) on 5000-6000 px
    'small_faces_realistic': dict(
        pages=48, books=6, seed=3, long_side=(5000, 6000), look='realistic', face_range=(40, 120)
    ),
}
DEFAULT_REGIMES = ('demo', 'realistic', 'small_faces_realistic')
PATCH512 = 'configs/demo/faster_rcnn_r18_patch512_demo.py'
PATCH1333 = 'configs/demo/faster_rcnn_r18_patch1333_demo.py'
PAGE1333 = 'configs/demo/faster_rcnn_r18_nopatch1333_demo.py'
NO_MINING = ['default_hooks.hard_negatives.at=None']
# the page at its own scale only, no mining: the papers' grid
ONE_VIEW = ['train_dataloader.dataset.views=None', *NO_MINING]
TRAININGS = {
    'page1333': dict(config=PAGE1333, options=[], label='whole page -> 1333x800'),
    'grid512': dict(config=PATCH512, options=ONE_VIEW, label='patches 512x512, one view'),
    'grid1333': dict(config=PATCH1333, options=ONE_VIEW, label='patches 1333x800, one view'),
    'views1333': dict(
        config=PATCH1333, options=[], label='multi-view default (1333x800), hard negatives mined halfway'
    ),
    'views1333_nomine': dict(config=PATCH1333, options=NO_MINING, label='multi-view (1333x800), no mining'),
    'views512': dict(config=PATCH512, options=[], label='multi-view, the demo config (512x512)'),
}
DEFAULT_TRAININGS = ('page1333', 'grid512', 'grid1333', 'views1333')
NMS = ['test_cfg.merge.type=nms', 'test_cfg.merge.iou_thr=0.5', 'test_cfg.merge.ioa_thr=None']
GRID_TEST = {"papers' grid, nms": ['test_cfg.overlap=0.0', *NMS]}  # for the single-view trainings
COLUMNS = (
    'regime',
    'detector',
    'test',
    'AP50',
    'recall',
    'precision',
    'recall_0.3',
    'precision_0.3',
    'boxes_0.3',
    'effort',
    'op_thr',
    'op_effort',
    'op_recall',
    'op_precision',
    'faces_seen',
    'train_min',
    's_per_page',
)
ANNOTATE_THR = 0.3  # the annotate tool's default score threshold
OP_FIGURES = dict(thr='score_thr', effort='effort_share', recall='recall', precision='precision')


def row(regime, detector, test, metrics, train_s, test_s, at_annotate=None, exposure=None) -> dict:
    m = {k.split('/', 1)[1]: v for k, v in metrics.items() if k.startswith('face/') and k.count('/') == 1}
    at = at_annotate or {}
    return {
        'regime': regime,
        'detector': detector,
        'test': test,
        'AP50': m['AP50'],
        'recall': m['recall'],
        'precision': m['precision'],
        'recall_0.3': at.get('recall'),
        'precision_0.3': at.get('precision'),
        'boxes_0.3': at.get('num_det'),
        'boxes': m['tp'] + m['fp'],
        'faces': m['num_faces'],
        'pages': m['num_pages'],
        'effort': m.get('manual_share'),
        # the threshold the validation book chose (one validation, at the end of the schedule) and the
        # held-out pages' figures at it: every detector compared where it would propose
        **{f'op_{k}': metrics.get(f'face/at_val_point/{v}') for k, v in OP_FIGURES.items()},
        'faces_seen': (exposure or {}).get('faces_seen'),
        'train_min': train_s / 60,
        's_per_page': test_s / max(1, m['num_pages']),
        'coco_AP': m.get('coco_AP'),
        # a book's own figures are face/<book>/AP50 (face/operating/..., face/at_val_point/... are not books)
        'test_books': sorted(
            k.split('/')[1] for k in metrics if k.startswith('face/') and k.count('/') == 2 and k.endswith('/AP50')
        ),
    }


def page_faces(ann_file) -> dict:
    """``img_id -> (N, 5)`` array of ``x1, y1, x2, y2, ignored`` from a COCO file."""
    return faces_by_image(json.loads(Path(ann_file).read_text()))


def load_predictions(preds) -> list[dict]:
    with open(preds, 'rb') as f:
        return pickle.load(f)


def page_matches(ann_file, preds) -> list:
    """pycocotools-style matches of every dumped page (as :class:`FaceDetectionMetric`)."""
    faces = page_faces(ann_file)
    out = []
    for r in load_predictions(preds):
        gt = faces[r['img_id']]
        p = r['pred_instances']
        out.append(match_page(np.asarray(p['bboxes']), np.asarray(p['scores']), gt[:, :4], gt_ignore=gt[:, 4] > 0))
    return out


def counts_at_threshold(ann_file, preds, thr: float = ANNOTATE_THR) -> dict:
    """Recall, precision and boxes among the dumped predictions scoring ``>= thr``."""
    return counts_at(page_matches(ann_file, preds), thr)


def training_exposure(config: str, data_root, cfg_options=(), max_iters: int | None = None) -> dict:
    """What a training sees: its samples (pages or patches of the training subset),
    the faces trained on per sample, and ``faces_seen`` = faces per sample x batch
    size x iterations (the expected number of face targets over the schedule)."""
    from mmengine.registry import DATASETS, init_default_scope

    opts, _ = effective_schedule(config, cfg_options, max_iters)
    cfg = run_cfg(config, '/tmp/unused', data_root, opts)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    loader = cfg.train_dataloader
    dataset = DATASETS.build(dict(loader.dataset, pipeline=[]))
    idx = loader_subset_indices(dataset, loader.get('sampler'), 'train')
    per = []
    for i in idx:
        info = dataset.get_data_info(int(i))
        n = info.get('num_targets')
        per.append(n if n is not None else sum(not inst.get('ignore_flag', 0) for inst in info.get('instances', [])))
    iters = cfg.train_cfg.get('max_iters') or 0
    faces_per_sample = float(np.mean(per)) if per else 0.0
    return dict(
        samples=len(per),
        faces_per_sample=faces_per_sample,
        faces_seen=int(round(faces_per_sample * loader.batch_size * iters)),
        views=[str(v) for v in getattr(dataset, 'views', ())],
    )


def run_regime(
    regime: str, work: Path, trainings=DEFAULT_TRAININGS, max_iters: int = 500, draw: int = 2, on_rows=None
) -> list:
    """Train the detectors on ``regime``'s pages and test them; returns the table rows
    (and hands the rows so far to ``on_rows`` after every training)."""
    data = work / regime / 'data'
    say('patching', f'{regime}: synthetic pages in {data}')
    ensure_synthetic(data, **REGIMES[regime])
    ann = data / 'annotations' / 'pages.json'
    rows, dumps = [], {}
    for name in trainings:
        spec = TRAININGS[name]
        run_dir = work / regime / name
        preds = run_dir / 'test' / 'predictions.pkl'
        tag = f'patching:{regime}:{name}'
        options = spec['options']
        run = train_and_test(spec['config'], run_dir, data, max_iters, options, str(preds), tag)
        exposure = training_exposure(spec['config'], data, options, max_iters)
        mined = run_dir / 'train' / MINED_FILE
        if mined.exists():  # the second half also saw the windows of the mined false boxes
            after = training_exposure(
                spec['config'],
                data,
                [*options, f'train_dataloader.dataset.hard_negatives={mined.resolve()}'],
                max_iters,
            )
            exposure['faces_seen'] = (exposure['faces_seen'] + after['faces_seen']) // 2
        draw_prediction_pages(ann, preds, run_dir / 'pages', limit=draw)
        dumps[name] = preds
        test = 'whole page' if name.startswith('page') else 'config default'
        rows.append(
            row(
                regime,
                name,
                test,
                run['metrics'],
                run['train_s'],
                run['test_s'],
                counts_at_threshold(ann, preds),
                exposure,
            )
        )
        if spec['options'] == ONE_VIEW:
            opts = [*spec['options'], f'train_cfg.max_iters={max_iters}']
            rows += compare_test_settings(
                spec['config'],
                run['checkpoint'],
                data,
                run_dir,
                opts,
                regime,
                name,
                run['train_s'],
                draw,
                GRID_TEST,
                exposure,
            )
        if on_rows is not None:
            on_rows(rows)
    draw_misses(ann, dumps, work / regime / 'misses.jpg')
    return rows


def compare_test_settings(
    config: str,
    checkpoint: str,
    data,
    run_dir: Path,
    base_options=(),
    regime: str = '',
    detector: str = '',
    train_s: float = 0.0,
    draw: int = 2,
    settings=None,
    exposure=None,
) -> list[dict]:
    """Test one patched checkpoint with each test-time setting (overlap, merge) on
    the held-out pages; one table row each (resumable: a finished test is read back)."""
    ann = Path(data) / 'annotations' / 'pages.json'
    rows = []
    for label, opts in (settings or GRID_TEST).items():
        tdir = run_dir / ('test_' + ''.join(c if c.isalnum() else '_' for c in label))
        preds = tdir / 'predictions.pkl'
        done = tdir / 'test_metrics.json'
        if done.exists() and preds.exists():
            t = json.loads(done.read_text())
            t = dict(metrics=t['metrics'], test_s=t['test_seconds'])
        else:
            t = test_checkpoint(
                config,
                checkpoint,
                tdir,
                data,
                [*base_options, *opts],
                out=str(preds),
                tag=f'patching:{regime}:{detector}:{label}',
            )
        draw_prediction_pages(ann, preds, tdir / 'pages', limit=draw)
        rows.append(
            row(regime, detector, label, t['metrics'], train_s, t['test_s'], counts_at_threshold(ann, preds), exposure)
        )
    return rows


def benchmark_patching(
    work_dir, regimes=DEFAULT_REGIMES, max_iters: int = 500, draw: int = 2, out=None, trainings=DEFAULT_TRAININGS
) -> list[dict]:
    """Run the regimes; writes ``WORK/benchmark_patching.md`` and ``out``
    (default ``WORK/result.json``) after every regime; returns the rows."""
    work = Path(work_dir).resolve()
    done = []

    def save(regime_rows):
        rows = done + regime_rows
        atomic_write_text(work / 'benchmark_patching.md', markdown_table(rows, COLUMNS))
        atomic_write_json(
            Path(out) if out else work / 'result.json',
            dict(
                max_iters=max_iters,
                regimes={r: REGIMES[r] for r in regimes},
                trainings={t: TRAININGS[t] for t in trainings},
                rows=rows,
            ),
        )

    for regime in regimes:
        done += run_regime(regime, work, trainings, max_iters, draw, on_rows=save)
        save([])
    return done
