# SSD300 (VGG16) trained on 600x600 patches resized to 300x300; pages tested by patches.
_base_ = [
    './_base_/models/ssd300_vgg16_face.py',
    './_base_/datasets/kaokore_patched_pages.py',
    './_base_/schedules/schedule_ssd_24e.py',
    './_base_/default_runtime.py',
]
patch_size = (600, 600)
input_size = 300
train_pipeline = [
    dict(type='LoadPageFromFile', cache_size=4),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='CropPatch'),
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
patch_pipeline = [
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'patch_offset', 'view_scale'),
    ),
]
# The views for KaoKore 1.0's faces (core.patching.views_for_faces; SSD300's smallest anchor, 21 px at
# 300 px, is 42 px of a 600 px patch): overlap 0.5 puts faces up to 300 px wholly inside a patch (p95);
# the p99 face (424 px) needs the page at 0.5 too; the whole page for the rest.
ssd_views = [
    dict(rate=1.0, valid_range=(0.0, 300.0)),
    dict(rate=0.5, valid_range=(42.0, 300.0)),
    dict(rate='whole', valid_range=(42.0, None)),
]
train_dataloader = dict(batch_size=8, dataset=dict(patch_size=patch_size, pipeline=train_pipeline, views=ssd_views))
val_cfg = dict(overlap=0.5, patch_pipeline=patch_pipeline)
test_cfg = dict(overlap=0.5, patch_pipeline=patch_pipeline)
