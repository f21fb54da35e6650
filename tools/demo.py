"""The demo behind `make demo`: synthetic pages -> patched detector -> page-level test.

    python tools/demo.py [--work-dir work_dirs/demo] [--pages 48] [--books 6] [--max-iters N]

1. writes synthetic emaki pages (pages/, COCO, crops) into WORK_DIR/data;
2. trains configs/demo/faster_rcnn_r18_patch512_demo.py on the patches of the
   training books (inter_book split) with tools/train.py;
3. tests it on the whole pages of the held-out books with tools/test.py
   (patched inference, page-level metrics);
4. writes WORK_DIR/metrics.json and WORK_DIR/pages/*.jpg (true faces green,
   predictions red) and prints the page-level recall;
5. trains the demo status classifier (configs/demo/resnet18_kaokore_status_demo.py)
   on the synthetic face crops, tests it on their test set with Guided Grad-CAM
   panels (WORK_DIR/classifier/test/cam/test/), and plays the pointing game
   (tools/cam_pointing_game.py): do the CAM peaks fall on the headgear?

Every step is resumable: finished data is kept, training resumes from its last
checkpoint, and a finished training is not repeated.
"""
import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kaokore_mm.utils.experiments import say, train_and_test  # noqa: E402
from kaokore_mm.utils.cli import cli_main  # noqa: E402

CONFIG = 'configs/demo/faster_rcnn_r18_patch512_demo.py'
CLS_CONFIG = 'configs/demo/resnet18_kaokore_status_demo.py'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--work-dir', default='work_dirs/demo')
    p.add_argument('--config', default=CONFIG)
    p.add_argument('--pages', type=int, default=48)
    p.add_argument('--books', type=int, default=6)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--max-iters', type=int, default=None, help='override the config (default: its max_iters)')
    p.add_argument('--score-thr', type=float, default=0.5, help='threshold of the boxes drawn on the pages')
    p.add_argument('--no-classifier', action='store_true', help='skip the interpretation step')
    return p.parse_args(argv)


def ensure_data(data: Path, **want) -> None:
    from kaokore_mm.synthetic.emaki import ensure_synthetic
    say('data', f'synthetic data in {data}')
    if ensure_synthetic(data, **want):
        say('data', f'wrote {want["pages"]} synthetic pages of {want["books"]} books into {data}')


def main(argv=None):
    args = parse_args(argv)
    from kaokore_mm.utils.io import atomic_write_json
    t0 = time.time()
    work = Path(args.work_dir).resolve()
    data = work / 'data'
    ensure_data(data, pages=args.pages, books=args.books, seed=args.seed, long_side=(2000, 2600),
                face_range=(30, 150))
    preds = work / 'test' / 'predictions.pkl'
    run = train_and_test(args.config, work, data, args.max_iters, test_args=['--out', preds], tag='demo')
    metrics = run['metrics']
    from kaokore_mm.visualization.draw import draw_prediction_pages
    n = len(draw_prediction_pages(data / 'annotations' / 'pages.json', preds, work / 'pages', args.score_thr))
    from mmengine.config import Config
    metric_cfg = Config.fromfile(str(ROOT / args.config)).test_evaluator
    summary = dict(config=args.config, checkpoint=run['checkpoint'], held_out_pages=n,
                   score_thr=metric_cfg.get('score_thr', 0.5), recall=metrics.get('face/recall'),
                   precision=metrics.get('face/precision'), AP50=metrics.get('face/AP50'),
                   coco_AP=metrics.get('face/coco_AP'), manual_share=metrics.get('face/manual_share'),
                   all_metrics=metrics, train_minutes=round(run['train_s'] / 60, 1),
                   minutes=round((time.time() - t0) / 60, 1))
    if not args.no_classifier:
        summary['classifier'] = interpretation_step(work, data)
    atomic_write_json(work / "metrics.json", summary)
    say('demo', f'held-out pages: {n}; page-level recall {summary["recall"]:.3f}, precision '
        f'{summary["precision"]:.3f} at score >= {summary["score_thr"]}; AP50 {summary["AP50"]:.3f}; annotation effort '
        f'{summary["manual_share"]:.2f} of drawing from scratch')
    say('demo', f'metrics: {work / "metrics.json"}')
    say('demo', f'pages with true (green) and predicted (red, score >= {args.score_thr}) boxes: {work / "pages"}/')
    say('demo', f'training curves and logs: {work / "train"}/, PR curve: {work / "test"}/<timestamp>/pr_curve.png')
    if 'classifier' in summary:
        c = summary['classifier']
        say('demo', f'status classifier on the test crops: accuracy {c["accuracy"]:.3f}, macro F1 {c["macro_f1"]:.3f}; '
            f'pointing game {c["pointing_game"]:.3f} (CAM peak on the headgear), class score drop '
            f'{c["score_drop_top_cam"]:.3f} at the CAM peak vs {c["score_drop_random"]:.3f} at random')
        say('demo', f'Guided Grad-CAM panels: {c["cam_dir"]}/, confusion matrix: {c["test_dir"]}/<timestamp>/')
    return summary


def interpretation_step(work: Path, data: Path) -> dict:
    from kaokore_mm.utils.experiments import run_tool
    cls_dir = work / 'classifier'
    run = train_and_test(CLS_CONFIG, cls_dir, data, tag='demo:classifier')
    pg_file = cls_dir / 'pointing_game.json'
    run_tool('cam_pointing_game.py', CLS_CONFIG, run['checkpoint'], '--data-root', data, '--out', pg_file,
             tag='demo:classifier')
    pg = json.loads(pg_file.read_text())
    m = run['metrics']
    return dict(checkpoint=run['checkpoint'], accuracy=m.get('accuracy/top1', 0) / 100,
                macro_f1=m.get('macro/f1-score', 0) / 100, per_class_f1=m.get('single-label/f1-score_classwise'),
                pointing_game=pg['pointing_game'], score_drop_top_cam=pg['score_drop_top_cam'],
                score_drop_random=pg['score_drop_random'], cam_dir=str(cls_dir / 'test' / 'cam' / 'test'),
                test_dir=str(cls_dir / 'test'))


if __name__ == '__main__':
    sys.exit(cli_main(main))
