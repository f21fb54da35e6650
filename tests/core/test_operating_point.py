"""The operating point: the threshold of least correction effort, checked against a brute
force over every threshold and on the evaluator's three reference cases (perfect, shifted,
empty detections)."""

import math

import numpy as np
import pytest

from kaokore_mm.core.face_metrics import match_page
from kaokore_mm.core.operating_point import ADJUST_BELOW, COSTS, correction_actions, operating_point

FACES = np.array([[0, 0, 100, 100], [200, 0, 300, 100], [0, 200, 100, 300], [400, 400, 480, 490.0]])


def shifted(boxes, share):
    out = boxes.copy()
    out[:, [0, 2]] += share * (boxes[:, 2:3] - boxes[:, 0:1])
    return out


def test_perfect_detections_cost_one_accept_per_face():
    m = [match_page(FACES, np.linspace(0.9, 0.6, 4), FACES)]
    op = operating_point(m)
    assert op['score_thr'] == pytest.approx(0.6) and op['num_proposals'] == 4
    assert (op['accept'], op['resize'], op['delete'], op['draw']) == (4, 0, 0, 0)
    assert op['effort_share'] == pytest.approx(COSTS['accept'])  # the least work there is
    assert op['precision'] == op['recall'] == 1.0


def test_boxes_that_miss_the_faces_are_not_proposed_and_loose_ones_are_adjusted():
    far = [match_page(shifted(FACES, 0.5), np.full(4, 0.9), FACES)]  # IoU 1/3: false boxes
    op = operating_point(far)
    assert op['num_proposals'] == 0 and op['score_thr'] > 0.9 and op['effort_share'] == 1.0
    assert correction_actions(far, op['score_thr'])['num_proposals'] == 0  # the threshold proposes nothing
    loose = [match_page(shifted(FACES, 0.25), np.full(4, 0.9), FACES)]  # IoU 0.6: found, adjusted
    op = operating_point(loose)
    assert op['resize'] == 4 and op['effort_share'] == pytest.approx(COSTS['resize'])


def test_no_detection_means_drawing_every_face_and_no_face_means_no_figure():
    op = operating_point([match_page(np.zeros((0, 4)), [], FACES)])
    assert op['effort_share'] == 1.0 and op['draw'] == 4 and op['num_proposals'] == 0
    assert math.isnan(op['precision']) and op['recall'] == 0.0
    none = operating_point([match_page(FACES, [0.5] * 4, np.zeros((0, 4)))])
    assert math.isnan(none['effort_share']) and none['num_proposals'] == 0 and none['score_thr'] > 0.5
    assert operating_point([])['num_faces'] == 0


def test_a_false_box_above_true_ones_is_worth_deleting_but_a_false_tail_is_cut():
    dets = np.concatenate([FACES + 600, FACES, FACES + 900])  # 4 false (top), 4 true, 4 false (tail)
    scores = np.concatenate([np.full(4, 0.95), np.linspace(0.9, 0.6, 4), np.linspace(0.5, 0.2, 4)])
    op = operating_point([match_page(dets, scores, FACES)])
    assert op['score_thr'] == pytest.approx(0.6)
    assert (op['accept'], op['delete'], op['draw']) == (4, 4, 0)
    assert op['effort_share'] == pytest.approx((4 * COSTS['accept'] + 4 * COSTS['delete']) / 4)


def test_tied_scores_are_proposed_together():
    dets = np.concatenate([FACES[:2], FACES[:2] + 700])  # two true and two false boxes, all at 0.5
    op = operating_point([match_page(dets, np.full(4, 0.5), FACES)])
    assert op['num_proposals'] in (0, 4)
    assert op['num_proposals'] == 4  # 2 drawings saved (2 - 2 * 0.05) for 2 deletions (0.2)


def page_cost(m, thr, costs):
    """One page's correction cost in drawings, counted from its matches directly."""
    take = m.scores >= thr
    acts = dict(
        accept=int((m.tp & take & (m.ious >= ADJUST_BELOW)).sum()),
        resize=int((m.tp & take & (m.ious < ADJUST_BELOW)).sum()),
        delete=int((~m.tp & take).sum()),
        draw=m.num_gt - int((m.tp & take).sum()),
    )
    return sum(costs[k] * v for k, v in acts.items()) / costs['draw']


def brute_force(pages, costs, one_se=False):
    """Every threshold (each distinct score, and one above all), counted from the matches
    directly; with ``one_se``, the highest threshold whose excess over the cheapest is within one
    standard error of that excess (the ratio estimate's error written out page by page)."""
    matches = [match_page(d, s, g) for d, s, g in pages]
    scores = np.concatenate([m.scores for m in matches])
    faces = sum(m.num_gt for m in matches)
    curve = []
    for thr in sorted(set(scores.tolist()) | {np.nextafter(scores.max(), np.inf)}):
        curve.append((sum(page_cost(m, thr, costs) for m in matches) / faces, thr))
    least = min(c for c, _ in curve)
    best = max((t for c, t in curve if c <= least + 1e-12))
    if not one_se:
        return (least, best), matches
    n = len(matches)

    def se(thr):  # of the paired excess over the cheapest, pages as units
        if n < 2:
            return 0.0
        d = [page_cost(m, thr, costs) - page_cost(m, best, costs) for m in matches]
        excess = sum(d) / faces
        return (sum((di - excess * m.num_gt) ** 2 for di, m in zip(d, matches)) / (n * (n - 1))) ** 0.5 / (faces / n)

    n = len(matches)
    thr = max(t for c, t in curve if t >= best and c - least <= se(t) + 1e-12)
    return (next(c for c, t in curve if t == thr), thr), matches


@pytest.mark.parametrize('seed', range(40))
def test_the_sweep_finds_the_cheapest_threshold_as_a_brute_force_does(seed):
    rng = np.random.default_rng(seed)
    pages = []
    for _ in range(rng.integers(1, 5)):
        n = int(rng.integers(1, 8))
        xy = rng.uniform(0, 2000, (n, 2))
        gt = np.concatenate([xy, xy + rng.uniform(40, 300, (n, 2))], 1)
        found = gt[rng.random(n) < 0.8]
        wh = np.tile(found[:, 2:] - found[:, :2], 2)
        found = found + rng.normal(0, 0.12, found.shape) * wh
        fxy = rng.uniform(0, 2000, (int(rng.integers(0, 6)), 2))
        false = np.concatenate([fxy, fxy + 60], 1)
        dets = np.concatenate([found, false])
        scores = np.round(rng.random(len(dets)), 1)  # ties on purpose
        pages.append((dets, scores, gt))
    costs = dict(COSTS, delete=float(rng.choice([0.1, 0.3, 1.5])))
    for rule in ('one_se', 'least'):  # the rules of the effort curve ('bayes': see below)
        (cost, thr), matches = brute_force(pages, costs, one_se=rule == 'one_se')
        op = operating_point(matches, costs, rule=rule)
        assert op['effort_share'] == pytest.approx(cost)
        assert op['score_thr'] == pytest.approx(thr)
        again = correction_actions(matches, op['score_thr'], costs=costs)
        assert again['effort_share'] == pytest.approx(op['effort_share'])
        assert op['least_effort'] <= op['effort_share'] <= op['least_effort'] + op['excess_se'] + 1e-12


def test_one_face_low_on_few_pages_does_not_pull_the_threshold_down():
    """The campaign's case: five validation pages, every face above 0.8 but one at 0.25 below a
    run of false boxes. The least-effort threshold takes all of them to catch it; the page-to-page
    spread says that one face is no evidence, and the one-standard-error rule stays above the
    false boxes (and agrees with the minimum when the pages agree)."""
    pages = []
    for p in range(5):
        faces = FACES[: 2 + p % 3] + 1000 * p
        scores = list(np.linspace(0.95, 0.85, len(faces)))
        dets = list(faces)
        if p == 0:
            scores[-1] = 0.25  # the low face
            dets += list(FACES[:2] + 5000)  # two false boxes above it
            scores += [0.4, 0.3]
        dets += [FACES[0] + 7000 + 300 * p]  # one false box below it per page
        scores += [0.2]
        pages.append(match_page(np.array(dets), np.array(scores), faces))
    least = operating_point(pages, rule='least')
    assert least['score_thr'] == pytest.approx(0.25) and least['draw'] == 0
    op = operating_point(pages, rule='one_se')
    assert op['rule'] == 'one_se' and op['score_thr'] >= 0.85 and op['delete'] == 0 and op['draw'] == 1
    assert op['least_effort_thr'] == pytest.approx(0.25)
    assert 0 < op['effort_share'] - op['least_effort'] <= op['excess_se']
    # the low face on every page: every page shows the saving, the rules agree
    pages = [
        match_page(np.concatenate([FACES, FACES[:1] + 5000]), [0.95, 0.9, 0.85, 0.25, 0.3], FACES) for _ in range(5)
    ]
    one_se, least = (operating_point(pages, rule=r)['score_thr'] for r in ('one_se', 'least'))
    assert one_se == least == 0.25


def ranked_pages(seed, pages=6, boxes=60, loose=0.0):
    """Pages whose boxes are faces as often as their scores say (a calibrated detector): box ``i``
    scores ``u`` and is a face with chance ``u``; a ``loose`` share of the faces is found at IoU 0.6."""
    rng = np.random.default_rng(seed)
    out = []
    for p in range(pages):
        u = rng.random(boxes)
        face = rng.random(boxes) < u
        xy = np.stack([np.arange(boxes) * 150.0, np.full(boxes, 100.0 * p)], 1)
        gt = np.concatenate([xy, xy + 100], 1)[face]
        dets = np.concatenate([xy, xy + 100], 1)
        dets[face & (rng.random(boxes) < loose), 0] += 40  # IoU 0.6: found, adjusted
        dets[~face] += [0, 5000, 0, 5000]  # far from every face
        out.append(match_page(dets, u, gt))
    return out


@pytest.mark.parametrize('seed', range(5))
def test_the_bayes_rule_proposes_a_box_when_its_calibrated_chance_pays_for_it(seed):
    """A box proposed costs an accept if a face, a deletion if not; left out, a drawing if a face.
    On a calibrated detector the rule's threshold is where the chance of a face is
    delete / (draw - accept + delete) (0.095), every box above it proposed; a dearer deletion
    raises it, and so do true boxes that need adjusting (a dearer true proposal)."""
    from kaokore_mm.core.calibration import face_chances
    from kaokore_mm.core.operating_point import bayes_threshold, score_calibration

    pages = ranked_pages(seed)
    op = operating_point(pages)
    assert op['rule'] == 'bayes' and op['applied'] == 'bayes' and op['excess_se'] == 0.0
    calib = score_calibration(pages)
    assert op['calibration'] == calib and calib['slope'] > 1.96 * calib['slope_se']
    chance = COSTS['delete'] / (COSTS['draw'] - COSTS['accept'] + COSTS['delete'])
    assert face_chances([op['score_thr']], calib)[0] == pytest.approx(chance, abs=1e-9)
    assert 0.03 < op['score_thr'] < 0.2  # the fit is near the identity: the chance is about the score
    scores = np.concatenate([m.scores for m in pages])
    assert op['num_proposals'] == int((scores >= op['score_thr']).sum())
    again = correction_actions(pages, op['score_thr'])
    assert again['effort_share'] == pytest.approx(op['effort_share']) and op['least_effort'] <= op['effort_share']
    dear = operating_point(pages, dict(delete=0.5))
    assert face_chances([dear['score_thr']], calib)[0] == pytest.approx(0.5 / (1 - 0.05 + 0.5), abs=1e-9)
    assert dear['score_thr'] > op['score_thr'] and dear['num_proposals'] < op['num_proposals']
    loose = operating_point(ranked_pages(seed, loose=1.0))  # every true box adjusted: a true proposal costs 0.5
    lcal = score_calibration(ranked_pages(seed, loose=1.0))
    assert face_chances([loose['score_thr']], lcal)[0] == pytest.approx(0.1 / (1 - 0.5 + 0.1), abs=1e-9)
    assert loose['score_thr'] > op['score_thr']
    assert bayes_threshold(calib) == pytest.approx(op['score_thr'], abs=0.05)  # an accept per true box


def test_the_bayes_rule_falls_back_to_the_least_effort_where_no_calibration_can_be_trusted():
    """Scores that do not rank the faces (false boxes both above and below them): the flat fit
    would propose every box; the rule sees the slope is no evidence and takes the curve's minimum.
    So it does with perfect, shifted and no detections (no true and false box to fit)."""
    from kaokore_mm.core.operating_point import bayes_threshold

    dets = np.concatenate([FACES + 600, FACES, FACES + 900])
    scores = np.concatenate([np.full(4, 0.95), np.linspace(0.9, 0.6, 4), np.linspace(0.5, 0.2, 4)])
    op = operating_point([match_page(dets, scores, FACES)])
    assert op['calibration']['slope'] < 1.96 * op['calibration']['slope_se']
    assert op['applied'] == 'least' and op['score_thr'] == pytest.approx(0.6)
    for matches in ([match_page(FACES, [0.9] * 4, FACES)], [match_page(np.zeros((0, 4)), [], FACES)]):
        op = operating_point(matches)
        assert op['calibration'] is None and op['applied'] == 'least'
    assert bayes_threshold(None) is None and bayes_threshold(dict(slope=-1.0, intercept=0.0)) is None
    assert bayes_threshold(dict(slope=1.0, intercept=0.0), dict(accept=1.0)) is None  # nothing saved by a proposal
    assert bayes_threshold(dict(slope=1.0, intercept=0.0)) == pytest.approx(0.1 / 1.05)  # identity: p = score


def test_unknown_costs_and_rules_are_refused_by_name():
    with pytest.raises(ValueError, match='adjust'):
        operating_point([], dict(adjust=0.5))
    with pytest.raises(ValueError, match="'bayes', 'one_se', 'least'"):
        operating_point([], rule='1se')


def test_expected_effort_reads_scores_as_chances():
    from kaokore_mm.core.operating_point import expected_effort

    assert expected_effort([1.0, 1.0], 0.5) == pytest.approx(2 * COSTS['accept'])  # sure faces: accepts
    assert expected_effort([0.0, 0.0], 0.5) == 0.0  # sure background: nothing to do
    assert expected_effort([0.4], 0.5) == pytest.approx(0.4 * COSTS['draw'])  # left out: maybe a face to draw
    assert expected_effort([0.6], 0.5) == pytest.approx(0.6 * COSTS['accept'] + 0.4 * COSTS['delete'])
    assert expected_effort([], 0.5) == 0.0


def _flags(scores, tp):
    """A page whose detections have the given scores and match flags (no box geometry needed)."""
    from kaokore_mm.core.face_metrics import PageMatch

    order = np.argsort(-np.asarray(scores, np.float64), kind='mergesort')
    tp = np.asarray(tp, bool)[order]
    return PageMatch(np.asarray(scores, np.float64)[order], tp, int(tp.sum()))


def test_the_scores_calibration_is_fitted_to_the_match_flags_and_stays_finite_on_separable_scores():
    from kaokore_mm.core.calibration import face_chances
    from kaokore_mm.core.operating_point import score_calibration

    # separable scores (every face above every false box): Platt's targets keep the fit finite
    sep = score_calibration([_flags([0.9, 0.8, 0.3, 0.2, 0.1], [1, 1, 0, 0, 0])])
    assert math.isfinite(sep['slope']) and sep['slope'] > 0
    p = face_chances([0.9, 0.8, 0.3, 0.2, 0.1], sep)
    assert np.all(np.diff(p) < 0) and 0.5 < p[0] < 0.9 and 0.05 < p[-1] < 0.3  # never sure on 5 boxes
    # the fit's gradient is zero there (first-order optimality of the cross-entropy to the targets)
    z = np.log(np.array([0.9, 0.8, 0.3, 0.2, 0.1]) / (1 - np.array([0.9, 0.8, 0.3, 0.2, 0.1])))
    t = np.array([3 / 4, 3 / 4, 1 / 5, 1 / 5, 1 / 5])
    assert np.abs(((p - t) * z).sum()) < 1e-6 and np.abs((p - t).sum()) < 1e-6
    # nothing to calibrate against: only faces, only false boxes, no boxes
    assert score_calibration([_flags([0.9, 0.5], [1, 1])]) is None
    assert score_calibration([_flags([0.9, 0.5], [0, 0])]) is None and score_calibration([]) is None
    # without a calibration the chances are the scores
    assert face_chances([1.2, 0.4, -0.1]).tolist() == [1.0, 0.4, 0.0]


def test_the_forecast_share_is_the_expected_cost_over_the_expected_faces():
    from kaokore_mm.core.operating_point import expected_effort, expected_share

    pages = [[0.9, 0.6, 0.2], [0.95], []]
    plain = expected_share(pages, 0.5)
    cost = sum(expected_effort(p, 0.5) for p in pages)
    assert plain['cost'] == pytest.approx(cost) and plain['faces'] == pytest.approx(0.9 + 0.6 + 0.2 + 0.95)
    assert plain['share'] == pytest.approx(cost / plain['faces'])
    # the identity calibration changes nothing; a stricter one makes the low boxes less likely faces
    same = expected_share(pages, 0.5, calibration=dict(slope=1.0, intercept=0.0))
    assert same['share'] == pytest.approx(plain['share'])
    strict = expected_share(pages, 0.5, calibration=dict(slope=3.0, intercept=-2.0))
    assert strict['faces'] < plain['faces']
    # calibration by threshold: a proposal is one at its raw score, whatever the chance read into it
    assert expected_effort([0.6], 0.5, calibration=dict(slope=1.0, intercept=-5.0)) == pytest.approx(
        COSTS['delete'], rel=0.05
    )
    # a book where the model sees no face: it knows nothing there, every face drawn
    assert expected_share([[], []], 0.5)['share'] == 1.0
    assert expected_share([[0.0]], 0.5) == dict(cost=0.0, faces=0.0, share=1.0)
    # a book of many easy faces does not outrank a book of few hard ones (the share, not the count)
    many_easy = expected_share([[0.97] * 30], 0.5)
    few_hard = expected_share([[0.55, 0.45, 0.35]], 0.5)
    assert many_easy['cost'] > few_hard['cost'] and many_easy['share'] < few_hard['share']


def test_pages_pool_their_costs_and_faces_not_their_shares():
    from kaokore_mm.core.operating_point import expected_share, pooled_share

    pages = [[0.9, 0.6, 0.2], [0.95] * 10, [0.3]]
    each = [expected_share([p], 0.5) for p in pages]
    pooled = pooled_share(iter(each))  # once through: a generator will do
    whole = expected_share(pages, 0.5)
    assert pooled == pytest.approx(whole)
    # a page of ten easy faces weighs ten times a page of one: not the mean of the shares
    assert pooled['share'] != pytest.approx(sum(e['share'] for e in each) / len(each))
    assert pooled_share([]) == dict(cost=0.0, faces=0.0, share=1.0)
