# 12 epochs by epoch (warm-up 500 iterations, steps at 8 and 11), validated every epoch; the
# optimizer comes from the experiment (schedule_1x.py: SGD) or from the model's zoo config
# (model_from = dict(config=..., take=['optim_wrapper', 'auto_scale_lr'])).
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1),
]
