# CPU demo family: DINO-4scale from mmdet's zoo (model_from) with the demo's half-width ResNet-18 from
# scratch, 2 encoder and 2 decoder layers and 300 queries, on the demo patches and views.
_base_ = ['../_base_/demo_patched.py']
model_from = 'mmdet::dino/dino-4scale_r50_8xb2-12e_coco.py'
model = dict(
    num_queries=300,
    backbone=dict(depth=18, base_channels=32, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256]),
    encoder=dict(num_layers=2),
    decoder=dict(num_layers=2),
)
