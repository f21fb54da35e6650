"""Train and test several configs (an architecture sweep by config inheritance).

    python tools/sweep.py CONFIG [CONFIG ...] --work-dir DIR --data-root DATA
        [--max-iters N] [--cfg-options k=v ...]

Each config is trained and tested in DIR/<config name>/ (tools/train.py and
tools/test.py); a finished config is not run again and an interrupted one
resumes from its last checkpoint. Writes DIR/sweep.md and DIR/sweep.csv (AP50,
recall, precision, annotation effort, train time, inference pages/s) and
DIR/sweep.png (a bar plot).
"""
import argparse
import csv
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kaokore_mm.utils.cli import UserError, cli_main  # noqa: E402
from kaokore_mm.utils.experiments import say, train_and_test  # noqa: E402
from kaokore_mm.utils.io import atomic_write_json, atomic_write_text  # noqa: E402

COLUMNS = ('config', 'AP50', 'recall', 'precision', 'manual_share', 'train_min', 'pages_per_s')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('configs', nargs='+')
    p.add_argument('--work-dir', required=True)
    p.add_argument('--data-root', required=True)
    p.add_argument('--max-iters', type=int,
                   help='iterations of iteration-based configs (an epoch-based config is refused: set '
                   'train_cfg.max_epochs with --cfg-options)')
    p.add_argument('--cfg-options', nargs='+', default=[], help='passed to every train and test run')
    return p.parse_args(argv)


def run_one(config, work: Path, args) -> dict:
    result_file = work / 'result.json'
    settings = dict(data_root=str(Path(args.data_root).resolve()), max_iters=args.max_iters,
                    cfg_options=list(args.cfg_options))
    if result_file.exists():
        row = json.loads(result_file.read_text())
        if row.get('settings') != settings:
            raise UserError(f'{result_file} was written with other settings ({row.get("settings")}); '
                            'use another --work-dir or remove that folder')
        say('sweep', f'{config}: finished earlier')
        return row
    run = train_and_test(config, work, args.data_root, args.max_iters, args.cfg_options, tag='sweep')
    m = run['metrics']
    row = dict(config=config, AP50=m['face/AP50'], recall=m['face/recall'], precision=m['face/precision'],
               manual_share=m['face/manual_share'], train_min=run['train_s'] / 60,
               pages_per_s=m['face/num_pages'] / run['test_s'], pages=m['face/num_pages'],
               faces=m['face/num_faces'], checkpoint=run['checkpoint'], settings=settings)
    atomic_write_json(result_file, row)
    return row


def fmt(v):
    if v is None:
        return 'n/a'  # undefined, e.g. precision without any detection
    return f'{v:.3f}' if isinstance(v, float) else str(v)


def main(argv=None):
    args = parse_args(argv)
    work = Path(args.work_dir)
    rows = [run_one(c, work / Path(c).stem, args) for c in args.configs]
    md = ['| ' + ' | '.join(COLUMNS) + ' |', '|' + ' --- |' * len(COLUMNS)]
    md += ['| ' + ' | '.join(fmt(r[c]) for c in COLUMNS) + ' |' for r in rows]
    atomic_write_text(work / 'sweep.md', '\n'.join(md) + '\n')
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator='\n')
    writer.writeheader()
    writer.writerows({c: r[c] for c in COLUMNS} for r in rows)
    atomic_write_text(work / 'sweep.csv', buf.getvalue())
    save_figure(metrics_bar_figure([Path(r['config']).stem for r in rows], rows), work / 'sweep.png')
    print('\n'.join(md))
    say('sweep', f'table: {work / "sweep.md"}, {work / "sweep.csv"}; plot: {work / "sweep.png"}')
    return rows


if __name__ == '__main__':
    sys.exit(cli_main(main))
