"""Download whole pages from IIIF Image API services (resumable, polite, atomic).

    python tools/download_pages.py --coco data/kaokore/annotations/pages.json --out data/kaokore
    python tools/download_pages.py --ids services.txt --out pages/   # one image service (or request URL) a line

Each page goes to OUT/<file_name of the COCO image> (for --ids: OUT/<derived
safe name>), with its info.json beside it. Options: --version 2|3 (default:
from info.json), --max-size W H (!w,h cap), --workers, --per-host,
--timeout, --retries, --backoff. Finished pages are skipped on a rerun,
corrupt ones fetched again, temporary files of a killed run removed. Writes
OUT/download_report.json; exits 1 when some pages failed (listed there).
"""

import argparse
import json
import sys
from pathlib import Path

from kaokore_mm.converters.iiif_download import Downloader, page_jobs
from kaokore_mm.utils.cli import PIXELS, SECONDS, UserError, cli_main, number
from kaokore_mm.utils.io import atomic_write_text


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument('--coco', help='COCO file whose images have iiif_base and file_name')
    src.add_argument('--ids', help='text file: one image service URL (or IIIF request URL) a line')
    p.add_argument('--out', required=True)
    p.add_argument('--version', type=number(int, 2, 3), choices=(2, 3))
    p.add_argument('--max-size', type=PIXELS, nargs=2, metavar=('W', 'H'))
    p.add_argument('--workers', type=number(int, 1, 256), default=8)
    p.add_argument('--per-host', type=number(int, 1, 64), default=2)
    p.add_argument('--timeout', type=SECONDS, default=60.0)
    p.add_argument('--retries', type=number(int, 0, 100), default=5)
    p.add_argument('--backoff', type=number(float, 0.0, 3600.0), default=1.0)
    p.add_argument('--no-progress', action='store_true')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    for name in ('workers', 'per_host'):
        if getattr(args, name) < 1:
            raise UserError(f'--{name.replace("_", "-")} must be at least 1, got {getattr(args, name)}')
    if args.retries < 0 or not args.timeout > 0 or not args.backoff >= 0:
        raise UserError('--retries and --backoff must be >= 0 and --timeout > 0')
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f'--out {out}: a file, not a folder')
    out.mkdir(parents=True, exist_ok=True)
    jobs, problems = page_jobs(out, coco=args.coco, ids=args.ids)
    dl = Downloader(
        version=args.version,
        max_size=tuple(args.max_size) if args.max_size else None,
        workers=args.workers,
        per_host=args.per_host,
        timeout=args.timeout,
        retries=args.retries,
        backoff=args.backoff,
        progress=not args.no_progress,
    )
    report = dl.run(jobs, root=out).as_dict()
    report['input_problems'] = problems
    atomic_write_text(out / 'download_report.json', json.dumps(report, indent=1, ensure_ascii=False))
    print(
        f'{len(jobs)} pages: {report["done"]} downloaded, {report["skipped"]} already complete, '
        f'{len(report["failed"])} failed ({report["retries"]} retries); {len(problems)} input problems; '
        f'{report["stale_temp_files_removed"]} stale temporary files removed'
    )
    for f in report['failed'][:20]:
        print(f'  failed: {f["base"]}: {f["reason"]}')
    for p in problems[:20]:
        print(f'  input: {p["source"]}: {p["reason"]}')
    print(f'report: {out / "download_report.json"}')
    return 1 if report['failed'] else 0


if __name__ == '__main__':
    sys.exit(cli_main(main))
