"""Shrinkage, isotonic regression, Wilson intervals, Spearman correlation and p95."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowcompile.proxy.stats import acc_interval, isotonic, p95, rankdata, shrunk_acc, spearman

seeds = st.integers(0, 2**32 - 1)


# ---------------------------------------------------------------- shrinkage


def test_shrunk_acc_values():
    # Beta(0.5*4, 0.5*4) prior, 8/10 observed -> (8 + 2) / (10 + 4).
    assert shrunk_acc(8, 10, 0.5, 4) == pytest.approx(10 / 14)
    assert shrunk_acc(8, 10, 0.5, 0) == pytest.approx(0.8)  # no prior: MLE
    assert shrunk_acc(0, 0, 0.3, 5) == pytest.approx(0.3)  # no data: prior mean
    assert shrunk_acc(0, 0, 0.3, 0) == pytest.approx(0.3)
    out = shrunk_acc(np.array([[1, 2], [3, 4]]), 4, np.array([0.1, 0.9]), 2.0)
    assert out.shape == (2, 2)
    assert out[1, 0] == pytest.approx((3 + 0.2) / 6)
    with pytest.raises(ValueError):
        shrunk_acc(5, 4, 0.5, 1)


@settings(deadline=None, max_examples=50)
@given(st.integers(0, 50), st.integers(0, 50), st.floats(0, 1), st.floats(0.01, 100))
def test_shrunk_acc_lies_between_mle_and_prior(k, extra, mean, strength):
    n = k + extra
    post = shrunk_acc(k, n, mean, strength)
    lo, hi = sorted([mean, k / n if n else mean])
    assert lo - 1e-12 <= post <= hi + 1e-12


# ---------------------------------------------------------------- isotonic


def minimax_isotonic(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The closed form of weighted isotonic regression (an oracle independent of
    pool-adjacent-violators): f_i = max over k <= i of min over l >= i of the
    weighted mean of y[k..l]."""
    n = len(y)
    mean = lambda k, l: float(np.dot(w[k : l + 1], y[k : l + 1]) / w[k : l + 1].sum())  # noqa: E731
    return np.array([max(min(mean(k, l) for l in range(i, n)) for k in range(i + 1)) for i in range(n)])


def test_isotonic_hand_values():
    # the violator 0.5 > 0.3 pools to their mean; the rest stays
    assert isotonic([0.1, 0.5, 0.3, 0.9]) == pytest.approx([0.1, 0.4, 0.4, 0.9])
    assert isotonic([3, 2, 1]) == pytest.approx([2, 2, 2])
    # weights: 1.0 with weight 3 against 0.0 with weight 1 pools to 0.75
    assert isotonic([1.0, 0.0], [3, 1]) == pytest.approx([0.75, 0.75])
    # a zero weight does not pull its neighbour: it takes the neighbour's value
    assert isotonic([0.9, 0.2], [1, 0]) == pytest.approx([0.9, 0.9], abs=1e-6)
    assert isotonic([0.2, 0.5, 0.7]) == pytest.approx([0.2, 0.5, 0.7])  # monotone: unchanged
    assert isotonic([]).shape == (0,)
    with pytest.raises(ValueError):
        isotonic([0.1, 0.2], [1.0])
    with pytest.raises(ValueError):
        isotonic([0.1, 0.2], [1.0, -1.0])


@settings(deadline=None, max_examples=80)
@given(seeds, st.integers(1, 8))
def test_isotonic_is_the_weighted_least_squares_monotone_fit(seed, n):
    rng = np.random.default_rng(seed)
    y, w = rng.random(n), rng.random(n) * 10 + 0.1
    fit = isotonic(y, w)
    assert np.all(np.diff(fit) >= -1e-12)
    assert fit == pytest.approx(minimax_isotonic(y, w), abs=1e-9)
    assert np.dot(w, fit) == pytest.approx(np.dot(w, y))  # pooling keeps the weighted mean
    assert isotonic(fit, w) == pytest.approx(fit)  # idempotent
    # no other monotone sequence fits better: try random sorted ones
    for _ in range(20):
        other = np.sort(rng.random(n))
        assert np.dot(w, (other - y) ** 2) >= np.dot(w, (fit - y) ** 2) - 1e-12


# ---------------------------------------------------------------- Wilson


def test_wilson_hand_values():
    z2 = NormalDist().inv_cdf(0.975) ** 2
    lo, hi = acc_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(z2 / (10 + z2))  # 0.2775
    assert hi == pytest.approx(0.27753, abs=1e-5)
    lo, hi = acc_interval(10, 10)
    assert hi == 1.0 and lo == pytest.approx(10 / (10 + z2))
    assert acc_interval(0, 0) == (0.0, 1.0)
    # Textbook form with phat for 7/20 at 90%.
    z = NormalDist().inv_cdf(0.95)
    ph, n = 0.35, 20
    c = (ph + z * z / (2 * n)) / (1 + z * z / n)
    h = z / (1 + z * z / n) * np.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n))
    assert acc_interval(7, 20, 0.90) == pytest.approx((c - h, c + h))


@settings(deadline=None, max_examples=60)
@given(st.integers(0, 200), st.integers(1, 200), st.sampled_from([0.5, 0.8, 0.95, 0.99]))
def test_wilson_endpoints_solve_score_equation(k, n, level):
    k = min(k, n)
    lo, hi = acc_interval(k, n, level)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    ph = k / n
    assert 0 <= lo <= ph <= hi <= 1
    # Wilson bounds are the roots of (phat - p)^2 = z^2 p (1 - p) / n.
    for p in (lo, hi):
        assert (ph - p) ** 2 == pytest.approx(z * z * p * (1 - p) / n, abs=1e-12)
    wider_lo, wider_hi = acc_interval(k, n, min(level + 0.009, 0.999))
    assert wider_lo <= lo + 1e-15 and wider_hi >= hi - 1e-15


def test_wilson_vectorised_and_narrows_with_n():
    lo, hi = acc_interval(np.array([5, 50, 500]), np.array([10, 100, 1000]))
    assert lo.shape == (3,) and np.all(np.diff(hi - lo) < 0)
    with pytest.raises(ValueError):
        acc_interval(3, 2)


# ---------------------------------------------------------------- Spearman


def test_rankdata_average_ties():
    assert rankdata([10, 20, 20, 30, 20]).tolist() == [1.0, 3.0, 3.0, 5.0, 3.0]


def test_spearman_hand_computed_with_ties():
    # ranks x = [1, 2.5, 2.5, 4], y = [1, 3, 2, 4] -> 4.5 / sqrt(4.5 * 5) = sqrt(0.9)
    assert spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(np.sqrt(0.9))
    assert spearman([1, 2, 3], [30, 20, 10]) == pytest.approx(-1.0)
    assert spearman([1, 2, 3], [1, 4, 9]) == pytest.approx(1.0)
    assert np.isnan(spearman([1, 1, 1], [1, 2, 3]))
    assert np.isnan(spearman([1], [2]))
    with pytest.raises(ValueError):
        spearman([1, 2], [1, 2, 3])


@settings(deadline=None, max_examples=60)
@given(seeds, st.integers(2, 40))
def test_spearman_equals_numpy_on_tie_free_data(seed, n):
    rng = np.random.default_rng(seed)
    x, y = rng.permutation(n) * 1.5 - 3, rng.random(n)
    rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
    expected = np.corrcoef(rx, ry)[0, 1]
    # Classic tie-free formula as a second reference.
    classic = 1 - 6 * np.sum((rx - ry) ** 2) / (n * (n * n - 1))
    assert spearman(x, y) == pytest.approx(expected, abs=1e-12)
    assert spearman(x, y) == pytest.approx(classic, abs=1e-12)


@settings(deadline=None, max_examples=40)
@given(seeds, st.integers(2, 30))
def test_spearman_is_pearson_of_average_ranks(seed, n):
    rng = np.random.default_rng(seed)
    x, y = rng.integers(0, 4, n), rng.integers(0, 4, n)
    rho = spearman(x, y)
    rx, ry = rankdata(x), rankdata(y)
    if rx.std() == 0 or ry.std() == 0:
        assert np.isnan(rho)
    else:
        assert rho == pytest.approx(np.corrcoef(rx, ry)[0, 1], abs=1e-12)


# ---------------------------------------------------------------- p95


def test_p95_hand_and_numpy():
    # h = 0.95 * 19 = 18.05 -> 19 + 0.05 * (20 - 19)
    assert p95(np.arange(1, 21)) == pytest.approx(19.05)
    assert p95([7.0]) == 7.0
    x = np.random.default_rng(0).random((5, 33))
    np.testing.assert_allclose(p95(x, axis=1), np.percentile(x, 95, axis=1))
    assert p95(x) == pytest.approx(np.percentile(x, 95))
    with pytest.raises(ValueError):
        p95([])
