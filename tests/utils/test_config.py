"""utils/config.py: the config edits every tool shares (data root, split, bad pages, iteration runs,
the patching the loops follow) and load_config's one-line errors. model_from: test_model_from.py."""

import argparse

import pytest
from mmengine.config import Config

from kaokore_mm.utils.cli import UserError
from kaokore_mm.utils.config import (
    add_common_args,
    apply_common_args,
    load_config,
    loop_patching,
    page_dataset_cfg,
    set_bad_pages,
    set_data_root,
    set_iteration_run,
    set_split,
    train_patching,
)


def two_loaders():
    """A training set wrapped twice (as RepeatDataset / ClassBalancedDataset wrap), a test set and
    a COCO evaluator."""
    patched = dict(
        type='PatchedPageDataset', data_root='old/', ann_file='annotations/pages.json', patch_size=[512, 512], views=[1]
    )
    return Config(
        dict(
            train_dataloader=dict(
                sampler=dict(type='BookSplitSampler', subset='train'),
                dataset=dict(type='RepeatDataset', times=2, dataset=dict(type='ClassBalancedDataset', dataset=patched)),
            ),
            test_dataloader=dict(
                sampler=dict(type='DefaultSampler'),
                dataset=dict(type='KaoKoreFaceDataset', data_root='old/', ann_file='annotations/pages.json'),
            ),
            test_evaluator=dict(type='CocoMetric', ann_file='old/annotations/pages.json'),
            test_cfg=dict(type='PatchedTestLoop', overlap=0.4),
        )
    )


def inner(cfg):
    return cfg.train_dataloader.dataset.dataset.dataset


def test_the_data_root_reaches_wrapped_datasets_and_the_evaluator():
    cfg = two_loaders()
    set_data_root(cfg, '/data/new', ann_file='annotations/other.json')
    assert inner(cfg).data_root == '/data/new/' and inner(cfg).ann_file == 'annotations/other.json'
    assert cfg.test_dataloader.dataset.data_root == '/data/new/'
    assert cfg.test_evaluator.ann_file == '/data/new/annotations/other.json'
    assert 'data_root' not in cfg.train_dataloader.dataset  # the wrappers have none


def test_the_split_is_set_on_book_samplers_only_and_checked():
    cfg = two_loaders()
    set_split(cfg, 'intra_book', 3, pin_books={'test': ['b1']})
    s = cfg.train_dataloader.sampler
    assert (s.split, s.split_seed, s.pin_books) == ('intra_book', 3, {'test': ['b1']})
    assert 'split' not in cfg.test_dataloader.sampler
    with pytest.raises(ValueError, match="split='by_colour' is not valid"):
        set_split(cfg, 'by_colour')


def test_bad_pages_reach_page_datasets_not_their_wrappers():
    cfg = two_loaders()
    set_bad_pages(cfg, 'skip')
    assert inner(cfg).bad_pages == 'skip' and cfg.test_dataloader.dataset.bad_pages == 'skip'
    assert 'bad_pages' not in cfg.train_dataloader.dataset


def test_the_loops_follow_the_training_sets_patching_and_keep_their_own_choices():
    cfg = two_loaders()
    assert train_patching(cfg) == dict(patch_size=[512, 512], views=[1])
    assert loop_patching(cfg, dict(overlap=0.4, patch_size=(256, 256))) == dict(
        overlap=0.4, patch_size=(256, 256), views=[1]
    )
    assert loop_patching(cfg, {})['patch_size'] == (512, 512)  # a tuple, as the predictor takes it
    assert train_patching(Config(dict(train_dataloader=dict(dataset=dict(type='KaoKoreFaceDataset'))))) == {}
    whole = page_dataset_cfg(inner(cfg), pipeline=[dict(type='LoadPageFromFile')])
    assert whole['type'] == 'KaoKoreFaceDataset' and 'patch_size' not in whole and 'views' not in whole
    assert whole['data_root'] == 'old/' and whole['pipeline'] == [dict(type='LoadPageFromFile')]


def test_an_iteration_run_has_no_validation_no_schedule_and_its_checkpoints():
    cfg = Config(dict(default_hooks=dict(checkpoint=dict(type='CheckpointHook', save_best='auto'))))
    set_iteration_run(cfg, 7, checkpoint_interval=7, log_interval=1)
    assert cfg.train_cfg.max_iters == 7 and cfg.train_cfg.val_interval > 7 and cfg.param_scheduler is None
    ck = cfg.default_hooks.checkpoint
    assert (ck.interval, ck.by_epoch, ck.save_best, ck.save_last) == (7, False, None, True)
    set_iteration_run(cfg, 3)
    assert cfg.default_hooks.checkpoint.save_last is False and cfg.default_hooks.logger.interval > 3


@pytest.mark.parametrize(
    'body, message',
    [
        (None, 'not found'),
        ('x = (', 'syntax error in the config'),
        ("_base_ = ['nowhere.py']\n", 'cannot be read as a config'),
    ],
)
def test_a_config_that_cannot_be_read_is_one_line(tmp_path, body, message):
    path = tmp_path / 'c.py'
    if body is not None:
        path.write_text(body)
    with pytest.raises(UserError, match=message) as e:
        load_config(str(path))
    assert '\n' not in str(e.value) and str(path) in str(e.value)


def test_a_syntax_error_names_its_file_and_line_also_in_a_base(tmp_path):
    (tmp_path / '_base_').mkdir()
    (tmp_path / '_base_' / 'model.py').write_text('a = 1\nmodel = dict(type=\n')
    child = tmp_path / 'child.py'
    child.write_text("_base_ = ['./_base_/model.py']\nb = 2\n")
    with pytest.raises(UserError, match=r'_base_/model.py:2: syntax error in the config'):
        load_config(str(child))


def test_common_args_set_data_root_split_options_and_mmdets_default_work_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parser = argparse.ArgumentParser()
    add_common_args(parser, 'where')
    args = parser.parse_args(
        ['--data-root', 'd', '--split', 'random', '--skip-bad-pages', '--cfg-options', 'test_cfg.overlap=0.1']
    )
    cfg = two_loaders()
    apply_common_args(cfg, args, 'configs/my_detector.py')
    assert inner(cfg).data_root == 'd/' and cfg.train_dataloader.sampler.split == 'random'
    assert inner(cfg).bad_pages == 'skip' and cfg.test_cfg.overlap == 0.1
    assert cfg.work_dir.replace('\\', '/') == './work_dirs/my_detector'
    args = parser.parse_args(['--work-dir', 'elsewhere'])
    apply_common_args(cfg, args, 'configs/my_detector.py')
    assert cfg.work_dir == 'elsewhere'
