# YOLOX-l (mmdet's model zoo, by model_from) on the 1333x800 patches and views of the Faster R-CNN
# experiment, with YOLOX's own optimizer (SGD, Nesterov) scaled linearly from its batch to ours; its
# random batch resize is left out (the views set the scales).
_base_ = [
    './_base_/datasets/kaokore_patched_pages.py',
    './_base_/schedules/schedule_12e.py',
    './_base_/default_runtime.py',
]
model_from = dict(config='mmdet::yolox/yolox_l_8xb8-300e_coco.py', take=['optim_wrapper', 'auto_scale_lr'])
auto_scale_lr = dict(enable=True)
