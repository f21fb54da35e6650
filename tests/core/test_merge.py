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


def test_greedy_nmm_merges_cut_face_into_union():
    from kaokore_mm.core.merge import greedy_nmm
    # a face cut by a patch border: the left half from one patch, the whole face from the other
    boxes = [[100, 100, 150, 160], [100, 100, 125, 160], [300, 300, 320, 320]]
    merged, scores, keep = greedy_nmm(boxes, [0.8, 0.9, 0.5])
    assert merged.tolist() == [[100, 100, 150, 160], [300, 300, 320, 320]]
    assert scores.tolist() == [0.9, 0.5] and keep.tolist() == [1, 2]
    # with IoU (0.5 here) at a higher threshold they stay apart; labels keep them apart too
    assert len(greedy_nmm(boxes, [0.8, 0.9, 0.5], 0.6, 'iou')[0]) == 3
    assert len(greedy_nmm(boxes, [0.8, 0.9, 0.5], labels=[0, 1, 0])[0]) == 3


def test_weighted_box_fusion_averages_by_score():
    from kaokore_mm.core.merge import weighted_box_fusion
    boxes = [[0, 0, 10, 10], [2, 0, 12, 10], [50, 50, 60, 60]]
    fused, scores, keep = weighted_box_fusion(boxes, [0.75, 0.25, 0.5], iou_thr=0.5)
    assert np.allclose(fused, [[0.5, 0, 10.5, 10], [50, 50, 60, 60]])
    assert np.allclose(scores, [0.5, 0.5]) and keep.tolist() == [0, 2]
    assert len(weighted_box_fusion(np.zeros((0, 4)), np.zeros(0))[0]) == 0
