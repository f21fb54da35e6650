"""Page loading with the project's one page reader, decoding a page once for all of its patches."""

from __future__ import annotations

from collections import OrderedDict

import cv2
from mmcv.transforms import LoadImageFromFile
from mmdet.registry import TRANSFORMS

from kaokore_mm.core.page_files import read_page
from kaokore_mm.errors import BadPageError, first_line


@TRANSFORMS.register_module()
class LoadPageFromFile(LoadImageFromFile):
    """``LoadImageFromFile`` with a small per-process LRU cache of decoded pages.

    A page of 4000 x 3000 px takes tens of milliseconds to decode and yields
    dozens of patches; decoding it again for every patch would make data
    loading, not the detector, the bottleneck. The cache keeps the last
    ``cache_size`` pages of this worker process; with
    ``BookSplitSampler(page_window=K)`` and ``cache_size >= K`` the patches of a
    page are drawn close together and each page is decoded about once per
    worker and epoch.

    Pages are read with :func:`kaokore_mm.core.page_files.read_page`, the reader of the
    annotator and the page inferencer too (mmcv's colour decode would show a page's
    transparent margins black where they show white, and refuse float pages they read):
    the same pixels in training, testing and annotation. Remote files (``backend_args``)
    go through mmcv's loader.

    Cached pages are returned read-only (``img.flags.writeable`` is False) so
    that a transform that would modify a whole page in place fails loudly
    instead of corrupting the cache; ``CropPatch`` copies the patch it cuts.
    Options are those of ``LoadImageFromFile``; ``cache_size=0`` disables the
    cache.
    """

    def __init__(self, *args, cache_size: int = 4, **kwargs):
        super().__init__(*args, **kwargs)
        if cache_size < 0:
            raise ValueError(f'cache_size must be >= 0, got {cache_size}')
        self.cache_size = cache_size
        self._cache: OrderedDict = OrderedDict()
        self.hits = self.misses = 0

    def transform(self, results: dict) -> dict:
        key = results['img_path']
        if self.cache_size and key in self._cache:
            self._cache.move_to_end(key)
            img = self._cache[key]
            self.hits += 1
            results['img'] = img
            results['img_shape'] = img.shape[:2]
            results['ori_shape'] = img.shape[:2]
            return results
        try:
            results = self._read(results)
        except BadPageError:
            raise
        except (OSError, ValueError, AssertionError, cv2.error) as e:  # one line naming the page, even from a worker
            raise BadPageError(f'{key}: cannot be read ({type(e).__name__}: {first_line(e)[:200]})') from None
        if results is None or not self.cache_size:
            return results
        self.misses += 1
        img = results['img']
        img.flags.writeable = False
        self._cache[key] = img
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return results

    def _read(self, results: dict) -> dict:
        if self.backend_args or '://' in str(results['img_path']):
            return super().transform(results)
        img = read_page(results['img_path'])
        if self.to_float32:
            img = img.astype('float32')
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{super().__repr__()[:-1]}, cache_size={self.cache_size})'
