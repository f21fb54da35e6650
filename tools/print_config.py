"""Print a config as the tools run it, or write it as a plain config any OpenMMLab tool loads.

    python tools/print_config.py CONFIG [--data-root DIR] [--cfg-options k=v ...] [--out FILE.py]

The config is loaded as train.py and test.py load it: ``_base_`` merged, ``model_from``
resolved (the zoo model adapted to faces, its origin kept as ``model_origin``), the
options applied. With --out the result is written (atomically) as a plain Python config:
stock ``mmengine.Config.fromfile``, mmdet's own ``tools/train.py`` and ``mim train`` take
it as it is (its ``custom_imports`` register the package). mmdet's tools/misc/print_config.py
prints the same for configs without ``model_from``.
"""

import argparse
import sys

from mmengine.config import DictAction

from kaokore_mm.utils.cli import cli_main
from kaokore_mm.utils.config import load_config, set_data_root
from kaokore_mm.utils.io import atomic_write_text


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('--data-root', help='dataset root of every loader')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='override settings of the config, key=value')
    p.add_argument('--out', help='write the config here (.py) instead of printing it')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    if args.data_root:
        set_data_root(cfg, args.data_root)
    if args.out:
        atomic_write_text(args.out, cfg.pretty_text)
        print(f'{args.config} -> {args.out} (a plain config: model_from resolved)')
    else:
        print(cfg.pretty_text)
    return cfg


if __name__ == '__main__':
    sys.exit(cli_main(main))
