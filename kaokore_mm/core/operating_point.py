"""The operating point of a detector: the score threshold at which correcting its
proposals costs an annotator least (NumPy only).

A person correcting the proposals of a page accepts a box that fits a face,
adjusts one that finds a face loosely (drags its corners), deletes a false one
and draws every face no box found. Each action has a cost relative to drawing a
face (:data:`COSTS`: the review app's operation names; timing studies of box
annotation, Papadopoulos et al. ICCV 2017, put a drawn box at 7-35 s and a
verification click at 1-2 s). The *effort share* of a threshold is the cost of
correcting the proposals scoring at least that threshold over the cost of
drawing every face from scratch::

    effort = (accepts * accept + resizes * resize + deletes * delete + draws * draw) / (faces * draw)

Lowering the threshold past a true box trades a drawing for an accept (or an
adjustment); past a false one it adds a deletion. :func:`operating_point` sweeps
every threshold the detections allow (one pass over the sorted scores: COCO's
greedy matching takes detections in score order, so a box's match does not
depend on the boxes below it). Three rules choose a threshold from validation
pages (:data:`RULES`):

``'bayes'`` (the default), the cost-weighted Bayes decision. Each box is decided
on its own: proposed, it costs an accept (or an adjustment) if it is a face and a
deletion if not; left out, it costs a drawing if it is a face. With ``p`` its
chance of being a face, proposing is cheaper when
``p * true + (1 - p) * delete < p * draw``, that is when
``p > delete / (draw - true + delete)`` (0.1 / 1.05 = 0.095 at the default costs,
``true`` the validation's mean cost of a true proposal: accepts and adjustments
in the proportion its true boxes needed them). ``p`` is the score through the
Platt calibration fitted on the same pages (:func:`score_calibration`), so the
threshold rests on every box of the validation, not on the few faces near the
minimum of its effort curve. Without a calibration it can trust (no true or no
false box there, or a slope not above 0 at 95 % confidence: scores that do not
rank the faces, where a flat fit would propose every box or none) it falls back
to ``'least'``.

``'least'``, the plain minimum of the effort curve (among equally cheap cuts the
highest threshold, fewest boxes).

``'one_se'``, the highest threshold whose effort is within one standard error
of the least (Breiman et al. 1984, *CART* §3.4.3; Hastie et al. *ESL* §7.10):
the most parsimonious choice, fewest proposals, among those the pages cannot
tell apart from the best. A threshold qualifies when its effort exceeds the
least by at most one standard error of that excess, measured on the same pages
(a paired difference; pages are the sampling unit, the excess a ratio estimate
of a page's extra cost over its faces, its error by the delta method). With one
page the error is 0 and it agrees with ``'least'``.

Why ``'bayes'`` and not the minimum: the validation pages of a campaign are few
(a held-out book: 5 pages, 12 faces), so the curve's minimum is noisy. One face
scoring 0.25 on them pulls the least-effort threshold from 0.78 down to 0.24,
and the next book then pays 33 deletions for no face found (measured, see
docs/benchmarks.md). ``'one_se'`` was adopted against that, but it guards the
cheap error (a deletion, 0.1) at the price of the dear one (a missed face, 1):
on the patching benchmark's held-out book it set the threshold above 3-10 true
faces, and the views that win AP50 lost to the whole page in effort
(docs/benchmarks.md, "The views at their operating point"). The Bayes rule
weighs the two errors by their costs and reads the chances from every box; on
the cached predictions of three benchmarks it cost less than ``'one_se'`` on
each (0.070 vs 0.120, 0.161 vs 0.385, 0.145 vs 0.154).

Perfect detections give ``COSTS['accept']`` (accepting every face is the least
work there is); none, or only false ones, give 1 (drawing every face) with a
threshold above every score, which proposes nothing.

This is :func:`~kaokore_mm.core.face_metrics.annotation_effort`'s formula (draw
and delete, the paper's "about a third") with the two actions it leaves out.
"""

from __future__ import annotations

import math

import numpy as np

from .calibration import face_chances, platt_scaling
from .face_metrics import PageMatch

# the cost of each review action, drawing a face = 1 (names as the review app logs them)
COSTS = dict(accept=0.05, resize=0.5, delete=0.1, draw=1.0)
# a true box with IoU below this is adjusted before it is accepted (the scripted annotator's rule)
ADJUST_BELOW = 0.7
# how the operating point is chosen from the effort curve (see the module)
RULES = ('bayes', 'one_se', 'least')
RULE = 'bayes'
# the Bayes rule trusts a calibration whose slope is above 0 by this many standard errors (95 %, one-sided 97.5 %)
SLOPE_Z = 1.96


def check_rule(rule: str, name: str = 'operating point rule') -> str:
    """``rule`` if it is one of :data:`RULES`, else a ValueError naming ``name`` and the rules."""
    if rule not in RULES:
        raise ValueError(f'{name} {rule!r}: the rules are {list(RULES)}')
    return rule


def check_costs(costs: dict | None, name: str = 'effort costs') -> dict:
    """:data:`COSTS` with ``costs`` over them, or a ValueError naming ``name`` when an action is unknown."""
    unknown = set(costs or {}) - set(COSTS)
    if unknown:
        raise ValueError(f'{name}: unknown action(s) {sorted(unknown)}; the actions are {sorted(COSTS)}')
    return dict(COSTS, **(costs or {}))


def _sorted(matches: list[PageMatch]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    if matches:
        scores = np.concatenate([m.scores for m in matches]).astype(np.float64)
        tp = np.concatenate([m.tp for m in matches]).astype(bool)
        ious = np.concatenate([m.ious if len(m.ious) == len(m.scores) else np.ones(len(m.scores)) for m in matches])
    else:
        scores, tp, ious = np.zeros(0), np.zeros(0, bool), np.zeros(0)
    order = np.argsort(-scores, kind='mergesort')
    return scores[order], tp[order], ious[order], sum(m.num_gt for m in matches)


def _actions(tp, ious, num_gt, adjust_below):
    """The actions of taking the first k detections, for k = 0..n (arrays of n + 1)."""
    zero = np.zeros(1, np.int64)
    accepts = np.concatenate([zero, np.cumsum(tp & (ious >= adjust_below))])
    resizes = np.concatenate([zero, np.cumsum(tp & (ious < adjust_below))])
    deletes = np.concatenate([zero, np.cumsum(~tp)])
    draws = num_gt - accepts - resizes
    return dict(accept=accepts, resize=resizes, delete=deletes, draw=draws)


def _cost(actions: dict, costs: dict):
    return sum(costs[k] * np.asarray(v, np.float64) for k, v in actions.items())


def correction_actions(
    matches: list[PageMatch], score_thr: float, adjust_below: float = ADJUST_BELOW, costs: dict | None = None
) -> dict:
    """What correcting the detections scoring ``>= score_thr`` takes: the counts of
    each action, the effort share, and the proposals' precision and recall (``nan`` where
    undefined)."""
    costs = dict(COSTS, **(costs or {}))
    scores, tp, ious, num_gt = _sorted(matches)
    k = int((scores >= score_thr).sum())  # sorted descending: the first k are taken
    acts = {a: int(v[k]) for a, v in _actions(tp, ious, num_gt, adjust_below).items()}
    effort = float(_cost(acts, costs)) / (num_gt * costs['draw']) if num_gt else math.nan
    found = acts['accept'] + acts['resize']
    return dict(
        acts,
        effort_share=effort,
        precision=found / k if k else math.nan,
        recall=found / num_gt if num_gt else math.nan,
        num_faces=num_gt,
        num_proposals=k,
    )


def excess_standard_errors(
    matches: list[PageMatch], thresholds, base_thr: float, costs: dict | None = None, adjust_below=ADJUST_BELOW
) -> np.ndarray:
    """The standard error of each threshold's effort share minus the share at ``base_thr``,
    pages as the sampling unit (the same pages at both thresholds: a paired difference).

    The excess is a ratio estimate ``D = sum(d_p) / sum(f_p)`` (page ``p``'s extra cost in
    drawings and its faces); its delta-method variance is
    ``sum((d_p - D f_p)^2) / (n (n - 1) mean(f)^2)``. Pages without faces count (their
    deletions are cost). 0 with fewer than two pages, ``nan`` without faces.
    """
    costs = dict(COSTS, **(costs or {}))
    thresholds = np.asarray(thresholds, np.float64).reshape(-1)
    n, faces = len(matches), float(sum(m.num_gt for m in matches))
    if not faces:
        return np.full(len(thresholds), math.nan)
    if n < 2:
        return np.zeros(len(thresholds))
    d1, d2, df, f2 = np.zeros(len(thresholds)), np.zeros(len(thresholds)), np.zeros(len(thresholds)), 0.0
    for m in matches:  # sums over pages of d, d^2, d f and f^2: O(thresholds) memory
        scores, tp, ious, num_gt = _sorted([m])
        cost = _cost(_actions(tp, ious, num_gt, adjust_below), costs) / costs['draw']
        taken = np.searchsorted(-scores, -np.append(thresholds, base_thr), side='right')  # boxes >= each
        d = cost[taken[:-1]] - cost[taken[-1]]
        d1, d2, df, f2 = d1 + d, d2 + d * d, df + d * num_gt, f2 + num_gt**2
    excess = d1 / faces
    ss = d2 - 2 * excess * df + excess**2 * f2  # sum((d - excess f)^2)
    return np.sqrt(np.maximum(ss, 0.0) / (n * (n - 1))) / (faces / n)


def bayes_threshold(
    calibration: dict | None, costs: dict | None = None, true_cost: float | None = None
) -> float | None:
    """The score above which proposing a box costs less than leaving it out, by the cost-weighted
    Bayes decision (see the module): the calibrated chance of a face ``p > delete / (draw - true +
    delete)``, ``true`` the cost of a true proposal (default: an accept). ``None`` without a usable
    calibration: none, or one whose chance does not rise with the score, or (given its
    ``slope_se``) one whose slope is not above 0 at 95 % confidence (``slope < 1.96 slope_se``:
    the boxes do not show that the score ranks faces above false boxes, and a flat fit would
    propose every box or none)."""
    costs = check_costs(costs)
    true_cost = costs['accept'] if true_cost is None else float(true_cost)
    slope, intercept = (calibration or {}).get('slope'), (calibration or {}).get('intercept')
    if slope is None or intercept is None or not (math.isfinite(slope) and math.isfinite(intercept)) or slope <= 0:
        return None
    if slope < SLOPE_Z * float((calibration or {}).get('slope_se') or 0.0):
        return None
    gain = costs['draw'] - true_cost  # what proposing a face saves
    if gain <= 0:
        return None  # a true proposal costs as much as drawing: nothing is worth proposing
    chance = costs['delete'] / (gain + costs['delete'])
    z = (math.log(chance / (1 - chance)) - intercept) / slope  # logit of the score where p = chance
    return float(0.5 * (1 + math.tanh(0.5 * z)))


def operating_point(
    matches: list[PageMatch], costs: dict | None = None, adjust_below: float = ADJUST_BELOW, rule: str = RULE
) -> dict:
    """The score threshold the ``rule`` chooses on ``matches`` (see the module): ``'bayes'`` (the
    default) where the calibrated chance of a face pays for a proposal, ``'least'`` the least
    correction effort, ``'one_se'`` the highest threshold whose excess over it is within one
    standard error.

    For ``'least'`` and ``'one_se'`` only cuts between distinct scores are candidates (tied
    boxes are proposed together); among equally cheap ones the highest threshold (fewest boxes)
    wins. Returns ``score_thr``, ``effort_share``, ``precision``, ``recall`` (``nan`` where
    undefined), the action counts there, ``num_faces``/``num_proposals``, the ``rule`` and the
    one ``applied`` (``'least'`` where ``'bayes'`` had no calibration), the least effort and its
    threshold (``least_effort``, ``least_effort_thr``), the standard error of the chosen
    threshold's excess over it (``excess_se``, 0 but for ``'one_se'``) and the ``calibration``
    (``None`` without a true and a false box). Without faces the threshold proposes nothing and
    the effort is ``nan``.
    """
    costs = check_costs(costs)
    check_rule(rule)
    scores, tp, ious, num_gt = _sorted(matches)
    acts = _actions(tp, ious, num_gt, adjust_below)
    total = _cost(acts, costs)
    n = len(scores)
    cut = np.ones(n + 1, bool)  # k detections taken: allowed unless the k-th ties the (k+1)-th
    cut[1:n] = scores[:-1] > scores[1:]
    candidates = np.flatnonzero(cut)

    def threshold(k):
        if k:
            return float(scores[k - 1])
        return float(np.nextafter(scores[0], np.inf)) if n else 1.0  # nothing proposed: above every score

    def share(k):
        return float(total[k]) / (num_gt * costs['draw']) if num_gt else math.nan

    best = int(candidates[np.argmin(total[candidates])]) if num_gt else 0  # argmin: the first (fewest boxes)
    k, thr, se, applied = best, threshold(best), 0.0, 'least' if rule == 'bayes' else rule
    calibration = score_calibration(matches)
    if rule == 'bayes' and num_gt:
        # a true proposal costs an accept or an adjustment, as often as the validation's true boxes needed each
        priced = np.where(ious[tp] >= adjust_below, costs['accept'], costs['resize'])
        true_cost = float(priced.mean()) if tp.any() else None
        bayes = bayes_threshold(calibration, costs, true_cost)
        if bayes is not None:
            k, thr, applied = int((scores >= bayes).sum()), bayes, 'bayes'
    elif rule == 'one_se' and num_gt:
        fewer = candidates[candidates <= best]  # the thresholds above the least-effort one, and it
        excess = (total[fewer] - total[best]) / (num_gt * costs['draw'])
        ses = excess_standard_errors(matches, [threshold(i) for i in fewer], threshold(best), costs, adjust_below)
        first = int(np.flatnonzero(excess <= ses + 1e-12)[0])  # the fewest boxes within one standard error
        k, se = int(fewer[first]), float(ses[first])
        thr = threshold(k)
    tps = int(acts['accept'][k] + acts['resize'][k])
    return dict(
        score_thr=thr,
        effort_share=share(k),
        precision=tps / k if k else math.nan,
        recall=tps / num_gt if num_gt else math.nan,
        **{a: int(v[k]) for a, v in acts.items()},
        num_faces=int(num_gt),
        num_proposals=k,
        rule=rule,
        applied=applied,
        least_effort=share(best),
        least_effort_thr=threshold(best),
        excess_se=se,
        calibration=calibration,
    )


def score_calibration(matches: list[PageMatch]) -> dict | None:
    """The Platt calibration (:func:`kaokore_mm.core.calibration.platt_scaling`) of a detector's
    scores on validation pages: the chance that a box is a face from its score, fitted to the
    boxes' match flags. ``None`` without a true and a false box (nothing to calibrate against)."""
    scores, tp, _, _ = _sorted(matches)
    return platt_scaling(scores, tp)


def expected_effort(scores, score_thr: float, costs: dict | None = None, calibration: dict | None = None) -> float:
    """The correction cost a detector expects on a page, in drawings, reading the chance that a
    box is a face from its score (calibrated when a ``calibration`` is given, see
    :func:`score_calibration`): a box proposed (``>= score_thr``) costs an accept if it is one,
    a deletion if not; a box left out costs a drawing if it is one (the face missed). The faces
    no box points at are unknown to it: an estimate to rank pages by (active selection), not a
    measurement."""
    costs = dict(COSTS, **(costs or {}))
    raw = np.asarray(scores, np.float64).reshape(-1)
    p = face_chances(raw, calibration)
    shown = raw >= score_thr
    proposed = p[shown] * costs['accept'] + (1 - p[shown]) * costs['delete']
    return float(proposed.sum() + (p[~shown] * costs['draw']).sum())


def expected_share(pages_scores, score_thr: float, costs: dict | None = None, calibration: dict | None = None) -> dict:
    """What a detector expects correcting a set of pages will cost: ``cost`` (in drawings, summed
    over the pages' :func:`expected_effort`), ``faces`` (the sum of the boxes' chances of being a
    face) and ``share``, the cost over drawing those faces: the effort share it forecasts, which
    ranks books by how hard each face will be rather than by how many faces they hold. A set
    where it sees no face forecasts 1 (every face drawn: it knows nothing there)."""
    costs = dict(COSTS, **(costs or {}))
    pages_scores = [np.asarray(s, np.float64).reshape(-1) for s in pages_scores]
    cost = sum(expected_effort(s, score_thr, costs, calibration) for s in pages_scores)
    faces = float(sum(face_chances(s, calibration).sum() for s in pages_scores))
    return pooled_share([dict(cost=cost, faces=faces)], costs)


def pooled_share(forecasts, costs: dict | None = None) -> dict:
    """:func:`expected_share` of several sets of pages from their own (``cost`` and ``faces``
    summed, then the share), e.g. a book's from its pages' or the share of the pages a round
    took: not the mean of their shares, which would weigh a page of one face as a page of ten."""
    costs, forecasts = dict(COSTS, **(costs or {})), list(forecasts)
    cost = float(sum(f['cost'] for f in forecasts))
    faces = float(sum(f['faces'] for f in forecasts))
    share = cost / (faces * costs['draw']) if faces > 1e-9 else 1.0
    return dict(cost=cost, faces=faces, share=float(share))
