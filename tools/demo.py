"""The demo behind `make demo`: synthetic pages -> patched detector -> page-level test.

    python tools/demo.py [--work-dir work_dirs/demo] [--pages 48] [--books 6] [--max-iters 600]

1. writes synthetic emaki pages (pages/, COCO, crops) into WORK_DIR/data;
2. trains configs/demo/faster_rcnn_r18_patch512_demo.py on the patches of the
   training books (inter_book split) with tools/train.py;
3. tests it on the whole pages of the held-out books with tools/test.py
   (patched inference, page-level metrics);
4. writes WORK_DIR/metrics.json and WORK_DIR/pages/*.jpg (true faces green,
   predictions red) and prints the page-level recall.

Every step is resumable: finished data is kept, training resumes from its last
checkpoint, and a finished training is not repeated.
"""
import argparse
import json
import os.path as osp
import pickle
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONFIG = 'configs/demo/faster_rcnn_r18_patch512_demo.py'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--work-dir', default='work_dirs/demo')
    p.add_argument('--config', default=CONFIG)
    p.add_argument('--pages', type=int, default=48)
    p.add_argument('--books', type=int, default=6)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--max-iters', type=int, default=None, help='override the config (default: its max_iters)')
    p.add_argument('--score-thr', type=float, default=0.5)
    return p.parse_args(argv)


def step(msg):
    print(f'\033[1m[demo]\033[0m {msg}', flush=True)


def run(cmd):
    step(' '.join(cmd))
    subprocess.run([sys.executable, *cmd], check=True, cwd=ROOT)


def main(argv=None):
    args = parse_args(argv)
    from kaokore_mm.synthetic.emaki import make_synthetic
    from kaokore_mm.utils.io import atomic_write_text
    t0 = time.time()
    work = Path(args.work_dir).resolve()
    data = work / 'data'
    want = dict(pages=args.pages, books=args.books, seed=args.seed, long_side=[2000, 2600], face_range=[30, 150])
    meta = json.loads((data / 'meta.json').read_text()) if (data / 'meta.json').exists() else {}
    if all(meta.get(k) == v for k, v in want.items()):
        step(f'synthetic data is ready in {data}')
    else:
        step(f'writing {args.pages} synthetic pages of {args.books} books into {data}')
        make_synthetic(data, pages=args.pages, books=args.books, seed=args.seed, long_side=(2000, 2600),
                       face_range=(30, 150))

    det_dir = work / 'detector'
    common = ['--data-root', str(data)]
    from mmengine.config import Config
    max_iters = args.max_iters or Config.fromfile(str(ROOT / args.config)).train_cfg.max_iters
    iter_opts = [f'train_cfg.max_iters={max_iters}', f'train_cfg.val_interval={max_iters}']
    final = det_dir / f'iter_{max_iters}.pth'
    if final.exists():
        step(f'training finished earlier: {final}')
    else:
        resume = ['--resume'] if (det_dir / 'last_checkpoint').exists() else []
        run(['tools/train.py', args.config, '--work-dir', str(det_dir), *common, *resume,
             '--cfg-options', *iter_opts])
    test_dir = work / 'test'
    preds = test_dir / 'predictions.pkl'
    run(['tools/test.py', args.config, str(final), '--work-dir', str(test_dir), *common, '--out', str(preds)])
    metrics = json.loads((test_dir / 'test_metrics.json').read_text())['metrics']

    import cv2
    from kaokore_mm.utils.draw import draw_page_boxes
    coco = json.loads((data / 'annotations' / 'pages.json').read_text())
    gts = {}
    for a in coco['annotations']:
        x, y, w, h = a['bbox']
        gts.setdefault(a['image_id'], []).append([x, y, x + w, y + h])
    pages_dir = work / 'pages'
    pages_dir.mkdir(parents=True, exist_ok=True)
    with open(preds, 'rb') as f:
        results = pickle.load(f)
    for r in results:
        img = cv2.imread(r['img_path'])
        pred = r['pred_instances']
        pic = draw_page_boxes(img, gts.get(r['img_id'], []), pred['bboxes'].numpy(), pred['scores'].numpy(),
                              args.score_thr)
        cv2.imwrite(str(pages_dir / osp.basename(r['img_path'])), pic)
    summary = dict(config=args.config, checkpoint=str(final), held_out_pages=len(results),
                   score_thr=args.score_thr, recall=metrics.get('face/recall'),
                   precision=metrics.get('face/precision'), AP50=metrics.get('face/AP50'),
                   coco_bbox_mAP=metrics.get('coco/bbox_mAP'), all_metrics=metrics,
                   minutes=round((time.time() - t0) / 60, 1))
    atomic_write_text(work / 'metrics.json', json.dumps(summary, indent=2, default=float))
    step(f'held-out pages: {len(results)}; page-level recall {summary["recall"]:.3f}, precision '
         f'{summary["precision"]:.3f} at score >= {args.score_thr}; AP50 {summary["AP50"]:.3f}')
    step(f'metrics: {work / "metrics.json"}')
    step(f'pages with true (green) and predicted (red) boxes: {pages_dir}/')
    return summary


if __name__ == '__main__':
    main()
