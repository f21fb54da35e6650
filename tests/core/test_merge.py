import numpy as np
import pytest

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


def clustered(seed, faces=40, per_face=5, labels=1):
    """Boxes as neighbouring patches give them: ``per_face`` jittered, partly cut copies of each face."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 2500, (faces, 2))
    wh = rng.uniform(40, 300, (faces, 2))
    face = np.c_[xy, xy + wh]
    b = np.repeat(face, per_face, 0) + rng.normal(0, 0.08, (faces * per_face, 4)) * np.repeat(
        np.c_[wh, wh], per_face, 0
    )
    cut = rng.random(len(b)) < 0.3  # a face cut by a patch border: its left part
    b[cut, 2] = b[cut, 0] + (b[cut, 2] - b[cut, 0]) * rng.uniform(0.3, 0.7, cut.sum())
    b[:, 2:] = np.maximum(b[:, 2:], b[:, :2] + 1)
    return b, rng.random(len(b)), rng.integers(0, labels, len(b))


def scattered(seed, n=150):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1000, (n, 2))
    b = np.c_[xy, xy + rng.uniform(5, 200, (n, 2))]
    return b, rng.random(n), rng.integers(0, 2, n)


CASES = [('clustered', s) for s in range(3)] + [('scattered', s) for s in range(3)] + [('clustered2', 0)]


def case(kind, seed):
    if kind == 'clustered':
        return clustered(seed)
    if kind == 'clustered2':
        return clustered(seed, labels=2)
    return scattered(seed)


@pytest.mark.parametrize('kind,seed', CASES)
@pytest.mark.parametrize('use_labels', [False, True])
def test_tensor_merges_equal_the_reference(kind, seed, use_labels):
    from kaokore_mm.core import merge
    from tests.core import merge_reference as ref

    b, s, lab = case(kind, seed)
    lab = lab if use_labels else None
    assert merge.nms(b, s, 0.5, lab).tolist() == ref.nms(b, s, 0.5, lab).tolist()
    for metric, thr in (('ios', 0.5), ('iou', 0.3)):
        got, want = merge.greedy_nmm(b, s, thr, metric, lab), ref.greedy_nmm(b, s, thr, metric, lab)
        assert got[2].tolist() == want[2].tolist()
        assert np.allclose(got[0], want[0]) and np.allclose(got[1], want[1])
    for thr in (0.55, 0.8, 0.4):  # > 0.5: groups of touching boxes; <= 0.5: groups merged by their hulls
        got, want = merge.weighted_box_fusion(b, s, thr, lab), ref.weighted_box_fusion(b, s, thr, lab)
        assert got[2].tolist() == want[2].tolist()
        assert np.allclose(got[0], want[0]) and np.allclose(got[1], want[1])


def test_ties_and_zero_scores_as_the_reference():
    from kaokore_mm.core import merge
    from tests.core import merge_reference as ref

    b = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [0, 1, 10, 11], [40, 40, 50, 50]], float)
    s = np.array([0.5, 0.5, 0.5, 0.0])
    assert merge.nms(b, s).tolist() == ref.nms(b, s).tolist() == [0, 3]
    for f in ('greedy_nmm', 'weighted_box_fusion'):
        got, want = getattr(merge, f)(b, s), getattr(ref, f)(b, s)
        assert got[2].tolist() == want[2].tolist() and np.allclose(got[0], want[0]) and np.allclose(got[1], want[1])


def test_tensor_merges_stay_on_the_device_and_dtype():
    import torch

    from kaokore_mm.core.merge import merge_tensor

    b, s, lab = clustered(0, faces=10)
    tb, ts, tl = torch.tensor(b, dtype=torch.float32), torch.tensor(s, dtype=torch.float32), torch.tensor(lab)
    for m in (dict(type='nms'), dict(type='nmm'), dict(type='wbf')):
        ob, os_, ol = merge_tensor(tb, ts, tl, m)
        assert ob.dtype == torch.float32 and ob.shape[1] == 4 and len(ob) == len(os_) == len(ol)
        assert 10 <= len(ob) < 50  # 10 faces, 50 boxes: merged, none lost entirely
    with pytest.raises(ValueError, match='valid: nms, nmm, wbf'):
        merge_tensor(tb, ts, tl, dict(type='soft'))


def containment_nms_loop(boxes, scores, iou_thr, ioa_thr, labels=None, contain='iob'):
    """The definition, one box at a time: visit boxes by falling score (ties: first
    first); keep one unless a kept box of its label overlaps it by IoU >= iou_thr or
    holds >= ioa_thr of its area (``contain='ios'``: or lies with >= ioa_thr of its own area in it)."""
    b = np.asarray(boxes, float)
    order = sorted(range(len(b)), key=lambda j: (-scores[j], j))
    kept = []
    for j in order:
        ok = True
        for k in kept:
            if labels is not None and labels[k] != labels[j]:
                continue
            ix = max(0.0, min(b[k, 2], b[j, 2]) - max(b[k, 0], b[j, 0]))
            iy = max(0.0, min(b[k, 3], b[j, 3]) - max(b[k, 1], b[j, 1]))
            inter = ix * iy
            ak = (b[k, 2] - b[k, 0]) * (b[k, 3] - b[k, 1])
            aj = (b[j, 2] - b[j, 0]) * (b[j, 3] - b[j, 1])
            inside = inter / max(aj if contain == 'iob' else min(ak, aj), 1e-12)
            if inter / max(ak + aj - inter, 1e-12) >= iou_thr or inside >= ioa_thr:
                ok = False
                break
        if ok:
            kept.append(j)
    return kept


def test_containment_nms_drops_the_nested_partial_box_and_keeps_touching_faces():
    import torch

    from kaokore_mm.core.merge import containment_nms_tensor, merge_tensor

    # a whole face (0.9), its left half from the patch that cut it (0.6, IoU 0.5 -> kept by plain NMS at 0.6),
    # and a second face touching the first (0.8)
    boxes = torch.tensor([[100.0, 100, 160, 170], [100, 100, 130, 170], [158, 100, 220, 170]])
    scores = torch.tensor([0.9, 0.6, 0.8])
    assert containment_nms_tensor(boxes, scores, 0.6, 0.8).tolist() == [0, 2]
    assert containment_nms_tensor(boxes, scores, 0.6, 1.01).tolist() == [0, 2, 1]  # plain NMS keeps the half
    b, s, _ = merge_tensor(boxes, scores, torch.zeros(3, dtype=torch.long), dict(type='nms', iou_thr=0.6, ioa_thr=0.8))
    assert b.tolist() == boxes[[0, 2]].tolist() and s.tolist() == pytest.approx([0.9, 0.8])


@pytest.mark.parametrize('seed', range(4))
@pytest.mark.parametrize('use_labels', [False, True])
def test_containment_nms_equals_its_definition(seed, use_labels):
    import torch

    from kaokore_mm.core.merge import containment_nms_tensor, nms_tensor

    b, s, lab = clustered(seed, labels=3 if use_labels else 1)
    s[::7] = s[3]  # ties
    labels = lab if use_labels else None
    for contain in ('iob', 'ios'):
        for iou_thr, ioa_thr in ((0.5, 0.7), (0.3, 0.9), (0.6, 0.5)):
            got = containment_nms_tensor(
                torch.tensor(b),
                torch.tensor(s),
                iou_thr,
                ioa_thr,
                None if labels is None else torch.tensor(labels),
                contain,
            )
            assert got.tolist() == containment_nms_loop(b, s, iou_thr, ioa_thr, labels, contain)
    plain = nms_tensor(torch.tensor(b), torch.tensor(s), 0.5)
    assert containment_nms_tensor(torch.tensor(b), torch.tensor(s), 0.5, 1.01).tolist() == plain.tolist()


def test_a_cut_piece_inside_a_whole_face_goes_whatever_its_score():
    """SAHI #560: the partial box of a face cut by a patch border scores above the whole box
    another view sees; score-ordered merging keeps it. The border is the evidence."""
    import torch

    from kaokore_mm.core.merge import absorb_cut_boxes, merge_tensor

    whole = [100.0, 100.0, 200.0, 220.0]
    piece = [150.0, 100.0, 200.0, 220.0]  # its left part cut off by a border at x = 150
    other = [400.0, 100.0, 450.0, 160.0]  # a face of its own, cut, with nothing around it
    boxes = torch.tensor([whole, piece, other])
    scores = torch.tensor([0.6, 0.9, 0.8])
    labels = torch.zeros(3, dtype=torch.long)
    cut = torch.tensor([False, True, True])
    for merge in (
        dict(type='nms', iou_thr=0.5, ioa_thr=0.7),
        dict(type='nmm', match_thr=0.5, match_metric='ios'),
        dict(type='wbf', iou_thr=0.55),
    ):
        b, s, _ = merge_tensor(boxes, scores, labels, merge, cut)
        assert len(b) == 2 and torch.equal(b[0], boxes[0]) and s[0] == pytest.approx(0.9), merge['type']
    nms = dict(type='nms', iou_thr=0.5, ioa_thr=0.7)
    for off in (
        merge_tensor(boxes, scores, labels, nms),
        merge_tensor(boxes, scores, labels, dict(nms, cut_ioa_thr=None), cut),
    ):
        kept = off[0].tolist()
        assert piece in kept and whole not in kept  # the trap (and with the absorption turned off): the face cut
    keep, s = absorb_cut_boxes(boxes, scores, cut, 0.7, torch.tensor([0, 1, 0]))  # another label: kept
    assert keep.all() and torch.equal(s, scores)
    keep, _ = absorb_cut_boxes(boxes, scores, torch.zeros(3, dtype=torch.bool))
    assert keep.all()


def test_the_views_vote_a_box_only_its_own_view_believes_keeps_the_penalty():
    import torch

    from kaokore_mm.core.merge import view_agreement_tensor

    boxes = torch.tensor(
        [
            [0, 0, 100, 100],  # 0: view 0, seen by view 1 too (box 1)
            [2, 2, 100, 102],  # 1: view 1
            [300, 0, 400, 100],  # 2: view 0, view 1 fits it but saw nothing: halved
            [600, 0, 640, 40],  # 3: view 0, too small for any other view: kept
            [800, 0, 900, 100],  # 4: view 0, only a view that does not fit it (2) saw it: halved
            [802, 0, 900, 100],  # 5: view 2, seen by view 0 (box 4), which fits it: kept
            [1000, 0, 1100, 100],  # 6: view 0, view 1 saw it with another label
            [1000, 0, 1100, 100],  # 7: view 1, label 1
        ],
        dtype=torch.float32,
    )
    scores = torch.full((8,), 0.8)
    view = torch.tensor([0, 1, 0, 0, 0, 2, 0, 1])
    fits = torch.tensor(
        [
            [1, 1, 0],
            [1, 1, 0],
            [1, 1, 0],
            [1, 0, 0],
            [1, 1, 0],
            [1, 1, 1],
            [1, 1, 0],
            [1, 1, 0],
        ],
        dtype=torch.bool,
    )
    labels = torch.tensor([0, 0, 0, 0, 0, 0, 0, 1])
    out = view_agreement_tensor(boxes, scores, view, fits, penalty=0.5, labels=labels)
    assert out.tolist() == pytest.approx([0.8, 0.8, 0.4, 0.8, 0.4, 0.8, 0.4, 0.4])
    assert scores.tolist() == [pytest.approx(0.8)] * 8  # not modified
    # class-agnostic: the other label's box supports box 6 (and it box 7)
    out = view_agreement_tensor(boxes, scores, view, fits, penalty=0.5)
    assert out[6] == out[7] == pytest.approx(0.8)
    assert len(view_agreement_tensor(boxes[:0], scores[:0], view[:0], fits[:0])) == 0


def test_merge_with_view_agreement_ranks_the_face_both_views_see_above_a_lone_box():
    import torch

    from kaokore_mm.core.merge import merge_tensor

    boxes = torch.tensor([[0, 0, 100, 100], [0, 0, 100, 100], [300, 0, 400, 100]], dtype=torch.float32)
    scores, labels = torch.tensor([0.7, 0.6, 0.9]), torch.zeros(3, dtype=torch.long)
    view, fits = torch.tensor([0, 1, 0]), torch.ones(3, 2, dtype=torch.bool)
    merge = dict(type='nms', iou_thr=0.5, ioa_thr=0.7)
    b, s, _ = merge_tensor(boxes, scores, labels, merge, view=view, fits=fits)
    assert sorted(s.tolist()) == pytest.approx([0.7, 0.9])  # no vote without view_agreement
    b, s, _ = merge_tensor(boxes, scores, labels, dict(merge, view_agreement=0.5), view=view, fits=fits)
    order = s.argsort(descending=True)
    assert b[order].tolist() == [[0, 0, 100, 100], [300, 0, 400, 100]] and s[order].tolist() == pytest.approx(
        [0.7, 0.45]
    )


def test_either_way_containment_drops_the_loose_box_around_a_higher_scoring_tight_one():
    """Two views' boxes of one face: the tight one (rate 1) scores higher, the loose one (the whole
    page) holds it with IoU under 0.5; a face touching it keeps its box."""
    import torch

    from kaokore_mm.core.merge import containment_nms_tensor, merge_tensor

    boxes = torch.tensor(
        [[1541, 1901, 1721, 2127], [1567, 1859, 1797, 2165], [1797, 1901, 1900, 2000]], dtype=torch.float32
    )
    scores = torch.tensor([0.92, 0.90, 0.8])
    assert containment_nms_tensor(boxes, scores, 0.5, 0.7).tolist() == [0, 1, 2]  # the tight box is not inside
    assert containment_nms_tensor(boxes, scores, 0.5, 0.7, contain='ios').tolist() == [0, 2]
    merge = dict(type='nms', iou_thr=0.5, ioa_thr=0.7, contain='ios')
    b, _, _ = merge_tensor(boxes, scores, torch.zeros(3, dtype=torch.long), merge)
    assert b.tolist() == boxes[[0, 2]].tolist()
    with pytest.raises(ValueError, match="contain must be 'iob'"):
        containment_nms_tensor(boxes, scores, contain='iou')


def test_box_voting_moves_the_kept_box_to_the_weighted_mean_and_keeps_its_score():
    """Three views' boxes of one face and a face beside it: NMS keeps the best box of the face and
    its score; voting moves its corners to the score-weighted mean of the boxes overlapping it by
    the IoU, not the neighbour's box nor a box of another label."""
    import torch

    from kaokore_mm.core.merge import box_voting_tensor, merge_tensor

    boxes = torch.tensor(
        [[100, 100, 200, 200], [90, 90, 210, 210], [104, 100, 204, 200], [205, 100, 300, 200], [100, 100, 200, 200]],
        dtype=torch.float64,
    )
    scores = torch.tensor([0.9, 0.6, 0.3, 0.8, 0.95], dtype=torch.float64)
    labels = torch.tensor([0, 0, 0, 0, 1])
    merge = dict(type='nms', iou_thr=0.5, ioa_thr=0.7, contain='ios')
    plain_b, plain_s, plain_l = merge_tensor(boxes, scores, labels, merge)
    b, s, lab = merge_tensor(boxes, scores, labels, dict(merge, vote_iou=0.6))
    assert s.tolist() == plain_s.tolist() and lab.tolist() == plain_l.tolist()  # the same boxes kept, same scores
    face = (lab == 0) & (s == 0.9)
    expected = (0.9 * boxes[0] + 0.6 * boxes[1] + 0.3 * boxes[2]) / 1.8  # IoU 0.69 and 0.92 with the kept box
    assert b[face][0].tolist() == pytest.approx(expected.tolist())
    assert b[s == 0.8][0].tolist() == boxes[3].tolist()  # the neighbour (IoU 0) is not pulled
    assert b[lab == 1][0].tolist() == boxes[4].tolist()  # another label does not vote
    # a stricter IoU leaves out the loose box (IoU 0.69); the kept box alone stays where it is
    tight = box_voting_tensor(boxes[:3], scores[:3], torch.tensor([0]), 0.7)
    assert tight[0].tolist() == pytest.approx(((0.9 * boxes[0] + 0.3 * boxes[2]) / 1.2).tolist())
    assert box_voting_tensor(boxes[3:4], scores[3:4], torch.tensor([0]), 0.6).tolist() == boxes[3:4].tolist()
    assert box_voting_tensor(boxes, scores, torch.zeros(0, dtype=torch.long)).shape == (0, 4)


def test_box_voting_is_refused_where_the_merge_moves_boxes_itself():
    from kaokore_mm.inference.patched_predictor import PatchedPredictor

    with pytest.raises(ValueError, match='vote_iou must be an IoU in'):
        PatchedPredictor(merge=dict(type='wbf', iou_thr=0.55, vote_iou=0.6))
    with pytest.raises(ValueError, match='vote_iou must be an IoU in'):
        PatchedPredictor(merge=dict(type='nms', vote_iou=1.5))
    assert PatchedPredictor(merge=dict(type='nms', vote_iou=0.6)).merge['vote_iou'] == 0.6


def test_box_voting_never_leaves_its_voters_span():
    """A weighted mean in float32 can round past the largest coordinate it averages (700.00006 for
    boxes clipped at a page's edge of 700): the voted box stays within its voters' span."""
    import torch

    from kaokore_mm.core.merge import merge_tensor

    g = torch.Generator().manual_seed(0)
    x1 = torch.rand(400, generator=g) * 40 + 600
    y1 = torch.rand(400, generator=g) * 250
    boxes = torch.stack([x1, y1, torch.full_like(x1, 700.0), (y1 + 50).clamp(max=300)], 1).float()
    scores = torch.rand(400, generator=g).float()
    b, _, _ = merge_tensor(boxes, scores, torch.zeros(400, dtype=torch.long), dict(type='nms', vote_iou=0.5))
    assert b[:, 2].max() <= 700 and b[:, 3].max() <= 300 and b[:, 0].min() >= x1.min()


def test_default_containment_keeps_overlapping_heads_and_drops_a_half_inside_part():
    """The merge the configs use (``ioa_thr=0.5`` either way; tests/test_configs.py checks they
    do): a head overlapping another by 45 % of its box keeps its box (a crowd); a box with half
    of its area inside a higher-scoring one (a part of the face, or the same face drawn a little
    off) goes, which 0.7 kept."""
    import torch

    from kaokore_mm.core.merge import merge_tensor

    boxes = torch.tensor(
        [[100, 100, 200, 200], [155, 100, 255, 200], [400, 100, 500, 200], [450, 100, 550, 200]], dtype=torch.float32
    )
    scores = torch.tensor([0.9, 0.8, 0.9, 0.8])
    labels = torch.zeros(4, dtype=torch.long)
    merge = dict(type='nms', iou_thr=0.5, ioa_thr=0.5, contain='ios', view_agreement=0.5, vote_iou=0.5)
    b, _, _ = merge_tensor(boxes, scores, labels, merge)
    assert sorted(b.tolist()) == boxes[[0, 1, 2]].tolist()  # 45 % overlap: both heads; 50 %: one box
    b, _, _ = merge_tensor(boxes, scores, labels, dict(merge, ioa_thr=0.7))
    assert len(b) == 4
