"""HardNegativeMiningHook: partway through a patched training, the model predicts its training
pages and from then on every window showing one of its confident false boxes is trained on."""

from __future__ import annotations

import copy
import inspect
import pickle
import time
from pathlib import Path

import numpy as np
import torch
from mmdet.registry import HOOKS
from mmengine.dist import broadcast_object_list, is_main_process
from mmengine.hooks import Hook
from mmengine.runner import EpochBasedTrainLoop, Runner
from mmengine.runner.loops import _InfiniteDataloaderIterator

from kaokore_mm.datasets import KaoKoreFaceDataset
from kaokore_mm.errors import UserError
from kaokore_mm.evaluation.gather import gather_pages
from kaokore_mm.inference import PatchedPredictor
from kaokore_mm.utils.config import loop_patching
from kaokore_mm.utils.io import atomic_write_bytes

FILE = 'hard_negatives/train_predictions.pkl'  # under the work dir: the mined predictions, as test.py --out writes them


@HOOKS.register_module()
class HardNegativeMiningHook(Hook):
    """Hard negatives mined by the training itself.

    When ``at`` of the training is done (a share of ``max_iters``, or of ``max_epochs``),
    the model predicts every page of its training set as the validation does (the
    ``PatchedValLoop``'s views, overlap and merge), the predictions are written to
    ``work_dir/hard_negatives/train_predictions.pkl`` (the format of ``test.py --out``) and
    added to the :class:`~kaokore_mm.datasets.PatchedPageDataset`'s ``hard_negatives``:
    from then on every window without a face that shows one of its false boxes scoring
    at least the dataset's ``hard_negative_thr`` is trained on, whatever ``empty_patch_ratio``
    (:mod:`kaokore_mm.core.hard_negatives`). The rest of the training learns what the first
    part took for faces (crests, fans, the distractors a patch at full resolution shows).

    Why not mmdet's ``OHEMSampler``: it mines hard RoIs inside the patches the sampler
    already drew; the windows that hold a distractor but no face are mostly never drawn
    (``empty_patch_ratio`` keeps a share of them), so it never sees them (docs/design.md).

    A training resumed past ``at`` reads the file back (or mines then, if the file is
    missing). ``at=None`` turns mining off; so does a training set that is no
    ``PatchedPageDataset`` (a whole-page training) or one that keeps every window without a
    face already (``empty_patch_ratio=1``): an info line says so. In a distributed
    training each rank predicts its share of the pages and every rank gets all of them.
    Runs before ``CheckpointHook`` (priority ``NORMAL``): the checkpoint of the iteration that
    mined is written after the file.
    """

    priority = 'NORMAL'

    def __init__(self, at: float | None = 0.5, log_interval: int = 10):
        if at is not None and not 0 < at < 1:
            raise UserError(f'HardNegativeMiningHook: `at` is a share of the training in (0, 1), got {at!r}')
        self.at, self.log_interval = at, log_interval
        self.step = None  # the iteration (or epoch) after which it mines; None: off

    # -- when
    def before_train(self, runner) -> None:
        self.step = None
        if self.at is None:
            return
        dataset = runner.train_dataloader.dataset
        if not hasattr(dataset, 'add_hard_negatives'):
            runner.logger.info(
                f'HardNegativeMiningHook: the training set is a {type(dataset).__name__}, not a '
                'PatchedPageDataset: no hard negatives to mine'
            )
            return
        if dataset.empty_patch_ratio >= 1:
            runner.logger.info(
                'HardNegativeMiningHook: empty_patch_ratio=1 trains on every window without a face already: '
                'nothing to mine (a lower ratio, e.g. 0.3, keeps a share of them and the mined ones)'
            )
            return
        by_epoch = isinstance(runner.train_loop, EpochBasedTrainLoop)
        total = runner.max_epochs if by_epoch else runner.max_iters
        self.step = max(1, int(round(self.at * total)))
        done = runner.epoch if by_epoch else runner.iter
        if done >= self.step:  # resumed past it: the mined predictions hold from there on
            path = Path(runner.work_dir) / FILE
            self._apply(runner, path if path.exists() else self._mine(runner))

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.step is not None and not isinstance(runner.train_loop, EpochBasedTrainLoop):
            if runner.iter + 1 == self.step:  # runner.iter counts the iterations before this one
                self._apply(runner, self._mine(runner))

    def after_train_epoch(self, runner) -> None:
        if self.step is not None and isinstance(runner.train_loop, EpochBasedTrainLoop):
            if runner.epoch + 1 == self.step:
                self._apply(runner, self._mine(runner))

    # -- what
    def _page_loader(self, runner):
        """Whole pages of the training set, the training sampler's subset, for the val loop's predictor."""
        cfg = runner.cfg
        train_ds = runner.train_dataloader.dataset
        page_loader = cfg.get('val_dataloader') or cfg.get('test_dataloader')
        pipeline = copy.deepcopy(page_loader['dataset']['pipeline'])
        # the patching options (the training set's own parameters) are no whole-page dataset's
        patching = _own_parameters(type(train_ds)) - _own_parameters(KaoKoreFaceDataset)
        dataset = {k: v for k, v in copy.deepcopy(cfg.train_dataloader['dataset']).items() if k not in patching}
        dataset.update(type='KaoKoreFaceDataset', pipeline=pipeline, test_mode=True)
        dataset.update(ann_file=train_ds.ann_file, data_root='', data_prefix=copy.deepcopy(train_ds.data_prefix))
        sampler = copy.deepcopy(cfg.train_dataloader.get('sampler') or {})
        if sampler.get('type') == 'BookSplitSampler':  # the training's subset of the pages, in page order
            sampler = {k: v for k, v in sampler.items() if k != 'page_window'}
            sampler.update(shuffle=False, round_up=False)
        else:
            sampler = dict(type='DefaultSampler', shuffle=False, round_up=False)
        return Runner.build_dataloader(dict(batch_size=1, num_workers=0, dataset=dataset, sampler=sampler))

    def _predictor(self, runner):
        loop_cfg = dict(runner.cfg.get('val_cfg') or runner.cfg.get('test_cfg') or {})
        if loop_cfg.get('type') not in ('PatchedValLoop', 'PatchedTestLoop'):
            raise UserError(
                'HardNegativeMiningHook: the training set is patched but the val_cfg is no PatchedValLoop; '
                'give the config one (configs/_base_/datasets/kaokore_patched_pages.py) or set '
                'default_hooks.hard_negatives.at=None'
            )
        kwargs = {k: v for k, v in loop_cfg.items() if k not in ('type', 'fp16')}
        return PatchedPredictor(**loop_patching(runner.cfg, kwargs))

    @torch.no_grad()
    def _mine(self, runner) -> Path:
        loader, predictor, model = self._page_loader(runner), self._predictor(runner), runner.model
        n, t0, records = len(loader), time.perf_counter(), []
        runner.logger.info(f'HardNegativeMiningHook: the model predicts its {n} training pages (this rank)')
        model.eval()
        try:
            for i, batch in enumerate(loader):
                for sample in predictor.predict_batch(model, batch):
                    pred = sample.pred_instances
                    records.append(
                        dict(
                            img_id=sample.metainfo.get('img_id'),
                            img_path=sample.metainfo.get('img_path'),
                            pred_instances=dict(
                                bboxes=pred.bboxes.detach().cpu().numpy().astype(np.float32),
                                scores=pred.scores.detach().cpu().numpy().astype(np.float32),
                            ),
                        )
                    )
                if (i + 1) % self.log_interval == 0 or i + 1 == n:
                    runner.logger.info(f'HardNegativeMiningHook: {i + 1}/{n} pages, {time.perf_counter() - t0:.0f} s')
        finally:
            model.train()
        pages = gather_pages(records)
        path = Path(runner.work_dir) / FILE
        if is_main_process():
            atomic_write_bytes(path, pickle.dumps(pages))
        broadcast_object_list([None])  # the others wait for the file
        return path

    def _apply(self, runner, path: Path) -> None:
        """Add the mined predictions to the training set and rebuild its dataloader on it."""
        dataset = runner.train_dataloader.dataset
        before = len(dataset)
        dataset.add_hard_negatives(path)
        loop = runner.train_loop
        cfg = dict(copy.deepcopy(runner.cfg.train_dataloader), dataset=dataset)
        diff_rank_seed = (getattr(runner, '_randomness_cfg', None) or {}).get('diff_rank_seed', False)
        loop.dataloader = Runner.build_dataloader(cfg, seed=runner.seed, diff_rank_seed=diff_rank_seed)
        if hasattr(loop, 'dataloader_iterator'):
            loop.dataloader_iterator = _InfiniteDataloaderIterator(loop.dataloader)
        runner.logger.info(
            f'HardNegativeMiningHook: {dataset.num_hard_patches} windows show a false box scoring >= '
            f'{dataset.hard_negative_thr} ({path}); training samples {before} -> {len(dataset)}'
        )


def _own_parameters(cls) -> set:
    """The named parameters of ``cls.__init__`` (not ``*args``, ``**kwargs``)."""
    kinds = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return {n for n, p in inspect.signature(cls.__init__).parameters.items() if n != 'self' and p.kind not in kinds}
