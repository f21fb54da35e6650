"""Page-level inference with the image patching method.

One implementation serves the validation/test loops, the Python API
(:class:`~kaokore_mm.apis.PageInferencer`), the tools and the benchmarks: the
page (uint8, as loaded) is seen at each of its *views* (the page rescaled by a
rate and cut into the patches of its grid, or the whole page resized into one
patch; :mod:`kaokore_mm.core.patching`), the patches of all views go through
the detector in batches of ``batch_size`` (each patch is normalised by the
model's data preprocessor, so no float copy of the whole page is ever built),
boxes are shifted back to the view, kept when their size lies in the view's
valid range, mapped to page pixels, clipped to the page and merged.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch
from mmcv.transforms import Compose
from mmdet.registry import TRANSFORMS
from mmengine.structures import InstanceData

from kaokore_mm.core.images import resize_to, to_bgr_uint8
from kaokore_mm.core.merge import CONTAIN_METRICS, MERGE_METHODS, merge_tensor
from kaokore_mm.core.patching import View, ViewGrid, as_views, crop_window, page_views

MIN_SIDE = 1.0  # page pixels: a box narrower or lower than this after clipping to the page is dropped
DEFAULT_META_KEYS = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'patch_offset', 'view_scale')


def _compose(steps):
    return Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t for t in steps])


CUT_TOL = 2.0  # view pixels: a box this close to an inner window border was cut by it


def cut_by_window(boxes: torch.Tensor, win, view_size) -> torch.Tensor:
    """Which boxes (view pixels) touch a border of their window that lies inside the view
    image: the face went on beyond it. A border on the view's own edge (or in the padding
    beyond it) cuts nothing."""
    x1, y1, x2, y2 = (float(v) for v in win)
    vw, vh = view_size
    return (
        ((boxes[:, 0] <= x1 + CUT_TOL) & (x1 > 0))
        | ((boxes[:, 1] <= y1 + CUT_TOL) & (y1 > 0))
        | ((boxes[:, 2] >= x2 - CUT_TOL) & (x2 < vw))
        | ((boxes[:, 3] >= y2 - CUT_TOL) & (y2 < vh))
    )


def in_valid_range(side: torch.Tensor, valid_range) -> torch.Tensor:
    """Which longest sides (view pixels) lie in a view's ``(lo, hi)`` (``hi=None``: no bound)."""
    lo, hi = valid_range
    return (side >= lo) & (side <= hi) if hi is not None else side >= lo


def views_fitting(boxes: torch.Tensor, grids) -> torch.Tensor:
    """``(N, V)``: whether each page box's size (its longest side in view pixels) lies in the
    valid range of each view of the page: the views trained to find it."""
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    out = []
    for grid in grids:
        sx, sy = grid.scale
        out.append(in_valid_range(torch.maximum(w * sx, h * sy), grid.view.valid_range))
    return torch.stack(out, 1)


class PatchedPredictor:
    """Run a detector over the patch grid of whole pages.

    Args:
        patch_size: ``int`` or ``(width, height)`` of a patch, as in training;
            ``None`` treats the whole page as one window (no patching).
        overlap: overlap ratio of neighbouring patches (in every patch view).
        views: the views of the page, as the training dataset's ``views``
            (``dict(rate=..., valid_range=(lo, hi))``; ``None``: the page at its
            own scale). Patches of all views are batched together (the
            whole-page view of a page turned otherwise than the patches goes
            in its own batch).
        batch_size: patches per forward pass, or ``'auto'``: 1 on the CPU (where
            batching does not pay and only costs memory) and 8 on a GPU.
        patch_pipeline: transforms applied to each patch before the model, ending
            with ``PackDetInputs`` (e.g. a ``Resize`` to the detector's input size);
            default: pack the patch as it is.
        merge: how boxes of neighbouring patches become one box per face:
            ``dict(type='nms', iou_thr=0.5)`` (default), ``dict(type='nmm',
            match_thr=0.5, match_metric='ios')`` (greedy merging by
            intersection-over-smaller, SAHI's GREEDYNMM) or ``dict(type='wbf',
            iou_thr=0.55)``; ``class_agnostic=True`` merges across labels;
            ``view_agreement=0.5``: with several views, a box another view was trained
            to find (its size in that view's valid range) but that no such view found
            (IoU >= 0.5) keeps half its score, before merging
            (:func:`~kaokore_mm.core.merge.view_agreement_tensor`); ``vote_iou=0.5`` (``nms``
            only): each kept box moves to the score-weighted mean of the boxes overlapping
            it by that IoU, its score unchanged (:func:`~kaokore_mm.core.merge.box_voting_tensor`).
        pad_val: fill value of the padding beyond the page's right/bottom border.
        max_per_page: keep at most this many boxes per page, highest scores first.
    """

    def __init__(
        self,
        patch_size=(1333, 800),
        overlap: float = 0.0,
        batch_size='auto',
        patch_pipeline=None,
        merge=None,
        views=None,
        pad_val=0,
        max_per_page: int = 1000,
    ):
        merge = dict(type='nms', iou_thr=0.5) if merge is None else dict(merge)
        if merge.get('type') not in MERGE_METHODS:
            raise ValueError(f'merge type {merge.get("type")!r} is not valid; valid: {", ".join(MERGE_METHODS)}')
        agree = merge.get('view_agreement')
        if agree is not None and (
            isinstance(agree, bool) or not isinstance(agree, (int, float)) or not 0 <= agree <= 1
        ):
            raise ValueError(f'merge view_agreement must be a number in [0, 1] (the score kept) or None, got {agree!r}')
        vote = merge.get('vote_iou')
        if vote is not None and (
            merge['type'] != 'nms' or isinstance(vote, bool) or not isinstance(vote, (int, float)) or not 0 < vote <= 1
        ):
            raise ValueError(
                f'merge vote_iou must be an IoU in (0, 1] with type nms (NMM and WBF move their boxes themselves) '
                f'or None, got {vote!r} with type {merge["type"]!r}'
            )
        if merge.get('contain', 'iob') not in CONTAIN_METRICS:
            raise ValueError(f'merge contain must be one of {", ".join(CONTAIN_METRICS)}, got {merge.get("contain")!r}')
        if batch_size != 'auto' and (not isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"batch_size must be an int >= 1 or 'auto', got {batch_size!r}")
        self.patch_size = patch_size
        self.overlap = overlap
        self.batch_size = batch_size
        self.merge = merge
        self.pad_val = pad_val
        self.max_per_page = max_per_page
        self.views = as_views(views)
        self.pipeline = _compose(patch_pipeline or [dict(type='PackDetInputs', meta_keys=DEFAULT_META_KEYS)])
        self.forward_time = 0.0  # seconds spent in model.test_step, summed (for benchmarks)
        self.merge_time = 0.0  # seconds spent merging page boxes, summed (for benchmarks)

    def with_views(self, views) -> PatchedPredictor:
        """This predictor (patch size, overlap, batching, pipeline, merge) seeing the page at
        ``views`` instead (``None``: the page at its own scale alone, every face valid), with
        its own timers; e.g. the single-scale patching the views' test time is compared with."""
        other = copy.copy(self)
        other.views = as_views(views)
        other.forward_time = other.merge_time = 0.0
        return other

    def batch_size_for(self, model) -> int:
        if self.batch_size != 'auto':
            return self.batch_size
        params = model.parameters() if hasattr(model, 'parameters') else iter(())
        param = next(params, None)
        return 8 if param is not None and param.device.type == 'cuda' else 1

    def grids(self, width: int, height: int) -> list[ViewGrid]:
        """The views of a page of ``width x height`` with their windows (view pixels)."""
        if self.patch_size is None:
            return [ViewGrid(View(), (width, height), (1.0, 1.0), np.array([[0, 0, width, height]], dtype=np.int64))]
        return page_views((width, height), self.views, self.patch_size, self.overlap)

    def windows(self, width: int, height: int) -> np.ndarray:
        """Every patch window of a page, all views together (view pixels)."""
        return np.concatenate([g.windows for g in self.grids(width, height)])

    def _pack(self, img, window, meta, pipeline):
        patch = crop_window(img, window, self.pad_val)
        results = dict(
            meta,
            img=patch,
            img_shape=patch.shape[:2],
            ori_shape=patch.shape[:2],
            patch_offset=(int(window[0]), int(window[1])),
            scale_factor=(1.0, 1.0),
        )
        return pipeline(results)

    def _forward(self, model, packed):
        t0 = time.perf_counter()
        outs = model.test_step(
            dict(inputs=[p['inputs'] for p in packed], data_samples=[p['data_samples'] for p in packed])
        )
        self.forward_time += time.perf_counter() - t0
        return outs

    @torch.inference_mode()
    def predict_page(self, model, img: np.ndarray, meta: dict | None = None) -> InstanceData:
        """Page-level ``InstanceData`` (``bboxes`` x1y1x2y2, ``scores``, ``labels``) for one page.

        ``img`` is ``H x W x 3`` uint8 in the channel order the model was trained
        with (BGR as loaded by mmcv); grayscale, BGRA, 16-bit and float pages are
        converted first (:func:`kaokore_mm.core.images.to_bgr_uint8`).
        """
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            img = to_bgr_uint8(img)
        h, w = img.shape[:2]
        meta = {k: v for k, v in (meta or {}).items() if k in ('img_id', 'img_path')}
        boxes, scores, labels, cuts, found_by = [], [], [], [], []

        def collect(jobs, outs):
            for (index, grid, win), out in zip(jobs, outs):
                pred = out.pred_instances
                if len(pred) == 0:
                    continue
                # back to the view, the view's valid sizes, then to the page, clipped (on the model's device)
                b = pred.bboxes.float() + pred.bboxes.new_tensor([win[0], win[1], win[0], win[1]]).float()
                cut = cut_by_window(b, win, grid.size)
                keep = in_valid_range(torch.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]), grid.view.valid_range)
                sx, sy = grid.scale
                b = b[keep] / b.new_tensor([sx, sy, sx, sy])
                b[:, 0::2] = b[:, 0::2].clamp(0, w)
                b[:, 1::2] = b[:, 1::2].clamp(0, h)
                # a box on the padding beyond the page is clipped to a line: no face, never written out
                on_page = ((b[:, 2] - b[:, 0]) >= MIN_SIDE) & ((b[:, 3] - b[:, 1]) >= MIN_SIDE)
                boxes.append(b[on_page])
                scores.append(pred.scores.float()[keep][on_page])
                labels.append(pred.labels[keep][on_page])
                cuts.append(cut[keep][on_page])
                found_by.append(torch.full((int(on_page.sum()),), index, dtype=torch.long, device=b.device))

        bs = self.batch_size_for(model)
        pending = {}  # input shape -> [(grid, window), packed]: patches of every view batched together

        def flush(shape):
            jobs, packed = zip(*pending.pop(shape))
            collect(jobs, self._forward(model, list(packed)))

        grids = self.grids(w, h)
        for index, grid in enumerate(grids):
            view_img = resize_to(img, grid.size)
            for win in grid.windows:
                shape = (int(win[3] - win[1]), int(win[2] - win[0]))
                packed = self._pack(view_img, win, dict(meta, view_scale=grid.scale), self.pipeline)
                pending.setdefault(shape, []).append(((index, grid, win), packed))
                if len(pending[shape]) >= bs:
                    flush(shape)
            del view_img
        for shape in list(pending):
            flush(shape)
        return self._merge(boxes, scores, labels, cuts, found_by, grids)

    def _merge(self, boxes, scores, labels, cuts=None, found_by=None, grids=None) -> InstanceData:
        t0 = time.perf_counter()
        if boxes:
            b, s, lab = torch.cat(boxes), torch.cat(scores), torch.cat(labels)
            view = torch.cat(found_by) if found_by else None
            fits = views_fitting(b, grids) if grids is not None and len(grids) > 1 else None
            cut = torch.cat(cuts) if cuts else None
            b, s, lab = merge_tensor(b, s, lab, self.merge, cut, view, fits)
            order = torch.sort(s, descending=True, stable=True).indices[: self.max_per_page]
            b, s, lab = b[order], s[order], lab[order]
        else:
            b, s, lab = torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype=torch.int64)
        b, s, lab = b.float().cpu(), s.float().cpu(), lab.long().cpu()  # (synchronises a GPU: the time is real)
        self.merge_time += time.perf_counter() - t0
        out = InstanceData()
        out.bboxes = b.reshape(-1, 4)
        out.scores = s
        out.labels = lab
        return out

    def predict_batch(self, model, data_batch: dict) -> list:
        """Predictions for a batch of whole pages from a page dataloader
        (``inputs``: uint8 ``C x H x W`` tensors, no resize); returns its data
        samples with page-level ``pred_instances``."""
        outputs = []
        for inputs, sample in zip(data_batch['inputs'], data_batch['data_samples']):
            img = inputs.permute(1, 2, 0).cpu().numpy()
            sample.pred_instances = self.predict_page(model, img, sample.metainfo)
            outputs.append(sample)
        return outputs
