from .guided_gradcam_hook import GuidedGradCAMHook

__all__ = ['GuidedGradCAMHook']
