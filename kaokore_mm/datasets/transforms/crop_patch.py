"""Cut the patch a sample names out of its (rescaled, padded) page."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes

from kaokore_mm.core.images import resize_to
from kaokore_mm.core.patching import boxes_to_patch, boxes_to_view, crop_window, in_valid_range


@TRANSFORMS.register_module()
class CropPatch(BaseTransform):
    """Crop ``results['patch']`` (``x1, y1, x2, y2`` in the view's pixels) from the page.

    A sample of a rescaled view (``view_size`` and ``view_scale`` set by
    :class:`PatchedPageDataset`) is cut from the page resized to ``view_size``
    (:func:`kaokore_mm.core.images.resize_to`, as the predictor does at test
    time; the last ``cache_size`` resized pages of the process are kept: 8 covers the
    rescaled views of the 4 pages of a ``page_window``).
    Parts of the window beyond the page (right and bottom padding of the grid)
    are filled with ``pad_val``. Boxes are scaled to the view, clipped and
    shifted to the patch; a face keeps its label when at least ``min_visible``
    of its area is inside the patch and its longest side lies in the view's
    ``valid_range``, and becomes an ignored box (``gt_ignore_flags``)
    otherwise; faces outside the patch are dropped.

    ``min_visible=None`` takes the value the dataset wrote into the sample
    (``results['min_visible']``, see :class:`PatchedPageDataset`), else 0.5.

    Required keys: ``img``, ``patch``; modified: ``img``, ``img_shape``,
    ``gt_bboxes``, ``gt_bboxes_labels``, ``gt_ignore_flags``; added:
    ``patch_offset``, ``page_shape``.
    """

    def __init__(self, min_visible: float | None = None, pad_val: int | float = 0, cache_size: int = 8):
        if min_visible is not None and not 0 < min_visible <= 1:
            raise ValueError(f'min_visible must be in (0, 1], got {min_visible!r}')
        self.min_visible = min_visible
        self.pad_val = pad_val
        self.cache_size = cache_size
        self._views: OrderedDict = OrderedDict()

    def _view_image(self, results: dict, img: np.ndarray) -> np.ndarray:
        size = tuple(int(v) for v in results.get('view_size') or (img.shape[1], img.shape[0]))
        if size == (img.shape[1], img.shape[0]):
            return img
        key = (results.get('img_path'), id(img), size)
        if key in self._views:
            self._views.move_to_end(key)
            return self._views[key][1]
        view = resize_to(img, size)
        self._views[key] = (img, view)  # the page is kept with its view, so its id stays its own
        while len(self._views) > self.cache_size:
            self._views.popitem(last=False)
        return view

    def transform(self, results: dict) -> dict:
        if 'patch' not in results:
            raise KeyError(
                f'CropPatch needs a "patch" window in the sample of {results.get("img_path")}; '
                'use PatchedPageDataset or set results["patch"]'
            )
        page = results['img']
        h, w = page.shape[:2]
        img = self._view_image(results, page)
        x1, y1, x2, y2 = (int(v) for v in results['patch'])
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
        page_h, page_w = results['page_shape']
        view_w, view_h = results.get('view_size') or (page_w, page_h)
        arr = boxes_to_view(arr, (view_w / page_w, view_h / page_h))
        patch_boxes, keep, ignore = boxes_to_patch(arr, window, min_visible)
        valid_range = results.get('valid_range')
        if valid_range is not None:  # a face this view is not responsible for is an ignored region here
            out_of_range = keep & ~in_valid_range(arr, valid_range)
            keep, ignore = keep & ~out_of_range, ignore | out_of_range
        flags = np.asarray(results.get('gt_ignore_flags', np.zeros(len(arr), bool)), dtype=bool)
        sel = keep | ignore
        results['gt_bboxes'] = HorizontalBoxes(patch_boxes[sel].astype(np.float32))
        results['gt_ignore_flags'] = (ignore | flags)[sel]
        if 'gt_bboxes_labels' in results:
            results['gt_bboxes_labels'] = np.asarray(results['gt_bboxes_labels'])[sel]

    def __repr__(self) -> str:
        name = self.__class__.__name__
        return f'{name}(min_visible={self.min_visible}, pad_val={self.pad_val}, cache_size={self.cache_size})'
