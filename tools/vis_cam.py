"""Grad-CAM, guided backpropagation and Guided Grad-CAM images of face crops.

    python tools/vis_cam.py IMG|DIR CONFIG CKPT [--target-class NAME|INDEX|pred]
        [--method gradcam|gradcam++] [--out DIR] [--max-images N]

For every image: OUT/<name>_panel.png (input, overlay, guided backprop, Guided
Grad-CAM), OUT/<name>_cam.png, OUT/<name>_guided.png, OUT/<name>_guided_gradcam.png;
for a folder also OUT/contact_sheet.png with all overlays. The image goes
through the config's test pipeline (resize/crop) first, as in evaluation.
"""
import argparse
import os
import os.path as osp
import sys

import cv2
import numpy as np
from mmengine.dataset import Compose

import kaokore_mm  # noqa: F401
from kaokore_mm.apis.face_classifier import build_classifier
from kaokore_mm.cam import GuidedGradCAM, cam_panel, figure_to_rgb
from kaokore_mm.utils.cli import cli_main

IMAGE_EXT = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('img', help='an image or a folder of images')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--target-class', default='pred', help="class name, class index, or 'pred'")
    p.add_argument('--method', default='gradcam', choices=('gradcam', 'gradcam++'))
    p.add_argument('--out', default='work_dirs/vis_cam')
    p.add_argument('--max-images', type=int, default=None)
    p.add_argument('--device', default='cpu')
    return p.parse_args(argv)


def resolve_target(target, classes):
    if target == 'pred':
        return 'pred'
    if target in classes:
        return classes.index(target)
    if str(target).isdigit() and int(target) < len(classes):
        return int(target)
    raise SystemExit(f'--target-class {target!r} is neither pred, a class index nor one of {", ".join(classes)}')


def contact_sheet(items, path, classes, cols=6):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = max(1, -(-len(items) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2 * cols, 2.2 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis('off')
    for ax, (name, r) in zip(axes.ravel(), items):
        ax.imshow(r.overlay)
        ax.set_title(f'{name[:14]}\n{classes[r.pred]} {r.scores[r.pred]:.2f}', fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    if osp.isdir(args.img):
        paths = sorted(osp.join(args.img, f) for f in os.listdir(args.img) if f.lower().endswith(IMAGE_EXT))
    elif osp.isfile(args.img):
        paths = [args.img]
    else:
        raise SystemExit(f'{args.img}: no such image or folder')
    paths = paths[:args.max_images]
    if not paths:
        raise SystemExit(f'{args.img}: no images')
    model, cfg, classes = build_classifier(args.config, args.checkpoint, args.device)
    target = resolve_target(args.target_class, classes)
    pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    cam = GuidedGradCAM(model, method=args.method)
    os.makedirs(args.out, exist_ok=True)
    import matplotlib.pyplot as plt
    from mmengine.utils import ProgressBar
    done, bar = [], ProgressBar(len(paths))
    for path in paths:
        try:
            packed = pipeline(dict(img_path=path))
        except Exception as e:  # noqa: BLE001 - report and go on
            print(f'\n{path}: cannot be read ({e})', file=sys.stderr)
            bar.update()
            continue
        img = packed['inputs'].permute(1, 2, 0).numpy()
        r = cam(img, target)
        name = osp.splitext(osp.basename(path))[0]
        fig = cam_panel(r, classes)
        cv2.imwrite(osp.join(args.out, f'{name}_panel.png'), figure_to_rgb(fig)[..., ::-1])
        plt.close(fig)
        cv2.imwrite(osp.join(args.out, f'{name}_cam.png'), r.overlay[..., ::-1])
        cv2.imwrite(osp.join(args.out, f'{name}_guided.png'), r.guided[..., ::-1])
        cv2.imwrite(osp.join(args.out, f'{name}_guided_gradcam.png'), r.guided_gradcam[..., ::-1])
        done.append((name, r))
        bar.update()
    if len(done) > 1:
        contact_sheet(done, osp.join(args.out, 'contact_sheet.png'), classes)
    print(f'\n{len(done)} images explained ({args.method}, target {args.target_class}) -> {args.out}')
    return done


if __name__ == '__main__':
    sys.exit(cli_main(main))
