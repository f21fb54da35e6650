# KaoKore face crops (images_256/, labels.csv), official train/dev/test split.
# The commoner class is rare (and incarnation too): training draws rare-class
# crops more often (ClassBalancedDataset, repeat factor sampling), and the
# metrics report per-class precision, recall and F1 besides accuracy.
dataset_type = 'KaoKoreCrops'
data_root = 'data/kaokore/'
task = 'status'

data_preprocessor = dict(num_classes=4, mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=256, crop_ratio_range=(0.6, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=256),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='ClassBalancedDataset',
        oversample_thr=0.2,
        dataset=dict(type=dataset_type, data_root=data_root, task=task, split='train', pipeline=train_pipeline),
    ),
)
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, task=task, split='dev', pipeline=test_pipeline),
)
# the test loader is the validation loader on the test split
test_dataloader = dict(val_dataloader, dataset=dict(val_dataloader['dataset'], split='test'))
val_evaluator = [
    dict(type='Accuracy', topk=(1,)),
    dict(type='SingleLabelMetric', items=('precision', 'recall', 'f1-score'), average=None),
    dict(type='SingleLabelMetric', items=('f1-score',), average='macro', prefix='macro'),
    dict(type='ConfusionMatrixPlot'),
    # temperature scaling and the confidence above which labels are right >= 95 % of the time
    dict(type='LabelConfidenceMetric', target=0.95),
]
test_evaluator = val_evaluator
