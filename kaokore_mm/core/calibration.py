"""Label confidence a person can rely on (NumPy only): temperature scaling of a classifier's
probabilities and the confidence above which its labels are right often enough to be
confirmed in bulk; Platt scaling of a detector's scores into chances of a face.

A network's softmax is usually over-confident. Temperature scaling (Guo et al., "On
Calibration of Modern Neural Networks", ICML 2017) divides the logits by one scalar ``T``
fitted on held-out data by minimising the negative log-likelihood; the predicted label never
changes, only how sure it claims to be. The probabilities are enough: ``log p`` differs from
the logits by a per-sample constant, which the softmax ignores, so ``softmax(log p / T)`` is
``softmax(logits / T)``.

Then :func:`confident_threshold` picks, on the same held-out data, the lowest calibrated
confidence whose labels at or above it are right at least ``target`` of the time (the most
labels a person can confirm in bulk at that accuracy). scikit-learn's ``CalibratedClassifierCV``
and netcal do temperature scaling too, on a model they wrap; here the numbers come from an
mmpretrain validation and the fit is one scalar, so a 1-D search is all it takes.

A detector's score is no chance either: a Faster R-CNN trained a few hundred iterations leaves
hundreds of boxes at 0.05-0.3 on a page, and summing its scores counts five times the faces
there are. :func:`platt_scaling` (Platt 1999) fits ``sigmoid(a * logit(score) + b)`` to the
validation boxes' match flags; two parameters by Newton's method, as scikit-learn's
``CalibratedClassifierCV(method='sigmoid')`` would on a model it wraps.
"""

from __future__ import annotations

import math

import numpy as np


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def log_probs_of(probs) -> np.ndarray:
    """``log p`` of probabilities (rows of a softmax), clipped away from 0."""
    p = np.asarray(probs, np.float64)
    if p.ndim != 2 or not len(p):
        raise ValueError(f'probabilities must be a non-empty (samples, classes) array, got shape {p.shape}')
    return np.log(np.clip(p, 1e-12, 1.0))


def nll(log_probs: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """Mean negative log-likelihood of ``labels`` under ``softmax(log_probs / temperature)``."""
    lp = _log_softmax(np.asarray(log_probs, np.float64) / temperature)
    return float(-lp[np.arange(len(labels)), labels].mean())


def fit_temperature(log_probs, labels, lo: float = 0.05, hi: float = 20.0, iters: int = 80) -> float:
    """The temperature of least NLL in ``[lo, hi]``. The NLL is convex in ``1 / T``, so a
    golden-section search over ``1 / T`` finds the minimum (to ~1e-9 of the bracket)."""
    log_probs = np.asarray(log_probs, np.float64)
    labels = np.asarray(labels, np.int64).reshape(-1)
    if len(labels) != len(log_probs):
        raise ValueError(f'{len(labels)} labels for {len(log_probs)} predictions')
    a, b = 1.0 / hi, 1.0 / lo
    g = (math.sqrt(5) - 1) / 2
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = nll(log_probs, labels, 1 / c), nll(log_probs, labels, 1 / d)
    for _ in range(iters):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = nll(log_probs, labels, 1 / c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = nll(log_probs, labels, 1 / d)
    return float(2.0 / (a + b))


def calibrated(log_probs, temperature: float) -> np.ndarray:
    """``softmax(log_probs / temperature)``: the calibrated probabilities."""
    return np.exp(_log_softmax(np.asarray(log_probs, np.float64) / temperature))


def confident_threshold(confidence, correct, target: float = 0.95) -> dict:
    """The lowest confidence ``t`` such that the labels of confidence ``>= t`` are right at
    least ``target`` of the time (tied confidences taken together). Returns ``threshold``,
    ``coverage`` (the share of labels at or above it), ``accuracy`` there and ``num``; when no
    cut reaches the target, ``threshold`` lies above every confidence (nothing in bulk),
    ``coverage`` is 0 and ``accuracy`` ``nan``."""
    conf = np.asarray(confidence, np.float64).reshape(-1)
    ok = np.asarray(correct, bool).reshape(-1)
    if len(conf) != len(ok):
        raise ValueError(f'{len(ok)} correctness flags for {len(conf)} confidences')
    order = np.argsort(-conf, kind='mergesort')
    conf, ok = conf[order], ok[order]
    n = len(conf)
    if not n:
        return dict(threshold=1.0, coverage=0.0, accuracy=math.nan, num=0)
    k = np.arange(1, n + 1)
    accuracy = np.cumsum(ok) / k
    cut = np.ones(n, bool)  # taking the first k is a cut unless the k-th ties the next
    cut[:-1] = conf[:-1] > conf[1:]
    good = np.flatnonzero(cut & (accuracy >= target))
    if not len(good):
        return dict(threshold=float(np.nextafter(conf[0], np.inf)), coverage=0.0, accuracy=math.nan, num=n)
    last = int(good[-1])
    return dict(threshold=float(conf[last]), coverage=(last + 1) / n, accuracy=float(accuracy[last]), num=n)


def expected_calibration_error(confidence, correct, bins: int = 10) -> float:
    """ECE: the gap between confidence and accuracy, averaged over equal-width confidence bins
    weighted by their counts."""
    conf = np.asarray(confidence, np.float64).reshape(-1)
    ok = np.asarray(correct, np.float64).reshape(-1)
    if not len(conf):
        return math.nan
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    ece = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            ece += m.mean() * abs(conf[m].mean() - ok[m].mean())
    return float(ece)


def label_confidence(probs, labels, target: float = 0.95) -> dict:
    """Everything a validation tells about a classifier's confidence: the fitted
    ``temperature``, the bulk ``threshold`` on calibrated confidence with its ``coverage`` and
    ``accuracy``, the ``target``, and the ECE before and after calibration."""
    lp = log_probs_of(probs)
    labels = np.asarray(labels, np.int64).reshape(-1)
    t = fit_temperature(lp, labels)
    raw, cal = np.exp(lp), calibrated(lp, t)
    correct = raw.argmax(1) == labels  # scaling never changes the predicted label
    bulk = confident_threshold(cal.max(1), correct, target)
    return dict(
        temperature=t,
        threshold=bulk['threshold'],
        coverage=bulk['coverage'],
        accuracy=bulk['accuracy'],
        target=float(target),
        num=int(len(labels)),
        ece_before=expected_calibration_error(raw.max(1), correct),
        ece_after=expected_calibration_error(cal.max(1), correct),
    )


def platt_scaling(scores, positive, iters: int = 50) -> dict | None:
    """Platt scaling: the chance of the positive class as ``sigmoid(slope * logit(score) +
    intercept)``, fitted by Newton's method (its step halved until it lowers the loss) to the
    ``positive`` flags with Platt's smoothed targets (``(N+ + 1) / (N+ + 2)`` for the positives,
    ``1 / (N- + 2)`` for the negatives: Platt 1999, section 2.2; they keep the fit finite when
    the scores separate the two, as they often do on a few pages). Returns ``slope``,
    ``intercept``, the slope's standard error ``slope_se`` (from the inverse Hessian of the
    fit: how sure the boxes make it that the score ranks the positives at all) and the ``boxes``
    fitted on, or ``None`` without a positive and a negative."""
    z = _logit(scores)
    pos_flags = np.asarray(positive, bool).reshape(-1)
    if len(pos_flags) != len(z):
        raise ValueError(f'{len(z)} scores but {len(pos_flags)} flags')
    pos, neg = int(pos_flags.sum()), int((~pos_flags).sum())
    if not pos or not neg:
        return None
    t = np.where(pos_flags, (pos + 1.0) / (pos + 2.0), 1.0 / (neg + 2.0))
    x = np.stack([z, np.ones_like(z)], 1)
    w = np.array([1.0, 0.0])  # slope, intercept: the raw score to begin with

    def loss(w):  # the cross-entropy of the targets, from the logits (stable)
        f = x @ w
        return float((np.logaddexp(0, f) - t * f).sum())

    def hessian(w):
        p = _sigmoid(x @ w)
        return (x * (p * (1 - p))[:, None]).T @ x + 1e-9 * np.eye(2)

    for _ in range(iters):
        step = np.linalg.solve(hessian(w), x.T @ (_sigmoid(x @ w) - t))
        rate, before = 1.0, loss(w)
        while rate > 1e-6 and loss(w - rate * step) > before:
            rate /= 2
        w = w - rate * step
        if np.abs(rate * step).max() < 1e-10:
            break
    slope_se = math.sqrt(max(float(np.linalg.inv(hessian(w))[0, 0]), 0.0))  # Wald: the inverse Fisher information
    return dict(slope=float(w[0]), intercept=float(w[1]), slope_se=slope_se, boxes=int(len(z)))


def _logit(scores) -> np.ndarray:
    s = np.clip(np.asarray(scores, np.float64).reshape(-1), 1e-6, 1 - 1e-6)
    return np.log(s / (1 - s))


def _sigmoid(z) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(z, np.float64)))  # stable for large |z|


def face_chances(scores, calibration: dict | None = None) -> np.ndarray:
    """The chance that each box is a face: its score through a :func:`platt_scaling` fit, or the
    score itself (clipped to [0, 1]) without one."""
    if not calibration or calibration.get('slope') is None or calibration.get('intercept') is None:
        return np.clip(np.asarray(scores, np.float64).reshape(-1), 0.0, 1.0)
    return _sigmoid(calibration['slope'] * _logit(scores) + calibration['intercept'])
