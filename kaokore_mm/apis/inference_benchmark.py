"""Speed and memory of page-level (patched) inference, optionally side by side with SAHI (the
benchmark tool is its command line): pages, timed runs of ours, of the pure forward of the same
patches, of the page at its own scale alone (the single-scale patching the views are compared
with), and of SAHI get_sliced_prediction with the same detector.
"""

from __future__ import annotations

import os
import os.path as osp
import resource
import time
from typing import TYPE_CHECKING

import numpy as np
import torch

from kaokore_mm.core.coco_faces import faces_by_image
from kaokore_mm.core.face_metrics import counts_at, match_page
from kaokore_mm.core.images import resize_to
from kaokore_mm.utils.cli import UserError

from .page_inferencer import read_page

if TYPE_CHECKING:
    from mmengine.config import Config

    from .page_inferencer import PageInferencer

IMAGE_EXT = ('.jpg', '.jpeg', '.png', '.tif', '.tiff', '.bmp', '.webp')


def load_pages(pages, data_root=None, max_pages=None, book=None) -> list[tuple]:
    """``[(path, gt_boxes or None)]`` from a folder or a COCO file."""
    if osp.isdir(pages):
        paths = sorted(osp.join(pages, f) for f in os.listdir(pages) if f.lower().endswith(IMAGE_EXT))
        items = [(p, None) for p in paths]
    else:
        from kaokore_mm.converters.import_pages import load_faces_coco

        if not osp.isfile(pages):
            raise UserError(f'{pages}: no such page folder or COCO file')
        try:
            coco = load_faces_coco(pages, 'pages')
        except ValueError as e:
            raise UserError(str(e)) from None
        root = data_root or osp.dirname(osp.dirname(osp.abspath(pages)))
        gts = faces_by_image(coco)
        items = [
            (osp.join(root, im['file_name']), gts[im['id']])
            for im in coco.get('images', [])
            if book is None or im.get('book_id') == book
        ]
    if not items:
        raise UserError(f'{pages}: no page images found')
    return items[:max_pages]


def recall_of(preds, items, thr) -> dict | None:
    if any(gt is None for _, gt in items):
        return None
    # as FaceDetectionMetric: crowd (ignored) faces neither found nor missed, 100 boxes per page
    matches = [match_page(b, s, gt[:, :4], gt_ignore=gt[:, 4] > 0) for (b, s), (_, gt) in zip(preds, items)]
    return counts_at(matches, thr)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sync(device) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def run_ours(inf, items, device, autocast_ctx) -> tuple[dict, list]:
    pred = inf.predictor
    pred.forward_time = pred.merge_time = 0.0
    preds, patches, decode = [], 0, 0.0
    sync(device)
    t0 = time.perf_counter()
    for path, _ in items:
        t = time.perf_counter()
        img = read_page(path)
        decode += time.perf_counter() - t
        patches += len(pred.windows(img.shape[1], img.shape[0]))
        with autocast_ctx():
            out = inf(img)
        preds.append((out['bboxes'], out['scores']))
    sync(device)
    return dict(
        time=time.perf_counter() - t0, decode=decode, forward=pred.forward_time, merge=pred.merge_time, patches=patches
    ), preds


def one_view(inf: PageInferencer) -> PageInferencer:
    """``inf`` predicting the page at its own scale alone: the config's patches of rate 1,
    overlap, merge and model, every face valid (``views=None``), i.e. the single-scale
    patching that the test time of the views is measured against."""
    import copy

    from kaokore_mm.core.patching import as_views

    one = copy.copy(inf)
    one.predictor = copy.copy(inf.predictor)
    one.predictor.views = as_views(None)
    return one


def run_pure_forward(inf, items, device, autocast_ctx) -> float:
    """``test_step`` alone on the same patches (every view), packed beforehand."""
    pred, total = inf.predictor, 0.0
    bs = pred.batch_size_for(inf.model)
    for path, _ in items:
        page = read_page(path)
        patches = [
            pred._pack(view, w, {}, pred.pipeline)
            for grid in pred.grids(page.shape[1], page.shape[0])
            for view in [resize_to(page, grid.size)]
            for w in grid.windows
        ]
        for start in range(0, len(patches), bs):
            packed = patches[start : start + bs]
            data = dict(inputs=[p['inputs'] for p in packed], data_samples=[p['data_samples'] for p in packed])
            sync(device)
            t = time.perf_counter()
            with torch.inference_mode(), autocast_ctx():
                inf.model.test_step(data)
            sync(device)
            total += time.perf_counter() - t
    return total


def sahi_config(cfg, patch_size) -> Config:
    """The config as SAHI's mmdet wrapper wants it: a test pipeline with a Resize
    (to the patch size, i.e. none) and no img_id."""
    cfg = cfg.copy()
    pw, ph = (patch_size, patch_size) if isinstance(patch_size, int) else patch_size
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(pw, ph), keep_ratio=True),
        dict(type='PackDetInputs', meta_keys=('img_path', 'ori_shape', 'img_shape', 'scale_factor')),
    ]
    test_cfg = cfg.get('test_cfg') or {}
    if test_cfg.get('patch_pipeline'):  # e.g. SSD: resize the patch to the input size
        pipeline = [pipeline[0], *[dict(t) for t in test_cfg['patch_pipeline']]]
        pipeline[-1]['meta_keys'] = ('img_path', 'ori_shape', 'img_shape', 'scale_factor')
    cfg.test_dataloader.dataset.pipeline = pipeline
    return cfg


def run_sahi(inf, items, args, tmp) -> dict:
    from sahi.models.mmdet import MmdetDetectionModel
    from sahi.predict import get_sliced_prediction

    pred = inf.predictor
    patch = pred.patch_size if not isinstance(pred.patch_size, int) else (pred.patch_size, pred.patch_size)
    cfg_path = osp.join(tmp, 'sahi_config.py')
    sahi_config(inf.cfg, patch).dump(cfg_path)
    ckpt = args.checkpoint
    if ckpt is None:  # random weights: hand SAHI the very same ones
        ckpt = osp.join(tmp, 'weights.pth')
        torch.save(dict(state_dict=inf.model.state_dict(), meta=dict(dataset_meta=dict(classes=('face',)))), ckpt)
    model = MmdetDetectionModel(
        model_path=ckpt, config_path=cfg_path, device=args.device, confidence_threshold=0.0, load_at_init=True
    )
    kwargs = dict(
        detection_model=model,
        slice_width=patch[0],
        slice_height=patch[1],
        overlap_width_ratio=pred.overlap,
        overlap_height_ratio=pred.overlap,
        perform_standard_pred=False,
        postprocess_type='NMS',
        postprocess_match_metric='IOU',
        postprocess_match_threshold=pred.merge.get('iou_thr', 0.5),
        verbose=0,
    )
    for path, _ in items[: args.warmup]:
        get_sliced_prediction(read_page(path)[..., ::-1].copy(), **kwargs)
    best = None
    for _ in range(max(1, args.repeat)):
        preds = []
        sync(args.device)
        t0 = time.perf_counter()
        for path, _ in items:
            rgb = read_page(path)[..., ::-1].copy()  # SAHI takes RGB arrays
            result = get_sliced_prediction(rgb, **kwargs)
            objs = result.object_prediction_list
            preds.append(
                (
                    np.array([o.bbox.to_xyxy() for o in objs], float).reshape(-1, 4),
                    np.array([o.score.value for o in objs], float),
                )
            )
        sync(args.device)
        elapsed = time.perf_counter() - t0
        best = elapsed if best is None else min(best, elapsed)
    return dict(time=best), preds
