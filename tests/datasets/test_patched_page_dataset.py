"""PatchedPageDataset: the patches of every view of a page, faces outside a view's valid range
ignored, empty patches sampled reproducibly."""

import pytest
from mmengine.registry import init_default_scope

import kaokore_mm  # noqa: F401
from kaokore_mm.datasets import PatchedPageDataset
from tests.datasets.test_kaokore_face_dataset import pages_coco


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmdet')


def test_patched_dataset_enumerates_patches(tmp_path):
    ann = str(pages_coco(tmp_path))
    kw = dict(ann_file=ann, data_prefix=dict(img=str(tmp_path)), pipeline=[], patch_size=(400, 300))
    ds = PatchedPageDataset(empty_patch_ratio=1.0, **kw)
    # page 1: 3 x 3 patches; page 2: 2 x 2 patches
    assert len(ds) == 13
    assert [(d['img_id'], d['patch_index']) for d in (ds.get_data_info(i) for i in range(len(ds)))] == [
        (1, k) for k in range(9)
    ] + [(2, k) for k in range(4)]
    first = ds.get_data_info(0)
    assert first['patch'] == [0, 0, 400, 300] and first['num_patches'] == 9 and first['book_id'] == 'b1'
    assert len(first['instances']) == 3  # faces touching the first patch
    # patches with faces: (0,0) has 2 targets; (1,0) the other half of face 1 and face 2 (75 %); (2,2) face 4
    with_faces = PatchedPageDataset(empty_patch_ratio=0.0, **kw)
    assert sorted(
        (d['img_id'], d['patch_index']) for d in (with_faces.get_data_info(i) for i in range(len(with_faces)))
    ) == [(1, 0), (1, 1), (1, 8)]
    half = PatchedPageDataset(empty_patch_ratio=0.5, **kw)
    assert len(half) == 3 + 5  # round(0.5 * 10) of the 10 empty patches
    again = PatchedPageDataset(empty_patch_ratio=0.5, **kw)
    assert [half.get_data_info(i)['patch'] for i in range(8)] == [again.get_data_info(i)['patch'] for i in range(8)]


def test_patched_dataset_samples_every_view_and_ignores_faces_outside_a_views_valid_range(tmp_path):
    ann = str(pages_coco(tmp_path))
    views = [dict(rate=1.0, valid_range=(0, 15)), dict(rate=0.5, valid_range=(8, None))]
    kw = dict(ann_file=ann, data_prefix=dict(img=str(tmp_path)), patch_size=(400, 300), views=views)
    ds = PatchedPageDataset(empty_patch_ratio=1.0, pipeline=[], **kw)
    assert len(ds) == 9 + 4 + 4 + 1  # page 1: 3 x 3 patches and, at 500 x 350, 2 x 2; page 2: 2 x 2 and 1
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    assert {d['num_patches'] for d in infos if d['img_id'] == 1} == {13}
    half = [d for d in infos if d['img_id'] == 1 and d['view_index'] == 1]
    assert [d['patch'] for d in half] == [
        [0, 0, 400, 300],
        [400, 0, 800, 300],
        [0, 300, 400, 600],
        [400, 300, 800, 600],
    ]
    assert half[0]['view_size'] == (500, 350) and half[0]['view_scale'] == (0.5, 0.5)
    # at rate 1 only the 10 px face is in range (the 20 and 40 px ones are not); at 0.5 the 20 px faces
    # (10 px there) and the 40 px one (20 px), not the 10 px one (5 px)
    with_faces = PatchedPageDataset(empty_patch_ratio=0.0, pipeline=[], **kw)
    got = [
        (d['img_id'], d['view_index'], d['patch_index'], d['num_targets'])
        for d in map(with_faces.get_data_info, range(len(with_faces)))
    ]
    assert got == [(1, 0, 0, 1), (1, 1, 9, 2), (1, 1, 12, 1)]
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True), dict(type='CropPatch')]
    r = PatchedPageDataset(empty_patch_ratio=0.0, pipeline=pipeline, **kw)[1]
    assert r['gt_bboxes'].numpy().tolist() == [[195, 5, 205, 15], [197.5, 20, 207.5, 30], [5, 5, 10, 10]]
    assert r['gt_ignore_flags'].tolist() == [False, False, True]  # in the patch, but too small at this view
    assert r['img'].shape == (300, 400, 3) and r['page_shape'] == (700, 1000)


@pytest.mark.parametrize('kwargs', [dict(empty_patch_ratio=1.5), dict(min_visible=0), dict(views=[dict(rate=-1)])])
def test_patched_dataset_rejects_bad_options(tmp_path, kwargs):
    with pytest.raises(ValueError):
        PatchedPageDataset(ann_file=str(pages_coco(tmp_path)), pipeline=[], **kwargs)


def predictions_pkl(path, records):
    import pickle

    import torch

    path.write_bytes(
        pickle.dumps(
            [
                dict(
                    img_id=i,
                    img_path=name,
                    pred_instances=dict(
                        bboxes=torch.tensor(b, dtype=torch.float32).reshape(-1, 4), scores=torch.tensor(s)
                    ),
                )
                for i, name, b, s in records
            ]
        )
    )
    return str(path)


def test_windows_of_an_earlier_models_confident_false_boxes_are_kept_as_hard_negatives(tmp_path):
    ann = str(pages_coco(tmp_path))
    kw = dict(ann_file=ann, data_prefix=dict(img=str(tmp_path)), pipeline=[], patch_size=(400, 300))
    preds = predictions_pkl(
        tmp_path / 'train_predictions.pkl',
        [
            # a crest at 0.9 in the middle window (patch 4); a weak fire (0.1) in patch 3; a face's own box
            (1, str(tmp_path / 'a.jpg'), [[600, 400, 650, 450], [50, 350, 90, 390], [390, 10, 410, 30]], [0.9, 0.1, 1]),
            (2, str(tmp_path / 'b.jpg'), [[420, 320, 480, 380]], [0.5]),  # page 2's lower right window
            (7, 'elsewhere.jpg', [[0, 0, 10, 10]], [0.9]),  # a page of no annotation file here: skipped
        ],
    )
    ds = PatchedPageDataset(empty_patch_ratio=0.0, hard_negatives=preds, **kw)
    got = sorted((d['img_id'], d['patch_index'], d['num_targets']) for d in map(ds.get_data_info, range(len(ds))))
    assert got == [(1, 0, 2), (1, 1, 2), (1, 4, 0), (1, 8, 1), (2, 3, 0)]
    assert ds.num_hard_patches == 2 and ds.num_empty_patches == (10, 2)
    # a higher threshold keeps the crest only; the ratio still samples the other empty windows
    strict = PatchedPageDataset(empty_patch_ratio=0.0, hard_negatives=preds, hard_negative_thr=0.6, **kw)
    assert strict.num_hard_patches == 1
    mixed = PatchedPageDataset(empty_patch_ratio=0.5, hard_negatives=preds, **kw)
    assert len(mixed) == 3 + 2 + 4  # faces, hard negatives, round(0.5 x the 8 other empty windows)


@pytest.mark.parametrize(
    'content, says',
    [
        (b'not a pickle', 'cannot read predictions'),
        (None, 'item 0 is no page of predictions'),
        ('other name', 'is other.jpg, but this annotation file names that id a.jpg'),
        ('no page', 'none of its pages is in'),
    ],
)
def test_hard_negatives_that_cannot_be_used_are_one_line_naming_the_file(tmp_path, content, says):
    import pickle

    from kaokore_mm.errors import UserError

    path = tmp_path / 'preds.pkl'
    if content == 'other name':
        predictions_pkl(path, [(1, 'other.jpg', [[0, 0, 5, 5]], [0.9])])
    elif content == 'no page':
        predictions_pkl(path, [(99, 'z.jpg', [[0, 0, 5, 5]], [0.9])])
    else:
        path.write_bytes(content if content is not None else pickle.dumps([dict(img_id=1, boxes=[])]))
    kw = dict(ann_file=str(pages_coco(tmp_path)), data_prefix=dict(img=str(tmp_path)), pipeline=[])
    with pytest.raises(UserError, match=says) as e:
        PatchedPageDataset(hard_negatives=str(path), **kw)
    assert str(path) in str(e.value) and '\n' not in str(e.value)
    with pytest.raises(UserError, match='hard_negative_thr'):
        PatchedPageDataset(hard_negative_thr=1.5, **kw)


def with_rejected(ann, rejected: dict) -> str:
    import json
    from pathlib import Path

    coco = json.loads(Path(ann).read_text())
    for im in coco['images']:
        if im['id'] in rejected:
            im['rejected'] = rejected[im['id']]
    Path(ann).write_text(json.dumps(coco))
    return str(ann)


def test_proposals_an_annotator_deleted_are_hard_negatives_of_the_next_training(tmp_path):
    # as merge_corrections keeps them: page 1's crest in the middle window, and a deleted box on face 1
    # (the annotator drew it again: no background); page 2's lower right window
    ann = with_rejected(
        pages_coco(tmp_path),
        {
            1: [dict(bbox=[600, 400, 50, 50], score=0.6), dict(bbox=[390, 10, 20, 20], score=0.9)],
            2: [dict(bbox=[420, 320, 60, 60], score=0.05)],  # deleted whatever its score
        },
    )
    kw = dict(ann_file=ann, data_prefix=dict(img=str(tmp_path)), pipeline=[], patch_size=(400, 300))
    ds = PatchedPageDataset(empty_patch_ratio=0.0, **kw)
    got = sorted((d['img_id'], d['patch_index']) for d in map(ds.get_data_info, range(len(ds))))
    assert got == [(1, 0), (1, 1), (1, 4), (1, 8), (2, 3)] and ds.num_hard_patches == 2
    assert ds.get_data_info(0)['rejected'].tolist() == [[600, 400, 650, 450, 0.6], [390, 10, 410, 30, 0.9]]
    off = PatchedPageDataset(empty_patch_ratio=0.0, rejected_negatives=False, **kw)
    assert len(off) == 3 and off.num_hard_patches == 0


@pytest.mark.parametrize(
    'rejected, says',
    [
        ([dict(bbox=[1, 2, 3], score=0.5)], 'rejected box 0: bbox'),
        ([dict(bbox=[1, 2, 3, 4], score=True)], 'rejected box 0: score'),
        ([dict(bbox=[1, 2, 3, 4], score=0.5), dict(bbox='1,2,3,4', score=0.5)], 'rejected box 1: bbox'),
    ],
)
def test_a_rejected_box_that_is_not_one_stops_the_dataset_naming_page_and_box(tmp_path, rejected, says):
    from kaokore_mm.errors import UserError

    ann = with_rejected(pages_coco(tmp_path), {2: rejected})
    with pytest.raises(UserError, match=says) as e:
        PatchedPageDataset(ann_file=ann, data_prefix=dict(img=str(tmp_path)), pipeline=[])
    assert "'b.jpg'" in str(e.value) and 'ann.json' in str(e.value) and '\n' not in str(e.value)
