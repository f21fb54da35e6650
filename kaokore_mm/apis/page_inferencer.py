"""Python API: a trained detector applied to whole pages."""

from __future__ import annotations

import copy
import os
import warnings

import cv2
import numpy as np

from kaokore_mm.core.images import to_bgr_uint8
from kaokore_mm.core.page_files import BadPageError, apply_exif_orientation, file_orientation
from kaokore_mm.utils.config import loop_patching, resolved

from .patched_predictor import PatchedPredictor

LOADING = ('LoadImageFromFile', 'LoadAnnotations')


def read_page(path) -> np.ndarray:
    """A page file as a BGR uint8 array (grayscale, RGBA and 16-bit handled), turned
    as its EXIF orientation says, as the training pipelines (OpenCV's colour
    decode) and browsers show it.

    Raises:
        BadPageError: the file is missing or cannot be decoded (the message
            starts with the path).
    """
    data = np.fromfile(os.fspath(path), dtype=np.uint8) if os.path.isfile(path) else None
    if data is None:
        raise BadPageError(f'{path}: no such page image')
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)  # keeps alpha and 16 bits, ignores EXIF orientation
    if img is None:
        raise BadPageError(f'{path}: not a readable image (corrupt or unsupported format)')
    try:
        img = to_bgr_uint8(img)
    except ValueError as e:
        raise BadPageError(f'{path}: {e}') from None
    return apply_exif_orientation(img, file_orientation(path))


def predictor_from_config(cfg, **overrides) -> PatchedPredictor:
    """The page predictor a config tests with: its ``PatchedTestLoop`` settings,
    or for whole-page configs the page as one window with the config's test
    transforms (e.g. the resize to the input size)."""
    test_cfg = dict(cfg.get('test_cfg') or {})
    if test_cfg.get('type') == 'PatchedTestLoop':
        kwargs = loop_patching(cfg, {k: v for k, v in test_cfg.items() if k not in ('type', 'fp16')})
    else:
        pipeline = cfg.test_dataloader.dataset.pipeline
        kwargs = dict(patch_size=None, patch_pipeline=[t for t in pipeline if t['type'] not in LOADING])
    kwargs.update({k: v for k, v in overrides.items() if v is not None})
    return PatchedPredictor(**kwargs)


class PageInferencer:
    """Detect faces on whole pages with the patching of a config.

    >>> inferencer = PageInferencer('configs/faster_rcnn_r50_patch1333.py', 'epoch_12.pth')
    >>> result = inferencer('page.jpg')  # or a BGR array
    >>> result['bboxes'], result['scores']  # x1, y1, x2, y2 in page pixels

    ``overrides`` replace the config's predictor settings (``patch_size``,
    ``overlap``, ``batch_size``, ``merge``, ...).
    """

    def __init__(self, config, checkpoint: str | None = None, device: str = 'cpu', score_thr: float = 0.0, **overrides):
        from mmdet.apis import init_detector

        cfg = resolved(config)  # model_from resolved, as every tool loads a config
        # mmdet's builder: the model without its pretrained init (the weights come from the checkpoint;
        # kaokore_mm's checkpoints pass torch's safe loader, see compat.py), dataset_meta, eval mode
        with warnings.catch_warnings(record=True) as caught:  # mmdet resets filters ('once') before it warns
            self.model = init_detector(cfg, checkpoint, device=device)
        for w in caught:  # without a checkpoint (random weights) mmdet's note on COCO class names does not apply
            if not (checkpoint is None and 'use COCO classes by default' in str(w.message)):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        self.cfg = cfg
        self.score_thr = score_thr
        self.predictor = predictor_from_config(cfg, **overrides)

    def with_views(self, views) -> PageInferencer:
        """The same model and settings seeing pages at ``views`` (see
        :meth:`PatchedPredictor.with_views`); the model is shared, not copied."""
        other = copy.copy(self)
        other.predictor = self.predictor.with_views(views)
        return other

    def __call__(self, page, meta: dict | None = None) -> dict:
        """``dict(bboxes, scores, labels)`` (NumPy) of one page (path or array)."""
        if isinstance(page, (str, os.PathLike)):
            meta = dict(meta or {}, img_path=os.fspath(page))
            page = read_page(page)
        else:
            page = to_bgr_uint8(page)
        pred = self.predictor.predict_page(self.model, page, meta)
        keep = pred.scores >= self.score_thr
        return dict(
            bboxes=pred.bboxes[keep].numpy(), scores=pred.scores[keep].numpy(), labels=pred.labels[keep].numpy()
        )
