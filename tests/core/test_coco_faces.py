import numpy as np
import pytest

from kaokore_mm.core.coco_faces import faces_by_file_name, faces_by_image

COCO = dict(
    images=[dict(id=1, file_name='a/p1.jpg'), dict(id=2, file_name='b/p2.jpg')],
    annotations=[
        dict(image_id=1, bbox=[10, 20, 30, 40]),
        dict(image_id=1, bbox=[0, 0, 5, 5], iscrowd=1),
    ],
)


def test_faces_are_xyxy_with_the_ignored_flag_and_every_image_has_an_array():
    faces = faces_by_image(COCO)
    np.testing.assert_array_equal(faces[1], [[10, 20, 40, 60, 0], [0, 0, 5, 5, 1]])
    assert faces[2].shape == (0, 5) and faces[2].dtype == np.float64


def test_by_file_name_and_a_key_that_would_mix_two_pages():
    faces = faces_by_file_name(COCO, key=lambda n: n.rsplit('/', 1)[-1])
    assert sorted(faces) == ['p1.jpg', 'p2.jpg'] and len(faces['p1.jpg']) == 2
    with pytest.raises(ValueError, match="two images are named 'p'"):
        faces_by_file_name(COCO, key=lambda n: 'p')


def test_detections_carry_their_scores_and_a_box_without_one_scores_one():
    preds = dict(
        images=[dict(id=7, file_name='p.jpg')],
        annotations=[dict(image_id=7, bbox=[1, 2, 3, 4], score=0.25), dict(image_id=7, bbox=[0, 0, 1, 1])],
    )
    dets = faces_by_file_name(preds, column='score')['p.jpg']
    np.testing.assert_array_equal(dets, [[1, 2, 4, 6, 0.25], [0, 0, 1, 1, 1]])
    with pytest.raises(KeyError):
        faces_by_image(preds, column='area')
