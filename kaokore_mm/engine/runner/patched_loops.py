"""Validation and testing on whole pages with patched inference: one body, two loops."""

from __future__ import annotations

import torch
from mmdet.registry import LOOPS
from mmengine.runner import TestLoop, ValLoop, autocast

from kaokore_mm.inference import PatchedPredictor
from kaokore_mm.utils.config import loop_patching


class PatchedLoopMixin:
    """The shared body of :class:`PatchedValLoop` and :class:`PatchedTestLoop`:
    the dataloader yields whole pages; each page is predicted patch by patch
    (:class:`PatchedPredictor`) and the evaluator sees page-level boxes. The
    model and its checkpoints stay plain mmdet detectors.

    ``predictor_cfg`` are :class:`PatchedPredictor`'s arguments; ``patch_size``
    (and ``overlap``, ``min_visible``) default to the training dataset's
    patching, so a config sets its patch size in one place.
    """

    stage = ''  # 'val' or 'test': the names of the hooks called

    def _init_predictor(self, runner, predictor_cfg: dict) -> None:
        cfg = getattr(runner, 'cfg', None)
        self.predictor = PatchedPredictor(**loop_patching(cfg, predictor_cfg) if cfg is not None else predictor_cfg)

    @torch.no_grad()
    def run_iter(self, idx, data_batch) -> None:
        self.runner.call_hook(f'before_{self.stage}_iter', batch_idx=idx, data_batch=data_batch)
        with autocast(enabled=self.fp16):
            outputs = self.predictor.predict_batch(self.runner.model, data_batch)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(f'after_{self.stage}_iter', batch_idx=idx, data_batch=data_batch, outputs=outputs)


@LOOPS.register_module()
class PatchedValLoop(PatchedLoopMixin, ValLoop):
    """:class:`ValLoop` on whole pages with patched inference (see :class:`PatchedLoopMixin`)."""

    stage = 'val'

    def __init__(self, runner, dataloader, evaluator, fp16: bool = False, **predictor_cfg):
        super().__init__(runner, dataloader, evaluator, fp16)
        self._init_predictor(runner, predictor_cfg)


@LOOPS.register_module()
class PatchedTestLoop(PatchedLoopMixin, TestLoop):
    """:class:`TestLoop` on whole pages with patched inference (see :class:`PatchedLoopMixin`)."""

    stage = 'test'

    def __init__(self, runner, dataloader, evaluator, fp16: bool = False, **predictor_cfg):
        super().__init__(runner, dataloader, evaluator, fp16)
        self._init_predictor(runner, predictor_cfg)
