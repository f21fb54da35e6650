"""Train and test several configs (an architecture sweep by config inheritance).

    python tools/sweep.py CONFIG [CONFIG ...] --work-dir DIR --data-root DATA
        [--max-iters N] [--cfg-options k=v ...]

Each config is trained and tested in DIR/<config name>/ in this process
(:func:`kaokore_mm.apis.experiments.sweep`); a finished config is not run again
and an interrupted one resumes from its last checkpoint. Writes DIR/sweep.md
and DIR/sweep.csv (ranked by AP50: detector type, parameters, AP50, recall,
precision, annotation effort, train minutes, test seconds per page) and
DIR/sweep.png (a bar plot).
"""

import argparse
import sys
from pathlib import Path

import kaokore_mm  # noqa: F401
from kaokore_mm.apis.experiments import say, sweep
from kaokore_mm.utils.cli import COUNT, cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('configs', nargs='+')
    p.add_argument('--work-dir', required=True)
    p.add_argument('--data-root', required=True)
    p.add_argument(
        '--max-iters',
        type=COUNT,
        help='iterations of iteration-based configs (an epoch-based config is refused: set '
        'train_cfg.max_epochs with --cfg-options)',
    )
    p.add_argument('--cfg-options', nargs='+', default=[], help='passed to every train and test run')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    rows = sweep(args.configs, args.work_dir, args.data_root, args.max_iters, args.cfg_options)
    work = Path(args.work_dir)
    print((work / 'sweep.md').read_text(encoding='utf-8'), end='')
    say('sweep', f'table: {work / "sweep.md"}, {work / "sweep.csv"}; plot: {work / "sweep.png"}')
    return rows


if __name__ == '__main__':
    sys.exit(cli_main(main))
