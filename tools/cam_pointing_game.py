"""Does the CAM point at what carries the status? (synthetic crops, where that part is known)

    python tools/cam_pointing_game.py CONFIG CKPT --data-root DIR [--split test] [--method gradcam]
        [--region 0.25] [--out result.json]

On the crops of SPLIT with a recorded status part (status_parts.csv, written by
the synthetic generator):
- pointing game (Zhang et al., ECCV 2016): among correctly classified crops,
  the share whose Grad-CAM peak (for the predicted class) lies inside the status
  part or within the tolerance of its border; the original game allows 15 px
  on ~224 px images, here ``--tolerance`` x the image side (default 15/224);
  the strict share (no tolerance) is printed too (goal: >= 0.8);
- deletion check: the mean drop of the predicted class's score when the
  square of side REGION x the image side around the CAM peak is blanked (to the
  image's mean colour), against the same square at a random place (seeded).
"""
import argparse
import csv
import json
import os.path as osp
import sys

import numpy as np
import torch
from mmengine.dataset import Compose

from kaokore_mm.apis.face_classifier import build_classifier
from kaokore_mm.cam import GuidedGradCAM
from kaokore_mm.utils.cli import cli_main
from kaokore_mm.utils.io import atomic_write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--data-root', required=True, help='synthetic data with labels.csv and status_parts.csv')
    p.add_argument('--split', default='test', choices=('train', 'dev', 'test'))
    p.add_argument('--method', default='gradcam', choices=('gradcam', 'gradcam++'))
    p.add_argument('--region', type=float, default=0.25, help='side of the blanked square, share of the image')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--tolerance', type=float, default=15 / 224,
                   help='hit distance from the part, share of the image side (Zhang et al.: 15 px)')
    p.add_argument('--crop-size', type=int, default=256, help='size of the crops the parts refer to')
    p.add_argument('--out')
    return p.parse_args(argv)


def class_score(model, x):
    with torch.no_grad():
        return torch.softmax(model(x, mode='tensor'), dim=1)[0]


def blank(x, cy, cx, half, fill):
    y = x.clone()
    h, w = y.shape[-2:]
    y[..., max(0, cy - half):min(h, cy + half), max(0, cx - half):min(w, cx + half)] = fill
    return y


def main(argv=None):
    args = parse_args(argv)
    model, cfg, classes = build_classifier(args.config, args.checkpoint)
    task = cfg.test_dataloader.dataset.get('task', 'status')
    if task != 'status':
        raise SystemExit('the pointing game needs a status classifier (the recorded part carries the status)')
    parts = {r['image']: [float(r[k]) for k in ('x1', 'y1', 'x2', 'y2')]
             for r in csv.DictReader(open(osp.join(args.data_root, 'status_parts.csv')))}
    rows = [r for r in csv.DictReader(open(osp.join(args.data_root, 'labels.csv')))
            if r['set'] == args.split and r['image'] in parts and r['status'].isdigit()]
    pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    cam = GuidedGradCAM(model, method=args.method)
    rng = np.random.default_rng(args.seed)
    hits, strict, correct, drops_cam, drops_rand = 0, 0, 0, [], []
    from mmengine.utils import ProgressBar
    bar = ProgressBar(len(rows))
    for r in rows:
        packed = pipeline(dict(img_path=osp.join(args.data_root, 'images_256', r['image'])))
        img = packed['inputs'].permute(1, 2, 0).numpy()
        gt = int(r['status'])
        res = cam(img, 'pred')
        bar.update()
        if res.pred != gt:
            continue
        correct += 1
        h, w = res.cam.shape
        cy, cx = np.unravel_index(int(np.argmax(res.cam)), res.cam.shape)
        k = w / args.crop_size  # the test pipeline resizes the square crop to the input size
        x1, y1, x2, y2 = (v * k for v in parts[r['image']])
        px, py = cx + 0.5, cy + 0.5
        dist = np.hypot(max(x1 - px, 0, px - x2), max(y1 - py, 0, py - y2))
        strict += int(dist == 0)
        hits += int(dist <= args.tolerance * w)
        x = cam.prepare(img)
        base = float(class_score(model, x)[gt])
        half = max(1, int(round(args.region * w / 2)))
        fill = x.mean(dim=(2, 3), keepdim=True)
        drops_cam.append(base - float(class_score(model, blank(x, cy, cx, half, fill))[gt]))
        ry, rx = int(rng.integers(half, h - half + 1)), int(rng.integers(half, w - half + 1))
        drops_rand.append(base - float(class_score(model, blank(x, ry, rx, half, fill))[gt]))
    res = dict(config=args.config, checkpoint=args.checkpoint, split=args.split, method=args.method, crops=len(rows),
               correct=correct, accuracy=correct / max(1, len(rows)),
               pointing_game=hits / correct if correct else float('nan'), tolerance=args.tolerance,
               pointing_game_strict=strict / correct if correct else float('nan'),
               score_drop_top_cam=float(np.mean(drops_cam)) if drops_cam else float('nan'),
               score_drop_random=float(np.mean(drops_rand)) if drops_rand else float('nan'), region=args.region)
    print(f'\n{len(rows)} {args.split} crops, {correct} classified correctly (accuracy {res["accuracy"]:.3f})')
    print(f'pointing game: {hits}/{correct} = {res["pointing_game"]:.3f} of CAM peaks on the status part '
          f'(within {args.tolerance:.3f} of the side; strictly inside: {res["pointing_game_strict"]:.3f})')
    print(f'class score drop when blanking {args.region:.0%} squares: at the CAM peak '
          f'{res["score_drop_top_cam"]:.3f}, at random {res["score_drop_random"]:.3f}')
    if args.out:
        atomic_write_json(args.out, res)
    return res


if __name__ == '__main__':
    sys.exit(cli_main(main))
