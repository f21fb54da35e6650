"""Train-then-test runs of the tools as subprocesses (demo, benchmarks, sweeps)."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def say(tag: str, msg: str) -> None:
    print(f'\033[1m[{tag}]\033[0m {msg}', flush=True)


def run_tool(tool: str, *args, tag: str = 'run') -> None:
    cmd = [sys.executable, str(ROOT / 'tools' / tool), *map(str, args)]
    say(tag, ' '.join(cmd[1:]))
    subprocess.run(cmd, check=True, cwd=ROOT)


def train_and_test(config: str, work_dir, data_root, max_iters: int | None = None, cfg_options=(),
                   test_args=(), tag: str = 'run') -> dict:
    """Train ``config`` (resuming an interrupted run, skipping a finished one) and
    test its last checkpoint; returns ``dict(metrics, checkpoint, train_s, test_s)`` (``test_s``: the
    test loop itself, without the start of the process).
    ``max_iters`` overrides an iteration-based schedule."""
    from mmengine.config import Config
    work_dir = Path(work_dir)
    cfg = Config.fromfile(str(ROOT / config) if not Path(config).is_absolute() else config)
    if cfg.train_cfg.get('max_epochs'):
        opts = list(cfg_options)
        final = work_dir / 'train' / f'epoch_{cfg.train_cfg.max_epochs}.pth'
    else:
        iters = max_iters or cfg.train_cfg.get('max_iters')
        opts = [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}', *cfg_options]
        final = work_dir / 'train' / f'iter_{iters}.pth'
    t0 = time.time()
    if final.exists():
        say(tag, f'training finished earlier: {final}')
    else:
        resume = ['--resume'] if (work_dir / 'train' / 'last_checkpoint').exists() else []
        run_tool('train.py', config, '--work-dir', work_dir / 'train', '--data-root', data_root, *resume,
                 *(['--cfg-options', *opts] if opts else []), tag=tag)
    t1 = time.time()
    test_dir = work_dir / 'test'
    run_tool('test.py', config, final, '--work-dir', test_dir, '--data-root', data_root, *test_args,
             *(['--cfg-options', *opts] if opts else []), tag=tag)
    result = json.loads((test_dir / 'test_metrics.json').read_text())
    return dict(metrics=result['metrics'], checkpoint=str(final), train_s=t1 - t0,
                test_s=result.get('test_seconds', time.time() - t1))
