"""Test a detector on whole pages (mmdet's tools/test.py, with kaokore_mm's options).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--data-root DIR]
        [--split ...] [--out results.pkl] [--show-dir DIR] [--skip-bad-pages] [--cfg-options k=v ...]

Patched configs predict each page patch by patch (PatchedTestLoop); the metrics
are page-level either way.
"""
import argparse
import contextlib
import os.path as osp
import sys
import time

from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import kaokore_mm  # noqa: F401
from kaokore_mm.compat import explain_refused_checkpoints, trusted_checkpoint_loading
from kaokore_mm.utils.config import add_common_args, apply_common_args, load_config, parse_with_common_args
from kaokore_mm.utils.preflight import check_config
from kaokore_mm.utils.dist import finish_distributed
from kaokore_mm.utils.cli import UserError, cli_main, split_errors_as_user_errors
from kaokore_mm.utils.io import atomic_write_json


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a detector on whole pages')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    add_common_args(parser, 'the dir to save the evaluation metrics')
    parser.add_argument('--out', type=str, help='dump predictions to a pickle file')
    parser.add_argument('--show-dir', help='directory (in the work dir) where painted pages are saved')
    return parse_with_common_args(parser, argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config)
    apply_common_args(cfg, args, args.config)
    cfg.load_from = args.checkpoint
    if args.show_dir:
        vis = cfg.default_hooks.visualization
        vis.draw = True
        vis.test_out_dir = args.show_dir
    check_config(cfg, args.config, 'test')  # one line before the Runner's environment dump
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if args.out is not None:
        from kaokore_mm.evaluation import DumpPageResults
        if not args.out.endswith(('.pkl', '.pickle')):
            raise UserError(f'--out must name a .pkl or .pickle file, got {args.out}')
        runner.test_evaluator.metrics.append(DumpPageResults(out_file_path=args.out))
    t0 = time.perf_counter()
    with trusted_checkpoint_loading() if args.trust_checkpoint else contextlib.nullcontext(), \
            explain_refused_checkpoints(args.checkpoint), split_errors_as_user_errors(args.config):
        metrics = runner.test()
    seconds = time.perf_counter() - t0
    from mmengine.dist import is_main_process
    if is_main_process():
        out = osp.join(cfg.work_dir, 'test_metrics.json')
        # strict JSON: an undefined figure (e.g. AP50 of pages without faces) is null, not NaN
        atomic_write_json(out, dict(config=args.config, checkpoint=args.checkpoint, test_seconds=seconds,
                                    samples=len(runner.test_dataloader.dataset), metrics=metrics))
        print(f'metrics: {out}')
    finish_distributed()
    return metrics


if __name__ == '__main__':
    sys.exit(cli_main(main))
