"""Train a detector (mmdet's tools/train.py, with kaokore_mm's options).

    python tools/train.py configs/faster_rcnn_r50_patch1333.py [--work-dir DIR]
        [--data-root DIR] [--split inter_book|intra_book|random] [--split-seed N]
        [--resume [CKPT]] [--amp] [--auto-scale-lr] [--cfg-options k=v ...]
        [--launcher none|pytorch|slurm|mpi]
"""
import argparse
import contextlib
import os

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import kaokore_mm  # noqa: F401  (registers plugins, allow-lists mmengine checkpoint types)
from kaokore_mm.compat import trusted_checkpoint_loading
from kaokore_mm.core.splits import SPLITS
from kaokore_mm.utils.config import apply_common_args


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--data-root', help='dataset root (with annotations/pages.json and the pages)')
    parser.add_argument('--split', choices=SPLITS, help='book-aware split of all loaders')
    parser.add_argument('--split-seed', type=int, help='seed of the split (not of training)')
    parser.add_argument('--amp', action='store_true', help='enable automatic-mixed-precision training')
    parser.add_argument('--auto-scale-lr', action='store_true', help='enable automatically scaling LR')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from CKPT, or without a value from the latest checkpoint in the work dir')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='load checkpoints with weights_only=False (only for files from a trusted source; '
                        'mmengine checkpoints load without it)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def build_cfg(args):
    cfg = Config.fromfile(args.config)
    apply_common_args(cfg, args, args.config)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'enable' not in cfg.get('auto_scale_lr', {}) or 'base_batch_size' not in cfg.auto_scale_lr:
            raise RuntimeError('Can not find "auto_scale_lr.enable" or "auto_scale_lr.base_batch_size" in '
                               f'{args.config}')
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
    cfg = build_cfg(args)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    with trusted_checkpoint_loading() if args.trust_checkpoint else contextlib.nullcontext():
        runner.train()
    return runner


if __name__ == '__main__':
    main()
