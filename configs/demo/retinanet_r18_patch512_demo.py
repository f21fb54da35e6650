# CPU demo family: RetinaNet from mmdet's zoo (model_from) with the demo's half-width ResNet-18 from
# scratch and 64-channel FPN and head, on the demo patches and views.
_base_ = ['../_base_/demo_patched.py']
model_from = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'
model = dict(
    backbone=dict(depth=18, base_channels=32, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=64),
    bbox_head=dict(in_channels=64, feat_channels=64),
)
