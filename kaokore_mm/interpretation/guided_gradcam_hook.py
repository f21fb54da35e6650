"""Guided Grad-CAM images of validation/test samples, written during a run."""

from __future__ import annotations

import os.path as osp

import cv2
from mmengine.dist import master_only
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from kaokore_mm.interpretation.guided_gradcam import GuidedGradCAM, cam_panel
from kaokore_mm.visualization.plots import figure_to_rgb


@HOOKS.register_module()
class GuidedGradCAMHook(Hook):
    """After each validation (every ``interval`` of them) and after testing,
    explain ``num_per_class`` samples of every class of the evaluated dataset
    (the first ones, so the same faces across epochs) and write, per sample, a
    panel (input, Grad-CAM overlay, guided backpropagation, Guided Grad-CAM) to
    ``<work_dir>/<out_dir>/<val_epoch_N|test>/`` and to the visualizer's backends.

    It leaves training as it was (see :class:`kaokore_mm.interpretation.GuidedGradCAM`):
    gradients only inside, cleared after; mode and modules restored; hooks released.

    Args:
        num_per_class: samples explained per class.
        target: ``'pred'`` (explain the prediction) or ``'gt'`` (the true class).
        method: ``'gradcam'`` or ``'gradcam++'``.
    """

    priority = 'LOW'

    def __init__(
        self,
        num_per_class: int = 2,
        target: str = 'pred',
        method: str = 'gradcam',
        interval: int = 1,
        out_dir: str = 'cam',
    ):
        if target not in ('pred', 'gt'):
            raise ValueError(f"target must be 'pred' or 'gt', got {target!r}")
        self.num_per_class, self.target, self.method = num_per_class, target, method
        self.interval, self.out_dir = interval, out_dir
        self._val_count = 0

    # Panels are drawn and written by rank 0 only (``explain`` is ``master_only``):
    # every rank holds the same weights after DDP's synchronisation.

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._val_count += 1
        if self._val_count % self.interval == 0:
            self.explain(runner, runner.val_dataloader.dataset, f'val_epoch_{runner.epoch}_iter_{runner.iter}')

    def after_test_epoch(self, runner, metrics=None) -> None:
        self.explain(runner, runner.test_dataloader.dataset, 'test')

    @staticmethod
    def pick(dataset, num_per_class: int) -> list[int]:
        dataset = getattr(dataset, 'dataset', dataset)  # through ClassBalancedDataset & co.
        chosen, per_class = [], {}
        for i in range(len(dataset)):
            label = int(dataset.get_data_info(i)['gt_label'])
            if per_class.get(label, 0) < num_per_class:
                per_class[label] = per_class.get(label, 0) + 1
                chosen.append(i)
        return chosen

    @master_only
    def explain(self, runner, dataset, tag: str) -> list[str]:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        base = getattr(dataset, 'dataset', dataset)
        classes = list(base.metainfo.get('classes', ()))
        cam = GuidedGradCAM(model, method=self.method)
        out = osp.join(runner.work_dir, self.out_dir, tag)
        written = []
        for i in self.pick(dataset, self.num_per_class):
            sample = base[i]  # the test pipeline: the crop as the model sees it
            img = sample['inputs'].permute(1, 2, 0).numpy()  # BGR, as loaded
            gt = int(sample['data_samples'].gt_label[0])
            result = cam(img, target=gt if self.target == 'gt' else 'pred')
            name = f'{classes[gt] if classes else gt}_{i:05d}'
            fig = cam_panel(
                result,
                classes,
                f'true {classes[gt] if classes else gt}, predicted '
                f'{classes[result.pred] if classes else result.pred} ({result.scores[result.pred]:.2f})',
            )
            panel = figure_to_rgb(fig)
            path = osp.join(out, f'{name}.png')
            import os

            os.makedirs(out, exist_ok=True)
            cv2.imwrite(path, panel[..., ::-1])
            runner.visualizer.add_image(f'cam/{tag}/{name}', panel, step=runner.iter)
            written.append(path)
        runner.logger.info(f'Guided Grad-CAM: {len(written)} panels in {out}')
        return written
