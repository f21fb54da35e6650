"""Testing on whole pages with patched inference."""
from __future__ import annotations

import torch
from mmengine.runner import TestLoop, autocast
from mmdet.registry import LOOPS

from kaokore_mm.apis.patched_predictor import PatchedPredictor


@LOOPS.register_module()
class PatchedTestLoop(TestLoop):
    """:class:`TestLoop` counterpart of :class:`PatchedValLoop`."""

    def __init__(self, runner, dataloader, evaluator, fp16: bool = False, **predictor_cfg):
        super().__init__(runner, dataloader, evaluator, fp16)
        self.predictor = PatchedPredictor(**predictor_cfg)

    @torch.no_grad()
    def run_iter(self, idx, data_batch):
        self.runner.call_hook('before_test_iter', batch_idx=idx, data_batch=data_batch)
        with autocast(enabled=self.fp16):
            outputs = self.predictor.predict_batch(self.runner.model, data_batch)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook('after_test_iter', batch_idx=idx, data_batch=data_batch, outputs=outputs)
