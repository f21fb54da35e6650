"""Python API: train-then-test runs, resumable, in this process (demo, benchmarks, sweeps).

A run lives in ``WORK/train`` (checkpoints, logs) and ``WORK/test``
(``test_metrics.json``); a finished training is not repeated and an
interrupted one resumes from its last checkpoint. :func:`sweep` trains and
tests several configs (an architecture sweep by config inheritance).
"""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from kaokore_mm.apis.train_test import test_detector, train_detector
from kaokore_mm.engine.hooks import train_seconds
from kaokore_mm.utils.cli import UserError
from kaokore_mm.utils.config import load_config, set_data_root
from kaokore_mm.utils.io import atomic_write_json, atomic_write_text
from kaokore_mm.visualization.plots import metrics_bar_figure, save_figure

if TYPE_CHECKING:
    from mmengine.config import Config


def say(tag: str, msg: str) -> None:
    """A progress line of a long job: ``[tag] msg`` (bold tag)."""
    print(f'\033[1m[{tag}]\033[0m {msg}', flush=True)


def parse_cfg_options(options) -> dict:
    """``['a.b=1', 'c=[1,2]']`` -> the dict mmengine's ``--cfg-options`` would give."""
    import argparse

    from mmengine.config import DictAction

    if not options:
        return {}
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', *map(str, options)]).cfg_options or {}


def scaled_schedule(schedulers, old_iters, iters: int) -> list[str]:
    """``cfg_options`` that fit an iteration-based learning-rate schedule written for ``old_iters``
    to ``iters``: every ``begin``, ``end`` and milestone scaled by ``iters / old_iters`` (a warm-up
    of 50 of 500 iterations becomes 10 of 100, the cosine decay still ends at the last one).
    Without it a run cut to fewer iterations stops at a high rate, a longer one runs at the floor."""
    if not schedulers or not old_iters or old_iters == iters:
        return []
    items = schedulers if isinstance(schedulers, (list, tuple)) else [schedulers]
    listed = isinstance(schedulers, (list, tuple))
    opts = []
    for i, sch in enumerate(items):
        if sch.get('by_epoch', True):  # mmengine's default: counted in epochs, left as written
            continue
        key = f'param_scheduler{f".{i}" if listed else ""}'
        begin, end = sch.get('begin'), sch.get('end')
        if isinstance(begin, int) and not isinstance(begin, bool):
            begin = round(begin * iters / old_iters)
            opts.append(f'{key}.begin={begin}')
        if isinstance(end, int) and not isinstance(end, bool):
            # a phase never vanishes: a warm-up of 50 of 500 iterations is 1 of a 2-iteration run, not 0
            end = max(round(end * iters / old_iters), (begin or 0) + 1)
            opts.append(f'{key}.end={end}')
        if isinstance(sch.get('milestones'), (list, tuple)):
            scaled = [round(m * iters / old_iters) for m in sch['milestones']]
            opts.append(f'{key}.milestones=[{",".join(map(str, scaled))}]')
    return opts


def effective_schedule(config: str, cfg_options=(), max_iters: int | None = None) -> tuple[list, str]:
    """The training options and the name of the last checkpoint the run will
    write, with every override applied (``--cfg-options`` first, then
    ``max_iters``).

    ``max_iters`` applies to iteration-based schedules; an epoch-based config
    is refused with a message (set ``train_cfg.max_epochs`` instead): turning
    an epoch schedule into iterations would silently change its learning-rate
    schedule and checkpoint cadence.
    """
    cfg = load_config(str(config), parse_cfg_options(cfg_options))
    train_cfg = cfg.get('train_cfg') or {}
    by_epoch = train_cfg.get('type', '').startswith('EpochBased') or (
        'max_epochs' in train_cfg and 'max_iters' not in train_cfg
    )
    opts = list(cfg_options)
    if by_epoch:
        if max_iters is not None:
            raise UserError(
                f'{config} trains by epochs (train_cfg.max_epochs={train_cfg.get("max_epochs")}); '
                '`max_iters` applies to iteration-based configs: set `train_cfg.max_epochs` through `cfg_options` '
                'instead'
            )
        return opts, f'epoch_{train_cfg["max_epochs"]}.pth'
    iters = max_iters or train_cfg.get('max_iters')
    if not iters:
        raise UserError(f'{config}: train_cfg has neither max_epochs nor max_iters')
    if max_iters is not None:
        old = train_cfg.get('max_iters')
        opts = [*opts, *scaled_schedule(cfg.get('param_scheduler'), old, iters)]
        opts += [f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}']
    return opts, f'iter_{iters}.pth'


def run_cfg(config: str, work_dir, data_root, cfg_options=(), resume: bool = False, hooks=()) -> Config:
    """The config of one run: ``data_root`` for every loader, ``cfg_options``
    applied, ``hooks`` added to its ``custom_hooks`` (a list of hook dicts, which
    ``--cfg-options`` cannot write), ``work_dir`` set (and resuming from its last checkpoint)."""
    options = parse_cfg_options(cfg_options)
    cfg = load_config(str(config), options)
    set_data_root(cfg, str(data_root))
    cfg.merge_from_dict({k: v for k, v in options.items() if k != 'model_from'})
    if hooks:
        cfg.custom_hooks = [*(cfg.get('custom_hooks') or []), *map(dict, hooks)]
    cfg.work_dir = str(work_dir)
    if resume:
        cfg.resume, cfg.load_from = True, None
    return cfg


def train_and_test(
    config: str,
    work_dir,
    data_root,
    max_iters: int | None = None,
    cfg_options=(),
    out: str | None = None,
    tag: str = 'run',
    train_hooks=(),
) -> dict:
    """Train ``config`` (resuming an interrupted run, skipping a finished one) and
    test the checkpoint the run wrote last (a test finished after that checkpoint
    was written is read back).

    Args:
        config: the config file.
        work_dir: the run's folder (``train/`` and ``test/`` inside).
        data_root: the dataset every loader reads.
        max_iters: overrides an iteration-based schedule (an epoch-based
            config is refused: set ``train_cfg.max_epochs`` instead).
        cfg_options: ``key=value`` overrides of training and testing alike.
        out: also dump the test predictions to this ``.pkl``.
        tag: the progress lines' tag.
        train_hooks: hook dicts the training adds to the config's ``custom_hooks``
            (e.g. an ``EMAHook``: the checkpoint then holds the averaged weights, which
            the test reads; the test adds none).

    Returns:
        ``dict(metrics, checkpoint, train_s, test_s)`` (``train_s``: the seconds of training the
        final checkpoint records, resumes included (:class:`TrainTimeHook`); ``test_s``: the test loop).
    """
    work_dir = Path(work_dir)
    opts, final_name = effective_schedule(config, cfg_options, max_iters)
    final = work_dir / 'train' / final_name
    t0 = time.time()
    if final.exists():
        say(tag, f'training finished earlier: {final}')
    else:
        resume = (work_dir / 'train' / 'last_checkpoint').exists()
        say(tag, f'train {config} in {work_dir / "train"}' + (' (resuming)' if resume else ''))
        train_detector(run_cfg(config, work_dir / 'train', data_root, opts, resume, train_hooks))
        if not final.exists():
            written = sorted(p.name for p in (work_dir / 'train').glob('*.pth'))
            raise UserError(
                f'training {config} finished without writing {final} (checkpoints written: '
                f'{", ".join(written) or "none"})'
            )
    t1 = time.time()
    done = work_dir / 'test' / 'test_metrics.json'
    if done.exists() and done.stat().st_mtime >= final.stat().st_mtime and (out is None or Path(out).exists()):
        say(tag, f'test finished earlier: {done}')  # a checkpoint newer than the test is tested again
        t = json.loads(done.read_text())
        test = dict(metrics=t['metrics'], test_s=t['test_seconds'])
    else:
        test = test_checkpoint(config, final, work_dir / 'test', data_root, opts, out=out, tag=tag)

    # the checkpoint's own record (TrainTimeHook) holds over resumes and finished trainings; the wall clock not
    recorded = train_seconds(final)
    train_s = recorded if recorded is not None else t1 - t0
    return dict(metrics=test['metrics'], checkpoint=str(final), train_s=train_s, test_s=test['test_s'])


def test_checkpoint(
    config: str, checkpoint, test_dir, data_root, cfg_options=(), out: str | None = None, tag: str = 'run'
) -> dict:
    """Test ``checkpoint`` into ``test_dir``; returns ``dict(metrics, test_s)`` as
    written to its ``test_metrics.json``."""
    test_dir = Path(test_dir)
    say(tag, f'test {checkpoint} with {config} in {test_dir}')
    test_detector(
        run_cfg(config, test_dir, data_root, cfg_options), str(checkpoint), out=str(out) if out is not None else None
    )
    result = json.loads((test_dir / 'test_metrics.json').read_text())
    return dict(metrics=result['metrics'], test_s=result['test_seconds'])


def fmt(v) -> str:
    """A table cell: ``n/a`` for an undefined figure, 3 decimals for a float."""
    if v is None:
        return 'n/a'
    return f'{v:.3f}' if isinstance(v, float) else str(v)


def markdown_table(rows: list[dict], columns) -> str:
    md = ['| ' + ' | '.join(columns) + ' |', '|' + ' --- |' * len(columns)]
    md += ['| ' + ' | '.join(fmt(r.get(c)) for c in columns) + ' |' for r in rows]
    return '\n'.join(md) + '\n'


def csv_table(rows: list[dict], columns) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator='\n')
    writer.writeheader()
    writer.writerows({c: r.get(c) for c in columns} for r in rows)
    return buf.getvalue()


SWEEP_COLUMNS = (
    'rank',
    'config',
    'model',
    'params_M',
    'AP50',
    'recall',
    'precision',
    'manual_share',
    'op_thr',
    'op_effort',
    'op_recall',
    'train_min',
    's_per_page',
)
# the sweep's plot: {key of a row: its name in the legend}
SWEEP_PLOT = {
    'AP50': 'AP50',
    'recall': 'recall at 0.5',
    'op_recall': 'recall at its operating point',
    'op_effort': 'effort at its operating point (lower is better)',
}


def model_summary(config: str) -> dict:
    """The detector type and its parameters (millions) of a config, built with random weights."""
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    cfg = load_config(str(config))
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    if 'init_cfg' in cfg.model.get('backbone', {}):
        cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    return dict(model=type(model).__name__, params_M=sum(p.numel() for p in model.parameters()) / 1e6)


def ranked(rows: list[dict]) -> list[dict]:
    """The rows best first (AP50, then recall; an undefined figure last), with their rank and
    the figures derived from each row (model, parameters, seconds per page)."""

    def key(r):
        return (-(r['AP50'] if r.get('AP50') is not None else -1.0), -(r.get('recall') or 0.0))

    out = []
    for i, r in enumerate(sorted(rows, key=key), 1):
        r = dict(r, rank=i)
        if 'model' not in r or 'params_M' not in r:  # a row of an older result.json
            r.update(model_summary(r['config']))
        if r.get('pages_per_s'):
            r['s_per_page'] = 1.0 / r['pages_per_s']
        out.append(r)
    return out


def sweep_one(config: str, work: Path, data_root, max_iters: int | None = None, cfg_options=()) -> dict:
    """Train and test one config of a sweep in ``work`` (or read its finished
    ``result.json``, refused when written with other settings)."""
    result_file = Path(work) / 'result.json'
    settings = dict(data_root=str(Path(data_root).resolve()), max_iters=max_iters, cfg_options=list(cfg_options))
    if result_file.exists():
        row = json.loads(result_file.read_text())
        if row.get('settings') != settings:
            raise UserError(
                f'{result_file} was written with other settings ({row.get("settings")}); '
                'use another `work_dir` or remove that folder'
            )
        say('sweep', f'{config}: finished earlier')
        return row
    run = train_and_test(config, work, data_root, max_iters, cfg_options, tag='sweep')
    m = run['metrics']
    row = dict(
        config=config,
        AP50=m['face/AP50'],
        recall=m['face/recall'],
        precision=m['face/precision'],
        manual_share=m['face/manual_share'],
        # the operating point the validation chose (kept in the checkpoint) and the test pages' figures at it
        op_thr=m.get('face/at_val_point/score_thr'),
        op_effort=m.get('face/at_val_point/effort_share'),
        op_recall=m.get('face/at_val_point/recall'),
        train_min=run['train_s'] / 60,
        pages_per_s=m['face/num_pages'] / run['test_s'],
        pages=m['face/num_pages'],
        faces=m['face/num_faces'],
        checkpoint=run['checkpoint'],
        settings=settings,
        **model_summary(config),  # once, with the row: the tables are written again at every row
    )
    atomic_write_json(result_file, row)
    return row


def sweep(configs, work_dir, data_root, max_iters: int | None = None, cfg_options=()) -> list[dict]:
    """Train and test every config in ``WORK/<config name>/``; writes
    ``WORK/sweep.md`` and ``sweep.csv`` (ranked by AP50, with each detector's type and
    parameters) and ``sweep.png``; returns the rows in the order of ``configs``."""
    work = Path(work_dir)
    rows = [sweep_one(c, work / Path(c).stem, data_root, max_iters, cfg_options) for c in configs]
    table = ranked(rows)
    atomic_write_text(work / 'sweep.md', markdown_table(table, SWEEP_COLUMNS))
    atomic_write_text(work / 'sweep.csv', csv_table(table, SWEEP_COLUMNS))
    # what a user of each detector pays: the ranking (AP50), and the recall and effort at the
    # operating point its validation chose beside the recall at a fixed 0.5
    figure = metrics_bar_figure(
        [Path(r['config']).stem for r in table],
        table,
        keys=tuple(SWEEP_PLOT),
        labels=tuple(SWEEP_PLOT.values()),
        title='the detectors at 0.5 and at their operating points (held-out pages)',
    )
    save_figure(figure, work / 'sweep.png')
    return rows
