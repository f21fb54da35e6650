# RetinaNet R50-FPN (mmdet's model zoo, by model_from; its MaxIoUAssigner ignores the ignored faces)
# on the 1333x800 patches and views of the Faster R-CNN experiment, with its own optimizer scaled
# linearly from its batch to ours.
_base_ = [
    './_base_/datasets/kaokore_patched_pages.py',
    './_base_/schedules/schedule_12e.py',
    './_base_/default_runtime.py',
]
model_from = dict(config='mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', take=['optim_wrapper', 'auto_scale_lr'])
auto_scale_lr = dict(enable=True)
