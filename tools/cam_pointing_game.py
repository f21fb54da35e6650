"""Does the CAM point at what carries the status? (synthetic crops, where that part is known)

    python tools/cam_pointing_game.py CONFIG CKPT --data-root DIR [--split test] [--method gradcam]
        [--region 0.25] [--out result.json]

The pointing game (Zhang et al., ECCV 2016) and a deletion check on the crops
of SPLIT with a recorded status part; see
:mod:`kaokore_mm.interpretation.pointing_game` (goal: >= 0.8 of CAM peaks on the part).
"""

import argparse
import sys

from kaokore_mm.interpretation import build_classifier
from kaokore_mm.interpretation.pointing_game import pointing_game
from kaokore_mm.utils.cli import PIXELS, SEED, SHARE, UserError, cli_main, number
from kaokore_mm.utils.config import add_partial_load_arg
from kaokore_mm.utils.io import atomic_write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('checkpoint')
    add_partial_load_arg(p)
    p.add_argument('--data-root', required=True, help='synthetic data with labels.csv and status_parts.csv')
    p.add_argument('--split', default='test', choices=('train', 'dev', 'test'))
    p.add_argument('--method', default='gradcam', choices=('gradcam', 'gradcam++'))
    p.add_argument(
        '--region',
        type=number(float, 0.0, 1.0, lo_open=True),
        default=0.25,
        help='side of the blanked square, share of the image',
    )
    p.add_argument('--seed', type=SEED, default=0)
    p.add_argument(
        '--tolerance',
        type=SHARE,
        default=15 / 224,
        help='hit distance from the part, share of the image side (Zhang et al.: 15 px)',
    )
    p.add_argument('--crop-size', type=PIXELS, default=256, help='size of the crops the parts refer to')
    p.add_argument('--out')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    model, cfg, _ = build_classifier(args.config, args.checkpoint, partial_load=args.partial_load)
    try:
        res = pointing_game(
            model, cfg, args.data_root, args.split, args.method, args.region, args.tolerance, args.crop_size, args.seed
        )
    except (ValueError, FileNotFoundError) as e:
        raise UserError(str(e)) from None
    res = dict(config=args.config, checkpoint=args.checkpoint, **res)
    print(
        f'\n{res["crops"]} {args.split} crops, {res["correct"]} classified correctly (accuracy {res["accuracy"]:.3f})'
    )
    print(
        f'pointing game: {res["hits"]}/{res["correct"]} = {res["pointing_game"]:.3f} of CAM peaks on the status '
        f'part (within {args.tolerance:.3f} of the side; strictly inside: {res["pointing_game_strict"]:.3f})'
    )
    print(
        f'class score drop when blanking {args.region:.0%} squares: at the CAM peak '
        f'{res["score_drop_top_cam"]:.3f}, at random {res["score_drop_random"]:.3f}'
    )
    if args.out:
        atomic_write_json(args.out, res)
    return res


if __name__ == '__main__':
    sys.exit(cli_main(main))
