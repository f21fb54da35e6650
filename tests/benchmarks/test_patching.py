"""The patching benchmark's trainings, test settings, exposure and counts."""

import pickle
from pathlib import Path

import numpy as np

from kaokore_mm.apis.experiments import parse_cfg_options
from kaokore_mm.benchmarks.patching import (
    DEFAULT_REGIMES,
    GRID_TEST,
    NO_MINING,
    ONE_VIEW,
    REGIMES,
    TRAININGS,
    counts_at_threshold,
    row,
    training_exposure,
)
from tests.conftest import LOADER_OPTS, SPLIT_OPTS

ROOT = Path(__file__).resolve().parents[2]


def test_regimes_trainings_and_the_papers_grid():
    assert set(DEFAULT_REGIMES) == {'demo', 'realistic', 'small_faces_realistic'}
    small = REGIMES['small_faces_realistic']
    assert small['look'] == 'realistic' and small['face_range'] == (40, 120) and small['long_side'] == (5000, 6000)
    for spec in TRAININGS.values():
        assert (ROOT / spec['config']).is_file()
    # the papers' grid: one view, no mining; the multi-view default mines (the configs' hook), on request not
    assert parse_cfg_options(ONE_VIEW) == {
        'train_dataloader.dataset.views': None,
        'default_hooks.hard_negatives.at': None,
    }
    assert TRAININGS['views1333']['options'] == [] and TRAININGS['views1333_nomine']['options'] == NO_MINING
    grid = parse_cfg_options(GRID_TEST["papers' grid, nms"])
    assert grid['test_cfg.overlap'] == 0.0 and grid['test_cfg.merge.ioa_thr'] is None
    assert TRAININGS['views1333']['config'] == TRAININGS['grid1333']['config']  # the same but for the views


def test_exposure_counts_the_faces_each_training_sees(tiny_data):
    opts = [*LOADER_OPTS, *SPLIT_OPTS]
    page = training_exposure('configs/demo/faster_rcnn_r18_nopatch1333_demo.py', tiny_data, opts, max_iters=10)
    views = training_exposure('configs/demo/faster_rcnn_r18_patch1333_demo.py', tiny_data, opts, max_iters=10)
    one = training_exposure('configs/demo/faster_rcnn_r18_patch1333_demo.py', tiny_data, [*opts, *ONE_VIEW], 10)
    # tiny pages (600-800 px) fit one 1333x800 patch: one view gives a sample per page with faces (and
    # keeps empty_patch_ratio=0.3 of the others), the whole-page training one per page
    assert one['samples'] <= page['samples'] and one['faces_per_sample'] >= page['faces_per_sample'] > 0
    assert views['samples'] > one['samples'] and len(views['views']) == 3 and len(one['views']) == 1
    assert page['faces_seen'] == round(page['faces_per_sample'] * 2 * 10)


def test_counts_at_the_annotation_threshold_come_from_the_dumped_boxes(tmp_path):
    from tests.conftest import write_coco

    ann = write_coco(
        tmp_path / 'pages.json',
        [dict(id=1, file_name='p.jpg', width=100, height=100)],
        [(1, [0, 0, 10, 10]), (1, [50, 50, 10, 10])],
    )
    boxes = np.array([[0, 0, 10, 10], [50, 50, 60, 60], [80, 80, 90, 90]], np.float32)
    dump = [dict(img_id=1, img_path='p.jpg', pred_instances=dict(bboxes=boxes, scores=np.array([0.9, 0.35, 0.31])))]
    with open(tmp_path / 'preds.pkl', 'wb') as f:
        pickle.dump(dump, f)
    at = counts_at_threshold(ann, tmp_path / 'preds.pkl', 0.3)
    assert (at['tp'], at['fp'], at['num_det'], at['recall'], at['precision']) == (2, 1, 3, 1.0, 2 / 3)
    assert counts_at_threshold(ann, tmp_path / 'preds.pkl', 0.5)['recall'] == 0.5


def test_a_row_reports_the_held_out_pages_at_the_operating_point_the_validation_chose():
    face = dict(AP50=0.9, recall=0.95, precision=0.8, tp=19, fp=5, num_faces=20, num_pages=4, manual_share=0.12)
    metrics = {f'face/{k}': v for k, v in face.items()}
    metrics.update({'face/book005/AP50': 0.9, 'face/operating/score_thr': 0.61})  # the test pages' own best: not it
    val_point = dict(score_thr=0.72, effort_share=0.08, recall=0.9, precision=0.95)
    metrics.update({f'face/at_val_point/{k}': v for k, v in val_point.items()})
    r = row('realistic', 'views1333', 'config default', metrics, 60.0, 8.0)
    assert (r['op_thr'], r['op_effort'], r['op_recall'], r['op_precision']) == (0.72, 0.08, 0.9, 0.95)
    assert r['effort'] == 0.12 and r['test_books'] == ['book005'] and r['s_per_page'] == 2.0
    # a checkpoint without a validation's operating point: the columns stay empty, not zero
    bare = row('realistic', 'page1333', 'whole page', {f'face/{k}': v for k, v in face.items()}, 60.0, 8.0)
    assert bare['op_thr'] is None and bare['op_effort'] is None


def test_a_training_that_mined_counts_the_faces_of_both_halves(tmp_path, monkeypatch):
    """faces_seen of a training whose hook mined halfway: the mean of the set before and after."""
    from kaokore_mm.benchmarks import patching

    run_dir = tmp_path / 'realistic' / 'views1333'
    mined = run_dir / 'train' / patching.MINED_FILE
    calls = []

    def train_and_test(config, run_dir, data, max_iters, options, preds, tag):
        mined.parent.mkdir(parents=True, exist_ok=True)
        mined.write_bytes(pickle.dumps([]))
        return dict(metrics={}, train_s=1.0, test_s=1.0, checkpoint='x.pth')

    def exposure(config, data, options, max_iters):
        calls.append(list(options))
        return dict(
            samples=1, faces_per_sample=1.0, faces_seen=300 if any('hard_negatives=' in o for o in options) else 100
        )

    monkeypatch.setattr(patching, 'ensure_synthetic', lambda *a, **k: None)
    monkeypatch.setattr(patching, 'train_and_test', train_and_test)
    monkeypatch.setattr(patching, 'training_exposure', exposure)
    monkeypatch.setattr(patching, 'draw_prediction_pages', lambda *a, **k: None)
    monkeypatch.setattr(patching, 'draw_misses', lambda *a, **k: None)
    monkeypatch.setattr(patching, 'counts_at_threshold', lambda *a, **k: {})
    monkeypatch.setattr(patching, 'row', lambda *a: a[-1])  # the exposure it reports
    (exposure_row,) = patching.run_regime('realistic', tmp_path, trainings=('views1333',))
    assert exposure_row['faces_seen'] == 200
    assert calls == [[], [f'train_dataloader.dataset.hard_negatives={mined.resolve()}']]
