# Runtime shared by every kaokore_mm config: mmdet's, plus the plugin import.
_base_ = 'mmdet::_base_/default_runtime.py'

custom_imports = dict(imports=['kaokore_mm'], allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3, save_best='face/AP50', rule='greater'),
    # the seconds of training kept in every checkpoint, across resumes (the benchmarks' train minutes)
    train_time=dict(type='TrainTimeHook'),
    # the validation's operating point (score threshold), kept in the checkpoint it was measured on
    # (annotate.py --score-thr auto proposes at it)
    operating_point=dict(type='OperatingPointHook'),
    # halfway through a patched training the model predicts its training pages; every window showing one
    # of its confident false boxes (crests, fans) is trained on from then on (at=None: off; whole-page
    # trainings have no windows to add). docs/patching.md, hard negatives.
    hard_negatives=dict(type='HardNegativeMiningHook', at=0.5),
)
