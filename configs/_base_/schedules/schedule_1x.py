# 12 epochs, SGD, one GPU with 2 images (lr scaled linearly from mmdet's 0.02 for 16).
_base_ = './schedule_12e.py'
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.0025, momentum=0.9, weight_decay=0.0001))
auto_scale_lr = dict(enable=False, base_batch_size=2)
