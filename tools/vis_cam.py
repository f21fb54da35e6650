"""Grad-CAM, guided backpropagation and Guided Grad-CAM images of face crops.

    python tools/vis_cam.py IMG|DIR CONFIG CKPT [--target-class NAME|INDEX|pred]
        [--method gradcam|gradcam++] [--out DIR] [--max-images N]

For every image: OUT/<name>_panel.png (input, overlay, guided backprop, Guided
Grad-CAM), OUT/<name>_cam.png, OUT/<name>_guided.png, OUT/<name>_guided_gradcam.png;
for a folder also OUT/contact_sheet.png with all overlays. The image goes
through the config's test pipeline (resize/crop) first, as in evaluation
(:func:`kaokore_mm.interpretation.guided_gradcam.explain_images`).
"""

import argparse
import os
import os.path as osp
import sys

import kaokore_mm  # noqa: F401
from kaokore_mm.interpretation import build_classifier
from kaokore_mm.interpretation.guided_gradcam import explain_images, resolve_target
from kaokore_mm.utils.cli import COUNT, UserError, cli_main
from kaokore_mm.utils.config import add_partial_load_arg

IMAGE_EXT = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('img', help='an image or a folder of images')
    p.add_argument('config')
    p.add_argument('checkpoint')
    add_partial_load_arg(p)
    p.add_argument('--target-class', default='pred', help="class name, class index, or 'pred'")
    p.add_argument('--method', default='gradcam', choices=('gradcam', 'gradcam++'))
    p.add_argument('--out', default='work_dirs/vis_cam')
    p.add_argument('--max-images', type=COUNT, default=None)
    p.add_argument('--device', default='cpu')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if osp.isdir(args.img):
        paths = sorted(osp.join(args.img, f) for f in os.listdir(args.img) if f.lower().endswith(IMAGE_EXT))
    elif osp.isfile(args.img):
        paths = [args.img]
    else:
        raise UserError(f'{args.img}: no such image or folder')
    paths = paths[: args.max_images]
    if not paths:
        raise UserError(f'{args.img}: no images')
    model, cfg, classes = build_classifier(args.config, args.checkpoint, args.device, args.partial_load)
    try:
        resolve_target(args.target_class, classes)
    except ValueError as e:
        raise UserError(f'--target-class: {e}') from None
    done, unreadable = explain_images(model, cfg, classes, paths, args.out, args.target_class, args.method)
    for path, reason in unreadable:
        print(f'{path}: cannot be read ({reason})', file=sys.stderr)
    print(f'\n{len(done)} images explained ({args.method}, target {args.target_class}) -> {args.out}')
    return done


if __name__ == '__main__':
    sys.exit(cli_main(main))
