"""KaoKore crop layout (images_256/%08d.jpg, labels.csv) from downloaded pages.

    python tools/dataset_converters/kaokore_crops.py --coco data/kaokore/annotations/pages.json \
        --pages-root data/kaokore --out data/kaokore

One download serves the detector and the classifier: every face of the page
COCO written by kaokore_pages.py is cut from its page with its original IIIF
region (the part beyond the page filled by replicating the border, as a IIIF
server would not; the face stays centred) and resized to SIZE x SIZE. labels.csv
gets the faces with gender and status, with KaoKore's official set. Existing
complete crops are kept (resumable); missing or unreadable pages are reported
and skipped.
"""

import argparse
import csv
import io
import json
import sys
from collections import defaultdict
from pathlib import Path

import cv2

from kaokore_mm.converters.iiif_download import valid_image_file
from kaokore_mm.utils.cli import cli_main
from kaokore_mm.utils.image_ops import cut_crop
from kaokore_mm.utils.io import atomic_write_bytes, atomic_write_text


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--coco', required=True)
    p.add_argument('--pages-root', required=True, help='folder the COCO file names are relative to')
    p.add_argument('--out', required=True)
    p.add_argument('--size', type=int, default=256)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    coco = json.loads(Path(args.coco).read_text(encoding='utf-8'))
    out = Path(args.out)
    crop_dir = out / f'images_{args.size}'
    faces = defaultdict(list)
    for a in coco['annotations']:
        faces[a['image_id']].append(a)
    rows, problems, written, kept = [], [], 0, 0
    for im in coco['images']:
        anns = faces.get(im['id'], [])
        todo = [a for a in anns if not valid_image_file(crop_dir / a['crop'])]
        img = None
        if todo:
            path = Path(args.pages_root) / im['file_name']
            img = cv2.imread(str(path)) if path.is_file() else None
            if img is None:
                problems.append(dict(page=im['file_name'], reason='page missing or unreadable', faces=len(todo)))
        for a in anns:
            x, y, w, h = a.get('region') or a['bbox']
            if a in todo:
                if img is None:
                    continue
                crop = cut_crop(img, [x, y, x + w, y + h], args.size)
                atomic_write_bytes(
                    crop_dir / a['crop'], cv2.imencode('.jpg', crop, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
                )
                written += 1
            else:
                kept += 1
            at = a.get('attributes') or {}
            if at.get('gender_id') is not None and at.get('status_id') is not None:
                rows.append((a['crop'], at['gender_id'], at['status_id'], at.get('set') or 'train'))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator='\n')
    w.writerow(['image', 'gender', 'status', 'set'])
    w.writerows(sorted(rows))
    atomic_write_text(out / 'labels.csv', buf.getvalue())
    print(
        f'{written} crops written, {kept} kept from an earlier run, {len(rows)} labelled rows in '
        f'{out / "labels.csv"}; {len(problems)} pages missing or unreadable'
    )
    for p in problems[:20]:
        print(f'  {p["page"]}: {p["reason"]} ({p["faces"]} faces skipped)')
    return 0 if written + kept else 1


if __name__ == '__main__':
    sys.exit(cli_main(main))
