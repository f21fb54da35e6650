"""The demo behind `make demo`: synthetic pages -> patched detector -> page-level test.

    python tools/demo.py [--work-dir work_dirs/demo] [--pages 48] [--books 6] [--max-iters N]

1. writes synthetic emaki pages (pages/, COCO, crops) into WORK_DIR/data;
2. trains configs/demo/faster_rcnn_r18_patch512_demo.py on the patches of the
   training books (inter_book split);
3. tests it on the whole pages of the held-out books (patched inference,
   page-level metrics);
4. writes WORK_DIR/metrics.json and WORK_DIR/pages/*.jpg (true faces green,
   predictions red) and prints the page-level recall;
5. trains the demo status classifier (configs/demo/resnet18_kaokore_status_demo.py)
   on the synthetic face crops, tests it on their test set with Guided Grad-CAM
   panels (WORK_DIR/classifier/test/cam/test/), and plays the pointing game:
   do the CAM peaks fall on the headgear?

Every step is resumable: finished data is kept, training resumes from its last
checkpoint, and a finished training is not repeated
(:func:`kaokore_mm.apis.demo.run_demo`).
"""

import argparse
import sys

import kaokore_mm  # noqa: F401
from kaokore_mm.apis.demo import CONFIG, run_demo
from kaokore_mm.apis.experiments import say
from kaokore_mm.utils.cli import COUNT, SEED, SHARE, cli_main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--work-dir', default='work_dirs/demo')
    p.add_argument('--config', default=CONFIG)
    p.add_argument('--pages', type=COUNT, default=48)
    p.add_argument('--books', type=COUNT, default=6)
    p.add_argument('--seed', type=SEED, default=0)
    p.add_argument('--max-iters', type=COUNT, default=None, help='override the config (default: its max_iters)')
    p.add_argument('--score-thr', type=SHARE, default=0.5, help='threshold of the boxes drawn on the pages')
    p.add_argument('--no-classifier', action='store_true', help='skip the interpretation step')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    s = run_demo(
        args.work_dir,
        args.config,
        args.pages,
        args.books,
        args.seed,
        args.max_iters,
        args.score_thr,
        classifier=not args.no_classifier,
    )
    work = args.work_dir
    say(
        'demo',
        f'held-out pages: {s["held_out_pages"]}; page-level recall {s["recall"]:.3f}, precision '
        f'{s["precision"]:.3f} at score >= {s["score_thr"]}; AP50 {s["AP50"]:.3f}; annotation effort '
        f'{s["manual_share"]:.2f} of drawing from scratch',
    )
    say('demo', f'metrics: {work}/metrics.json')
    say('demo', f'pages with true (green) and predicted (red, score >= {args.score_thr}) boxes: {work}/pages/')
    say('demo', f'training curves and logs: {work}/train/, PR curve: {work}/test/<timestamp>/pr_curve.png')
    if 'classifier' in s:
        c = s['classifier']
        say(
            'demo',
            f'status classifier on the test crops: accuracy {c["accuracy"]:.3f}, macro F1 '
            f'{c["macro_f1"]:.3f}; pointing game {c["pointing_game"]:.3f} (CAM peak on the headgear), class score '
            f'drop {c["score_drop_top_cam"]:.3f} at the CAM peak vs {c["score_drop_random"]:.3f} at random',
        )
        say('demo', f'Guided Grad-CAM panels: {c["cam_dir"]}/, confusion matrix: {c["test_dir"]}/<timestamp>/')
    return s


if __name__ == '__main__':
    sys.exit(cli_main(main))
