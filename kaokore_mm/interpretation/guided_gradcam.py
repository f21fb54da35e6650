"""Grad-CAM, guided backpropagation and Guided Grad-CAM for mmpretrain classifiers.

Built on the ``grad-cam`` package (pytorch-grad-cam >= 1.5): its ``GradCAM`` /
``GradCAMPlusPlus`` and ``GuidedBackpropReLUModel`` do the work. (mmpretrain's
own ``vis_cam.py`` script passes ``use_cuda``, which grad-cam 1.5
removed, so it cannot be used with it.) What this module adds:

- a wrapper that turns an mmpretrain ``ImageClassifier`` into a module from a
  normalised batch to class logits, and the input preparation with the model's
  own data preprocessor;
- safety for use inside training: the model's train/eval mode is restored,
  gradients are enabled only inside the call and the parameters' gradients
  cleared after it, grad-cam's hooks are released, and the ReLU modules that
  guided backpropagation swaps out are put back as the *same* objects (grad-cam
  puts back fresh, shared ``nn.ReLU()`` modules, which would drop ``inplace``
  flags and module identity).

Guided Grad-CAM (Selvaraju et al., 2017) is the element-wise product of the
guided backpropagation image and the (upsampled) Grad-CAM map.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from kaokore_mm.visualization.plots import figure_to_rgb, image_grid_figure, save_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

METHODS = ('gradcam', 'gradcam++')


class ClassifierLogits(nn.Module):
    """An mmpretrain ``ImageClassifier`` as ``normalised batch -> logits``."""

    def __init__(self, classifier):
        super().__init__()
        self.classifier = classifier

    def forward(self, x) -> torch.Tensor:
        return self.classifier(x, mode='tensor')


@dataclass
class CAMResult:
    target: int  # the class explained
    pred: int  # the predicted class
    scores: np.ndarray  # softmax scores
    image: np.ndarray  # the input as the model saw it, RGB float in [0, 1], H x W x 3
    cam: np.ndarray  # Grad-CAM map in [0, 1], H x W
    guided: np.ndarray  # guided backpropagation, H x W x 3 uint8 (deprocessed)
    guided_gradcam: np.ndarray  # Guided Grad-CAM, H x W x 3 uint8 (deprocessed)
    overlay: np.ndarray  # CAM heat map over the image, H x W x 3 uint8 RGB


def default_target_layer(model) -> nn.Module:
    """The last block of a ResNet/ResNeXt-like backbone (``layer4[-1]``), else the
    last convolution of the backbone."""
    backbone = model.backbone
    for name in ('layer4', 'stage4', 'layers'):
        layer = getattr(backbone, name, None)
        if isinstance(layer, nn.Sequential) and len(layer):
            return layer[-1]
    if getattr(backbone, 'res_layers', None):
        return getattr(backbone, backbone.res_layers[-1])[-1]
    convs = [m for m in backbone.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError('no convolution in the backbone: give target_layers explicitly')
    return convs[-1]


def _relu_slots(module: nn.Module) -> list:
    return [
        (parent, name, child)
        for parent in module.modules()
        for name, child in parent._modules.items()
        if isinstance(child, nn.ReLU)
    ]


class GuidedGradCAM:
    """Explain the predictions of an mmpretrain classifier.

    >>> cam = GuidedGradCAM(model)                       # an ImageClassifier
    >>> r = cam(img_bgr_uint8, target='pred')           # or a class index
    >>> r.overlay, r.guided, r.guided_gradcam

    Args:
        model: an mmpretrain ``ImageClassifier`` with a data preprocessor.
        target_layers: modules whose activations the CAM uses (default: the
            last block of the backbone).
        method: ``'gradcam'`` or ``'gradcam++'``.
    """

    def __init__(self, model, target_layers=None, method: str = 'gradcam'):
        if method not in METHODS:
            raise ValueError(f'method {method!r} is not valid; valid: {", ".join(METHODS)}')
        self.model = model
        self.method = method
        self.target_layers = list(target_layers) if target_layers else [default_target_layer(model)]

    def prepare(self, img_bgr: np.ndarray) -> torch.Tensor:
        """A normalised 1 x C x H x W batch from a BGR uint8 image (as mmcv loads it)."""
        x = torch.from_numpy(np.ascontiguousarray(img_bgr.transpose(2, 0, 1)))
        data = self.model.data_preprocessor(dict(inputs=[x]), False)
        return data['inputs'].detach()

    def __call__(self, img_bgr: np.ndarray, target='pred') -> CAMResult:
        from pytorch_grad_cam import GradCAM, GradCAMPlusPlus, GuidedBackpropReLUModel
        from pytorch_grad_cam.utils.image import deprocess_image, show_cam_on_image
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

        model = self.model
        was_training = model.training
        slots = _relu_slots(model)
        wrapper = ClassifierLogits(model)
        x = self.prepare(img_bgr)
        try:
            with torch.enable_grad():
                model.eval()
                with torch.no_grad():
                    scores = torch.softmax(wrapper(x), dim=1)[0].float().cpu().numpy()
                pred = int(scores.argmax())
                cls = pred if target in (None, 'pred') else int(target)
                if not 0 <= cls < len(scores):
                    raise ValueError(f'target class {cls} out of range (0..{len(scores) - 1})')
                cam_cls = GradCAM if self.method == 'gradcam' else GradCAMPlusPlus
                with cam_cls(model=wrapper, target_layers=self.target_layers) as cam:
                    grayscale = cam(input_tensor=x.clone(), targets=[ClassifierOutputTarget(cls)])[0]
                guided = GuidedBackpropReLUModel(wrapper, device=x.device)(x.clone(), target_category=cls)
        finally:
            for parent, name, child in slots:  # the very same ReLU objects back in place
                parent._modules[name] = child
            model.zero_grad(set_to_none=True)
            model.train(was_training)
        rgb = img_bgr[..., ::-1].astype(np.float32) / 255.0
        if rgb.shape[:2] != grayscale.shape:
            import cv2

            rgb = cv2.resize(rgb, grayscale.shape[::-1])
        mask = np.repeat(grayscale[..., None], 3, axis=2)
        return CAMResult(
            target=cls,
            pred=pred,
            scores=scores,
            image=rgb,
            cam=grayscale,
            guided=deprocess_image(guided),
            guided_gradcam=deprocess_image(mask * guided),
            overlay=show_cam_on_image(rgb, grayscale, use_rgb=True),
        )


def cam_panel(result: CAMResult, classes, title: str | None = None) -> Figure:
    """A figure (:class:`matplotlib.figure.Figure`): image, CAM overlay, guided
    backprop, Guided Grad-CAM."""
    name = classes[result.target] if classes else str(result.target)
    pred = classes[result.pred] if classes else str(result.pred)
    items = list(
        zip(
            (result.image, result.overlay, result.guided, result.guided_gradcam),
            ('input', f'Grad-CAM: {name}', 'guided backprop', 'Guided Grad-CAM'),
        )
    )
    fig = image_grid_figure(
        items,
        cols=4,
        cell=(2.5, 2.9),
        title=title or f'predicted {pred} ({result.scores[result.pred]:.2f}), explained: {name}',
    )
    fig.tight_layout()
    return fig


def resolve_target(target, classes) -> int | str:
    """``'pred'``, a class name or a class index -> what :class:`GuidedGradCAM` takes.

    Raises:
        ValueError: neither of these (the message lists the classes).
    """
    if target == 'pred':
        return 'pred'
    if target in classes:
        return list(classes).index(target)
    if str(target).isdigit() and int(target) < len(classes):
        return int(target)
    raise ValueError(f'target class {target!r} is neither pred, a class index nor one of {", ".join(classes)}')


def explain_images(
    model, cfg, classes, paths, out_dir, target='pred', method: str = 'gradcam', progress: bool = True
) -> tuple[list, list]:
    """Grad-CAM, guided backprop and Guided Grad-CAM images of face crops.

    Every image goes through the config's test pipeline first (as in
    evaluation) and gives ``OUT/<name>_panel.png``, ``_cam.png``, ``_guided.png``
    and ``_guided_gradcam.png``; several images also ``OUT/contact_sheet.png``.

    Args:
        model: an mmpretrain classifier in eval mode.
        cfg: its config.
        classes: the class names.
        paths: image files.
        out_dir: output folder (made).
        target: ``'pred'``, a class name or an index.
        method: ``'gradcam'`` or ``'gradcam++'``.
        progress: show a progress bar.

    Returns:
        ``(done, unreadable)``: ``(name, CAMResult)`` per explained image and
        ``(path, reason)`` per image that could not be read.
    """
    import os
    import os.path as osp

    import cv2
    from mmengine.dataset import Compose

    target = resolve_target(target, classes)
    pipeline = Compose(cfg.test_dataloader.dataset.pipeline)
    cam = GuidedGradCAM(model, method=method)
    os.makedirs(out_dir, exist_ok=True)
    bar = None
    if progress:
        from mmengine.utils import ProgressBar

        bar = ProgressBar(len(paths))
    done, unreadable = [], []
    for path in paths:
        try:
            packed = pipeline(dict(img_path=path))
        except (OSError, ValueError, AssertionError, cv2.error) as e:  # report and go on
            unreadable.append((path, f'{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}'))
            if bar is not None:
                bar.update()
            continue
        img = packed['inputs'].permute(1, 2, 0).numpy()
        r = cam(img, target)
        name = osp.splitext(osp.basename(path))[0]
        cv2.imwrite(osp.join(out_dir, f'{name}_panel.png'), figure_to_rgb(cam_panel(r, classes))[..., ::-1])
        cv2.imwrite(osp.join(out_dir, f'{name}_cam.png'), r.overlay[..., ::-1])
        cv2.imwrite(osp.join(out_dir, f'{name}_guided.png'), r.guided[..., ::-1])
        cv2.imwrite(osp.join(out_dir, f'{name}_guided_gradcam.png'), r.guided_gradcam[..., ::-1])
        done.append((name, r))
        if bar is not None:
            bar.update()
    if len(done) > 1:
        items = [(r.overlay, f'{name[:14]}\n{classes[r.pred]} {r.scores[r.pred]:.2f}') for name, r in done]
        save_figure(image_grid_figure(items, cols=6), osp.join(out_dir, 'contact_sheet.png'))
    return done, unreadable
