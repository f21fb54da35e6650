# The demo detector on the papers' 1333x800 patches with the shipped multi-view default: the views and
# the test overlap of configs/_base_/datasets/kaokore_patched_pages.py (from KaoKore 1.0's faces), as
# configs/faster_rcnn_r50_patch1333.py. The patching benchmark's multi-view default.
_base_ = ['./faster_rcnn_r18_patch512_demo.py']
patch_size = (1333, 800)
train_dataloader = dict(dataset=dict(patch_size=patch_size, views={{_base_.kaokore_views}}))
val_cfg = dict(overlap={{_base_.test_overlap}})
test_cfg = dict(overlap={{_base_.test_overlap}})
