"""Run (or resume) an annotation campaign and measure the annotator's effort round by round.

    python tools/campaign.py CONFIG --data-root DATA --work-dir DIR [--rounds 4]
        [--strategies in_order active easy_first active_pages] [--start 1] [--heldout 1]
        [--max-iters 500] [--finetune-iters 200] [--finetune-lr-scale 0.2] [--scout-pages 2]
        [--classifier CLS_CONFIG CLS_CKPT]
        [--device cpu|cuda] [--cfg-options k=v ...]

DATA is a collection of books with their true faces (annotations/pages.json with a book_id
per page, e.g. tools/make_synthetic.py's). The first --start books are annotated from the
outset, the last --heldout books are held out (AP50 is measured on them); each round trains
(round 0 once for every strategy, later rounds fine-tune from the round before at
--finetune-lr-scale of the config's learning rate), picks the
next book (in collection order, the one the model expects to cost most, or least) or, with
active_pages, as many pages as a book holds (the costliest of every book in turn), proposes their faces
at the checkpoint's operating point, lets the scripted annotator correct them to the truth in
the review app in Chromium (with --classifier, the labels too: the sure ones confirmed in bulk),
and merges the corrected book into the training set
(:mod:`kaokore_mm.apis.campaign`). Writes DIR/campaign.md (the table and each strategy's
cumulative effort), DIR/campaign.json and DIR/effort.png. Killed at any point, the same
command resumes it.
"""

import argparse
import sys

import kaokore_mm  # noqa: F401
from kaokore_mm.apis.campaign import STRATEGIES, Plan, run_campaign
from kaokore_mm.apis.experiments import say
from kaokore_mm.utils.cli import COUNT, cli_main, number


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('--data-root', required=True, help='the collection: annotations/pages.json and its pages')
    p.add_argument('--work-dir', required=True)
    p.add_argument('--rounds', type=COUNT, default=4)
    p.add_argument('--strategies', nargs='+', choices=STRATEGIES, default=list(STRATEGIES))
    p.add_argument('--start', type=COUNT, default=1, help='books annotated from the outset')
    p.add_argument('--heldout', type=COUNT, default=1, help='books never annotated: AP50 is measured on them')
    p.add_argument('--max-iters', type=COUNT, default=Plan.max_iters, help='iterations of the first training')
    p.add_argument('--finetune-iters', type=COUNT, default=Plan.finetune_iters, help='iterations of each later round')
    p.add_argument(
        '--scout-pages',
        type=number(int, 0, 1000),
        default=Plan.scout_pages,
        help='pages per book active and easy_first predict to rank the books (0: all; active_pages predicts all)',
    )
    p.add_argument(
        '--classifier',
        nargs=2,
        metavar=('CONFIG', 'CKPT'),
        help='a status or gender classifier: its labels are proposed',
    )
    p.add_argument(
        '--val-pages',
        type=number(int, 0, 1000),
        default=Plan.val_pages,
        help='pages of each annotated book kept out of training to choose the operating point on, with the '
        'held-out books (0: the held-out books alone)',
    )
    p.add_argument(
        '--finetune-lr-scale',
        type=number(float, 0.0, 1.0, lo_open=True),
        default=Plan.finetune_lr_scale,
        help="the later rounds' fine-tunes start at this share of the config's learning rate",
    )
    p.add_argument(
        '--finetune-ema',
        type=number(float, 0.0, 0.5),
        default=Plan.finetune_ema,
        metavar='MOMENTUM',
        help="the later rounds' checkpoints are an exponential moving average of their weights and buffers at this "
        "momentum (mmengine's EMAHook; 0: the last iterate)",
    )
    p.add_argument(
        '--finetune-precise-bn',
        type=number(int, 0, 10**6),
        default=Plan.finetune_precise_bn,
        metavar='PATCHES',
        help="the later rounds' batch-norm statistics are recomputed on this many training patches with the "
        "final weights (mmpretrain's PreciseBNHook; 0: the running averages of the last batches)",
    )
    p.add_argument(
        '--device', default=Plan.device, help='of the predictions (cpu, cuda, cuda:1); trainings use CUDA if any'
    )
    p.add_argument('--cfg-options', nargs='+', default=[], help='passed to every training and prediction')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    plan = Plan(
        config=args.config,
        max_iters=args.max_iters,
        finetune_iters=args.finetune_iters,
        cfg_options=tuple(args.cfg_options),
        scout_pages=args.scout_pages,
        classifier=tuple(args.classifier) if args.classifier else None,
        device=args.device,
        val_pages=args.val_pages,
        finetune_lr_scale=args.finetune_lr_scale,
        finetune_ema=args.finetune_ema,
        finetune_precise_bn=args.finetune_precise_bn,
    )
    records = run_campaign(args.work_dir, args.data_root, plan, args.rounds, args.strategies, args.start, args.heldout)
    say('campaign', f'{len(records)} rounds -> {args.work_dir}/campaign.md, campaign.json, effort.png')
    return records


if __name__ == '__main__':
    sys.exit(cli_main(main))
