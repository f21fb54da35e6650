"""Pages and faces per book in each subset of a config's book-aware split.

    python tools/split_report.py CONFIG [--data-root DIR] [--split inter_book] [--out report.png]

Prints a table and plots stacked bars (pages and faces per book, coloured by
subset) with matplotlib.
"""
import argparse
import sys
import os.path as osp
from collections import Counter, defaultdict

from mmengine.config import Config
from mmengine.registry import init_default_scope

import kaokore_mm  # noqa: F401
from kaokore_mm.core.splits import SPLITS, SUBSETS
from kaokore_mm.utils.config import page_dataset_cfg, set_data_root, set_split
from kaokore_mm.utils.cli import cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('--data-root')
    p.add_argument('--split', choices=SPLITS)
    p.add_argument('--split-seed', type=int)
    p.add_argument('--out', help='figure path (default: work_dirs/<config>/split_report.png)')
    return p.parse_args(argv)


def split_table(cfg) -> dict:
    """``{subset: {book_id: (pages, faces)}}`` for the config's train/val/test loaders."""
    from mmdet.registry import DATASETS
    from kaokore_mm.datasets.samplers.book_split_sampler import split_indices
    table = {}
    for subset, loader in zip(SUBSETS, ('train_dataloader', 'val_dataloader', 'test_dataloader')):
        lc = cfg[loader]
        dataset = DATASETS.build(dict(page_dataset_cfg(lc.dataset), test_mode=True))  # whole pages
        s = lc.sampler
        idx = split_indices(dataset, s.get('split', 'inter_book'), subset, s.get('ratios', (0.8, 0.1, 0.1)),
                            s.get('split_seed', 0))
        pages, faces = Counter(), Counter()
        for i in idx:
            info = dataset.get_data_info(int(i))
            pages[info['book_id']] += 1
            faces[info['book_id']] += len(info['instances'])
        table[subset] = {b: (pages[b], faces[b]) for b in pages}
    return table


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    if args.data_root:
        set_data_root(cfg, args.data_root)
    set_split(cfg, args.split, args.split_seed)
    table = split_table(cfg)
    books = sorted({b for t in table.values() for b in t})
    split = cfg.train_dataloader.sampler.get('split')
    print(f'split: {split}, seed {cfg.train_dataloader.sampler.get("split_seed", 0)}')
    print(f'{"book":<16}' + ''.join(f'{s + " pages":>13}{s + " faces":>13}' for s in SUBSETS))
    totals = defaultdict(int)
    for b in books:
        row = f'{b:<16}'
        for s in SUBSETS:
            p, f = table[s].get(b, (0, 0))
            totals[s, 0] += p
            totals[s, 1] += f
            row += f'{p:>13}{f:>13}'
        print(row)
    print(f'{"total":<16}' + ''.join(f'{totals[s, 0]:>13}{totals[s, 1]:>13}' for s in SUBSETS))
    out = args.out or osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0], 'split_report.png')
    import os
    os.makedirs(osp.dirname(out) or '.', exist_ok=True)
    plot(table, out, f'{osp.basename(args.config)}: {split} split')
    print(f'plot: {out}')
    return table


if __name__ == '__main__':
    sys.exit(cli_main(main))
