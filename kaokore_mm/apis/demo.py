"""The demo behind ``make demo``: synthetic pages -> patched detector -> page-level test
-> status classifier with Guided Grad-CAM and the pointing game. Every step is
resumable (finished data kept, training resumed, a finished training not repeated).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from kaokore_mm.interpretation import build_classifier
from kaokore_mm.interpretation.pointing_game import pointing_game
from kaokore_mm.synthetic.emaki import ensure_synthetic
from kaokore_mm.utils.io import atomic_write_json
from kaokore_mm.visualization.draw import draw_prediction_pages

from .experiments import say, train_and_test

CONFIG = 'configs/demo/faster_rcnn_r18_patch512_demo.py'
CLS_CONFIG = 'configs/demo/resnet18_kaokore_status_demo.py'
DEMO_DATA = dict(long_side=(2000, 2600), face_range=(30, 150))
# percentiles of the longest side of the demo data's faces (48 pages, 6 books, seed 0: 267 faces), measured;
# the demo config's views come from them (core.patching.views_for_faces)
DEMO_FACE_QUANTILES = ((0, 39.3), (5, 48.8), (50, 86.1), (95, 136.0), (99, 146.1), (100, 152.2))


def demo_face_sizes() -> np.ndarray:
    """The demo faces' sizes (longest side, px) at 10001 evenly spaced quantiles of
    :data:`DEMO_FACE_QUANTILES`."""
    q, v = zip(*DEMO_FACE_QUANTILES)
    return np.interp(np.linspace(0, 100, 10001), q, v)


def ensure_data(data: Path, **want) -> None:
    """Synthetic pages (and crops) in ``data``, written unless already there with these settings."""
    say('data', f'synthetic data in {data}')
    if ensure_synthetic(data, **want):
        say('data', f'wrote {want["pages"]} synthetic pages of {want["books"]} books into {data}')


def run_demo(
    work_dir,
    config: str = CONFIG,
    pages: int = 48,
    books: int = 6,
    seed: int = 0,
    max_iters: int | None = None,
    score_thr: float = 0.5,
    classifier: bool = True,
) -> dict:
    """Run the demo in ``work_dir``; returns the summary written to ``metrics.json``.

    Args:
        work_dir: data, runs, drawn pages and ``metrics.json`` go here.
        config: the detector config.
        pages: synthetic pages to write.
        books: books they belong to (the split is by book).
        seed: seed of the synthetic pages.
        max_iters: overrides the config's schedule.
        score_thr: threshold of the boxes drawn on the held-out pages.
        classifier: also run the interpretation step.
    """
    from mmengine.config import Config

    t0 = time.time()
    work = Path(work_dir).resolve()
    data = work / 'data'
    ensure_data(data, pages=pages, books=books, seed=seed, **DEMO_DATA)
    preds = work / 'test' / 'predictions.pkl'
    run = train_and_test(config, work, data, max_iters, out=str(preds), tag='demo')
    metrics = run['metrics']
    n = len(draw_prediction_pages(data / 'annotations' / 'pages.json', preds, work / 'pages', score_thr))
    metric_cfg = Config.fromfile(config).test_evaluator
    summary = dict(
        config=config,
        checkpoint=run['checkpoint'],
        held_out_pages=n,
        score_thr=metric_cfg.get('score_thr', 0.5),
        recall=metrics.get('face/recall'),
        precision=metrics.get('face/precision'),
        AP50=metrics.get('face/AP50'),
        coco_AP=metrics.get('face/coco_AP'),
        manual_share=metrics.get('face/manual_share'),
        all_metrics=metrics,
        train_minutes=round(run['train_s'] / 60, 1),
    )
    if classifier:
        summary['classifier'] = interpretation_step(work, data)
    summary['minutes'] = round((time.time() - t0) / 60, 1)
    atomic_write_json(work / 'metrics.json', summary)
    return summary


def interpretation_step(work: Path, data: Path) -> dict:
    """Train and test the demo status classifier (CAM panels by its hook) and play the pointing game."""
    cls_dir = work / 'classifier'
    run = train_and_test(CLS_CONFIG, cls_dir, data, tag='demo:classifier')
    say('demo:classifier', 'pointing game on the test crops')
    model, cfg, _ = build_classifier(CLS_CONFIG, run['checkpoint'])
    pg = pointing_game(model, cfg, str(data), 'test')
    atomic_write_json(cls_dir / 'pointing_game.json', dict(config=CLS_CONFIG, checkpoint=run['checkpoint'], **pg))
    m = run['metrics']
    return dict(
        checkpoint=run['checkpoint'],
        accuracy=m.get('accuracy/top1', 0) / 100,
        macro_f1=m.get('macro/f1-score', 0) / 100,
        per_class_f1=m.get('single-label/f1-score_classwise'),
        pointing_game=pg['pointing_game'],
        score_drop_top_cam=pg['score_drop_top_cam'],
        score_drop_random=pg['score_drop_random'],
        cam_dir=str(cls_dir / 'test' / 'cam' / 'test'),
        test_dir=str(cls_dir / 'test'),
    )
