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
