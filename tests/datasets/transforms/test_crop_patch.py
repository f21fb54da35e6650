import numpy as np
import pytest
from mmdet.structures.bbox import HorizontalBoxes

from kaokore_mm.datasets.transforms import CropPatch


def results(patch, **kw):
    img = np.arange(700 * 1000 * 3, dtype=np.uint32).reshape(700, 1000, 3).astype(np.uint8)
    r = dict(
        img=img,
        img_shape=(700, 1000),
        patch=patch,
        img_path='page.jpg',
        gt_bboxes=HorizontalBoxes(
            np.array([[390, 10, 410, 30], [395, 40, 415, 60], [10, 10, 20, 20], [900, 650, 940, 690]], np.float32)
        ),
        gt_bboxes_labels=np.array([0, 0, 0, 0]),
        gt_ignore_flags=np.array([False, False, False, True]),
    )
    r.update(kw)
    return r


def test_first_patch_boxes_exact():
    r = CropPatch(min_visible=0.5)(results([0, 0, 400, 300]))
    assert r['img'].shape == (300, 400, 3) and r['img_shape'] == (300, 400)
    assert r['patch_offset'] == (0, 0)
    assert r['gt_bboxes'].numpy().tolist() == [[390, 10, 400, 30], [395, 40, 400, 60], [10, 10, 20, 20]]
    assert r['gt_ignore_flags'].tolist() == [False, True, False]  # 25 % visible -> ignored
    assert r['gt_bboxes_labels'].tolist() == [0, 0, 0]


def test_second_patch_boxes_exact():
    r = CropPatch(min_visible=0.5)(results([400, 0, 800, 300]))
    assert r['gt_bboxes'].numpy().tolist() == [[0, 10, 10, 30], [0, 40, 15, 60]]
    assert r['gt_ignore_flags'].tolist() == [False, False]
    src = results([400, 0, 800, 300])['img']
    assert np.array_equal(r['img'], src[0:300, 400:800])


def test_padding_beyond_page_and_ignored_stays_ignored():
    r = CropPatch(pad_val=7)(results([800, 600, 1200, 900], min_visible=0.5))
    assert r['img'].shape == (300, 400, 3)
    assert (r['img'][100:] == 7).all() and (r['img'][:, 200:] == 7).all()
    assert r['gt_bboxes'].numpy().tolist() == [[100, 50, 140, 90]]
    assert r['gt_ignore_flags'].tolist() == [True]  # was crowd/ignored on the page


def test_min_visible_from_sample_and_errors():
    r = CropPatch()(results([0, 0, 400, 300], min_visible=0.2))
    assert r['gt_ignore_flags'].tolist() == [False, False, False]
    with pytest.raises(KeyError, match='page.jpg'):
        CropPatch()(dict(img=np.zeros((5, 5, 3), np.uint8), img_path='page.jpg'))
    with pytest.raises(ValueError, match='page.jpg'):
        CropPatch()(results([1000, 0, 1400, 300]))
