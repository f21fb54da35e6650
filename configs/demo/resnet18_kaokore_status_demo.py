# CPU demo: face status on the synthetic crops that `make demo` writes, with a
# half-width ResNet-18 from scratch at 128 px; Guided Grad-CAM panels at the end.
# The last stage keeps stride 1 (as in CAM papers), so the maps are 8 x 8, not 4 x 4.
_base_ = [
    'mmpretrain::_base_/models/resnet18.py',
    '../_base_/datasets/kaokore_crops.py',
    '../_base_/schedules/schedule_cls_30e.py',
    '../_base_/classification_runtime.py',
    '../_base_/demo_data.py',
]
data_root = {{_base_.demo_data_root}}
model = dict(
    backbone=dict(type='mmpretrain.ResNet', base_channels=32, strides=(1, 2, 2, 1)),
    head=dict(num_classes=4, in_channels=256, topk=(1,)),
)
size = 128
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=size, crop_ratio_range=(0.75, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=size, edge='short'),
    dict(type='CenterCrop', crop_size=size),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=16, num_workers=1, dataset=dict(dataset=dict(data_root=data_root, pipeline=train_pipeline))
)
val_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root, pipeline=test_pipeline))
optim_wrapper = dict(_delete_=True, optimizer=dict(type='AdamW', lr=2e-3, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=20, eta_min=1e-5)]
train_cfg = dict(max_epochs=20, val_interval=5)
custom_hooks = [dict(type='GuidedGradCAMHook', num_per_class=2, target='pred', interval=4)]
