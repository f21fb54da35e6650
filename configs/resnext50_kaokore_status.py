# Face status (noble, warrior, incarnation, commoner) with an ImageNet-pretrained
# ResNeXt-50 32x4d from mmpretrain; model selection on dev, figures on test.
_base_ = [
    'mmpretrain::_base_/models/resnext50_32x4d.py',
    './_base_/datasets/kaokore_crops.py',
    './_base_/schedules/schedule_cls_30e.py',
    './_base_/classification_runtime.py',
]
pretrained = (
    'https://download.openmmlab.com/mmclassification/v0/resnext/'
    'resnext50_32x4d_b32x8_imagenet_20210429-56066e27.pth'
)  # or a local file
model = dict(
    backbone=dict(
        type='mmpretrain.ResNeXt', init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone')
    ),
    head=dict(num_classes=4, topk=(1,)),
)
