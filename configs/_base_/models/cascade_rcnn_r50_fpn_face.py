# mmdet's Cascade R-CNN R50-FPN for one class ("face"), cut faces ignored.
_base_ = 'mmdet::_base_/models/cascade-rcnn_r50_fpn.py'

model = dict(
    roi_head=dict(bbox_head=[
        dict(type='Shared2FCBBoxHead', num_classes=1),
        dict(type='Shared2FCBBoxHead', num_classes=1),
        dict(type='Shared2FCBBoxHead', num_classes=1),
    ]),
    train_cfg=dict(
        rpn=dict(assigner=dict(ignore_iof_thr=0.5)),
        rcnn=[
            dict(assigner=dict(ignore_iof_thr=0.5)),
            dict(assigner=dict(ignore_iof_thr=0.5)),
            dict(assigner=dict(ignore_iof_thr=0.5)),
        ]),
    test_cfg=dict(rcnn=dict(score_thr=0.05, max_per_img=300)))
