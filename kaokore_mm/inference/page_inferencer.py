"""Python API: a trained detector applied to whole pages."""

from __future__ import annotations

import copy
import os
import warnings

from kaokore_mm.core.images import to_bgr_uint8
from kaokore_mm.core.page_files import read_page  # noqa: F401  (the one page reader, also the API's)
from kaokore_mm.utils.config import loop_patching, resolved
from kaokore_mm.utils.preflight import building
from kaokore_mm.utils.weights import check_weights_fit

from .patched_predictor import PatchedPredictor

LOADING = ('LoadImageFromFile', 'LoadPageFromFile', 'LoadAnnotations')


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
    ``overlap``, ``batch_size``, ``merge``, ...). A checkpoint whose weights are not the
    config's model's is refused unless ``partial_load``.
    """

    def __init__(
        self,
        config,
        checkpoint: str | None = None,
        device: str = 'cpu',
        score_thr: float = 0.0,
        partial_load: bool = False,
        **overrides,
    ):
        from mmdet.apis import init_detector

        cfg = resolved(config)  # model_from resolved, as every tool loads a config
        # mmdet's builder: the model without its pretrained init (the weights come from the checkpoint;
        # kaokore_mm's checkpoints pass torch's safe loader, see compat.py), dataset_meta, eval mode
        name = getattr(cfg, 'filename', None) or 'the config'
        with warnings.catch_warnings(record=True) as caught, building(name):  # mmdet resets filters before it warns
            self.model = init_detector(cfg, checkpoint, device=device)
        for w in caught:  # without a checkpoint (random weights) mmdet's note on COCO class names does not apply
            if not (checkpoint is None and 'use COCO classes by default' in str(w.message)):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if checkpoint is not None:  # mmdet loads any weights with a warning: another model's are refused here
            check_weights_fit(self.model, checkpoint, name, partial_load)
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
