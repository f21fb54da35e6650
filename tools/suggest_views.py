"""The views and test overlap for the faces of a config's training subset.

    python tools/suggest_views.py CONFIG [--data-root DIR] [--min-size PX] [--cfg-options ...]

Reads the faces of the training books (the config's split), and prints the
config lines of core.patching.views_for_faces for the config's patch size and
its detector's smallest anchor: the p99 face lies wholly inside a patch of
some view, the p5 face stays above the smallest anchor in some view.
"""

import argparse
import sys

from mmengine.config import DictAction

import kaokore_mm  # noqa: F401
from kaokore_mm.apis.suggest_views import format_views, suggest_views
from kaokore_mm.utils.cli import cli_main, number
from kaokore_mm.utils.config import load_config, set_data_root


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('--data-root', help='dataset root (with annotations/pages.json and the pages)')
    p.add_argument(
        '--min-size',
        type=number(float, 0.0, 100_000.0, lo_open=True),
        help='the smallest face the detector sees (default: its smallest anchor)',
    )
    p.add_argument('--cfg-options', nargs='+', action=DictAction, help='override settings of the config, key=value')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    if args.data_root:
        set_data_root(cfg, args.data_root)
    rule = suggest_views(cfg, args.min_size)
    print(format_views(rule))
    return rule


if __name__ == '__main__':
    sys.exit(cli_main(main))
