"""Train-then-test runs of the tools as subprocesses (demo, benchmarks, sweeps)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from .cli import UserError

ROOT = Path(__file__).resolve().parents[2]


def say(tag: str, msg: str) -> None:
    print(f'\033[1m[{tag}]\033[0m {msg}', flush=True)


def run_tool(tool: str, *args, tag: str = 'run') -> None:
    cmd = [sys.executable, str(ROOT / 'tools' / tool), *map(str, args)]
    say(tag, ' '.join(cmd[1:]))
    rc = subprocess.run(cmd, cwd=ROOT).returncode
    if rc != 0:
        raise UserError(f'tools/{tool} failed with exit code {rc} (its output is above): {" ".join(cmd[1:])}')


def parse_cfg_options(options) -> dict:
    """``['a.b=1', 'c=[1,2]']`` -> the dict mmengine's ``--cfg-options`` would give."""
    import argparse

    from mmengine.config import DictAction
    if not options:
        return {}
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', *map(str, options)]).cfg_options or {}


def effective_schedule(config: str, cfg_options=(), max_iters: int | None = None) -> tuple[list, str]:
    """The training options and the name of the last checkpoint the run will
    write, with every override applied (``--cfg-options`` first, then
    ``max_iters``).

    ``max_iters`` applies to iteration-based schedules; an epoch-based config
    is refused with a message (set ``train_cfg.max_epochs`` instead): turning
    an epoch schedule into iterations would silently change its learning-rate
    schedule and checkpoint cadence.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(str(ROOT / config) if not Path(config).is_absolute() else config)
    cfg.merge_from_dict(parse_cfg_options(cfg_options))
    train_cfg = cfg.get('train_cfg') or {}
    by_epoch = train_cfg.get('type', '').startswith('EpochBased') or (
        'max_epochs' in train_cfg and 'max_iters' not in train_cfg)
    opts = list(cfg_options)
    if by_epoch:
        if max_iters is not None:
            raise UserError(f'{config} trains by epochs (train_cfg.max_epochs={train_cfg.get("max_epochs")}); '
                            '--max-iters applies to iteration-based configs: use --cfg-options '
                            'train_cfg.max_epochs=N instead')
        return opts, f'epoch_{train_cfg["max_epochs"]}.pth'
    iters = max_iters or train_cfg.get('max_iters')
    if not iters:
        raise UserError(f'{config}: train_cfg has neither max_epochs nor max_iters')
    if max_iters is not None:
        opts = [*opts, f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}']
    return opts, f'iter_{iters}.pth'


def train_and_test(config: str, work_dir, data_root, max_iters: int | None = None, cfg_options=(),
                   test_args=(), tag: str = 'run') -> dict:
    """Train ``config`` (resuming an interrupted run, skipping a finished one) and
    test the checkpoint the run wrote last; returns ``dict(metrics, checkpoint,
    train_s, test_s)`` (``test_s``: the test loop itself, without the start of
    the process). ``max_iters`` overrides an iteration-based schedule;
    ``cfg_options`` apply to training and testing alike."""
    work_dir = Path(work_dir)
    opts, final_name = effective_schedule(config, cfg_options, max_iters)
    final = work_dir / 'train' / final_name
    t0 = time.time()
    if final.exists():
        say(tag, f'training finished earlier: {final}')
    else:
        resume = ['--resume'] if (work_dir / 'train' / 'last_checkpoint').exists() else []
        run_tool('train.py', config, '--work-dir', work_dir / 'train', '--data-root', data_root, *resume,
                 *(['--cfg-options', *opts] if opts else []), tag=tag)
        if not final.exists():
            written = sorted(p.name for p in (work_dir / 'train').glob('*.pth'))
            raise UserError(f'training {config} finished without writing {final} (checkpoints written: '
                            f'{", ".join(written) or "none"})')
    t1 = time.time()
    test = test_checkpoint(config, final, work_dir / 'test', data_root, opts, test_args, tag=tag)
    return dict(metrics=test['metrics'], checkpoint=str(final), train_s=t1 - t0, test_s=test['test_s'])


def test_checkpoint(config: str, checkpoint, test_dir, data_root, cfg_options=(), test_args=(),
                    tag: str = 'run') -> dict:
    """Test ``checkpoint`` with tools/test.py into ``test_dir``; returns
    ``dict(metrics, test_s)`` read back from its ``test_metrics.json``."""
    test_dir = Path(test_dir)
    run_tool('test.py', config, checkpoint, '--work-dir', test_dir, '--data-root', data_root, *test_args,
             *(['--cfg-options', *cfg_options] if cfg_options else []), tag=tag)
    result = json.loads((test_dir / 'test_metrics.json').read_text())
    if Path(result['checkpoint']).resolve() != Path(checkpoint).resolve():
        raise UserError(f'{test_dir / "test_metrics.json"} names {result["checkpoint"]}, not {checkpoint}')
    return dict(metrics=result['metrics'], test_s=result['test_seconds'])
