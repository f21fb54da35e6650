"""Test a detector on whole pages (mmdet's tools/test.py, with kaokore_mm's options).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--data-root DIR]
        [--split ...] [--out results.pkl] [--show-dir DIR] [--skip-bad-pages] [--cfg-options k=v ...]

Patched configs predict each page patch by patch (PatchedTestLoop); the metrics
are page-level either way.
"""

import argparse
import os.path as osp
import sys

import kaokore_mm  # noqa: F401
from kaokore_mm.apis.train_test import test_detector
from kaokore_mm.utils.cli import cli_main
from kaokore_mm.utils.config import add_common_args, apply_common_args, load_config, parse_with_common_args
from kaokore_mm.utils.dist import finish_distributed


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
    cfg = load_config(args.config, args.cfg_options)
    apply_common_args(cfg, args, args.config)
    if args.show_dir:
        vis = cfg.default_hooks.visualization
        vis.draw = True
        vis.test_out_dir = args.show_dir
    metrics = test_detector(
        cfg, args.checkpoint, out=args.out, trust_checkpoint=args.trust_checkpoint, partial_load=args.partial_load
    )
    from mmengine.dist import is_main_process

    if is_main_process():
        print(f'metrics: {osp.join(cfg.work_dir, "test_metrics.json")}')
    finish_distributed()
    return metrics


if __name__ == '__main__':
    sys.exit(cli_main(main))
