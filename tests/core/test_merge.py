import numpy as np

from kaokore_mm.core.merge import iou_matrix, nms


def test_iou_matrix():
    iou = iou_matrix([[0, 0, 10, 10]], [[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    assert np.allclose(iou, [[1.0, 50 / 150, 0.0]])


def test_nms_keeps_best_and_respects_labels():
    boxes = [[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60], [0, 0, 10, 10]]
    scores = [0.5, 0.9, 0.3, 0.8]
    assert nms(boxes, scores, 0.5).tolist() == [1, 2]
    assert nms(boxes, scores, 0.5, labels=[0, 0, 0, 1]).tolist() == [1, 3, 2]
    assert nms(np.zeros((0, 4)), np.zeros(0)).tolist() == []
