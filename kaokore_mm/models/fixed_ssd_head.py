"""SSDHead that predicts under mmdet 3.3.0."""

from __future__ import annotations

from mmdet.models.dense_heads import SSDHead
from mmdet.registry import MODELS


@MODELS.register_module()
class FixedSSDHead(SSDHead):
    """mmdet 3.3.0's :class:`SSDHead` with the ``loss_cls`` attribute it lacks.

    ``SSDHead.__init__`` skips ``AnchorHead.__init__`` and so never sets
    ``self.loss_cls``, while ``BaseDenseHead._predict_by_feat_single`` reads
    ``self.loss_cls.custom_cls_channels``: SSD trains but crashes at predict
    (``'SSDHead' object has no attribute 'loss_cls'``). SSD's classification loss
    is a softmax cross-entropy with hard negative mining written inline in
    ``loss_by_feat``; this head records that as a ``CrossEntropyLoss`` module
    (no parameters, state dicts unchanged) so that prediction applies softmax,
    as SSD intends. Use ``type='FixedSSDHead'`` wherever ``SSDHead`` is used.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_cls = MODELS.build(dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0))
