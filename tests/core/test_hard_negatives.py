"""Hard negatives: the confident boxes on no face, and the windows that show them."""

import numpy as np
import pytest

from kaokore_mm.core.hard_negatives import false_fires, windows_holding


def test_false_fires_are_confident_boxes_overlapping_no_face():
    faces = [[0, 0, 100, 100], [200, 0, 300, 100]]
    boxes = [
        [0, 0, 100, 100],  # a face
        [10, 10, 110, 110],  # a loose box of it (IoU 0.68): no background fire
        [60, 0, 160, 100],  # half on the first face (IoU 0.33)
        [500, 500, 560, 560],  # a crest
        [600, 600, 650, 650],  # a weak fire
        [250, 250, 300, 300],  # inside an ignored region
    ]
    scores = [0.99, 0.8, 0.7, 0.9, 0.2, 0.95]
    got = false_fires(boxes, scores, faces + [[240, 240, 400, 400]], [False, False, True], score_thr=0.3)
    assert got.tolist() == [[500, 500, 560, 560]]
    loose = false_fires(boxes, scores, faces, score_thr=0.3, max_overlap=0.5)  # no ignored region now
    assert loose.tolist() == [[60, 0, 160, 100], [500, 500, 560, 560], [250, 250, 300, 300]]
    assert false_fires(boxes, scores, np.zeros((0, 4)), score_thr=0.9).tolist() == [
        [0, 0, 100, 100],
        [500, 500, 560, 560],
        [250, 250, 300, 300],
    ]  # a page without faces: every confident box is a fire
    assert false_fires(np.zeros((0, 4)), [], faces).shape == (0, 4)
    with pytest.raises(ValueError, match='2 boxes but 1 scores'):
        false_fires([[0, 0, 1, 1], [0, 0, 2, 2]], [0.5], faces)


def test_a_window_holds_a_box_when_enough_of_it_is_inside():
    windows = [[0, 0, 100, 100], [100, 0, 200, 100], [0, 100, 100, 200]]
    boxes = [[80, 10, 120, 50]]  # half in the first window, half in the second
    assert windows_holding(boxes, windows).tolist() == [True, True, False]
    assert windows_holding(boxes, windows, min_visible=0.6).tolist() == [False, False, False]
    assert windows_holding(np.zeros((0, 4)), windows).tolist() == [False, False, False]
