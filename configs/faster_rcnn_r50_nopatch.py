# Baseline: Faster R-CNN R50-FPN on whole pages resized to 1333x800.
_base_ = [
    './_base_/models/faster_rcnn_r50_fpn_face.py',
    './_base_/datasets/kaokore_pages.py',
    './_base_/schedules/schedule_1x.py',
    './_base_/default_runtime.py',
]
