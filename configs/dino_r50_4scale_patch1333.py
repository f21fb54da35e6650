# DINO-4scale R50 (mmdet's model zoo, by model_from) on the 1333x800 patches and views of the Faster
# R-CNN experiment, with DINO's own optimizer (AdamW, gradient clipping, backbone lr x 0.1) scaled
# linearly from its batch to ours. Hungarian matching cannot ignore regions (warned at load).
_base_ = [
    './_base_/datasets/kaokore_patched_pages.py',
    './_base_/schedules/schedule_12e.py',
    './_base_/default_runtime.py',
]
model_from = dict(config='mmdet::dino/dino-4scale_r50_8xb2-12e_coco.py', take=['optim_wrapper', 'auto_scale_lr'])
auto_scale_lr = dict(enable=True)
