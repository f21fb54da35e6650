# Runtime of the interpretation step: mmpretrain's, plus the plugin import,
# model selection on KaoKore's dev set, and Guided Grad-CAM panels of dev/test faces.
_base_ = 'mmpretrain::_base_/default_runtime.py'

custom_imports = dict(imports=['kaokore_mm'], allow_failed_imports=False)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2, save_best='accuracy/top1', rule='greater'),
    # the validation's label confidence, kept in the checkpoint it was measured on (FaceClassifier reads it)
    label_confidence=dict(type='LabelConfidenceHook'),
)
custom_hooks = [dict(type='GuidedGradCAMHook', num_per_class=2, target='pred', interval=5)]
