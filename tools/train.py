"""Train a detector (mmdet's tools/train.py, with kaokore_mm's options).

python tools/train.py configs/faster_rcnn_r50_patch1333.py [--work-dir DIR]
    [--data-root DIR] [--split inter_book|intra_book|random] [--split-seed N]
    [--resume [CKPT]] [--amp] [--auto-scale-lr] [--skip-bad-pages] [--cfg-options k=v ...]
    [--launcher none|pytorch|slurm|mpi]
"""

import argparse
import sys

import kaokore_mm  # noqa: F401  (registers plugins, allow-lists mmengine checkpoint types)
from kaokore_mm.apis.train_test import train_detector
from kaokore_mm.utils.cli import UserError, cli_main
from kaokore_mm.utils.config import (
    add_common_args,
    apply_common_args,
    enable_amp,
    load_config,
    parse_with_common_args,
)
from kaokore_mm.utils.dist import finish_distributed


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    add_common_args(parser, 'the dir to save logs and models')
    parser.add_argument('--amp', action='store_true', help='enable automatic-mixed-precision training')
    parser.add_argument('--auto-scale-lr', action='store_true', help='enable automatically scaling LR')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from CKPT, or without a value from the latest checkpoint in the work dir',
    )
    return parse_with_common_args(parser, argv)


def build_cfg(args):
    cfg = load_config(args.config, args.cfg_options)
    apply_common_args(cfg, args, args.config)
    if args.amp:
        enable_amp(cfg)
    if args.auto_scale_lr:
        if 'enable' not in cfg.get('auto_scale_lr', {}) or 'base_batch_size' not in cfg.auto_scale_lr:
            raise UserError(f'Can not find "auto_scale_lr.enable" or "auto_scale_lr.base_batch_size" in {args.config}')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def main(argv=None):
    args = parse_args(argv)
    runner = train_detector(build_cfg(args), trust_checkpoint=args.trust_checkpoint, partial_load=args.partial_load)
    finish_distributed()
    return runner


if __name__ == '__main__':
    sys.exit(cli_main(main))
