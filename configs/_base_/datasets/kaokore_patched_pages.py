# Image patching: train on the patches of each page's views, test on whole pages
# predicted view by view, patch by patch (PatchedValLoop/PatchedTestLoop) and merged.
_base_ = './kaokore_pages.py'

patch_size = (1333, 800)  # (width, height): the detector's input size
overlap = 0.0  # ratio; the papers used a plain grid
min_visible = 0.5  # a face cut by a patch border stays a target when >= half of it is inside
empty_patch_ratio = 1.0  # share of patches without faces kept for training
page_window = 4  # patches of 4 pages shuffled together; each page decoded once per worker and epoch
# The views of a page (core.patching.views_for_faces on KaoKore 1.0's faces, longest side, with
# 1333x800 patches and the R50-FPN's smallest anchor, 32 px; tests/test_configs.py checks it):
# - test overlap 0.4 puts faces up to fit = 0.4 x 800 = 320 px wholly inside some patch;
# - the p99 face (424 px) is larger: a view at rate 0.5 too (212 px there); p5 (88 px) >= 32 px: no upsampling;
# - the whole page in one 1333x800 input for the rest (p99.9 652 px, the largest 1296 px);
# each view trains on and keeps the faces of its valid range (view pixels): the others are ignored there.
kaokore_views = [
    dict(rate=1.0, valid_range=(0.0, 320.0)),
    dict(rate=0.5, valid_range=(32.0, 320.0)),
    dict(rate='whole', valid_range=(32.0, None)),
]

train_pipeline = [
    dict(type='LoadPageFromFile', cache_size=page_window, backend_args={{_base_.backend_args}}),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='CropPatch'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
page_pipeline = [  # whole pages, uint8, no resize: the loop cuts the patches
    dict(type='LoadPageFromFile', cache_size=0, backend_args={{_base_.backend_args}}),
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
        views=kaokore_views,
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(dataset=dict(pipeline=page_pipeline))
test_dataloader = dict(dataset=dict(pipeline=page_pipeline))

# Test- and annotation-time patching (the loops take patch_size and views from the training dataset above):
# - overlap: faces up to KaoKore's 95th percentile (longest side 300 px) lie wholly inside some patch:
#   core.patching.overlap_for_faces(faces, (1333, 800)) = 300 / 800 rounded up to 0.05 = 0.4;
# - merge: NMS that also drops a box lying mostly (>= 50 %) inside a kept, higher-scoring one: the
#   partial box of a face cut by a patch border goes, touching faces keep their boxes; contain='ios':
#   also a box that holds most (>= 50 %) of a kept, higher-scoring one (another view's loose box of the face);
#   0.5 rather than 0.7: deletions fell on all five sets of page boxes measured, no face lost (docs/patching.md);
# - view_agreement: first the views vote: a box another view was trained to find (its size in that
#   view's valid range) but no such view found keeps half its score (core.merge.view_agreement_tensor);
# - vote_iou: last, each kept box moves to the score-weighted mean of the boxes the NMS counted as the same
#   face (IoU >= its iou_thr), its score kept: box voting (core.merge.box_voting_tensor), fewer loose boxes.
# What these choices measured, against the papers' plain grid
# (test_cfg = dict(overlap=0.0, merge=dict(type='nms', iou_thr=0.5, ioa_thr=None))): configs/README.md.
test_overlap = 0.4
test_merge = dict(type='nms', iou_thr=0.5, ioa_thr=0.5, contain='ios', view_agreement=0.5, vote_iou=0.5)
val_cfg = dict(_delete_=True, type='PatchedValLoop', overlap=test_overlap, merge=test_merge, batch_size='auto')
test_cfg = dict(_delete_=True, type='PatchedTestLoop', overlap=test_overlap, merge=test_merge, batch_size='auto')
