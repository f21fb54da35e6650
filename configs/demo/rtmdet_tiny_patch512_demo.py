# CPU demo family: RTMDet-tiny from mmdet's zoo (model_from), from scratch, on the demo patches and views.
_base_ = ['../_base_/demo_patched.py']
model_from = 'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py'
model = dict(backbone=dict(init_cfg=None))  # no ImageNet weights offline
