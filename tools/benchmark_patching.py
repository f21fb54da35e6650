"""Patching effect: the same light detector trained with and without patches.

    python tools/benchmark_patching.py [--work-dir work_dirs/bench_patching] [--pages 48] [--books 6]
        [--max-iters 500] [--out result.json]

Synthetic pages whose faces are small relative to the page (long side
3000-4000 px, faces 30-80 px) are split by book; the demo detector is trained
for the same iterations on (a) 512x512 patches (configs/demo/faster_rcnn_r18_patch512_demo.py)
and (b) whole pages resized to 512 px (configs/demo/faster_rcnn_r18_nopatch_demo.py),
and both are tested on the whole pages of the held-out books. Prints
page-level AP50 and recall of both and the difference. Resumable: finished
trainings are not repeated.
"""
import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kaokore_mm.utils.experiments import say, train_and_test  # noqa: E402

RUNS = (('patch', 'configs/demo/faster_rcnn_r18_patch512_demo.py'),
        ('nopatch', 'configs/demo/faster_rcnn_r18_nopatch_demo.py'))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--work-dir', default='work_dirs/bench_patching')
    p.add_argument('--pages', type=int, default=48)
    p.add_argument('--books', type=int, default=6)
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--max-iters', type=int, default=500)
    p.add_argument('--out', help='write the figures as JSON (default: WORK_DIR/result.json)')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from demo import ensure_data  # tools/demo.py
    from kaokore_mm.utils.io import atomic_write_text
    work = Path(args.work_dir).resolve()
    data = work / 'data'
    ensure_data(data, pages=args.pages, books=args.books, seed=args.seed, long_side=(3000, 4000),
                face_range=(30, 80))
    results = {}
    for name, config in RUNS:
        run = train_and_test(config, work / name, data, args.max_iters, tag=f'patching:{name}')
        m = run['metrics']
        results[name] = dict(config=config, AP50=m['face/AP50'], recall=m['face/recall'],
                             precision=m['face/precision'], coco_AP=m['face/coco_AP'], pages=m['face/num_pages'],
                             faces=m['face/num_faces'], train_s=run['train_s'], test_s=run['test_s'])
    p, n = results['patch'], results['nopatch']
    results['delta_AP50_points'] = 100 * (p['AP50'] - n['AP50'])
    results['delta_recall_points'] = 100 * (p['recall'] - n['recall'])
    say('patching', f'{p["pages"]} held-out pages, {p["faces"]} faces, {args.max_iters} iterations each')
    for name in ('patch', 'nopatch'):
        r = results[name]
        say('patching', f'{name:8s} AP50 {100 * r["AP50"]:5.1f}  recall {100 * r["recall"]:5.1f}  '
            f'precision {100 * r["precision"]:5.1f}  (train {r["train_s"] / 60:.1f} min)')
    say('patching', f'patching: {results["delta_AP50_points"]:+.1f} AP50 points, '
        f'{results["delta_recall_points"]:+.1f} recall points')
    out = Path(args.out) if args.out else work / 'result.json'
    atomic_write_text(out, json.dumps(results, indent=2))
    say('patching', f'figures: {out}')
    return results


if __name__ == '__main__':
    main()
