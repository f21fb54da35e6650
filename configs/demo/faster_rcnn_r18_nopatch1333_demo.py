# CPU demo baseline at the papers' whole-page input: the demo detector on whole
# pages resized to fit 1333x800 (mmdet's default scale, as the R50 baseline
# configs/faster_rcnn_r50_nopatch.py), no patching.
_base_ = ['./faster_rcnn_r18_nopatch_demo.py']
input_scale = (1333, 800)
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
