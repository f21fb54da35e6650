# mmdet's SSD300 (VGG16) for one class, with FixedSSDHead (mmdet 3.3.0's SSDHead
# cannot predict, see kaokore_mm.compat) and cut faces ignored.
_base_ = 'mmdet::_base_/models/ssd300.py'

model = dict(bbox_head=dict(type='FixedSSDHead', num_classes=1), train_cfg=dict(assigner=dict(ignore_iof_thr=0.5)))
