"""Page-level inference with the image patching method.

One implementation serves the validation/test loops, the Python API and the
tools: the page (uint8, as loaded) is cut into the patches of its grid, the
patches go through the detector in batches of ``batch_size`` (each patch is
normalised by the model's data preprocessor, so no float copy of the whole page
is ever built), boxes are shifted back to page coordinates, clipped to the page
and merged.
"""
from __future__ import annotations

import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.structures import InstanceData
from mmdet.registry import TRANSFORMS

from kaokore_mm.core.merge import MERGE_METHODS, nms
from kaokore_mm.core.patching import boxes_to_page, crop_window, patch_grid

DEFAULT_META_KEYS = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'patch_offset')


class PatchedPredictor:
    """Run a detector over the patch grid of whole pages.

    Args:
        patch_size: ``int`` or ``(width, height)`` of a patch, as in training.
        overlap: overlap ratio of neighbouring patches.
        batch_size: patches per forward pass.
        patch_pipeline: transforms applied to each patch before the model, ending
            with ``PackDetInputs`` (e.g. a ``Resize`` to the detector's input size);
            default: pack the patch as it is.
        merge: ``dict(type='nms', iou_thr=0.5, class_agnostic=False)``.
        pad_val: fill value of the padding beyond the page's right/bottom border.
        max_per_page: keep at most this many boxes per page, highest scores first.
    """

    def __init__(self, patch_size=(1333, 800), overlap: float = 0.0, batch_size: int = 4, patch_pipeline=None,
                 merge=None, pad_val=0, max_per_page: int = 1000):
        merge = dict(type='nms', iou_thr=0.5) if merge is None else dict(merge)
        if merge.get('type') not in MERGE_METHODS:
            raise ValueError(f'merge type {merge.get("type")!r} is not valid; valid: {", ".join(MERGE_METHODS)}')
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        self.patch_size = patch_size
        self.overlap = overlap
        self.batch_size = batch_size
        self.merge = merge
        self.pad_val = pad_val
        self.max_per_page = max_per_page
        steps = patch_pipeline or [dict(type='PackDetInputs', meta_keys=DEFAULT_META_KEYS)]
        self.pipeline = Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t for t in steps])

    def _pack(self, img, window, meta):
        patch = crop_window(img, window, self.pad_val)
        results = dict(meta, img=patch, img_shape=patch.shape[:2], ori_shape=patch.shape[:2],
                       patch_offset=(int(window[0]), int(window[1])), scale_factor=(1.0, 1.0))
        return self.pipeline(results)

    @torch.no_grad()
    def predict_page(self, model, img: np.ndarray, meta: dict | None = None) -> InstanceData:
        """Page-level ``InstanceData`` (``bboxes`` x1y1x2y2, ``scores``, ``labels``) for one page.

        ``img`` is ``H x W`` or ``H x W x C`` in the channel order the model was
        trained with (BGR as loaded by mmcv).
        """
        if img.ndim == 2:
            img = img[..., None].repeat(3, axis=2)
        h, w = img.shape[:2]
        grid = patch_grid((w, h), self.patch_size, self.overlap)
        meta = {k: v for k, v in (meta or {}).items() if k in ('img_id', 'img_path')}
        boxes, scores, labels = [], [], []
        for start in range(0, len(grid), self.batch_size):
            windows = grid.windows[start:start + self.batch_size]
            packed = [self._pack(img, win, meta) for win in windows]
            outs = model.test_step(dict(inputs=[p['inputs'] for p in packed],
                                        data_samples=[p['data_samples'] for p in packed]))
            for win, out in zip(windows, outs):
                pred = out.pred_instances
                if len(pred) == 0:
                    continue
                boxes.append(boxes_to_page(pred.bboxes.float().cpu().numpy(), win, (w, h)))
                scores.append(pred.scores.float().cpu().numpy())
                labels.append(pred.labels.cpu().numpy())
        return self._merge(boxes, scores, labels)

    def _merge(self, boxes, scores, labels) -> InstanceData:
        out = InstanceData()
        if boxes:
            b, s, lab = np.concatenate(boxes), np.concatenate(scores), np.concatenate(labels)
        else:
            b, s, lab = np.zeros((0, 4)), np.zeros(0), np.zeros(0, dtype=np.int64)
        keep = nms(b, s, self.merge.get('iou_thr', 0.5),
                   None if self.merge.get('class_agnostic', False) else lab)[:self.max_per_page]
        out.bboxes = torch.as_tensor(b[keep], dtype=torch.float32).reshape(-1, 4)
        out.scores = torch.as_tensor(s[keep], dtype=torch.float32)
        out.labels = torch.as_tensor(lab[keep], dtype=torch.int64)
        return out

    def predict_batch(self, model, data_batch: dict) -> list:
        """Predictions for a batch of whole pages from a page dataloader
        (``inputs``: uint8 ``C x H x W`` tensors); returns its data samples with
        page-level ``pred_instances``."""
        outputs = []
        for inputs, sample in zip(data_batch['inputs'], data_batch['data_samples']):
            img = inputs.permute(1, 2, 0).cpu().numpy()
            sample.pred_instances = self.predict_page(model, img, sample.metainfo)
            outputs.append(sample)
        return outputs
