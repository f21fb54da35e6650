"""Speed and memory of page-level (patched) inference, optionally side by side with SAHI (the
benchmark tool is its command line): pages, timed runs of ours, of the pure forward of the same
patches, of the page at its own scale alone (the single-scale patching the views are compared
with), and of SAHI get_sliced_prediction with the same detector.
"""

from __future__ import annotations

import contextlib
import os
import os.path as osp
import resource
import tempfile
import time
from typing import TYPE_CHECKING

import numpy as np
import torch

from kaokore_mm.converters.import_pages import load_faces_coco
from kaokore_mm.core.coco_faces import faces_by_image
from kaokore_mm.core.face_metrics import counts_at, match_page
from kaokore_mm.core.images import resize_to
from kaokore_mm.inference import read_page
from kaokore_mm.utils.cli import UserError

if TYPE_CHECKING:
    from collections.abc import Callable

    from mmengine.config import Config

    from kaokore_mm.inference import PageInferencer

IMAGE_EXT = ('.jpg', '.jpeg', '.png', '.tif', '.tiff', '.bmp', '.webp')


def load_pages(pages, data_root=None, max_pages=None, book=None) -> list[tuple]:
    """``[(path, gt_boxes or None)]`` from a folder or a COCO file."""
    if osp.isdir(pages):
        paths = sorted(osp.join(pages, f) for f in os.listdir(pages) if f.lower().endswith(IMAGE_EXT))
        items = [(p, None) for p in paths]
    else:
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


def autocast_for(device: str, amp: bool) -> Callable[[], contextlib.AbstractContextManager]:
    """A context factory for the timed forwards: autocast when ``amp`` (fp16 on CUDA,
    bf16 on the CPU), else nothing."""
    dev_type = 'cuda' if device.startswith('cuda') else 'cpu'
    dtype = torch.float16 if dev_type == 'cuda' else torch.bfloat16

    def ctx():
        return torch.autocast(dev_type, dtype=dtype) if amp else contextlib.nullcontext()

    return ctx


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


def _sahi():
    try:
        from sahi.models.mmdet import MmdetDetectionModel
        from sahi.predict import get_sliced_prediction
    except ImportError:
        raise UserError('`vs_sahi` needs SAHI: pip install -e .[bench]') from None
    return MmdetDetectionModel, get_sliced_prediction


def run_sahi(inf, items, tmp, *, checkpoint=None, device='cpu', warmup=1, repeat=2) -> tuple[dict, list]:
    MmdetDetectionModel, get_sliced_prediction = _sahi()

    pred = inf.predictor
    patch = pred.patch_size if not isinstance(pred.patch_size, int) else (pred.patch_size, pred.patch_size)
    cfg_path = osp.join(tmp, 'sahi_config.py')
    sahi_config(inf.cfg, patch).dump(cfg_path)
    ckpt = checkpoint
    if ckpt is None:  # random weights: hand SAHI the very same ones
        ckpt = osp.join(tmp, 'weights.pth')
        torch.save(dict(state_dict=inf.model.state_dict(), meta=dict(dataset_meta=dict(classes=('face',)))), ckpt)
    model = MmdetDetectionModel(
        model_path=ckpt, config_path=cfg_path, device=device, confidence_threshold=0.0, load_at_init=True
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
    for path, _ in items[:warmup]:
        get_sliced_prediction(read_page(path)[..., ::-1].copy(), **kwargs)
    best = None
    for _ in range(max(1, repeat)):
        preds = []
        sync(device)
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
        sync(device)
        elapsed = time.perf_counter() - t0
        best = elapsed if best is None else min(best, elapsed)
    return dict(time=best), preds


def _fastest(best, run):
    return run if best is None or run[0]['time'] < best[0]['time'] else best


def run_benchmark(
    inf: PageInferencer,
    items: list[tuple],
    *,
    checkpoint: str | None = None,
    device: str = 'cpu',
    amp: bool = False,
    channels_last: bool = False,
    warmup: int = 1,
    repeat: int = 2,
    score_thr: float = 0.5,
    vs_one_view: bool = False,
    vs_sahi: bool = False,
) -> dict:
    """The figures of the inference benchmark tool, measured side by side in one run: ``warmup``
    pages first, then ``repeat`` rounds of ours, the pure forward of the same patches and
    (``vs_one_view``) the page at its own scale alone, alternating, the fastest round of
    each counting; SAHI (``vs_sahi``) after them. Recall and precision at ``score_thr``
    when the pages come with faces."""
    if vs_sahi:
        _sahi()  # before the timing rounds: a missing SAHI is said at once
    if channels_last:
        inf.model.to(memory_format=torch.channels_last)
    dev_type = 'cuda' if device.startswith('cuda') else 'cpu'
    autocast_ctx = autocast_for(device, amp)
    for path, _ in items[:warmup]:
        with autocast_ctx():
            inf(read_page(path))
    if dev_type == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    single_inf = inf.with_views(None) if vs_one_view else None
    ours = single = None
    pure = float('inf')
    for _ in range(max(1, repeat)):
        ours = _fastest(ours, run_ours(inf, items, device, autocast_ctx))
        pure = min(pure, run_pure_forward(inf, items, device, autocast_ctx))
        if single_inf is not None:
            single = _fastest(single, run_ours(single_inf, items, device, autocast_ctx))
    (run, preds), n, pred = ours, len(items), inf.predictor
    res = dict(
        checkpoint=checkpoint,
        device=device,
        device_name=torch.cuda.get_device_name() if dev_type == 'cuda' else None,
        pages=n,
        rounds=max(1, repeat),
        patches=run['patches'],
        patch_size=pred.patch_size,
        overlap=pred.overlap,
        batch_size=pred.batch_size_for(inf.model),
        amp=amp,
        channels_last=channels_last,
        time_s=run['time'],
        pages_per_s=n / run['time'],
        patches_per_s=run['patches'] / run['time'],
        decode_s=run['decode'],
        forward_s=run['forward'],
        forward_share=run['forward'] / run['time'],
        merge_s=run['merge'],
        merge_share=run['merge'] / run['time'],
        merge=pred.merge,
        pure_forward_s=pure,
        page_vs_pure_forward=run['time'] / pure,
        peak_rss_mb=peak_rss_mb(),
        peak_gpu_mb=torch.cuda.max_memory_allocated() / 2**20 if dev_type == 'cuda' else None,
        score_thr=score_thr,
    )
    res.update(_recall_figures('', preds, items, score_thr))
    if single is not None:
        one, one_preds = single
        res.update(
            one_view_time_s=one['time'],
            one_view_patches=one['patches'],
            views_vs_one_view=run['time'] / one['time'],
            views=[str(v) for v in pred.views],
        )
        res.update(_recall_figures('one_view_', one_preds, items, score_thr))
    if vs_sahi:
        with tempfile.TemporaryDirectory() as tmp:
            sahi, sahi_preds = run_sahi(
                inf, items, tmp, checkpoint=checkpoint, device=device, warmup=warmup, repeat=repeat
            )
        res.update(sahi_time_s=sahi['time'], ours_vs_sahi=run['time'] / sahi['time'])
        res.update(_recall_figures('sahi_', sahi_preds, items, score_thr))
    return res


def _recall_figures(prefix, preds, items, thr) -> dict:
    counts = recall_of(preds, items, thr)
    return {} if counts is None else {prefix + 'recall': counts['recall'], prefix + 'precision': counts['precision']}


def report(res: dict) -> list[str]:
    """The lines the inference benchmark tool prints of :func:`run_benchmark`'s figures."""
    n, thr = res['pages'], res['score_thr']
    name = f' ({res["device_name"]})' if res.get('device_name') else ''
    lines = [
        f'device {res["device"]}{name}, {n} pages, {res["patches"]} patches of {res["patch_size"]}, '
        f'batch {res["batch_size"]}, best of {res["rounds"]} rounds',
        f'ours:  {res["time_s"]:.2f} s  {res["pages_per_s"]:.3f} pages/s  {res["patches_per_s"]:.2f} patches/s  '
        f'forward share {res["forward_share"]:.1%}  (page decoding {res["decode_s"]:.2f} s)',
        f'merge ({res["merge"]["type"]}): {res["merge_s"] * 1000 / n:.1f} ms per page, '
        f'{res["merge_share"]:.2%} of the page time',
        f'pure forward of the same patches: {res["pure_forward_s"]:.2f} s  ->  page time / pure forward = '
        f'{res["page_vs_pure_forward"]:.3f}',
        f'peak RSS {res["peak_rss_mb"]:.0f} MB'
        + (f', peak GPU memory {res["peak_gpu_mb"]:.0f} MB' if res['peak_gpu_mb'] is not None else ''),
    ]

    def recall_line(who, prefix):
        if prefix + 'recall' in res:
            lines.append(
                f'{who}:  recall {res[prefix + "recall"]:.4f}, precision {res[prefix + "precision"]:.4f} '
                f'at score >= {thr}'
            )

    recall_line('ours', '')
    if 'one_view_time_s' in res:
        lines.append(
            f'one view (the page at its own scale, {res["one_view_patches"]} patches):  '
            f'{res["one_view_time_s"]:.2f} s   views/one view time = {res["views_vs_one_view"]:.3f}  '
            f'(patches {res["patches"] / res["one_view_patches"]:.3f})'
        )
        recall_line('one view', 'one_view_')
    if 'sahi_time_s' in res:
        lines.append(
            f'SAHI:  {res["sahi_time_s"]:.2f} s  {n / res["sahi_time_s"]:.3f} pages/s   '
            f'ours/SAHI time = {res["ours_vs_sahi"]:.3f}'
        )
        recall_line('SAHI', 'sahi_')
    return lines
