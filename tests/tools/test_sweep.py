import csv
import io
import json
from pathlib import Path

import pytest

from kaokore_mm.apis.experiments import effective_schedule
from kaokore_mm.utils.cli import UserError
from tests.conftest import LOADER_OPTS, SPLIT_OPTS, load_tool

ROOT = Path(__file__).resolve().parents[2]
OPTS = [*LOADER_OPTS, *SPLIT_OPTS]


def test_the_checkpoint_follows_the_overrides():
    assert effective_schedule('configs/faster_rcnn_r50_patch1333.py')[1] == 'epoch_12.pth'
    assert effective_schedule('configs/faster_rcnn_r50_patch1333.py', ['train_cfg.max_epochs=2'])[1] == 'epoch_2.pth'
    assert effective_schedule('configs/demo/faster_rcnn_r18_patch512_demo.py')[1] == 'iter_500.pth'
    assert (
        effective_schedule('configs/demo/faster_rcnn_r18_patch512_demo.py', ['train_cfg.max_iters=7'])[1]
        == 'iter_7.pth'
    )
    opts, name = effective_schedule('configs/demo/faster_rcnn_r18_patch512_demo.py', ['train_cfg.max_iters=7'], 3)
    assert name == 'iter_3.pth' and opts[-2:] == ['train_cfg.max_iters=3', 'train_cfg.val_interval=3']
    with pytest.raises(
        UserError, match='trains by epochs.*`max_iters` applies.*`train_cfg.max_epochs` through `cfg_options`'
    ):
        effective_schedule('configs/ssd300_vgg16_patch600.py', max_iters=10)


def test_max_iters_scales_the_learning_rate_schedule_with_the_run():
    """Before: a 100-iteration fine-tune of the demo config stopped at its peak rate (the cosine decay
    ended at the config's 500): the campaign's fine-tuned detectors lost AP50 round after round."""
    from kaokore_mm.apis.experiments import parse_cfg_options, scaled_schedule
    from kaokore_mm.utils.config import load_config

    demo = 'configs/demo/faster_rcnn_r18_patch512_demo.py'
    opts, _ = effective_schedule(demo, [], 100)
    cfg = load_config(demo, parse_cfg_options(opts))
    warmup, cosine = cfg.param_scheduler
    assert (warmup.begin, warmup.end, cosine.begin, cosine.end) == (0, 10, 10, 100)
    step = dict(type='MultiStepLR', by_epoch=False, milestones=[600, 800], begin=0, end=1000)
    assert scaled_schedule(step, 1000, 100) == [
        'param_scheduler.begin=0',
        'param_scheduler.end=100',
        'param_scheduler.milestones=[60,80]',
    ]
    assert scaled_schedule([dict(type='LinearLR', begin=0, end=5)], 100, 50) == []  # by epoch (the default)
    tiny = effective_schedule(demo, [], 2)[0]  # a 2-iteration run (the tests'): every phase keeps an iteration
    assert tiny[:4] == [
        'param_scheduler.0.begin=0',
        'param_scheduler.0.end=1',
        'param_scheduler.1.begin=0',
        'param_scheduler.1.end=2',
    ]
    assert scaled_schedule(step, 1000, 1000) == [] and scaled_schedule(None, 1000, 10) == []


def test_max_iters_on_an_epoch_config_is_one_line_and_exit_2(tmp_path, capsys):
    from kaokore_mm.utils.cli import cli_main

    sweep = load_tool('sweep')
    rc = cli_main(
        sweep.main,
        [
            'configs/faster_rcnn_r50_nopatch.py',
            '--work-dir',
            str(tmp_path),
            '--data-root',
            str(tmp_path),
            '--max-iters',
            '5',
        ],
    )
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith('error: configs/faster_rcnn_r50_nopatch.py trains by epochs')
    assert err.count('\n') == 1 and not list(tmp_path.iterdir())
    # the library names parameters and config keys; the boundary says the sweep's own options
    assert '--max-iters applies' in err and 'set train_cfg.max_epochs through --cfg-options' in err and '`' not in err


def test_sweep_over_two_demo_configs(tiny_data, tmp_path, capsys):
    sweep = load_tool('sweep')
    configs = ['configs/demo/faster_rcnn_r18_patch512_demo.py', 'configs/demo/faster_rcnn_r18_nopatch_demo.py']
    # the schedule is set by --cfg-options only: the checkpoint tested must be the one this run wrote
    args = [
        *configs,
        '--work-dir',
        str(tmp_path),
        '--data-root',
        str(tiny_data),
        '--cfg-options',
        *OPTS,
        'train_cfg.max_iters=2',
        'train_cfg.val_interval=2',
    ]
    rows = sweep.main(args)
    assert [r['config'] for r in rows] == configs
    for r, c in zip(rows, configs):
        work = tmp_path / Path(c).stem
        assert r['checkpoint'] == str(work / 'train' / 'iter_2.pth') and Path(r['checkpoint']).exists()
        tested = json.loads((work / 'test' / 'test_metrics.json').read_text())
        assert tested['checkpoint'] == r['checkpoint']
        m = tested['metrics']
        assert (r['AP50'], r['recall'], r['precision'], r['pages']) == (
            m['face/AP50'],
            m['face/recall'],
            m['face/precision'],
            m['face/num_pages'],
        )
        assert r['pages'] == 2 and r['faces'] > 0 and r['pages_per_s'] > 0 and r['train_min'] > 0
        # the validation at iteration 2 chose the operating point; the test reports its pages at it
        point = tested['operating_point']
        assert point['iter'] == 2 and r['op_thr'] == point['score_thr'] == m['face/at_val_point/score_thr']
        assert 0.0 < r['op_effort'] == m['face/at_val_point/effort_share']
    table = list(csv.DictReader(io.StringIO(Path(tmp_path / 'sweep.csv').read_text())))
    assert sorted(t['config'] for t in table) == sorted(configs) and [t['rank'] for t in table] == ['1', '2']
    ap = [float(t['AP50']) for t in table]
    assert ap == sorted(ap, reverse=True)  # ranked, best first
    by_config = {r['config']: r for r in rows}
    for t in table:
        assert float(t['recall']) == pytest.approx(by_config[t['config']]['recall'])
        assert t['model'] == 'FasterRCNN' and 1.0 < float(t['params_M']) < 10.0
        assert float(t['s_per_page']) == pytest.approx(1 / by_config[t['config']]['pages_per_s'], rel=1e-3)
    assert (tmp_path / 'sweep.md').read_text().count('\n') == 4
    assert (tmp_path / 'sweep.png').stat().st_size > 5000
    capsys.readouterr()
    sweep.main(args)  # resumed: nothing trained again
    assert capsys.readouterr().out.count('finished earlier') == 2
    with pytest.raises(UserError, match='other settings'):
        sweep.main([*args, 'model.rpn_head.feat_channels=8'])
