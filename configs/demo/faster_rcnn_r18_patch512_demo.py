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
# The views of the demo pages (core.patching.views_for_faces on the demo data's faces: p5 49, p95 136,
# p99 146 px; smallest anchor 32 px): overlap 0.3 puts faces up to 153.6 px wholly inside a 512 px patch,
# p99 fits, so no coarser patch view; the whole page (2000-2600 px into 512) for faces from 32 px there.
demo_views = [dict(rate=1.0, valid_range=(0.0, 153.6)), dict(rate='whole', valid_range=(32.0, None))]
train_dataloader = dict(
    num_workers=1,
    dataset=dict(data_root=data_root, patch_size=patch_size, empty_patch_ratio=0.3, views=demo_views),
)
val_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root))
val_cfg = dict(overlap=0.3)
test_cfg = dict(overlap=0.3)
default_hooks = dict(
    logger=dict(interval=25), checkpoint=dict(by_epoch=False, interval=250, max_keep_ckpts=2, save_best=None)
)
log_processor = dict(by_epoch=False)
