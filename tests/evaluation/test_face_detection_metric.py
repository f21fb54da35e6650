import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.structures import InstanceData

from kaokore_mm.evaluation import FaceDetectionMetric


def sample(book, gt, pred, scores, scale=None, ignored=()):
    meta = dict(img_id=hash(book) % 1000, book_id=book)
    if scale is not None:
        meta['scale_factor'] = scale
    ds = DetDataSample(metainfo=meta)
    ds.gt_instances = InstanceData(bboxes=torch.tensor(gt, dtype=torch.float32).reshape(-1, 4))
    ds.ignored_instances = InstanceData(bboxes=torch.tensor(ignored, dtype=torch.float32).reshape(-1, 4))
    ds.pred_instances = InstanceData(bboxes=torch.tensor(pred, dtype=torch.float32).reshape(-1, 4),
                                     scores=torch.tensor(scores, dtype=torch.float32),
                                     labels=torch.zeros(len(scores), dtype=torch.int64))
    return ds.to_dict()


def test_page_metric_overall_per_book_and_rescaled_gt():
    metric = FaceDetectionMetric(score_thr=0.5)
    metric.dataset_meta = dict(classes=('face', ))
    metric.process({}, [
        sample('a', [[0, 0, 10, 10], [20, 20, 40, 40]], [[0, 0, 10, 10], [100, 100, 120, 120]], [0.9, 0.8]),
        # page shown resized by 0.5: gt in resized pixels, predictions on the page
        sample('b', [[10, 10, 20, 20]], [[20, 20, 40, 40], [60, 60, 80, 80]], [0.7, 0.3], scale=(0.5, 0.5)),
    ])
    m = metric.evaluate(2)
    assert m['face/num_faces'] == 3 and m['face/num_pages'] == 2
    assert (m['face/tp'], m['face/fp'], m['face/fn']) == (2, 1, 1)
    assert m['face/recall'] == pytest.approx(2 / 3) and m['face/precision'] == pytest.approx(2 / 3)
    assert m['face/a/recall'] == 0.5 and m['face/b/recall'] == 1.0
    assert 0 < m['face/AP50'] <= 1 and 0 < m['face/coco_AP'] <= 1
    assert np.isfinite(m['face/coco_AR100'])


def test_ignored_faces_are_neither_found_nor_missed():
    metric = FaceDetectionMetric(score_thr=0.5, per_book=False)
    metric.dataset_meta = dict(classes=('face', ))
    metric.process({}, [sample('a', [[0, 0, 10, 10]], [[0, 0, 10, 10], [50, 50, 60, 60]], [0.9, 0.9],
                               ignored=[[50, 50, 60, 60]])])
    m = metric.evaluate(1)
    assert (m['face/tp'], m['face/fp'], m['face/fn']) == (1, 0, 0)
    assert m['face/AP50'] == pytest.approx(1.0)


def test_effort_and_pr_curve_file(tmp_path):
    metric = FaceDetectionMetric(score_thr=0.5, out_dir=str(tmp_path))
    metric.dataset_meta = dict(classes=('face', ))
    metric.process({}, [sample('a', [[0, 0, 10, 10], [20, 20, 40, 40]], [[0, 0, 10, 10], [100, 100, 120, 120]],
                               [0.9, 0.8])])
    m = metric.evaluate(1)
    assert (m['face/faces_to_draw'], m['face/boxes_to_delete']) == (1, 1)
    assert m['face/manual_share'] == pytest.approx((1 + 0.1) / 2)
    assert (tmp_path / 'pr_curve.png').stat().st_size > 5000
