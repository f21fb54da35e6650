"""OperatingPointHook with a mocked runner: the validation's point lands in the checkpoint of
the weights it measured, and in no other."""

from unittest.mock import MagicMock

import pytest
import torch
from mmengine.hooks import CheckpointHook
from mmengine.logging import MessageHub
from mmengine.runner.priority import get_priority

from kaokore_mm.engine.hooks import OperatingPointHook, read_operating_point

METRICS = {
    'face/AP50': 0.9,
    'face/operating/score_thr': 0.42,
    'face/operating/effort_share': 0.12,
    'face/operating/precision': 0.8,
    'face/operating/recall': 0.95,
    'face/operating/proposals': 57,
    'face/operating/calib_slope': 1.8,
    'face/operating/calib_intercept': -1.4,
}


def runner_at(iteration, last_ckpt, name):
    runner = MagicMock()
    runner.iter, runner.epoch = iteration, 1
    runner.message_hub = MessageHub.get_instance(name)
    if last_ckpt:
        runner.message_hub.update_info('last_ckpt', str(last_ckpt))
    return runner


def save(path, iteration):
    torch.save(dict(meta=dict(iter=iteration), state_dict={'w': torch.ones(2)}), path)


def test_the_point_goes_into_the_checkpoint_of_the_validated_weights(tmp_path):
    ckpt = tmp_path / 'iter_500.pth'
    save(ckpt, 500)  # mmengine saves it in after_train_iter, before the validation of the same weights
    hook, runner = OperatingPointHook(), runner_at(500, ckpt, 'op_same')
    hook.after_val_epoch(runner, METRICS)
    point = read_operating_point(ckpt)
    assert point['score_thr'] == 0.42 and point['recall'] == 0.95 and point['iter'] == 500
    assert point['measured_on'] == 'validation'
    assert (point['calib_slope'], point['calib_intercept']) == (1.8, -1.4)  # the scores' calibration with it
    assert torch.load(ckpt, weights_only=True)['state_dict']['w'].sum() == 2  # the weights kept
    # the best checkpoint CheckpointHook saves right after: the same weights, the same point
    best = {'meta': {'iter': 500}}
    hook.before_save_checkpoint(runner, best)
    assert best['meta']['operating_point']['score_thr'] == 0.42


def test_a_checkpoint_of_other_weights_is_left_alone(tmp_path):
    ckpt = tmp_path / 'iter_400.pth'
    save(ckpt, 400)  # checkpoints every 400, validation every 500: the last one is older
    before = ckpt.read_bytes()
    hook, runner = OperatingPointHook(), runner_at(500, ckpt, 'op_other')
    hook.after_val_epoch(runner, METRICS)
    assert ckpt.read_bytes() == before and read_operating_point(ckpt) is None
    # once training goes on, the next checkpoint holds weights nobody validated
    hook.after_train_iter(runner, 500)
    later = {'meta': {'iter': 600}}
    hook.before_save_checkpoint(runner, later)
    assert 'operating_point' not in later['meta']


def test_metrics_without_an_operating_point_change_nothing(tmp_path):
    ckpt = tmp_path / 'epoch_1.pth'
    save(ckpt, 10)
    hook, runner = OperatingPointHook(), runner_at(10, ckpt, 'op_none')
    hook.after_val_epoch(runner, {'accuracy/top1': 80.0})  # a classifier's validation
    assert read_operating_point(ckpt) is None
    undefined = hook.from_metrics({'face/operating/score_thr': 0.3, 'face/operating/precision': float('nan')})
    assert undefined['precision'] is None  # NaN (no box proposed) is null in the checkpoint
    assert undefined['calib_slope'] is None  # nor calibrated (no true and false box), nor from an older metric


def test_it_runs_before_the_checkpoint_hook():
    assert get_priority(OperatingPointHook.priority) < get_priority(CheckpointHook.priority)


@pytest.mark.parametrize('given, source', [('0.5', 'given'), ('auto', 'validation')])
def test_annotate_takes_a_number_or_the_checkpoints_point(tmp_path, given, source):
    from kaokore_mm.annotation import DEFAULT_SCORE_THR, describe_score_threshold, score_threshold

    ckpt = tmp_path / 'iter_2.pth'
    save(ckpt, 2)
    thr, how = score_threshold('auto', ckpt)
    assert thr == DEFAULT_SCORE_THR and how['source'] == 'default'
    assert 'no operating point' in describe_score_threshold(thr, how)
    OperatingPointHook().after_val_epoch(runner_at(2, ckpt, f'op_ann_{source}'), METRICS)
    thr, how = score_threshold(given if given == 'auto' else float(given), ckpt)
    assert how['source'] == source and thr == (0.42 if source == 'validation' else 0.5)
    line = describe_score_threshold(thr, how)
    assert ('precision 0.800, recall 0.950' in line) == (source == 'validation')
