"""LabelConfidenceMetric on samples as mmpretrain's predictions give them, and LabelConfidenceHook
with a mocked runner."""

from unittest.mock import MagicMock

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub

from kaokore_mm.interpretation import LabelConfidenceHook, LabelConfidenceMetric, read_label_confidence


def samples(n, seed=0, sharpness=3.0):
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, (n, 4))
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    labels = [int(rng.choice(4, p=row)) for row in p]
    q = np.exp(sharpness * z) / np.exp(sharpness * z).sum(1, keepdims=True)  # over-confident
    return [dict(pred_score=torch.tensor(q[i]), gt_label=torch.tensor([labels[i]])) for i in range(n)]


def test_the_metric_calibrates_an_over_confident_classifier():
    metric = LabelConfidenceMetric(target=0.9)
    metric.process({}, samples(3000))
    m = metric.compute_metrics(metric.results)
    assert m['temperature'] == pytest.approx(3.0, rel=0.1) and m['ece_after'] < m['ece_before']
    assert m['accuracy'] >= 0.9 and 0 < m['coverage'] < 1 and m['num'] == 3000


def test_a_perfect_classifier_goes_wholly_in_bulk():
    metric = LabelConfidenceMetric()
    one_hot = [dict(pred_score=torch.eye(4)[k % 4] * 0.9 + 0.025, gt_label=torch.tensor([k % 4])) for k in range(40)]
    metric.process({}, one_hot)
    m = metric.compute_metrics(metric.results)
    assert m['coverage'] == 1.0 and m['accuracy'] == 1.0


def test_a_bad_target_is_refused():
    with pytest.raises(ValueError, match='target'):
        LabelConfidenceMetric(target=1.5)


def test_the_hook_keeps_it_in_the_validated_checkpoint(tmp_path):
    ckpt = tmp_path / 'epoch_3.pth'
    torch.save(dict(meta=dict(epoch=3, iter=30), state_dict={}), ckpt)
    runner = MagicMock()
    runner.iter, runner.epoch = 30, 3
    runner.message_hub = MessageHub.get_instance('label_conf_hook')
    runner.message_hub.update_info('last_ckpt', str(ckpt))
    metrics = {'accuracy/top1': 80.0, 'confidence/temperature': 1.7, 'confidence/threshold': 0.8}
    metrics.update({'confidence/coverage': 0.6, 'confidence/accuracy': 0.96, 'confidence/target': 0.95})
    LabelConfidenceHook().after_val_epoch(runner, metrics)
    kept = read_label_confidence(ckpt)
    assert kept['temperature'] == 1.7 and kept['threshold'] == 0.8 and kept['epoch'] == 3
    other = tmp_path / 'other.pth'
    torch.save(dict(meta=dict(epoch=3, iter=30), state_dict={}), other)
    runner.message_hub.update_info('last_ckpt', str(other))
    LabelConfidenceHook().after_val_epoch(runner, {'accuracy/top1': 80.0})  # no confidence measured: nothing
    assert read_label_confidence(other) is None
