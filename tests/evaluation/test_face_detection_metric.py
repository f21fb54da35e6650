"""FaceDetectionMetric on samples built the way mmdet's pipelines build them
(a KaoKoreFaceDataset in test mode and its pipeline), never by hand."""

import json

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import kaokore_mm  # noqa: F401
from kaokore_mm.evaluation import FaceDetectionMetric
from tests.conftest import write_coco

PACK = dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'book_id'))
LOAD, ANNS = dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True)
RESIZE = dict(type='Resize', scale=(256, 256), keep_ratio=True)
PIPELINES = {
    'resize then annotations (mmdet test pipelines)': [LOAD, RESIZE, ANNS, PACK],
    'annotations then resize (training-style)': [LOAD, ANNS, RESIZE, PACK],
    'native size, no resize': [LOAD, ANNS, PACK],
    'no annotations loaded (patched page pipelines)': [LOAD, PACK],
}


def dataset(root, pipeline):
    from mmdet.registry import DATASETS

    init_default_scope('mmdet')
    return DATASETS.build(
        dict(
            type='KaoKoreFaceDataset',
            data_root=str(root),
            ann_file='annotations/pages.json',
            test_mode=True,
            pipeline=pipeline,
        )
    )


def pages(tmp_path, faces, books=None, size=(1000, 800)):
    """A COCO dataset of blank pages; ``faces``: per page a list of (x, y, w, h) or (x, y, w, h, iscrowd)."""
    images, anns = [], []
    (tmp_path / 'pages').mkdir(parents=True, exist_ok=True)
    for i, page in enumerate(faces):
        name = f'pages/p{i}.png'
        cv2.imwrite(str(tmp_path / name), np.full((size[1], size[0], 3), 200, np.uint8))
        images.append(
            dict(id=i + 1, file_name=name, width=size[0], height=size[1], book_id=(books or ['a'] * len(faces))[i])
        )
        anns += [(i + 1, f) for f in page]
    write_coco(tmp_path / 'annotations' / 'pages.json', images, [(i, f[:4]) for i, f in anns])
    coco = json.loads((tmp_path / 'annotations' / 'pages.json').read_text())
    for a, (_, f) in zip(coco['annotations'], anns):
        a['iscrowd'] = int(len(f) > 4 and f[4])
    (tmp_path / 'annotations' / 'pages.json').write_text(json.dumps(coco))
    return tmp_path


def run(metric, ds, preds):
    """``preds``: per page ``(boxes x1y1x2y2, scores)`` in page pixels."""
    metric.dataset_meta = ds.metainfo
    for i, (boxes, scores) in enumerate(preds):
        sample = ds[i]['data_samples']
        sample.pred_instances = InstanceData(
            bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            scores=torch.tensor(scores, dtype=torch.float32),
            labels=torch.zeros(len(scores), dtype=torch.long),
        )
        metric.process({}, [sample.to_dict()])
    return metric.evaluate(len(preds))


def xyxy(faces):
    return [[x, y, x + w, y + h] for x, y, w, h, *_ in faces]


FACES = [[(100, 100, 60, 80), (500, 300, 120, 100), (900, 700, 90, 90, 1)], [(40, 600, 50, 50)], []]


@pytest.mark.parametrize('name', PIPELINES)
def test_truth_scores_one_in_every_pipeline(tmp_path, name):
    ds = dataset(pages(tmp_path, FACES), PIPELINES[name])
    m = run(FaceDetectionMetric(plot=False), ds, [(xyxy(f), [0.9] * len(f)) for f in FACES])
    assert (m['face/tp'], m['face/fp'], m['face/fn'], m['face/num_faces']) == (3, 0, 0, 3)
    assert m['face/AP50'] == m['face/recall'] == m['face/precision'] == 1.0
    shifted = [
        ([[x1 + (x2 - x1) / 2, y1, x2 + (x2 - x1) / 2, y2] for x1, y1, x2, y2 in xyxy(f)], [0.9] * len(f))
        for f in FACES
    ]
    m = run(FaceDetectionMetric(plot=False), ds, shifted)
    assert m['face/recall'] == 0.0 and m['face/AP50'] == 0.0


def test_empty_predictions_and_pages_without_faces(tmp_path):
    ds = dataset(pages(tmp_path, FACES), PIPELINES['native size, no resize'])
    m = run(FaceDetectionMetric(plot=False), ds, [([], [])] * 3)
    assert m['face/recall'] == 0.0 and m['face/AP50'] == 0.0 and m['face/fn'] == 3
    assert np.isnan(m['face/precision'])  # no detection: undefined, written as null in the files
    ds = dataset(pages(tmp_path / 'none', [[], []]), PIPELINES['native size, no resize'])
    m = run(FaceDetectionMetric(plot=False), ds, [([[0, 0, 10, 10]], [0.9]), ([], [])])
    assert np.isnan(m['face/AP50']) and np.isnan(m['face/recall']) and m['face/fp'] == 1


def test_counts_per_book_and_crowd_regions(tmp_path):
    faces = [[(0, 0, 10, 10), (20, 20, 20, 20)], [(10, 10, 10, 10)], [(300, 300, 200, 200, 1)]]
    ds = dataset(
        pages(tmp_path, faces, books=['a', 'b', 'b']), PIPELINES['resize then annotations (mmdet test pipelines)']
    )
    preds = [
        ([[0, 0, 10, 10], [100, 100, 120, 120]], [0.9, 0.8]),
        ([[10, 10, 20, 20], [60, 60, 80, 80]], [0.7, 0.3]),
        # three small boxes inside the crowd region: dropped (IoU would reject them, pycocotools' IoA does not)
        ([[310, 310, 340, 340], [400, 400, 430, 430], [350, 320, 380, 350]], [0.95, 0.9, 0.85]),
    ]
    m = run(FaceDetectionMetric(score_thr=0.5), ds, preds)
    assert m['face/num_faces'] == 3 and m['face/num_pages'] == 3
    assert (m['face/tp'], m['face/fp'], m['face/fn']) == (2, 1, 1)
    assert m['face/recall'] == pytest.approx(2 / 3) and m['face/precision'] == pytest.approx(2 / 3)
    assert m['face/a/recall'] == 0.5 and m['face/b/recall'] == 1.0
    assert 0 < m['face/AP50'] < 1 and 0 < m['face/coco_AP'] < 1


def test_effort_and_pr_curve_file(tmp_path):
    faces = [[(0, 0, 10, 10), (20, 20, 20, 20)]]
    ds = dataset(pages(tmp_path, faces), PIPELINES['native size, no resize'])
    m = run(
        FaceDetectionMetric(score_thr=0.5, out_dir=str(tmp_path / 'out')),
        ds,
        [([[0, 0, 10, 10], [100, 100, 120, 120]], [0.9, 0.8])],
    )
    assert (m['face/faces_to_draw'], m['face/boxes_to_delete']) == (1, 1)
    assert m['face/manual_share'] == pytest.approx((1 + 0.1) / 2)
    assert (tmp_path / 'out' / 'pr_curve.png').stat().st_size > 5000


def test_samples_without_page_faces_are_refused():
    from mmdet.structures import DetDataSample

    sample = DetDataSample(metainfo=dict(img_id=1, img_path='x/p1.jpg'))
    sample.pred_instances = InstanceData(bboxes=torch.zeros(0, 4), scores=torch.zeros(0))
    with pytest.raises(ValueError, match='p1.jpg.*page_gt_instances'):
        FaceDetectionMetric().process({}, [sample.to_dict()])


def test_the_operating_rules_on_a_saving_that_rests_on_one_page(tmp_path):
    """Four pages; on one a low-scoring face sits below two false boxes, and every page has a tail
    of false boxes at 0.15-0.02. The plain minimum ('least') goes down to the face; 'one_se' stays
    above the false boxes; the default ('bayes') reads the chance of a face from the Platt
    calibration of these 26 boxes and proposes where it is 0.1 / (1 - 0.05 + 0.1): the face at
    0.25 and the tail's top. All report the least effort and where it is; with the tail cut to
    0.9/0.85 faces and three boxes (too few to trust a fit) the default falls back to 'least'."""
    from kaokore_mm.core.calibration import face_chances

    faces = [[(0, 0, 40, 40), (100, 0, 40, 40)], [(0, 0, 40, 40), (100, 0, 40, 40)]] * 2
    ds = dataset(pages(tmp_path, faces), PIPELINES['native size, no resize'])
    tail = [[500 + 60 * i, 500, 540 + 60 * i, 540] for i in range(4)], [0.15, 0.1, 0.05, 0.02]
    preds = [(xyxy(f) + tail[0], [0.9, 0.85] + tail[1]) for f in faces]
    low = xyxy(faces[0]) + [[300, 300, 340, 340], [400, 400, 440, 440]]
    preds[0] = (low + tail[0], [0.9, 0.25, 0.4, 0.3] + tail[1])
    least = run(FaceDetectionMetric(plot=False, operating_rule='least'), ds, preds)
    one_se = run(FaceDetectionMetric(plot=False, operating_rule='one_se'), ds, preds)
    default = run(FaceDetectionMetric(plot=False), ds, preds)
    assert least['face/operating/score_thr'] == pytest.approx(0.25) and least['face/operating/recall'] == 1.0
    assert one_se['face/operating/score_thr'] >= 0.85 and one_se['face/operating/precision'] == 1.0
    calib = dict(slope=default['face/operating/calib_slope'], intercept=default['face/operating/calib_intercept'])
    thr = default['face/operating/score_thr']
    assert 0.1 < thr < 0.15 and face_chances([thr], calib)[0] == pytest.approx(0.1 / (1 - 0.05 + 0.1), abs=1e-6)
    assert default['face/operating/recall'] == 1.0 and default['face/operating/proposals'] == 14
    for m in (least, one_se, default):
        assert m['face/operating/least_effort_thr'] == pytest.approx(0.25)
        assert m['face/operating/least_effort'] == least['face/operating/effort_share']
    few = [(xyxy(f), [0.9, 0.85]) for f in faces]
    few[0] = (low, [0.9, 0.25, 0.4, 0.3])
    assert run(FaceDetectionMetric(plot=False), ds, few)['face/operating/score_thr'] == pytest.approx(0.25)
    with pytest.raises(ValueError, match="'bayes', 'one_se', 'least'"):
        FaceDetectionMetric(operating_rule='1se')
