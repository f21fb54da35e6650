"""The patching benchmark's trainings, test settings, exposure and counts."""

import pickle
from pathlib import Path

import numpy as np

from kaokore_mm.apis.experiments import parse_cfg_options
from kaokore_mm.benchmarks.patching import (
    DEFAULT_REGIMES,
    GRID_TEST,
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
    assert parse_cfg_options(ONE_VIEW) == {'train_dataloader.dataset.views': None}
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


def test_hard_negatives_are_mined_by_the_base_trainings_halfway_checkpoint_and_seed_the_resume(tmp_path, monkeypatch):
    import pytest

    from kaokore_mm.benchmarks import patching
    from kaokore_mm.errors import UserError

    spec = TRAININGS['views1333_hn']
    assert spec['mine_from'] == 'views1333' and spec['config'] == TRAININGS['views1333']['config']
    run_dir = tmp_path / 'realistic' / 'views1333_hn'
    with pytest.raises(UserError, match='train views1333 first'):
        patching.mine_hard_negatives(spec, tmp_path / 'realistic', run_dir, tmp_path / 'data', 500, 't')
    base = tmp_path / 'realistic' / 'views1333' / 'train' / 'iter_250.pth'
    base.parent.mkdir(parents=True)
    base.write_bytes(b'weights at 250')
    tested = []

    def test_checkpoint(config, checkpoint, test_dir, data_root, cfg_options=(), out=None, tag='run'):
        tested.append((checkpoint, list(cfg_options)))
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_bytes(pickle.dumps([]))

    monkeypatch.setattr(patching, 'test_checkpoint', test_checkpoint)
    opts = patching.mine_hard_negatives(spec, tmp_path / 'realistic', run_dir, tmp_path / 'data', 500, 't')
    mined = run_dir / 'mine' / 'train_predictions.pkl'
    assert opts == [f'train_dataloader.dataset.hard_negatives={mined.resolve()}']
    assert tested == [(base, ['test_dataloader.sampler.subset=train'])]  # the training pages, by the half checkpoint
    seeded = run_dir / 'train' / 'iter_250.pth'
    assert seeded.read_bytes() == b'weights at 250'
    assert (run_dir / 'train' / 'last_checkpoint').read_text() == str(seeded.resolve())  # the training resumes there
    # resumed: nothing predicted or copied again, the training's own checkpoint kept
    (run_dir / 'train' / 'last_checkpoint').write_text('iter_500.pth of the second half')
    assert patching.mine_hard_negatives(spec, tmp_path / 'realistic', run_dir, tmp_path / 'data', 500, 't') == opts
    assert len(tested) == 1 and (run_dir / 'train' / 'last_checkpoint').read_text().startswith('iter_500')
