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


def brute_force(pages, costs):
    """Every threshold (each distinct score, and one above all), counted from the matches directly."""
    matches = [match_page(d, s, g) for d, s, g in pages]
    scores = np.concatenate([m.scores for m in matches])
    best = None
    for thr in sorted(set(scores.tolist()) | {np.nextafter(scores.max(), np.inf)}):
        acts = dict(accept=0, resize=0, delete=0, draw=0)
        for m in matches:
            take = m.scores >= thr
            acts['accept'] += int((m.tp & take & (m.ious >= ADJUST_BELOW)).sum())
            acts['resize'] += int((m.tp & take & (m.ious < ADJUST_BELOW)).sum())
            acts['delete'] += int((~m.tp & take).sum())
            acts['draw'] += m.num_gt - int((m.tp & take).sum())
        cost = sum(costs[k] * v for k, v in acts.items()) / (sum(m.num_gt for m in matches) * costs['draw'])
        if best is None or cost < best[0] - 1e-12 or (abs(cost - best[0]) <= 1e-12 and thr > best[1]):
            best = (cost, thr)
    return best, matches


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
    (cost, thr), matches = brute_force(pages, costs)
    op = operating_point(matches, costs)
    assert op['effort_share'] == pytest.approx(cost)
    assert op['score_thr'] == pytest.approx(thr)
    again = correction_actions(matches, op['score_thr'], costs=costs)
    assert again['effort_share'] == pytest.approx(op['effort_share'])


def test_unknown_costs_are_refused_by_name():
    with pytest.raises(ValueError, match='adjust'):
        operating_point([], dict(adjust=0.5))


def test_expected_effort_reads_scores_as_chances():
    from kaokore_mm.core.operating_point import expected_effort

    assert expected_effort([1.0, 1.0], 0.5) == pytest.approx(2 * COSTS['accept'])  # sure faces: accepts
    assert expected_effort([0.0, 0.0], 0.5) == 0.0  # sure background: nothing to do
    assert expected_effort([0.4], 0.5) == pytest.approx(0.4 * COSTS['draw'])  # left out: maybe a face to draw
    assert expected_effort([0.6], 0.5) == pytest.approx(0.6 * COSTS['accept'] + 0.4 * COSTS['delete'])
    assert expected_effort([], 0.5) == 0.0
