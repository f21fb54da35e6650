"""Status/gender of detected faces with an mmpretrain classifier (for annotation)."""

from __future__ import annotations

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import init_default_scope

from kaokore_mm.compat import check_checkpoint
from kaokore_mm.core.labels import TASKS
from kaokore_mm.interpretation.label_confidence_hook import read_label_confidence
from kaokore_mm.utils.image_ops import cut_crop, face_window
from kaokore_mm.utils.weights import check_weights_fit

LOADING = ('LoadImageFromFile',)


def build_classifier(
    config, checkpoint, device: str = 'cpu', partial_load: bool = False
) -> tuple[torch.nn.Module, Config, list[str]]:
    """``(model, cfg, classes)``: an mmpretrain classifier of a config with its
    checkpoint's weights, in eval mode on ``device`` (mmpretrain's own builder,
    ``mmpretrain.apis.get_model``; kaokore_mm's checkpoints pass torch's safe
    loader, see :mod:`kaokore_mm.compat`). A checkpoint of another model (a
    detector's, another backbone's) is refused unless ``partial_load``
    (:func:`~kaokore_mm.utils.weights.check_weights_fit`). The classes come from the
    checkpoint's ``dataset_meta`` or, failing that, from the config's task.
    """
    from mmpretrain.apis import get_model

    name = config if not isinstance(config, Config) else (config.filename or 'the config')
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    check_checkpoint(checkpoint)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = get_model(cfg, pretrained=str(checkpoint), device=device)
    check_weights_fit(model, checkpoint, name, partial_load)
    classes = (getattr(model, '_dataset_meta', None) or {}).get('classes')
    if not classes:
        classes = TASKS[cfg.test_dataloader.dataset.get('task', 'status')]
    return model, cfg, list(classes)


class FaceClassifier:
    """Classify faces on a page: each box is cut as a 256 x 256 crop (as KaoKore's
    crops) and goes through the classifier's test pipeline.

    When the checkpoint carries the label confidence its validation measured
    (:class:`~kaokore_mm.interpretation.LabelConfidenceHook`), the scores are calibrated
    with its temperature and a label whose calibrated score reaches its threshold is
    ``sure``: on the validation crops such labels were right at least the target share of
    the time (95 %), so a person may confirm them in bulk. Without it the scores are the
    softmax and no label is sure (``self.confidence`` is ``None``)."""

    def __init__(self, config, checkpoint, device: str = 'cpu', crop_size: int = 256, partial_load: bool = False):
        self.model, cfg, self.classes = build_classifier(config, checkpoint, device, partial_load)
        self.task = cfg.test_dataloader.dataset.get('task', 'status')
        self.pipeline = Compose([t for t in cfg.test_dataloader.dataset.pipeline if t['type'] not in LOADING])
        self.crop_size = crop_size
        self.confidence = read_label_confidence(checkpoint)

    @torch.inference_mode()
    def __call__(self, page_bgr: np.ndarray, boxes) -> list[tuple[str, float, bool]]:
        """``(label, score, sure)`` of each box."""
        temperature = float((self.confidence or {}).get('temperature') or 1.0)
        threshold = (self.confidence or {}).get('threshold')
        out = []
        for box in np.asarray(boxes, float).reshape(-1, 4):
            crop = cut_crop(page_bgr, face_window(box), self.crop_size)
            packed = self.pipeline(dict(img=crop, img_shape=crop.shape[:2], ori_shape=crop.shape[:2]))
            data = self.model.data_preprocessor(dict(inputs=[packed['inputs']]), False)
            scores = torch.softmax(self.model(data['inputs'], mode='tensor') / temperature, dim=1)[0]
            k = int(scores.argmax())
            score = float(scores[k])
            out.append((self.classes[k], score, threshold is not None and score >= threshold))
        return out
