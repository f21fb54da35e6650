# Image patching: train on the patches of each page's grid, test on whole pages
# predicted patch by patch (PatchedValLoop/PatchedTestLoop) and merged.
_base_ = './kaokore_pages.py'

patch_size = (1333, 800)  # (width, height): the detector's input size
overlap = 0.0  # ratio; the papers used a plain grid
min_visible = 0.5  # a face cut by a patch border stays a target when >= half of it is inside
empty_patch_ratio = 1.0  # share of patches without faces kept for training
page_window = 4  # patches of 4 pages shuffled together; each page decoded once per worker and epoch

train_pipeline = [
    dict(type='LoadPageFromFile', cache_size=page_window, backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='CropPatch'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
page_pipeline = [  # whole pages, uint8, no resize: the loop cuts the patches
    dict(type='LoadImageFromFile', backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'book_id')),
]
train_dataloader = dict(
    batch_sampler=None,
    sampler=dict(page_window=page_window),
    dataset=dict(
        type='PatchedPageDataset',
        patch_size=patch_size,
        overlap=overlap,
        min_visible=min_visible,
        empty_patch_ratio=empty_patch_ratio,
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(dataset=dict(pipeline=page_pipeline))
test_dataloader = dict(dataset=dict(pipeline=page_pipeline))

# Test- and annotation-time patching (the loops take patch_size from the training dataset above):
# - overlap: faces up to KaoKore's 95th percentile (longest side 300 px) lie wholly inside some patch:
#   core.patching.overlap_for_faces(faces, (1333, 800)) = 300 / 800 rounded up to 0.05 = 0.4;
# - merge: NMS that also drops a box lying mostly (>= 70 %) inside a kept, higher-scoring one: the
#   partial box of a face cut by a patch border goes, touching faces keep their boxes.
# Measured on the demo's held-out book (docs/patching.md): AP50 0.794 -> 0.974, precision at the
# annotation threshold 0.650 -> 0.912, recall 0.825 -> 0.984. The papers' plain grid:
# test_cfg = dict(overlap=0.0, merge=dict(type='nms', iou_thr=0.5, ioa_thr=None)).
test_overlap = 0.4
test_merge = dict(type='nms', iou_thr=0.5, ioa_thr=0.7)
val_cfg = dict(_delete_=True, type='PatchedValLoop', overlap=test_overlap, merge=test_merge, batch_size='auto')
test_cfg = dict(_delete_=True, type='PatchedTestLoop', overlap=test_overlap, merge=test_merge, batch_size='auto')
