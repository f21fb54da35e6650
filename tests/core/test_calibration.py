"""Temperature scaling and the bulk-confirmation threshold, on classifiers whose true
calibration is known."""

import math

import numpy as np
import pytest

from kaokore_mm.core.calibration import (
    calibrated,
    confident_threshold,
    expected_calibration_error,
    fit_temperature,
    label_confidence,
    log_probs_of,
    nll,
)


def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def sampled(n, k, sharpness, seed=0):
    """Logits whose softmax is the true label distribution; labels drawn from it. A classifier
    reporting ``softmax(sharpness * z)`` is over-confident by a temperature of ``sharpness``."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, (n, k))
    p = softmax(z)
    labels = np.array([rng.choice(k, p=row) for row in p])
    return softmax(sharpness * z), labels


@pytest.mark.parametrize('sharpness', [0.5, 1.0, 3.0])
def test_the_fitted_temperature_undoes_a_known_over_or_under_confidence(sharpness):
    probs, labels = sampled(6000, 4, sharpness)
    t = fit_temperature(log_probs_of(probs), labels)
    assert t == pytest.approx(sharpness, rel=0.08)
    grid = np.linspace(0.3, 5, 200)  # the search's minimum is the grid's, within a step
    best = grid[np.argmin([nll(log_probs_of(probs), labels, g) for g in grid])]
    assert abs(t - best) <= grid[1] - grid[0]


def test_calibration_keeps_the_labels_and_lowers_the_ece():
    probs, labels = sampled(4000, 4, 3.0, seed=1)
    info = label_confidence(probs, labels)
    cal = calibrated(log_probs_of(probs), info['temperature'])
    assert (cal.argmax(1) == probs.argmax(1)).all()
    assert info['ece_after'] < 0.03 < info['ece_before']


def brute(conf, ok, target):
    best = None
    for t in sorted(set(conf.tolist())):
        m = conf >= t
        if ok[m].mean() >= target:
            best = t if best is None else min(best, t)
    return best


@pytest.mark.parametrize('seed', range(30))
def test_the_threshold_is_the_lowest_that_keeps_the_target_accuracy(seed):
    rng = np.random.default_rng(seed)
    conf = np.round(rng.uniform(0.3, 1.0, int(rng.integers(5, 80))), 2)  # ties on purpose
    ok = rng.random(len(conf)) < conf
    target = float(rng.choice([0.8, 0.9, 0.95]))
    got = confident_threshold(conf, ok, target)
    want = brute(conf, ok, target)
    if want is None:
        assert got['coverage'] == 0.0 and got['threshold'] > conf.max() and math.isnan(got['accuracy'])
    else:
        assert got['threshold'] == want
        m = conf >= want
        assert got['coverage'] == pytest.approx(m.mean()) and got['accuracy'] == pytest.approx(ok[m].mean())
        assert got['accuracy'] >= target


def test_perfect_labels_all_go_in_bulk_and_wrong_ones_never():
    conf = np.array([0.99, 0.9, 0.8, 0.7])
    assert confident_threshold(conf, [True] * 4)['coverage'] == 1.0
    none = confident_threshold(conf, [False] * 4)
    assert none['coverage'] == 0.0 and none['threshold'] > 0.99
    assert expected_calibration_error([1.0, 1.0], [True, True]) == 0.0


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match='samples, classes'):
        log_probs_of([0.5, 0.5])
    with pytest.raises(ValueError, match='3 labels for 2'):
        fit_temperature(np.zeros((2, 2)), [0, 1, 1])


def test_platt_scaling_recovers_a_known_logistic_law():
    from kaokore_mm.core.calibration import platt_scaling

    rng = np.random.default_rng(0)
    s = rng.uniform(0.01, 0.99, 20000)
    z = np.log(s / (1 - s))
    positive = rng.uniform(size=s.size) < 1 / (1 + np.exp(-(2.0 * z - 1.0)))  # the true law: slope 2, intercept -1
    fit = platt_scaling(s, positive)
    assert fit['boxes'] == 20000
    assert fit['slope'] == pytest.approx(2.0, abs=0.1) and fit['intercept'] == pytest.approx(-1.0, abs=0.1)
    with pytest.raises(ValueError, match='3 scores but 2 flags'):
        platt_scaling([0.1, 0.5, 0.9], [True, False])
