import time
from unittest.mock import MagicMock

import torch
from mmengine.logging import MessageHub

from kaokore_mm.engine.hooks import TrainTimeHook, train_seconds
from kaokore_mm.engine.hooks.train_time_hook import KEY


def runner_with(hub):
    runner = MagicMock()
    runner.message_hub = hub
    return runner


def test_the_seconds_go_on_from_what_a_resumed_checkpoint_recorded(tmp_path):
    hub = MessageHub.get_instance('train_time_test')
    hub.update_info(KEY, 100.0)  # what the checkpoint a run resumes from holds
    hook, runner = TrainTimeHook(), runner_with(hub)
    hook.before_train(runner)
    time.sleep(0.05)
    hook.after_train_iter(runner, 0)
    first = hub.get_info(KEY)
    time.sleep(0.05)
    hook.after_train_iter(runner, 1)
    assert 100.04 < first < hub.get_info(KEY) < 101.0
    # as mmengine's save_checkpoint writes it, and read back
    torch.save(dict(message_hub=hub.state_dict(), state_dict={}), tmp_path / 'iter_2.pth')
    assert train_seconds(tmp_path / 'iter_2.pth') == hub.get_info(KEY)
    torch.save(dict(state_dict={}), tmp_path / 'old.pth')
    assert train_seconds(tmp_path / 'old.pth') is None


def test_a_checkpoint_without_the_hook_sums_the_logged_iteration_times_when_all_are_there(tmp_path):
    hub = MessageHub.get_instance('train_time_old')
    for t in (1.0, 2.0, 3.5):
        hub.update_scalar('train/time', t)
    torch.save(dict(meta=dict(iter=3), message_hub=hub.state_dict()), tmp_path / 'a.pth')
    assert train_seconds(tmp_path / 'a.pth') == 6.5
    # the history keeps the last 1000: not the whole training
    torch.save(dict(meta=dict(iter=3000), message_hub=hub.state_dict()), tmp_path / 'b.pth')
    assert train_seconds(tmp_path / 'b.pth') is None


def test_a_fresh_run_starts_at_zero_and_runs_before_the_checkpoint_hook():
    from mmengine.hooks import CheckpointHook
    from mmengine.runner.priority import get_priority

    hub = MessageHub.get_instance('train_time_fresh')
    hook, runner = TrainTimeHook(), runner_with(hub)
    hook.before_train(runner)
    hook.after_train_iter(runner, 0)
    assert 0.0 <= hub.get_info(KEY) < 1.0
    assert get_priority(TrainTimeHook.priority) < get_priority(CheckpointHook.priority)
