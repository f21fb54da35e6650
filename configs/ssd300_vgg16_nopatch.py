# Baseline: SSD300 (VGG16) on whole pages resized to 300x300.
_base_ = [
    './_base_/models/ssd300_vgg16_face.py',
    './_base_/datasets/kaokore_pages.py',
    './_base_/schedules/schedule_ssd_24e.py',
    './_base_/default_runtime.py',
]
input_size = 300
train_pipeline = [
    dict(type='LoadPageFromFile', cache_size=0),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=32,
        contrast_range=(0.5, 1.5),
        saturation_range=(0.5, 1.5),
        hue_delta=18,
    ),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadPageFromFile', cache_size=0),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'book_id')),
]
train_dataloader = dict(batch_size=8, batch_sampler=None, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
