# mmdet's Faster R-CNN R50-FPN for one class ("face"); ignored (cut) faces are
# neither positives nor negatives (ignore_iof_thr); ImageNet-pretrained backbone
# through mmdet's init_cfg (set model.backbone.init_cfg.checkpoint to a local
# file where torchvision's download is not reachable).
_base_ = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'

model = dict(
    roi_head=dict(bbox_head=dict(num_classes=1)),
    train_cfg=dict(rpn=dict(assigner=dict(ignore_iof_thr=0.5)), rcnn=dict(assigner=dict(ignore_iof_thr=0.5))),
    test_cfg=dict(rcnn=dict(score_thr=0.05, max_per_img=300)),
)
