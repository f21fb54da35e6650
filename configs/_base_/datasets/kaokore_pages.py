# Whole KaoKore pages (COCO with book_id per image), split by book.
# The "nopatch" baseline trains and tests on the page resized to the input size.
dataset_type = 'KaoKoreFaceDataset'
data_root = 'data/kaokore/'
ann_file = 'annotations/pages.json'
backend_args = None

# One split for the three loaders; tools/train.py --split/--split-seed override it.
split = dict(split='inter_book', ratios=(0.8, 0.1, 0.1), split_seed=0)

input_scale = (1333, 800)
train_pipeline = [
    dict(type='LoadPageFromFile', cache_size=0, backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=input_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadPageFromFile', cache_size=0, backend_args=backend_args),
    dict(type='Resize', scale=input_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'book_id')),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='BookSplitSampler', subset='train', shuffle=True, **split),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=ann_file,
        data_prefix=dict(img=''),
        pipeline=train_pipeline,
        backend_args=backend_args,
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='BookSplitSampler', subset='val', shuffle=False, round_up=False, **split),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=ann_file,
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args,
    ),
)
# the test loader is the validation loader on the test books
test_dataloader = dict(val_dataloader, sampler=dict(val_dataloader['sampler'], subset='test'))

# page-level recall/precision at the threshold, AP50 (the papers' mAP), COCO AP and AR, per book
val_evaluator = dict(type='FaceDetectionMetric', iou_thr=0.5, score_thr=0.5)
test_evaluator = val_evaluator

val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
