"""The patching benchmark: one light detector, the same iterations, with and without patches.

For each regime of synthetic pages (split by book, ``inter_book``) the demo
detector (half-width ResNet-18 Faster R-CNN from scratch) is trained for the
same iterations (i) on 512x512 patches, (ii) on whole pages resized to 512 px,
the patch input size, (iii) on whole pages resized to fit 1333x800, the
papers' whole-page setting, and tested on the whole pages of the held-out
books; the patched detector with test-time overlap 0 and 0.2. Resumable.
Its command line is the ``benchmark_patching`` tool.

Regimes: ``demo`` = the pages of ``make demo`` (2000-2600 px, faces 30-150 px);
``small_faces`` = pages of 3000-4000 px with faces of 30-80 px.
"""

from __future__ import annotations

from pathlib import Path

from .experiments import markdown_table, say, test_checkpoint, train_and_test

REGIMES = {
    'demo': dict(pages=48, books=6, seed=0, long_side=(2000, 2600), face_range=(30, 150)),
    'small_faces': dict(pages=48, books=6, seed=1, long_side=(3000, 4000), face_range=(30, 80)),
    # pages as hard as real scans: KaoKore's face sizes on 4000-6000 px pages (synthetic/drawing.py)
    'realistic': dict(pages=48, books=6, seed=2, long_side=(4000, 6000), look='realistic'),
}
TRAININGS = (
    ('patch512', 'configs/demo/faster_rcnn_r18_patch512_demo.py'),
    ('page512', 'configs/demo/faster_rcnn_r18_nopatch_demo.py'),
    ('page1333', 'configs/demo/faster_rcnn_r18_nopatch1333_demo.py'),
)
# test-time settings of the patched detector: the papers' plain grid, then overlap covering the faces
# (p95 of the demo faces' longest side, 136 px, is 0.27 of a 512 px patch), with plain and containment-aware NMS
NMS = ['test_cfg.merge.type=nms', 'test_cfg.merge.iou_thr=0.5', 'test_cfg.merge.ioa_thr=None']
CONTAINMENT_NMS = [*NMS[:2], 'test_cfg.merge.ioa_thr=0.7']
PATCH_TEST_SETTINGS = {
    'grid, nms': ['test_cfg.overlap=0.0', *NMS],
    'grid, containment nms': ['test_cfg.overlap=0.0', *CONTAINMENT_NMS],
    'overlap 0.3, nms': ['test_cfg.overlap=0.3', *NMS],
    'overlap 0.3, containment nms': ['test_cfg.overlap=0.3', *CONTAINMENT_NMS],
    'overlap 0.3, nmm': ['test_cfg.overlap=0.3', 'test_cfg.merge.type=nmm', 'test_cfg.merge.match_thr=0.5'],
}
COLUMNS = ('regime', 'detector', 'test', 'AP50', 'recall', 'precision', 'boxes', 'effort', 'train_min', 's_per_page')


def row(regime, detector, test, metrics, train_s, test_s) -> dict:
    m = {k.split('/', 1)[1]: v for k, v in metrics.items() if k.startswith('face/') and k.count('/') == 1}
    return dict(
        regime=regime,
        detector=detector,
        test=test,
        AP50=m['AP50'],
        recall=m['recall'],
        precision=m['precision'],
        boxes=m['tp'] + m['fp'],
        faces=m['num_faces'],
        pages=m['num_pages'],
        effort=m.get('manual_share'),
        train_min=train_s / 60,
        s_per_page=test_s / max(1, m['num_pages']),
        coco_AP=m.get('coco_AP'),
    )


def regime_settings(ann_file) -> dict:
    """``PATCH_TEST_SETTINGS`` plus the overlap the rule gives for this regime's faces
    (:func:`~kaokore_mm.core.patching.overlap_for_faces` on 512 px patches) with
    containment-aware NMS, when it differs from the settings' 0.3."""
    import json

    from kaokore_mm.core.patching import overlap_for_faces

    coco = json.loads(Path(ann_file).read_text())
    ov = round(overlap_for_faces([max(a['bbox'][2:]) for a in coco['annotations']], (512, 512)), 2)
    settings = dict(PATCH_TEST_SETTINGS)
    if ov != 0.3:
        settings[f'overlap {ov} (from the faces), containment nms'] = [f'test_cfg.overlap={ov}', *CONTAINMENT_NMS]
    return settings


def without_default(config: str, settings: dict) -> tuple[dict, str | None]:
    """``settings`` without the one that is the config's own test setting (its
    test is the run's default test already), and that setting's name."""
    import copy

    from kaokore_mm.utils.config import load_config

    from .experiments import parse_cfg_options

    base = load_config(config)
    kept, same = {}, None
    for label, opts in settings.items():
        cfg = copy.deepcopy(base)
        cfg.merge_from_dict(parse_cfg_options(opts))
        if cfg.test_cfg == base.test_cfg and same is None:
            same = label
        else:
            kept[label] = opts
    return kept, same


def run_regime(regime: str, work: Path, max_iters: int = 500, draw: int = 2) -> list:
    """Train the three detectors on ``regime``'s pages and test them; returns the table rows."""
    from kaokore_mm.synthetic.emaki import ensure_synthetic
    from kaokore_mm.visualization.draw import draw_prediction_pages

    data = work / regime / 'data'
    say('patching', f'{regime}: synthetic pages in {data}')
    ensure_synthetic(data, **REGIMES[regime])
    ann = data / 'annotations' / 'pages.json'
    rows = []
    for name, config in TRAININGS:
        run_dir = work / regime / name
        preds = run_dir / 'test' / 'predictions.pkl'
        run = train_and_test(config, run_dir, data, max_iters, out=str(preds), tag=f'patching:{regime}:{name}')
        draw_prediction_pages(ann, preds, run_dir / 'pages', limit=draw)
        if not name.startswith('patch'):
            rows.append(row(regime, name, 'whole page', run['metrics'], run['train_s'], run['test_s']))
            continue
        settings, same = without_default(config, regime_settings(ann))
        test = f'config default ({same})' if same else 'config default'
        rows.append(row(regime, name, test, run['metrics'], run['train_s'], run['test_s']))
        rows += compare_test_settings(
            config, run['checkpoint'], data, run_dir, max_iters, regime, name, run['train_s'], draw, settings
        )
    return rows


def compare_test_settings(
    config: str,
    checkpoint: str,
    data,
    run_dir: Path,
    max_iters: int,
    regime: str = '',
    detector: str = '',
    train_s: float = 0.0,
    draw: int = 2,
    settings=None,
) -> list[dict]:
    """Test one patched checkpoint with each test-time setting (``PATCH_TEST_SETTINGS``:
    overlap, merge) on the held-out pages; one table row each (resumable: a
    finished test is read back)."""
    import json

    from kaokore_mm.visualization.draw import draw_prediction_pages

    ann = Path(data) / 'annotations' / 'pages.json'
    rows = []
    for label, opts in (settings or PATCH_TEST_SETTINGS).items():
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
                [f'train_cfg.max_iters={max_iters}', *opts],
                out=str(preds),
                tag=f'patching:{regime}:{detector}:{label}',
            )
        draw_prediction_pages(ann, preds, tdir / 'pages', limit=draw)
        rows.append(row(regime, detector, label, t['metrics'], train_s, t['test_s']))
    return rows


def benchmark_patching(
    work_dir, regimes=('demo', 'small_faces'), max_iters: int = 500, draw: int = 2, out=None
) -> list[dict]:
    """Run the regimes; writes ``WORK/benchmark_patching.md`` and ``out``
    (default ``WORK/result.json``); returns the rows."""
    from kaokore_mm.utils.io import atomic_write_json, atomic_write_text

    work = Path(work_dir).resolve()
    rows = []
    for regime in regimes:
        rows += run_regime(regime, work, max_iters, draw)
    atomic_write_text(work / 'benchmark_patching.md', markdown_table(rows, COLUMNS))
    atomic_write_json(
        Path(out) if out else work / 'result.json',
        dict(max_iters=max_iters, regimes={r: REGIMES[r] for r in regimes}, rows=rows),
    )
    return rows
