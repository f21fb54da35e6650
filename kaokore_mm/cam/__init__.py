from .guided_gradcam import CAMResult, ClassifierLogits, GuidedGradCAM, cam_panel, default_target_layer, figure_to_rgb

__all__ = ['CAMResult', 'ClassifierLogits', 'GuidedGradCAM', 'cam_panel', 'default_target_layer', 'figure_to_rgb']
