"""The page metric through every detector config's own test dataset and evaluator.

Ground truth fed back as predictions must score 1.0; every box shifted by half
its width (IoU 1/3) must score recall 0.0. This is what caught the whole-page
configs scoring 0.0: their test pipelines load the annotations after ``Resize``.
"""

import json
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import kaokore_mm  # noqa: F401
from kaokore_mm.utils.config import set_data_root
from tests.conftest import detector_configs

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = detector_configs()


def test_every_detector_config_is_found():
    names = {Path(c).name for c in CONFIGS}
    assert {
        'faster_rcnn_r50_nopatch.py',
        'faster_rcnn_r50_patch1333.py',
        'ssd300_vgg16_nopatch.py',
        'cascade_rcnn_r50_patch1333.py',
        'faster_rcnn_r18_nopatch_demo.py',
    } <= names


def raw_faces(data_root):
    """Page boxes straight from the COCO file, read without mmdet: img_id -> [[x1, y1, x2, y2], ...]."""
    coco = json.loads((Path(data_root) / 'annotations' / 'pages.json').read_text())
    faces = {img['id']: [] for img in coco['images']}
    for a in coco['annotations']:
        x, y, w, h = a['bbox']
        faces[a['image_id']].append([x, y, x + w, y + h])
    return faces


def evaluate(cfg, data_root, shift=0.0, predict=None):
    from mmdet.registry import DATASETS

    ds_cfg = cfg.test_dataloader.dataset
    dataset = DATASETS.build(ds_cfg)
    faces = raw_faces(data_root)
    evaluator = Evaluator(cfg.test_evaluator)
    for m in evaluator.metrics:
        m.plot = False
    evaluator.dataset_meta = dataset.metainfo
    resized = False
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        resized |= tuple(sample.metainfo.get('img_shape', ())) != tuple(sample.metainfo.get('ori_shape', ()))
        boxes = torch.tensor(faces[sample.img_id], dtype=torch.float32).reshape(-1, 4)
        boxes[:, [0, 2]] += shift * (boxes[:, 2:3] - boxes[:, 0:1])
        scores = torch.ones(len(boxes))
        if predict is not None:
            boxes, scores = predict(sample.img_id, boxes)
        sample.pred_instances = InstanceData(
            bboxes=boxes, scores=scores, labels=torch.zeros(len(boxes), dtype=torch.long)
        )
        evaluator.process([sample])
    return evaluator.evaluate(len(dataset)), resized


@pytest.mark.parametrize('config', CONFIGS, ids=lambda c: Path(c).name)
def test_ground_truth_scores_one_and_shifted_scores_zero(config, crowd_data):
    cfg = Config.fromfile(str(ROOT / config))
    init_default_scope(cfg.default_scope)
    set_data_root(cfg, str(crowd_data))
    perfect, resized = evaluate(cfg, crowd_data)
    assert perfect['face/num_pages'] == 8 and perfect['face/num_faces'] > 10
    for key in ('AP50', 'recall', 'precision', 'coco_AP', 'coco_AR100'):
        assert perfect[f'face/{key}'] == pytest.approx(1.0), key
    assert perfect['face/fp'] == 0 and perfect['face/fn'] == 0 and perfect['face/manual_share'] == 0
    shifted, _ = evaluate(cfg, crowd_data, shift=0.5)
    assert shifted['face/recall'] == 0.0 and shifted['face/AP50'] == 0.0 and shifted['face/tp'] == 0
    assert shifted['face/num_faces'] == perfect['face/num_faces']
    # the whole-page configs really resize the page (so the test covers the rescaling)
    assert resized == ('nopatch' in config)


@pytest.mark.parametrize('config', CONFIGS, ids=lambda c: Path(c).name)
def test_noisy_predictions_agree_with_pycocotools(config, crowd_data):
    """Jittered, missing and false boxes with random scores: the config's evaluator
    and pycocotools' COCOeval (IoU 0.5, all areas, 100 boxes) give the same AP50."""
    from tests.tools.test_test_vs_pycocotools import pycocotools_ap50

    cfg = Config.fromfile(str(ROOT / config))
    init_default_scope(cfg.default_scope)
    set_data_root(cfg, str(crowd_data))
    rng = torch.Generator().manual_seed(0)
    dumped = []

    def predict(img_id, boxes):
        wh = (boxes[:, 2:] - boxes[:, :2]).repeat(1, 2)
        found = boxes[torch.rand(len(boxes), generator=rng) < 0.7]
        found = found + 0.15 * wh[: len(found)] * torch.randn(found.shape, generator=rng)
        xy = torch.rand(3, 2, generator=rng) * 500
        false = torch.cat([xy, xy + 30 + 40 * torch.rand(3, 2, generator=rng)], 1)
        b = torch.cat([found, false])
        s = torch.rand(len(b), generator=rng)
        dumped.append(dict(img_id=img_id, pred_instances=dict(bboxes=b.numpy(), scores=s.numpy())))
        return b, s

    metrics, _ = evaluate(cfg, crowd_data, predict=predict)
    ref, _ = pycocotools_ap50(crowd_data / 'annotations' / 'pages.json', dumped)
    assert 0.1 < ref < 0.95
    assert metrics['face/AP50'] == pytest.approx(ref, abs=1e-6)
