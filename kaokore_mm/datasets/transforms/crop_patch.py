"""Cut the patch a sample names out of its (padded) page."""

from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes

from kaokore_mm.core.patching import boxes_to_patch, crop_window


@TRANSFORMS.register_module()
class CropPatch(BaseTransform):
    """Crop ``results['patch']`` (``x1, y1, x2, y2`` in page pixels) from the page.

    Parts of the window beyond the page (right and bottom padding of the grid)
    are filled with ``pad_val``. Boxes are clipped and shifted to the patch;
    a face keeps its label when at least ``min_visible`` of its area is inside
    the patch and becomes an ignored box (``gt_ignore_flags``) otherwise; faces
    outside the patch are dropped.

    ``min_visible=None`` takes the value the dataset wrote into the sample
    (``results['min_visible']``, see :class:`PatchedPageDataset`), else 0.5.

    Required keys: ``img``, ``patch``; modified: ``img``, ``img_shape``,
    ``gt_bboxes``, ``gt_bboxes_labels``, ``gt_ignore_flags``; added:
    ``patch_offset``, ``page_shape``.
    """

    def __init__(self, min_visible: float | None = None, pad_val: int | float = 0):
        if min_visible is not None and not 0 < min_visible <= 1:
            raise ValueError(f'min_visible must be in (0, 1], got {min_visible!r}')
        self.min_visible = min_visible
        self.pad_val = pad_val

    def transform(self, results: dict) -> dict:
        if 'patch' not in results:
            raise KeyError(
                f'CropPatch needs a "patch" window in the sample of {results.get("img_path")}; '
                'use PatchedPageDataset or set results["patch"]'
            )
        img = results['img']
        x1, y1, x2, y2 = (int(v) for v in results['patch'])
        h, w = img.shape[:2]
        try:
            patch = crop_window(img, (x1, y1, x2, y2), self.pad_val)
        except ValueError as e:
            raise ValueError(f'{results.get("img_path")}: {e}') from None
        results['img'] = patch
        results['page_shape'] = (h, w)
        results['img_shape'] = patch.shape[:2]
        results['patch_offset'] = (x1, y1)
        if results.get('gt_bboxes') is not None:
            self._crop_boxes(results, (x1, y1, x2, y2))
        return results

    def _crop_boxes(self, results: dict, window) -> None:
        min_visible = self.min_visible or results.get('min_visible', 0.5)
        boxes = results['gt_bboxes']
        arr = boxes.numpy() if hasattr(boxes, 'numpy') else np.asarray(boxes)
        patch_boxes, keep, ignore = boxes_to_patch(arr, window, min_visible)
        flags = np.asarray(results.get('gt_ignore_flags', np.zeros(len(arr), bool)), dtype=bool)
        sel = keep | ignore
        results['gt_bboxes'] = HorizontalBoxes(patch_boxes[sel].astype(np.float32))
        results['gt_ignore_flags'] = (ignore | flags)[sel]
        if 'gt_bboxes_labels' in results:
            results['gt_bboxes_labels'] = np.asarray(results['gt_bboxes_labels'])[sel]

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(min_visible={self.min_visible}, pad_val={self.pad_val})'
