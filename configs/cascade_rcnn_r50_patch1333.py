# Cascade R-CNN R50-FPN: the patched Faster R-CNN experiment with another model.
_base_ = [
    './_base_/models/cascade_rcnn_r50_fpn_face.py',
    './_base_/datasets/kaokore_patched_pages.py',
    './_base_/schedules/schedule_1x.py',
    './_base_/default_runtime.py',
]
