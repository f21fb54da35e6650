"""Grad-CAM, guided backpropagation and Guided Grad-CAM for mmpretrain classifiers.

Built on the ``grad-cam`` package (pytorch-grad-cam >= 1.5): its ``GradCAM`` /
``GradCAMPlusPlus`` and ``GuidedBackpropReLUModel`` do the work. (mmpretrain's
own ``tools/visualization/vis_cam.py`` passes ``use_cuda``, which grad-cam 1.5
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

import numpy as np
import torch
from torch import nn

METHODS = ('gradcam', 'gradcam++')


class ClassifierLogits(nn.Module):
    """An mmpretrain ``ImageClassifier`` as ``normalised batch -> logits``."""

    def __init__(self, classifier):
        super().__init__()
        self.classifier = classifier

    def forward(self, x):
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
    return [(parent, name, child) for parent in module.modules() for name, child in parent._modules.items()
            if isinstance(child, nn.ReLU)]


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
        return CAMResult(target=cls, pred=pred, scores=scores, image=rgb, cam=grayscale,
                         guided=deprocess_image(guided), guided_gradcam=deprocess_image(mask * guided),
                         overlay=show_cam_on_image(rgb, grayscale, use_rgb=True))


def cam_panel(result: CAMResult, classes, title: str | None = None):
    """A matplotlib figure: image, CAM overlay, guided backprop, Guided Grad-CAM."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 4, figsize=(10, 2.9))
    name = classes[result.target] if classes else str(result.target)
    pred = classes[result.pred] if classes else str(result.pred)
    for ax, im, t in zip(axes, (result.image, result.overlay, result.guided, result.guided_gradcam),
                         ('input', f'Grad-CAM: {name}', 'guided backprop', 'Guided Grad-CAM')):
        ax.imshow(im)
        ax.set_title(t, fontsize=9)
        ax.axis('off')
    fig.suptitle(title or f'predicted {pred} ({result.scores[result.pred]:.2f}), explained: {name}', fontsize=10)
    fig.tight_layout()
    return fig


def figure_to_rgb(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
