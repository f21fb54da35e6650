# CPU demo baseline: the demo detector, data, split and schedule on whole pages
# resized to 512 px (no patching).
_base_ = ['../_base_/models/faster_rcnn_r18_demo.py', '../_base_/demo_pages.py']
input_scale = (512, 512)
train_pipeline = [
    dict(type='LoadPageFromFile', cache_size=0),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=input_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadPageFromFile', cache_size=0),
    dict(type='Resize', scale=input_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'book_id')),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
