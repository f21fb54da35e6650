# CPU demo: the patched Faster R-CNN experiment with a small detector trained from
# scratch on 512x512 patches of the synthetic pages that `make demo` writes.
_base_ = [
    '../_base_/models/faster_rcnn_r18_demo.py',
    '../_base_/datasets/kaokore_patched_pages.py',
    '../_base_/schedules/schedule_demo.py',
    '../_base_/default_runtime.py',
]
data_root = 'work_dirs/demo/data/'
patch_size = (512, 512)
train_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root, patch_size=patch_size, empty_patch_ratio=0.3))
val_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root))
# the demo faces' 95th percentile (136 px) wholly inside a 512 px patch: overlap 0.3 (overlap_for_faces)
val_cfg = dict(overlap=0.3)
test_cfg = dict(overlap=0.3)
default_hooks = dict(
    logger=dict(interval=25), checkpoint=dict(by_epoch=False, interval=250, max_keep_ckpts=2, save_best=None)
)
log_processor = dict(by_epoch=False)
