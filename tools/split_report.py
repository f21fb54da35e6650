"""Pages and faces per book in each subset of a config's book-aware split.

    python tools/split_report.py CONFIG [--data-root DIR] [--split inter_book] [--split-seed N]
        [--test-books BOOK ...] [--val-books BOOK ...] [--out report.png]

Prints a table and plots stacked bars (pages and faces per book, coloured by
subset) with matplotlib.
"""

import argparse
import os.path as osp
import sys

import kaokore_mm  # noqa: F401
from kaokore_mm.apis.split_report import format_split_table, split_notes, split_table
from kaokore_mm.core.splits import SUBSETS
from kaokore_mm.utils.cli import UserError, cli_main, data_errors_as_user_errors, first_line
from kaokore_mm.utils.config import add_split_args, apply_split_args, load_config, set_data_root
from kaokore_mm.visualization.plots import save_figure, split_figure


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('--data-root')
    add_split_args(p)
    p.add_argument('--out', help='figure path (default: work_dirs/<config>/split_report.png)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config)
    if args.data_root:
        set_data_root(cfg, args.data_root)
    apply_split_args(cfg, args)
    with data_errors_as_user_errors(args.config):
        try:
            table = split_table(cfg)
            notes = split_notes(cfg)
        except (ValueError, KeyError) as e:  # pinned books that are not there, a book pinned twice, ...
            raise UserError(f'{args.config}: the split cannot be made: {first_line(e)}') from None
    split = cfg.train_dataloader.sampler.get('split')
    print(f'split: {split}, seed {cfg.train_dataloader.sampler.get("split_seed", 0)}')
    print(format_split_table(table))
    for line in notes:
        print(line)
    out = args.out or osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0], 'split_report.png')
    save_figure(split_figure(table, SUBSETS, f'{osp.basename(args.config)}: {split} split'), out)
    print(f'plot: {out}')
    return table


if __name__ == '__main__':
    sys.exit(cli_main(main))
