"""BoxLabeler: the classifier's label for a drawn box, the box checked against the page."""

import cv2
import numpy as np
import pytest

from kaokore_mm.review.box_labeler import BoxLabeler


class Classifier:
    """Labels a box by its left edge (what it saw is recorded): left of x=50 'noble', else 'warrior'."""

    task = 'status'

    def __init__(self):
        self.calls = []

    def __call__(self, page, boxes):
        self.calls.append((page.shape, [list(map(float, b)) for b in boxes]))
        return [('noble', 0.97, True) if b[0] < 50 else ('warrior', 0.6, False) for b in boxes]


@pytest.fixture
def page(tmp_path):
    path = tmp_path / 'p.jpg'
    cv2.imwrite(str(path), np.full((200, 300, 3), 200, np.uint8))
    return path


def test_a_drawn_box_gets_the_classifiers_label_score_and_sureness(page):
    c = Classifier()
    label = BoxLabeler(c)
    assert label(page, [10, 20, 40, 50], 300, 200) == dict(status=dict(label='noble', score=0.97, sure=True))
    assert label(page, [100, 20, 40.5, 50], 300, 200) == dict(status=dict(label='warrior', score=0.6, sure=False))
    # the page read once for both boxes, its pixels handed over as they are; the box as corners
    assert [shape for shape, _ in c.calls] == [(200, 300, 3)] * 2 and c.calls[1][1] == [[100, 20, 140.5, 70]]
    # a box over the page's edge is clipped to it
    label(page, [280, 190, 50, 50], 300, 200)
    assert c.calls[-1][1] == [[280, 190, 300, 200]]


@pytest.mark.parametrize(
    'bbox, message', [([1, 2, 0, 4], 'positive'), ([1, 2, 3, -4], 'positive'), ([400, 10, 20, 20], 'outside the page')]
)
def test_a_box_that_is_no_box_of_the_page_is_refused_by_name(page, bbox, message):
    # (its types, four finite numbers, are the request schema's: tests/review/test_app.py)
    c = Classifier()
    with pytest.raises(ValueError, match=message):
        BoxLabeler(c)(page, bbox, 300, 200)
    assert not c.calls
