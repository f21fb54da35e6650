"""Merging of boxes predicted on overlapping patches, on tensors.

* ``nms``: greedy non-maximum suppression by IoU (the default), through
  ``torchvision.ops.batched_nms``;
* ``nmm``: greedy non-maximum *merging*, as SAHI's ``GREEDYNMM``: the best box
  absorbs every box that matches it by intersection-over-smaller (``ios``, the
  default: a face cut by a patch border is a small box inside the whole one) or
  IoU, and becomes their union, keeping the best score;
* ``wbf``: weighted box fusion (Solovyev et al.): clusters by IoU with the
  running fused box, coordinates averaged with the scores as weights, score the
  mean of the cluster (the reference ``conf_type='avg'`` for one model).

Every function takes optional ``labels``: boxes of different labels never merge.
Ties in score are broken by input order (a stable sort), so results do not
depend on the device.

Two layers: ``*_tensor`` functions work on torch tensors on any device (the
patched predictor calls them on the model's device); ``nms``, ``greedy_nmm``
and ``weighted_box_fusion`` keep their NumPy-in, NumPy-out signatures for
scripts and run the tensor versions underneath (float64 on the CPU).

No Python loop runs over boxes, and no ``N x N`` matrix is built: candidate
pairs come from a sweep over the boxes sorted by ``x1`` (only boxes that touch
are compared), so the work grows with the number of neighbours. Greedy NMM
decides its leaders in rounds over the matching pairs (a box leads when no
earlier box that may still lead matches it; it is absorbed when an earlier
leader does), which reproduces the sequential greedy result exactly in as many
rounds as the longest chain of matches. WBF's running fused boxes make it
sequential *within* a group of touching boxes, so it runs the groups
(connected components of the touch graph) side by side: one step per rank
inside a group, all groups at once.
The first NumPy-loop implementations are kept in ``tests/core/merge_reference.py``
and the tests compare both on random and clustered boxes.
"""

from __future__ import annotations

import numpy as np
import torch

from .boxes import ios_matrix, iou_matrix  # noqa: F401  (NumPy helpers, re-exported)

MERGE_METHODS = ('nms', 'nmm', 'wbf')  # nms with ioa_thr: containment-aware
CONTAIN_METRICS = ('iob', 'ios')  # containment NMS: the lower box inside the kept one, or either inside the other


def _overlap(a: torch.Tensor, b: torch.Tensor, metric: str) -> torch.Tensor:
    """Elementwise IoU (``'iou'``), intersection over the smaller area (``'ios'``) or
    over the area of ``b`` (``'iob'``: how much of ``b`` lies inside ``a``) of box pairs."""
    lt = torch.maximum(a[:, :2], b[:, :2])
    rb = torch.minimum(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).clamp(min=0).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).clamp(min=0).prod(-1)
    if metric == 'iou':
        denom = area_a + area_b - inter
    elif metric == 'iob':
        denom = area_b
    else:
        denom = torch.minimum(area_a, area_b)
    return torch.where(denom > 0, inter / denom.clamp(min=1e-12), torch.zeros_like(inter))


def _sorted(scores: torch.Tensor) -> torch.Tensor:
    return torch.sort(scores, descending=True, stable=True).indices


def _ranges(starts: torch.Tensor, counts: torch.Tensor):
    """``(owner, member)``: for every ``a``, the pairs ``(a, starts[a] + t)`` for ``t < counts[a]``."""
    counts = counts.clamp(min=0)
    owner = torch.repeat_interleave(torch.arange(len(counts), device=counts.device), counts)
    first = torch.cumsum(counts, 0) - counts
    step = torch.arange(len(owner), device=counts.device) - first[owner]
    return owner, starts[owner] + step


def _touching_pairs(b: torch.Tensor, labels: torch.Tensor | None):
    """Pairs ``(k, i)``, ``k < i``, of boxes that touch or overlap (and share a label):
    a sweep over the boxes sorted by ``x1`` instead of all ``N^2`` pairs, so
    the work grows with the number of neighbours, not with the page."""
    n = len(b)
    xs = torch.sort(b[:, 0], stable=True).indices
    x1 = b[xs, 0].contiguous()
    end = torch.searchsorted(x1, b[xs, 2].contiguous(), right=True)  # sorted boxes starting before this one ends
    pos = torch.arange(n, device=b.device)
    src, dst = _ranges(pos + 1, end - pos - 1)
    p, q = xs[src], xs[dst]
    keep = torch.maximum(b[p, 1], b[q, 1]) <= torch.minimum(b[p, 3], b[q, 3])
    if labels is not None:
        keep &= labels[p] == labels[q]
    p, q = p[keep], q[keep]
    return torch.minimum(p, q), torch.maximum(p, q)


def nms_tensor(
    boxes: torch.Tensor, scores: torch.Tensor, iou_thr: float = 0.5, labels: torch.Tensor | None = None
) -> torch.Tensor:
    """Indices kept by greedy NMS (``torchvision.ops.batched_nms``), highest score first."""
    from torchvision.ops import batched_nms

    if len(boxes) == 0:
        return torch.zeros(0, dtype=torch.long, device=boxes.device)
    order = _sorted(scores)
    rank = -torch.arange(len(order), device=boxes.device, dtype=torch.float32)  # stable ties, no equal scores
    idxs = torch.zeros(len(order), dtype=torch.long, device=boxes.device) if labels is None else labels[order]
    keep = batched_nms(boxes[order].float(), rank, idxs, iou_thr)
    return order[keep.sort().values]


def _greedy_leaders(n: int, k: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
    """Leaders of the sequential greedy pass over ``n`` boxes in rank order, where
    each edge ``(k[e], i[e])``, ``k < i``, says that box ``k`` absorbs box ``i``:
    in each round a box leads when no earlier box that may still lead matches
    it, and is absorbed when an earlier leader does."""
    undecided = torch.ones(n, dtype=torch.bool, device=k.device)
    leader = torch.zeros_like(undecided)
    while bool(undecided.any()):
        blocked = torch.zeros_like(undecided)
        blocked[i[(undecided | leader)[k]]] = True
        leader |= undecided & ~blocked
        absorbed = torch.zeros_like(undecided)
        absorbed[i[leader[k]]] = True
        undecided &= ~leader & ~absorbed
    return leader


def containment_nms_tensor(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    iou_thr: float = 0.5,
    ioa_thr: float = 0.7,
    labels: torch.Tensor | None = None,
    contain: str = 'iob',
) -> torch.Tensor:
    """Indices kept by greedy NMS that also suppresses a box lying mostly inside a
    kept, higher-scoring one, highest score first.

    A box is suppressed by a kept box of higher score when their IoU is at least
    ``iou_thr`` (plain NMS) *or* when at least ``ioa_thr`` of its own area lies
    inside it: the partial box a detector gives for a face cut by a patch
    border, nested in the whole-face box, goes, while two separate faces that
    touch keep both their boxes (nothing is merged or moved). ``ioa_thr=1``
    (or more) is plain NMS. ``contain='ios'`` suppresses it also when the kept box lies
    mostly inside *it* (intersection over the smaller of the two): the loose box of a
    face another view drew around the tight one that scores higher (IoU under 0.5:
    plain NMS keeps both, and the annotator deletes one).
    """
    if contain not in CONTAIN_METRICS:
        raise ValueError(
            f"contain must be 'iob' (the lower box inside the kept one) or 'ios' (either), got {contain!r}"
        )
    n = len(boxes)
    if n == 0:
        return torch.zeros(0, dtype=torch.long, device=boxes.device)
    order = _sorted(scores)
    b = boxes[order]
    k, i = _touching_pairs(b, None if labels is None else labels[order])  # k ranks before i
    hit = (_overlap(b[k], b[i], 'iou') >= iou_thr) | (_overlap(b[k], b[i], contain) >= ioa_thr)
    leader = _greedy_leaders(n, k[hit], i[hit])
    return order[torch.arange(n, device=b.device)[leader]]


def greedy_nmm_tensor(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    match_thr: float = 0.5,
    match_metric: str = 'ios',
    labels: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Greedy non-maximum merging on tensors; returns ``(boxes, scores, keep)`` as :func:`greedy_nmm`."""
    if match_metric not in ('ios', 'iou'):
        raise ValueError(f'match_metric must be ios or iou, got {match_metric!r}')
    n = len(boxes)
    if n == 0:
        return boxes.new_zeros((0, 4)), scores.new_zeros(0), torch.zeros(0, dtype=torch.long, device=boxes.device)
    order = _sorted(scores)
    b = boxes[order]
    k, i = _touching_pairs(b, None if labels is None else labels[order])
    match = _overlap(b[k], b[i], match_metric) >= match_thr
    k, i = k[match], i[match]
    leader = _greedy_leaders(n, k, i)
    # every box joins the first leader (in rank order) that matches it; a leader is its own group
    ranks = torch.arange(n, device=b.device)
    group = torch.where(leader, ranks, torch.full_like(ranks, n))
    by_leader = leader[k]
    group = group.scatter_reduce(0, i[by_leader], k[by_leader], 'amin')
    lead_idx = ranks[leader]
    slot = torch.full((n + 1,), -1, dtype=torch.long, device=b.device)
    slot[lead_idx] = torch.arange(len(lead_idx), device=b.device)
    g = slot[group][:, None]
    inf = torch.full((len(lead_idx), 2), float('inf'), dtype=b.dtype, device=b.device)
    lo = inf.scatter_reduce(0, g.expand(-1, 2), b[:, :2], 'amin')
    hi = (-inf).scatter_reduce(0, g.expand(-1, 2), b[:, 2:], 'amax')
    return torch.cat([lo, hi], 1), scores[order][lead_idx], order[lead_idx]


def _components(n: int, k: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
    """Connected-component id (the smallest member index) of every node of the
    graph with edges ``(k, i)``, by min-label propagation with pointer jumping."""
    comp = torch.arange(n, device=k.device)
    while True:
        new = comp.scatter_reduce(0, i, comp[k], 'amin').scatter_reduce(0, k, comp[i], 'amin')
        new = new[new]
        if torch.equal(new, comp):
            return comp
        comp = new


def _groups(b: torch.Tensor, labels: torch.Tensor | None, iou_thr: float) -> torch.Tensor:
    """Group id of every box such that boxes of different groups can never fuse.

    With ``iou_thr > 0.5`` these are the connected components of touching
    boxes. A box ``i`` can join a cluster only if it covers more than half of
    the cluster's fused box ``F``; the member that joined last covers more than
    half of ``F`` too (it overlapped the previous fused box by ``iou_thr`` and
    ``F`` moved towards it), so the two intersect: ``i`` touches a member.
    With a lower threshold that argument fails, and groups are merged while
    their bounding hulls touch (a fused box lies inside its members' hull):
    exact, but larger groups and more steps."""
    n = len(b)
    comp = _components(n, *_touching_pairs(b, labels))
    while iou_thr <= 0.5:
        ids, inv = torch.unique(comp, return_inverse=True)
        m = len(ids)
        inf = torch.full((m, 2), float('inf'), dtype=b.dtype, device=b.device)
        hull = torch.cat(
            [
                inf.scatter_reduce(0, inv[:, None].expand(-1, 2), b[:, :2], 'amin'),
                (-inf).scatter_reduce(0, inv[:, None].expand(-1, 2), b[:, 2:], 'amax'),
            ],
            1,
        )
        hull_labels = None if labels is None else labels[ids]
        hk, hi = _touching_pairs(hull, hull_labels)
        if len(hk) == 0:
            return comp
        merged = _components(m, hk, hi)
        if torch.equal(merged, torch.arange(m, device=b.device)):
            return comp
        comp = ids[merged][inv]
    return comp


def weighted_box_fusion_tensor(
    boxes: torch.Tensor, scores: torch.Tensor, iou_thr: float = 0.55, labels: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Weighted box fusion on tensors; returns ``(boxes, scores, keep)`` as :func:`weighted_box_fusion`.

    A box can only join a cluster whose fused box it overlaps, and a fused box
    lies inside the hull of its members, so boxes of groups whose hulls do not
    touch never meet (:func:`_groups`): the groups run side by side, one step
    per rank inside a group."""
    n = len(boxes)
    if n == 0:
        return boxes.new_zeros((0, 4)), scores.new_zeros(0), torch.zeros(0, dtype=torch.long, device=boxes.device)
    order = _sorted(scores)
    b, s = boxes[order], scores[order]
    lab = None if labels is None else labels[order]
    comp = _groups(b, lab, iou_thr)
    # rank of each box inside its group, and for each box the earlier members of its group
    by_comp = torch.sort(comp, stable=True).indices
    comp_sorted = comp[by_comp]
    first = torch.searchsorted(comp_sorted, comp_sorted)
    pos = torch.empty_like(comp)
    pos[by_comp] = torch.arange(n, device=b.device) - first
    later, earlier = _ranges(first, torch.arange(n, device=b.device) - first)
    later, earlier = by_comp[later], by_comp[earlier]
    step_of = pos[later]
    pair_order = torch.sort(step_of, stable=True).indices
    later, earlier, step_of = later[pair_order], earlier[pair_order], step_of[pair_order]
    bounds = torch.searchsorted(step_of, torch.arange(int(pos.max()) + 2, device=b.device)).tolist()

    wsum = torch.zeros(n, dtype=b.dtype, device=b.device)  # per cluster, indexed by its leader: sum of scores
    wbox = torch.zeros(n, 4, dtype=b.dtype, device=b.device)
    count = torch.zeros(n, dtype=b.dtype, device=b.device)
    is_leader = pos == 0
    wsum[is_leader], wbox[is_leader], count[is_leader] = s[is_leader], b[is_leader] * s[is_leader, None], 1.0
    ranks = torch.arange(n, device=b.device)
    for step in range(1, len(bounds) - 1):
        sl = slice(bounds[step], bounds[step + 1])
        i, j = later[sl], earlier[sl]  # this step's boxes (one per group) and the earlier members of their group
        lead = is_leader[j]
        i, j = i[lead], j[lead]
        fused = torch.where((count[j] == 1)[:, None], b[j], wbox[j] / wsum[j].clamp(min=1e-12)[:, None])
        iou = _overlap(b[i], fused, 'iou')
        best = torch.full((n,), -1.0, dtype=iou.dtype, device=b.device).scatter_reduce(0, i, iou, 'amax')
        hit = (iou == best[i]) & (iou >= iou_thr)
        target = torch.full((n,), n, dtype=torch.long, device=b.device).scatter_reduce(0, i[hit], j[hit], 'amin')
        here = ranks[pos == step]
        joins = target[here] < n  # ties: the earliest cluster, as the sequential pass
        target = torch.where(joins, target[here], here)
        is_leader[here[~joins]] = True
        wsum.index_add_(0, target, s[here])
        wbox.index_add_(0, target, b[here] * s[here, None])
        count.index_add_(0, target, torch.ones_like(s[here]))
    lead = ranks[is_leader]
    fused = torch.where((count[lead] == 1)[:, None], b[lead], wbox[lead] / wsum[lead].clamp(min=1e-12)[:, None])
    return fused, wsum[lead] / count[lead], order[lead]  # the weights are the scores: their mean


def _tensors(boxes, scores, labels):
    b = torch.as_tensor(np.asarray(boxes, np.float64).reshape(-1, 4))
    s = torch.as_tensor(np.asarray(scores, np.float64).reshape(-1))
    lab = None if labels is None else torch.as_tensor(np.asarray(labels).reshape(-1).astype(np.int64))
    return b, s, lab


def nms(boxes, scores, iou_thr: float = 0.5, labels=None) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, highest score first.

    With ``labels``, boxes of different labels never suppress each other.
    """
    b, s, lab = _tensors(boxes, scores, labels)
    return nms_tensor(b, s, iou_thr, lab).numpy().astype(np.int64)


def greedy_nmm(
    boxes, scores, match_thr: float = 0.5, match_metric: str = 'ios', labels=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy non-maximum merging. Returns ``(boxes, scores, keep)``: the merged
    boxes (union of each group), the best score of each group, and the index of
    the box that led each group (for labels and other fields)."""
    b, s, lab = _tensors(boxes, scores, labels)
    out_b, out_s, keep = greedy_nmm_tensor(b, s, match_thr, match_metric, lab)
    return out_b.numpy().reshape(-1, 4), out_s.numpy(), keep.numpy().astype(np.int64)


def weighted_box_fusion(boxes, scores, iou_thr: float = 0.55, labels=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted box fusion of one model's boxes. Returns ``(boxes, scores, keep)``
    as :func:`greedy_nmm` (``keep``: the first, best box of each cluster)."""
    b, s, lab = _tensors(boxes, scores, labels)
    out_b, out_s, keep = weighted_box_fusion_tensor(b, s, iou_thr, lab)
    return out_b.numpy().reshape(-1, 4), out_s.numpy(), keep.numpy().astype(np.int64)


def absorb_cut_boxes(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    cut: torch.Tensor,
    ioa_thr: float = 0.7,
    labels: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop the boxes a patch border cut that lie inside a box no border cut, whatever their
    scores; returns ``(keep mask, scores)``, the container taking the highest score of what
    it absorbed.

    A face cut by a patch border gives a partial box in that patch, while another view (the
    whole page) or the overlapping patch sees it whole. Score-ordered merging keeps the
    partial box when it scores higher, and then either suppresses the whole one (NMM,
    WBF: the partial box leads) or keeps both (containment NMS: the whole box is not inside
    the partial one); SAHI's open issue #560 is the same trap. The border is evidence the
    scores do not carry: a cut box (``cut``: it touches an inner border of its window)
    with at least ``ioa_thr`` of its area inside an uncut box (same label unless ``labels``
    is ``None``) is that face's piece."""
    n = len(boxes)
    keep = torch.ones(n, dtype=torch.bool, device=boxes.device)
    cut = cut.to(torch.bool)
    if n == 0 or not cut.any() or cut.all():
        return keep, scores
    ci, ui = cut.nonzero().flatten(), (~cut).nonzero().flatten()
    c, u = torch.meshgrid(ci, ui, indexing='ij')
    c, u = c.flatten(), u.flatten()
    inside = _overlap(boxes[u], boxes[c], 'iob') >= ioa_thr
    if labels is not None:
        inside &= labels[u] == labels[c]
    c, u = c[inside], u[inside]
    if not len(c):
        return keep, scores
    scores = scores.clone()
    scores.scatter_reduce_(0, u, scores[c], reduce='amax')
    keep[c] = False
    return keep, scores


def view_agreement_tensor(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    view: torch.Tensor,
    fits: torch.Tensor,
    penalty: float = 0.5,
    iou_thr: float = 0.5,
    labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """Scores after the views' vote: a box that another view should have seen but no such view
    saw keeps ``penalty`` of its score.

    ``view[i]`` is the view that found box ``i``; ``fits[i, u]`` says whether box ``i``'s size
    lies in view ``u``'s valid range (so ``u`` was trained to find it). A box is *supported*
    by view ``u`` when ``u`` found a box of IoU ``>= iou_thr`` with it (same label unless
    ``labels`` is ``None``). A box with at least one other fitting view and the support of none
    of them is one only its own view believes: on realistic pages the crests and fans the
    full-resolution view takes for faces (measured: of a multi-view detector's boxes scoring
    >= 0.5 on 15 held-out pages, 61 of 92 false ones had no other view's support, 1 of 165
    true ones; docs/benchmarks.md). Boxes no other view fits (a 40 px face only the rate-1 view
    sees) keep their scores. Returns new scores (the input is not modified)."""
    n = len(boxes)
    if n == 0:
        return scores
    view = view.long()
    others = fits.clone().bool()
    others[torch.arange(n, device=boxes.device), view] = False
    support = torch.zeros_like(others)
    k, i = _touching_pairs(boxes, labels)
    pair = (view[k] != view[i]) & (_overlap(boxes[k], boxes[i], 'iou') >= iou_thr)
    k, i = k[pair], i[pair]
    support[k, view[i]] = True
    support[i, view[k]] = True
    alone = others.any(1) & ~(others & support).any(1)
    return torch.where(alone, scores * penalty, scores)


def box_voting_tensor(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    keep: torch.Tensor,
    iou_thr: float = 0.5,
    labels: torch.Tensor | None = None,
) -> torch.Tensor:
    """The kept boxes ``boxes[keep]`` moved to the score-weighted mean of the ``boxes`` that
    overlap each by IoU ``>= iou_thr`` (itself included; same label where ``labels`` are given):
    box voting (Gidaris & Komodakis, ICCV 2015; Detectron's ``box_voting`` with the kept score).
    The merge keeps its choice of boxes and their scores, so the operating point's calibration
    still holds; only the corners move. Views and neighbouring patches that see a face each draw
    their own box of it; the mean of the confident ones is tighter than the best-scoring one
    alone, and a loose box costs the annotator an adjustment (half a drawing). A kept box no
    other box overlaps stays where it is."""
    kept = boxes[keep]
    nk = len(keep)
    if nk == 0:
        return kept
    slot = torch.full((len(boxes),), -1, dtype=torch.long, device=boxes.device)
    slot[keep] = torch.arange(nk, device=boxes.device)
    k, i = _touching_pairs(boxes, labels)
    near = _overlap(boxes[k], boxes[i], 'iou') >= iou_thr
    k, i = k[near], i[near]
    # every kept box votes for itself, and a near pair votes for whichever of the two was kept
    owner = torch.cat([torch.arange(nk, device=boxes.device), slot[k], slot[i]])
    voter = torch.cat([keep, i, k])
    kept_owner = owner >= 0
    owner, voter = owner[kept_owner], voter[kept_owner]
    w = scores.to(kept.dtype)[voter]
    num = torch.zeros_like(kept).index_add_(0, owner, boxes[voter] * w[:, None])
    den = torch.zeros(nk, dtype=kept.dtype, device=kept.device).index_add_(0, owner, w)
    voted = torch.where((den > 0)[:, None], num / den.clamp(min=1e-12)[:, None], kept)
    # a mean lies within its voters' span; rounding (float32) must not carry it past them (past the page's edge)
    rows = owner[:, None].expand(-1, 4)
    lo = kept.clone().scatter_reduce_(0, rows, boxes[voter], reduce='amin')
    hi = kept.clone().scatter_reduce_(0, rows, boxes[voter], reduce='amax')
    return torch.minimum(torch.maximum(voted, lo), hi)


def merge_tensor(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    labels: torch.Tensor,
    merge: dict,
    cut: torch.Tensor | None = None,
    view: torch.Tensor | None = None,
    fits: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Merge page boxes as a ``merge`` config says (``type``: nms / nmm / wbf, their
    thresholds, ``class_agnostic``; ``nms`` with ``ioa_thr`` also suppresses boxes lying
    mostly inside a kept one, and with ``contain='ios'`` boxes a kept one lies mostly inside,
    :func:`containment_nms_tensor`); returns ``(boxes, scores, labels)``.
    Given the boxes' ``view`` and ``fits`` (see :func:`view_agreement_tensor`) and a
    ``view_agreement`` penalty in ``merge``, the views vote first. Given ``cut`` (the boxes a
    patch border cut), such boxes inside an uncut one go next
    (:func:`absorb_cut_boxes`, at ``cut_ioa_thr``, 0.7 by default; ``None`` turns it off).
    With ``vote_iou`` (``nms`` only: NMM and WBF move their boxes themselves), the kept boxes
    then take the score-weighted mean of the boxes left that overlap them
    (:func:`box_voting_tensor`; cut pieces no longer vote)."""
    by_label = None if merge.get('class_agnostic', False) else labels
    if merge.get('view_agreement') is not None and view is not None and fits is not None:
        scores = view_agreement_tensor(boxes, scores, view, fits, merge['view_agreement'], labels=by_label)
    cut_thr = merge.get('cut_ioa_thr', 0.7)
    if cut is not None and cut_thr is not None:
        keep, scores = absorb_cut_boxes(boxes, scores, cut, cut_thr, by_label)
        boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
        by_label = None if by_label is None else labels
    kind = merge['type']
    if kind == 'nms':
        if merge.get('ioa_thr') is not None:  # containment-aware: nested partial boxes go too
            keep = containment_nms_tensor(
                boxes, scores, merge.get('iou_thr', 0.5), merge['ioa_thr'], by_label, merge.get('contain', 'iob')
            )
        else:
            keep = nms_tensor(boxes, scores, merge.get('iou_thr', 0.5), by_label)
        if merge.get('vote_iou') is not None:
            return box_voting_tensor(boxes, scores, keep, merge['vote_iou'], by_label), scores[keep], labels[keep]
        return boxes[keep], scores[keep], labels[keep]
    if kind == 'nmm':
        b, s, keep = greedy_nmm_tensor(
            boxes, scores, merge.get('match_thr', 0.5), merge.get('match_metric', 'ios'), by_label
        )
    elif kind == 'wbf':
        b, s, keep = weighted_box_fusion_tensor(boxes, scores, merge.get('iou_thr', 0.55), by_label)
    else:
        raise ValueError(f'merge type {kind!r} is not valid; valid: {", ".join(MERGE_METHODS)}')
    return b, s, labels[keep]
