# Faster R-CNN R50-FPN trained on 1333x800 patches, tested on whole pages by patches.
_base_ = [
    './_base_/models/faster_rcnn_r50_fpn_face.py',
    './_base_/datasets/kaokore_patched_pages.py',
    './_base_/schedules/schedule_1x.py',
    './_base_/default_runtime.py',
]
