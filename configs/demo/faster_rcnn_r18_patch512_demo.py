# CPU demo: the patched Faster R-CNN experiment with a half-width ResNet-18 trained
# from scratch, 64-channel FPN/RPN, 512x512 patches, on synthetic emaki pages.
_base_ = ['../faster_rcnn_r50_patch1333.py']

data_root = 'work_dirs/demo/data/'
patch_size = (512, 512)

model = dict(
    backbone=dict(depth=18, base_channels=32, frozen_stages=-1, norm_eval=False, init_cfg=None),
    neck=dict(in_channels=[32, 64, 128, 256], out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(in_channels=64, fc_out_channels=256)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=1000, max_per_img=500), rcnn=dict(sampler=dict(num=256))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=300)))

train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(data_root=data_root, ann_file='annotations/pages.json', patch_size=patch_size,
                 empty_patch_ratio=0.3),
    sampler=dict(split='inter_book', ratios=(0.7, 0.1, 0.2)))
val_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root),
                      sampler=dict(split='inter_book', ratios=(0.7, 0.1, 0.2)))
test_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root),
                       sampler=dict(split='inter_book', ratios=(0.7, 0.1, 0.2)))
val_evaluator = [
    dict(type='FaceDetectionMetric', iou_thr=0.5, score_thr=0.5),
    dict(type='CocoMetric', ann_file=data_root + 'annotations/pages.json', metric='bbox'),
]
test_evaluator = val_evaluator
val_cfg = dict(patch_size=patch_size, batch_size=4)
test_cfg = dict(patch_size=patch_size, batch_size=4)

# from scratch on CPU: AdamW converges in a few hundred iterations
max_iters = 600
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=50, end=max_iters, eta_min=1e-5),
]
optim_wrapper = dict(_delete_=True, type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4),
                     clip_grad=dict(max_norm=10.0))
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=200, max_keep_ckpts=2, save_best=None))
log_processor = dict(by_epoch=False)
