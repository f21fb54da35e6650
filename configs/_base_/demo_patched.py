# CPU demo: the synthetic pages that `make demo` writes, patched at 512x512 with the demo's views,
# the demo schedule (from scratch, AdamW, 500 iterations) and the runtime. The detector comes from
# the experiment: a models base (demo/faster_rcnn_r18_patch512_demo.py) or model_from (the families).
_base_ = [
    './datasets/kaokore_patched_pages.py',
    './schedules/schedule_demo.py',
    './demo_runtime.py',
]
data_root = {{_base_.demo_data_root}}
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
