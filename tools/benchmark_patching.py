"""Patching effect: one light detector, the same iterations, with and without patches.

    python tools/benchmark_patching.py [--work-dir work_dirs/bench_patching]
        [--regimes demo small_faces] [--max-iters 500] [--out result.json]

For each regime of synthetic pages (split by book, ``inter_book``) the demo
detector (half-width ResNet-18 Faster R-CNN from scratch) is trained for the
same iterations
  (i)   on 512x512 patches (configs/demo/faster_rcnn_r18_patch512_demo.py),
  (ii)  on whole pages resized to 512 px, the patch input size
        (configs/demo/faster_rcnn_r18_nopatch_demo.py),
  (iii) on whole pages resized to fit 1333x800, the papers' whole-page setting
        (configs/demo/faster_rcnn_r18_nopatch1333_demo.py),
and tested on the whole pages of the held-out books; the patched detector is
tested with test-time overlap 0 (the configs' default) and 0.2. Prints and
writes (WORK_DIR/benchmark_patching.md, WORK_DIR/result.json) page-level
AP50, recall and precision at the metric's score threshold, boxes shown at
that threshold, training minutes and test seconds per page, and draws a
held-out page of every run (WORK_DIR/<regime>/<run>/pages/). Resumable:
finished trainings are not repeated.

Regimes: ``demo`` = the pages of ``make demo`` (2000-2600 px, faces 30-150 px);
``small_faces`` = pages of 3000-4000 px with faces of 30-80 px.
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kaokore_mm.utils.cli import cli_main  # noqa: E402
from kaokore_mm.utils.experiments import say, test_checkpoint, train_and_test  # noqa: E402

REGIMES = {
    'demo': dict(pages=48, books=6, seed=0, long_side=(2000, 2600), face_range=(30, 150)),
    'small_faces': dict(pages=48, books=6, seed=1, long_side=(3000, 4000), face_range=(30, 80)),
}
TRAININGS = (('patch512', 'configs/demo/faster_rcnn_r18_patch512_demo.py'),
             ('page512', 'configs/demo/faster_rcnn_r18_nopatch_demo.py'),
             ('page1333', 'configs/demo/faster_rcnn_r18_nopatch1333_demo.py'))
PATCH_TEST_OVERLAPS = (0.0, 0.2)
COLUMNS = ('regime', 'detector', 'test', 'AP50', 'recall', 'precision', 'boxes', 'train_min', 's_per_page')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--work-dir', default='work_dirs/bench_patching')
    p.add_argument('--regimes', nargs='+', choices=sorted(REGIMES), default=['demo', 'small_faces'])
    p.add_argument('--max-iters', type=int, default=500)
    p.add_argument('--draw', type=int, default=2, help='held-out pages drawn per run')
    p.add_argument('--out', help='write the figures as JSON (default: WORK_DIR/result.json)')
    return p.parse_args(argv)


def row(regime, detector, test, metrics, train_s, test_s):
    m = {k.split('/', 1)[1]: v for k, v in metrics.items() if k.startswith('face/') and k.count('/') == 1}
    return dict(regime=regime, detector=detector, test=test, AP50=m['AP50'], recall=m['recall'],
                precision=m['precision'], boxes=m['tp'] + m['fp'], faces=m['num_faces'], pages=m['num_pages'],
                train_min=train_s / 60, s_per_page=test_s / max(1, m['num_pages']), coco_AP=m.get('coco_AP'))


def fmt(v):
    return 'n/a' if v is None else f'{v:.3f}' if isinstance(v, float) else str(v)


def run_regime(regime: str, work: Path, args) -> list:
    from kaokore_mm.synthetic.emaki import ensure_synthetic
    from kaokore_mm.visualization.draw import draw_prediction_pages
    data = work / regime / 'data'
    say('patching', f'{regime}: synthetic pages in {data}')
    ensure_synthetic(data, **REGIMES[regime])
    ann = data / 'annotations' / 'pages.json'
    rows = []
    for name, config in TRAININGS:
        run_dir = work / regime / name
        preds = run_dir / 'test' / 'predictions.pkl'
        run = train_and_test(config, run_dir, data, args.max_iters, test_args=['--out', preds],
                             tag=f'patching:{regime}:{name}')
        draw_prediction_pages(ann, preds, run_dir / 'pages', limit=args.draw)
        test = 'overlap 0' if name.startswith('patch') else 'whole page'
        rows.append(row(regime, name, test, run['metrics'], run['train_s'], run['test_s']))
        if name.startswith('patch'):
            for overlap in PATCH_TEST_OVERLAPS[1:]:
                tdir = run_dir / f'test_overlap{overlap}'
                preds = tdir / 'predictions.pkl'
                t = test_checkpoint(config, run['checkpoint'], tdir, data,
                                    [f'train_cfg.max_iters={args.max_iters}', f'test_cfg.overlap={overlap}'],
                                    ['--out', preds], tag=f'patching:{regime}:{name}')
                draw_prediction_pages(ann, preds, tdir / 'pages', limit=args.draw)
                rows.append(row(regime, name, f'overlap {overlap}', t['metrics'], run['train_s'], t['test_s']))
    return rows


def main(argv=None):
    args = parse_args(argv)
    from kaokore_mm.utils.io import atomic_write_json, atomic_write_text
    work = Path(args.work_dir).resolve()
    rows = []
    for regime in args.regimes:
        rows += run_regime(regime, work, args)
    md = ['| ' + ' | '.join(COLUMNS) + ' |', '|' + ' --- |' * len(COLUMNS)]
    md += ['| ' + ' | '.join(fmt(r[c]) for c in COLUMNS) + ' |' for r in rows]
    atomic_write_text(work / 'benchmark_patching.md', '\n'.join(md) + '\n')
    out = Path(args.out) if args.out else work / 'result.json'
    atomic_write_json(out, dict(max_iters=args.max_iters, regimes={r: REGIMES[r] for r in args.regimes}, rows=rows))
    print('\n'.join(md))
    for r in rows:
        if r['AP50'] in (0.0, 1.0) or r['recall'] in (0.0, 1.0):
            say('patching', f'look at {r["regime"]}/{r["detector"]} ({r["test"]}): a figure of exactly 0 or 1; '
                f'its pages are drawn in {work / r["regime"] / r["detector"]}')
    say('patching', f'table: {work / "benchmark_patching.md"}, figures: {out}')
    return rows


if __name__ == '__main__':
    sys.exit(cli_main(main))
