# mmdet's Cascade R-CNN R50-FPN for one class ("face"), cut faces ignored.
# Lists replace (not merge with) the base's lists, so the three stages are written out.
_base_ = 'mmdet::_base_/models/cascade-rcnn_r50_fpn.py'


def _stage_head(stds):
    return dict(
        type='Shared2FCBBoxHead',
        in_channels=256,
        fc_out_channels=1024,
        roi_feat_size=7,
        num_classes=1,
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0, 0.0, 0.0, 0.0], target_stds=stds),
        reg_class_agnostic=True,
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
        loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0),
    )


def _stage_train(iou):
    return dict(
        assigner=dict(
            type='MaxIoUAssigner',
            pos_iou_thr=iou,
            neg_iou_thr=iou,
            min_pos_iou=iou,
            match_low_quality=False,
            ignore_iof_thr=0.5,
        ),
        sampler=dict(type='RandomSampler', num=512, pos_fraction=0.25, neg_pos_ub=-1, add_gt_as_proposals=True),
        pos_weight=-1,
        debug=False,
    )


model = dict(
    roi_head=dict(
        bbox_head=[
            _stage_head([0.1, 0.1, 0.2, 0.2]),
            _stage_head([0.05, 0.05, 0.1, 0.1]),
            _stage_head([0.033, 0.033, 0.067, 0.067]),
        ]
    ),
    train_cfg=dict(
        rpn=dict(assigner=dict(ignore_iof_thr=0.5)), rcnn=[_stage_train(0.5), _stage_train(0.6), _stage_train(0.7)]
    ),
    test_cfg=dict(rcnn=dict(score_thr=0.05, max_per_img=300)),
)
