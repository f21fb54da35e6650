"""The page metric through every detector config's own test dataset and evaluator.

Ground truth fed back as predictions must score 1.0; every box shifted by half
its width (IoU 1/3) must score recall 0.0. This is what caught the whole-page
configs scoring 0.0: their test pipelines load the annotations after ``Resize``.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import kaokore_mm  # noqa: F401
from kaokore_mm.core.operating_point import COSTS
from kaokore_mm.utils.config import load_config, set_data_root
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
    cfg = load_config(str(ROOT / config))
    init_default_scope(cfg.default_scope)
    set_data_root(cfg, str(crowd_data))
    perfect, resized = evaluate(cfg, crowd_data)
    assert perfect['face/num_pages'] == 8 and perfect['face/num_faces'] > 10
    for key in ('AP50', 'recall', 'precision', 'coco_AP', 'coco_AR100'):
        assert perfect[f'face/{key}'] == pytest.approx(1.0), key
    assert perfect['face/fp'] == 0 and perfect['face/fn'] == 0 and perfect['face/manual_share'] == 0
    # the operating point of perfect boxes: every face proposed and accepted, nothing else to do
    assert perfect['face/operating/proposals'] == perfect['face/num_faces']
    assert perfect['face/operating/effort_share'] == pytest.approx(COSTS['accept'])
    assert perfect['face/operating/score_thr'] == 1.0 and perfect['face/operating/recall'] == 1.0
    shifted, _ = evaluate(cfg, crowd_data, shift=0.5)
    assert shifted['face/recall'] == 0.0 and shifted['face/AP50'] == 0.0 and shifted['face/tp'] == 0
    assert shifted['face/num_faces'] == perfect['face/num_faces']
    # boxes that hit no face: the cheapest is to propose none of them (draw every face)
    assert shifted['face/operating/proposals'] == 0 and shifted['face/operating/effort_share'] == 1.0
    assert shifted['face/operating/score_thr'] > 1.0
    loose, _ = evaluate(cfg, crowd_data, shift=0.25)  # IoU 0.6: every face found, every box adjusted
    assert loose['face/recall'] == 1.0 and loose['face/operating/effort_share'] == pytest.approx(COSTS['resize'])
    empty, _ = evaluate(cfg, crowd_data, predict=lambda img_id, boxes: (boxes[:0], torch.ones(0)))
    assert empty['face/AP50'] == 0.0 and empty['face/recall'] == 0.0 and empty['face/manual_share'] == 1.0
    assert empty['face/operating/effort_share'] == 1.0 and empty['face/operating/proposals'] == 0
    # the scores' calibration needs a true and a false box: none for perfect, shifted or empty boxes
    for m in (perfect, shifted, empty):
        assert math.isnan(m['face/operating/calib_slope']) and math.isnan(m['face/operating/calib_intercept'])

    def with_false_boxes(img_id, boxes):  # every face at 0.9, a shifted copy of it at 0.3
        away = boxes + (boxes[:, 2:3] - boxes[:, 0:1])  # moved by its width right and down: no face there
        return torch.cat([boxes, away]), torch.tensor([0.9] * len(boxes) + [0.3] * len(boxes))

    mixed, _ = evaluate(cfg, crowd_data, predict=with_false_boxes)
    slope, intercept = mixed['face/operating/calib_slope'], mixed['face/operating/calib_intercept']
    chance = [1 / (1 + math.exp(-(slope * math.log(s / (1 - s)) + intercept))) for s in (0.9, 0.3)]
    assert slope > 0 and 0.5 < chance[0] < 1 and 0 < chance[1] < 0.5  # finite, and the faces likelier
    # the whole-page configs really resize the page (so the test covers the rescaling)
    assert resized == ('nopatch' in config)


@pytest.mark.parametrize('config', CONFIGS, ids=lambda c: Path(c).name)
def test_noisy_predictions_agree_with_pycocotools(config, crowd_data):
    """Jittered, missing and false boxes with random scores: the config's evaluator
    and pycocotools' COCOeval (IoU 0.5, all areas, 100 boxes) give the same AP50."""
    from tests.tools.test_test_vs_pycocotools import pycocotools_ap50

    cfg = load_config(str(ROOT / config))
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


PATCHED_CONFIGS = [c for c in CONFIGS if load_config(str(ROOT / c)).test_cfg.get('type') == 'PatchedTestLoop']


class ViewOracle:
    """Perfect detections in every patch of every view: each face wholly inside the
    patch (in that view's pixels) with score 0.9, and the clipped piece of each face
    a patch border cuts with a lower score, as a real detector would see it."""

    def __init__(self, faces_by_id, cut_score=None):
        self.faces = faces_by_id
        self.views = set()
        self.cut_score = cut_score  # a fixed score for the cut pieces (SAHI #560: above the whole faces')

    def test_step(self, data):
        outs = []
        for sample in data['data_samples']:
            ox, oy = sample.metainfo['patch_offset']
            sx, sy = sample.metainfo['view_scale']
            self.views.add((round(sx, 3), round(sy, 3)))
            ph, pw = sample.metainfo['ori_shape'][:2]  # the patch, before a patch pipeline's resize
            faces = torch.tensor(self.faces[sample.metainfo['img_id']], dtype=torch.float32).reshape(-1, 4)
            view = faces * torch.tensor([sx, sy, sx, sy]) - torch.tensor([ox, oy, ox, oy])
            clipped = view.clone()
            clipped[:, 0::2] = clipped[:, 0::2].clamp(0, pw)
            clipped[:, 1::2] = clipped[:, 1::2].clamp(0, ph)
            area = lambda b: (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)  # noqa: E731
            frac = area(clipped) / area(view)
            seen = frac > 0.05
            cut = 0.3 * frac if self.cut_score is None else torch.full_like(frac, self.cut_score)
            scores = torch.where(frac > 0.999, torch.tensor(0.9), cut)
            sample.pred_instances = InstanceData(
                bboxes=clipped[seen], scores=scores[seen], labels=torch.zeros(int(seen.sum()), dtype=torch.long)
            )
            outs.append(sample)
        return outs


@pytest.fixture(scope='module')
def pyramid_data(tmp_path_factory):
    """4 pages of 2400 x 1500 (two of them upright) with faces of 40-700 px (no view of the configs has
    the scale of another at this size, so the oracle can tell them apart)."""
    from tests.conftest import write_coco

    root = tmp_path_factory.mktemp('pyramid_data')
    rng = np.random.default_rng(0)
    images, anns = [], []
    for i in range(4):
        w, h = (2400, 1500) if i % 2 == 0 else (1500, 2400)
        images.append(dict(id=i + 1, file_name=f'pages/p{i}.png', width=w, height=h, book_id=f'book{i}'))
        taken = []
        for size in np.exp(rng.uniform(np.log(40), np.log(700), 40)):
            x, y = rng.uniform(0, w - size), rng.uniform(0, h - size)
            box = [x, y, x + size, y + size * 0.9]
            if all(box[2] < t[0] - 5 or t[2] < box[0] - 5 or box[3] < t[1] - 5 or t[3] < box[1] - 5 for t in taken):
                taken.append(box)
                anns.append((i + 1, [float(box[0]), float(box[1]), float(size), float(size * 0.9)]))
            if len(taken) == 8:
                break
    write_coco(root / 'annotations' / 'pages.json', images, anns, pages_root=root)
    return root


@pytest.mark.parametrize('cut_score', [None, 0.95], ids=['cut pieces score lower', 'cut pieces score higher'])
@pytest.mark.parametrize('config', PATCHED_CONFIGS, ids=lambda c: Path(c).name)
def test_perfect_per_view_detections_score_one_through_the_patched_test_loop(config, cut_score, pyramid_data):
    """Every view of every patched config, through its own test loop's predictor and
    evaluator: perfect detections in each view's patches (and the pieces of cut faces)
    are mapped back, kept by valid range and merged into exactly the page's faces, also
    when a cut piece scores higher than the whole face another view or patch sees (SAHI
    #560: the border that cut it is the evidence, not the score)."""
    from types import SimpleNamespace

    from mmdet.registry import DATASETS

    from kaokore_mm.engine import PatchedTestLoop

    cfg = load_config(str(ROOT / config))
    init_default_scope(cfg.default_scope)
    set_data_root(cfg, str(pyramid_data))
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    faces = raw_faces(pyramid_data)
    assert max(max(b[2] - b[0], b[3] - b[1]) for f in faces.values() for b in f) > 500
    loop = PatchedTestLoop.__new__(PatchedTestLoop)
    loop._init_predictor(SimpleNamespace(cfg=cfg), {k: v for k, v in cfg.test_cfg.items() if k not in ('type', 'fp16')})
    assert len(loop.predictor.views) >= 2  # the multi-view default
    evaluator = Evaluator(cfg.test_evaluator)
    for m in evaluator.metrics:
        m.plot = False
    evaluator.dataset_meta = dataset.metainfo
    oracle = ViewOracle(faces, cut_score)
    for i in range(len(dataset)):
        item = dataset[i]
        batch = dict(inputs=[item['inputs']], data_samples=[item['data_samples']])
        evaluator.process(loop.predictor.predict_batch(oracle, batch), batch)
    metrics = evaluator.evaluate(len(dataset))
    assert len(oracle.views) >= len(loop.predictor.views)  # every view was predicted
    assert metrics['face/num_faces'] == sum(len(f) for f in faces.values())
    for key in ('AP50', 'recall', 'precision'):
        assert metrics[f'face/{key}'] == pytest.approx(1.0), key
    assert metrics['face/fp'] == 0
