# The runtime of the CPU demo detectors: the default runtime, logs and checkpoints by
# iterations (the last two kept), the demo's data root (demo_data.py).
_base_ = ['./default_runtime.py', './demo_data.py']
default_hooks = dict(
    logger=dict(interval=25), checkpoint=dict(by_epoch=False, interval=250, max_keep_ckpts=2, save_best=None)
)
log_processor = dict(by_epoch=False)
