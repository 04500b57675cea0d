"""The numerical kernels of the proxy's composition rules: votes, aggregation
by levels of right proposals, and the expected maximum of parallel latencies.

`flowcompile.proxy.model` composes them (with its sequence, switch and loop
rules) into the one definition of each rule that compose, enumerate, pareto
and the tests use. Every kernel is a plain numpy function that broadcasts
over its arguments, so a caller can evaluate a whole cross product of child
configurations in one call.

All accuracies are probabilities in [0, 1]; latencies are seconds >= 0.  Each
rule is non-decreasing in every child accuracy and every child latency (the
conditions, where there are any, are stated per rule); this monotonicity is
what makes dominance pruning of sub-regions exact.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from math import lgamma

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "expected_max_lat",
    "expected_max_of",
    "expected_max_curve",
    "quantile_means",
    "plurality_vote_acc",
    "binomial_plurality_acc",
    "plurality_win",
    "any_correct_acc",
    "aggregate_acc",
    "right_count_dist",
    "binomial_dist",
    "resample_levels",
    "level_aggregate_acc",
]

Float = NDArray[np.float64]


# --------------------------------------------------------------------------
# Parallel latency
# --------------------------------------------------------------------------


def expected_max_lat(atoms: Sequence[ArrayLike], chunk: int = 16384) -> Float:
    """``E[max_i X_i]`` of independent ``X_i``, each uniform over its atoms
    (the last axis of ``atoms[i]``, any number of them; one atom: a fixed
    latency). Leading axes broadcast. Non-decreasing in every atom, so in
    every path's latency and under any shift of one path's atoms; with one
    atom per path it is ``max_i``.

    ``E[max] = sum_x x * (G(x) - G(x-))`` over the pooled atoms x, with
    ``G = prod_i F_i`` the maximum's distribution function."""
    if len(atoms) == 0:
        raise ValueError("expected_max_lat needs at least one path")
    arrays = [np.asarray(a, dtype=float) for a in atoms]
    arrays = [a[None] if a.ndim == 0 else a for a in arrays]
    shape = np.broadcast_shapes(*(a.shape[:-1] for a in arrays))
    flat = [np.broadcast_to(a, shape + a.shape[-1:]).reshape(-1, a.shape[-1]) for a in arrays]
    rows = flat[0].shape[0]
    out = np.empty(rows)
    for start in range(0, rows, chunk):
        part = [a[start : start + chunk] for a in flat]
        points = np.sort(np.concatenate(part, axis=-1), axis=-1)
        cdf = np.ones_like(points)
        for a in part:
            cdf = cdf * ((a[:, None, :] <= points[:, :, None]).sum(-1) / a.shape[-1])
        out[start : start + chunk] = (points * np.diff(cdf, axis=-1, prepend=0.0)).sum(-1)
    return out.reshape(shape)


def expected_max_of(values: Sequence[float], k: int) -> float:
    """Unbiased estimate of the expected maximum of k independent draws from
    the distribution that gave `values` (n >= k of them): the U-statistic
    ``sum_i x_(i) C(i-1, k-1) / C(n, k)``, x sorted ascending (the mean of
    the maximum over every k-subset, so no value is drawn twice)."""
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if not 1 <= k <= n:
        raise ValueError(f"expected_max_of needs 1 <= k <= n, got k = {k}, n = {n}")
    total = math.comb(n, k)
    weights = np.array([math.comb(i, k - 1) / total for i in range(n)])  # x_(i+1): C(i, k-1)
    return float(weights @ x)


def expected_max_curve(groups: Sequence[Sequence[float]], k_max: int) -> list[float]:
    """``E[max of k]`` for k = 1..k_max from latencies in groups (the calls of
    one candidate on one query: the replicas a fork would run together).

    k = 1 is the mean of all values. For k >= 2, each group with at least k
    values gives its U-statistic (`expected_max_of`) and the groups are
    averaged, each query weighing the same: this measures the maximum of
    replicas that share a query, correlated as they are at run time. Where no
    group has k values, the U-statistic of all values pooled (replicas taken
    as independent across queries); past the number of values, the previous
    entry. Empty groups are ignored; no value at all gives []."""
    groups = [list(g) for g in groups if len(g)]
    pooled = [x for g in groups for x in g]
    if not pooled:
        return []
    curve = [float(np.mean(pooled))]
    for k in range(2, k_max + 1):
        within = [expected_max_of(g, k) for g in groups if len(g) >= k]
        if within:
            curve.append(float(np.mean(within)))
        elif len(pooled) >= k:
            curve.append(expected_max_of(pooled, k))
        else:
            curve.append(curve[-1])
    return curve


def quantile_means(values: Sequence[float], bins: int) -> list[float]:
    """The empirical distribution of `values` in `bins` equal-probability
    atoms: atom j is the mean of the sorted values over the ranks
    [j n / bins, (j + 1) n / bins) (fractional ranks weighted), so the atoms
    are ascending and average to the mean. The bins' means, not their
    quantiles: a quantile per bin loses the tails, which is what a maximum
    reads (with 8 bins about 10 % of E[max of 3] above the mean, against 3 %)."""
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n == 0 or bins < 1:
        return []
    area = np.concatenate(([0.0], np.cumsum(x)))  # the quantile function's integral at integer ranks

    def integral(r: float) -> float:
        whole = min(int(math.floor(r)), n - 1)
        return float(area[whole] + (r - whole) * x[whole])

    width = n / bins
    return [(integral((j + 1) * width) - integral(j * width)) / width for j in range(bins)]


# --------------------------------------------------------------------------
# Voting and aggregation
# --------------------------------------------------------------------------


WRONG_VALUES_CAP = 1024
"""Wrong answers spread over more equally likely values than this are, for
the vote, as good as all distinct (`plurality_win` mixes in that limit)."""


def plurality_vote_acc(p: ArrayLike, wrong_agree: float = 1.0) -> Float:
    """Accuracy of `flow.vote` over ``n = p.shape[-1]`` independent inputs.

    Input ``i`` is right w.p. ``p[..., i]``; the number right is their
    Poisson-binomial, and with j right the vote picks the right answer w.p.
    ``plurality_win(n, wrong_agree)[j]``. ``wrong_agree = 1`` (every wrong
    answer the same) is the strict-majority rule, a tie half right.
    Non-decreasing in every ``p_i``.
    """
    p = np.asarray(p, dtype=float)
    if p.ndim == 0 or p.shape[-1] == 0:
        raise ValueError("plurality_vote_acc needs at least one voter on the last axis")
    dist = right_count_dist(list(np.moveaxis(p, -1, 0)))
    return dist @ plurality_win(p.shape[-1], wrong_agree)


def binomial_plurality_acc(p: ArrayLike, n: int, wrong_agree: float = 1.0) -> Float:
    """`flow.vote` over the ``n`` i.i.d. samples of a replicated fork, each
    right w.p. ``p``: the binomial against ``plurality_win``."""
    if int(n) != n or n < 1:
        raise ValueError("n must be a positive integer")
    return binomial_dist(p, int(n)) @ plurality_win(int(n), wrong_agree)


def plurality_win(n: int, wrong_agree: float = 1.0) -> Float:
    """``w[j]``, j = 0..n: the chance that the most common of n answers, j of
    them right, is the right one, as `flow.vote` decides (the plurality; ties
    to the earliest input, which for exchangeable inputs is a uniform pick).

    The n - j wrong answers are i.i.d. over D equally likely wrong values with
    ``D = 1 / wrong_agree`` (two wrong answers agree w.p. ``wrong_agree``).
    With M the largest count among the wrong values and R how many reach it,
    the right answer wins when ``j > M`` and, when ``j = M``, w.p. ``1/(R+1)``.
    A non-integer D is a per-query mixture of floor(D) and floor(D) + 1 values,
    mixed so that two wrong answers still agree w.p. ``wrong_agree`` (past
    ``WRONG_VALUES_CAP`` values, of that many and of all-distinct ones). Each
    ``w[j]`` is non-decreasing in j (one wrong answer turned right never hurts),
    which makes the vote monotone in its inputs' accuracies.
    """
    if int(n) != n or n < 1:
        raise ValueError("n must be a positive integer")
    if not 0.0 <= wrong_agree <= 1.0:
        raise ValueError("wrong_agree must be in [0, 1]")
    n = int(n)
    if wrong_agree >= 1.0:
        return np.asarray(_win_table(n, 1))
    if wrong_agree * WRONG_VALUES_CAP <= 1.0:
        share = wrong_agree * WRONG_VALUES_CAP  # of the capped distribution; the rest all distinct
        return share * np.asarray(_win_table(n, WRONG_VALUES_CAP)) + (1 - share) * np.asarray(_win_table(n, 0))
    d = int(1.0 / wrong_agree)
    share = (wrong_agree - 1.0 / (d + 1)) * d * (d + 1)  # of d values; of d + 1 the rest
    share = min(max(share, 0.0), 1.0)
    return share * np.asarray(_win_table(n, d)) + (1 - share) * np.asarray(_win_table(n, d + 1))


@functools.cache
def _win_table(n: int, values: int) -> tuple[float, ...]:
    """`plurality_win` for exactly `values` equally likely wrong values (0: all
    wrong answers distinct), by exponential generating functions: with
    ``f(x) = sum_{c<j} (x/D)^c / c!`` (a wrong value with fewer than j answers),
    ``P(M < j) = m! [x^m] f^D`` and
    ``P(M = j, R = r) = C(D, r) m! / (j!^r D^(jr)) [x^(m-jr)] f^(D-r)``, m = n - j."""
    table = [0.0] * (n + 1)
    for j in range(1, n + 1):
        m = n - j
        if m == 0:
            table[j] = 1.0
            continue
        if values == 0:  # every wrong answer its own value: M = 1, R = m
            table[j] = 1.0 if j >= 2 else 1.0 / (m + 1)
            continue
        if values == 1:  # every wrong answer the same: the strict majority, a tie half
            table[j] = 1.0 if j > m else 0.5 if j == m else 0.0
            continue
        d = values
        f = np.array([1.0 / (math.factorial(c) * float(d) ** c) for c in range(min(j, m + 1))])
        win = math.factorial(m) * _power(f, d, m)[m]
        for r in range(1, min(d, m // j) + 1):
            log_front = (
                lgamma(d + 1) - lgamma(r + 1) - lgamma(d - r + 1)
                + lgamma(m + 1) - r * lgamma(j + 1) - j * r * math.log(d)
            )
            coefficient = _power(f, d - r, m - j * r)[m - j * r]
            win += math.exp(log_front) * coefficient / (r + 1)
        table[j] = min(max(win, 0.0), 1.0)
    return tuple(table)


def _power(f: Float, e: int, degree: int) -> Float:
    """Coefficients 0..degree of the power series ``f^e``."""
    result = np.zeros(degree + 1)
    result[0] = 1.0
    base = np.zeros(degree + 1)
    base[: min(len(f), degree + 1)] = f[: degree + 1]
    while e:
        if e & 1:
            result = np.convolve(result, base)[: degree + 1]
        e >>= 1
        if e:
            base = np.convolve(base, base)[: degree + 1]
    return result


def _log_comb(n: int, k: int) -> float:
    return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)


def any_correct_acc(p: ArrayLike) -> Float:
    """Probability that at least one of the independent branches is correct.

    ``1 - prod_i (1 - p[..., i])`` over the last axis.
    """
    p = np.asarray(p, dtype=float)
    if p.ndim == 0:
        raise ValueError("any_correct_acc expects branches on the last axis")
    return 1.0 - np.prod(1.0 - p, axis=-1)


def aggregate_acc(p: ArrayLike, select_acc: ArrayLike) -> Float:
    """Fork + aggregator without level data: ``select_acc * (1 - prod_i (1 - p_i))``.

    The aggregator can only succeed if some branch produced a correct answer,
    and then picks/synthesises it with probability ``select_acc``. The rule
    of IR profiled before aggregators were measured per level; it ignores how
    many proposals are right (see :func:`level_aggregate_acc`).
    """
    return np.asarray(select_acc, dtype=float) * any_correct_acc(p)


def binomial_dist(p: ArrayLike, n: int) -> Float:
    """``P(K = k)``, k = 0..n, on a new last axis: K right of n i.i.d. draws
    each right w.p. ``p`` (broadcast over ``p``'s shape)."""
    if int(n) != n or n < 0:
        raise ValueError("n must be a non-negative integer")
    n = int(n)
    p = np.asarray(p, dtype=float)
    k = np.arange(n + 1, dtype=float)
    log_comb = np.array([_log_comb(n, int(j)) for j in range(n + 1)])
    pe = p[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        # 0 * log(0) must be 0 so that p in {0, 1} gives a point mass.
        t_hit = np.where(k > 0, k * np.log(pe), 0.0)
        t_miss = np.where(k < n, (n - k) * np.log1p(-pe), 0.0)
    return np.exp(log_comb + t_hit + t_miss)


def sample_count_dist(right: ArrayLike, calls: int, draws: int) -> Float:
    """``P(J = j)``, j = 0..draws, on a new last axis: right answers among
    `draws` samples of a query on which `right` of `calls` profiled samples
    were right. Samples of one query are exchangeable, so for ``draws <=
    calls`` J is hypergeometric (drawing without replacement from the
    profiled ones: unbiased, and what the profiled samples themselves show at
    ``draws = calls``); past `calls`, binomial at the rate ``right / calls``."""
    right = np.asarray(right, dtype=int)
    if draws > calls:
        return binomial_dist(right / calls, draws)
    j = np.arange(draws + 1)
    r = right[..., None]
    log_p = _log_comb_array(r, j) + _log_comb_array(calls - r, draws - j) - _log_comb(calls, draws)
    return np.exp(log_p)


def _log_comb_array(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    """log C(n, k) elementwise for integer arrays; -inf where k < 0 or k > n."""
    n, k = np.broadcast_arrays(np.asarray(n, dtype=int), np.asarray(k, dtype=int))
    ok = (k >= 0) & (k <= n) & (n >= 0)
    safe_n, safe_k = np.where(ok, n, 0), np.where(ok, k, 0)
    log_fact = np.array([lgamma(i + 1) for i in range(int(safe_n.max(initial=0)) + 1)])
    return np.where(ok, log_fact[safe_n] - log_fact[safe_k] - log_fact[safe_n - safe_k], -np.inf)


def right_count_dist(p: Sequence[ArrayLike], copies: Sequence[int] | None = None) -> Float:
    """Distribution of how many inputs are right, on a new last axis.

    Input ``i`` is ``copies[i]`` (default 1) independent draws each right w.p.
    ``p[i]`` (a replicated fork's samples are copies of one input): the
    Poisson-binomial of all draws, by convolving the inputs' binomials. The
    ``p[i]`` broadcast together."""
    copies = [1] * len(p) if copies is None else list(copies)
    if len(copies) != len(p):
        raise ValueError("copies must have one entry per input")
    arrays = np.broadcast_arrays(*[np.asarray(x, dtype=float) for x in p]) if p else []
    dist = np.ones((arrays[0].shape if arrays else ()) + (1,))
    for x, k in zip(arrays, copies):
        dist = convolve_counts(dist, binomial_dist(x, k))
    return dist


def convolve_counts(a: Float, b: Float) -> Float:
    """The count distribution of a sum of two independent counts (last
    axis), broadcasting the leading axes."""
    out = np.zeros(np.broadcast_shapes(a.shape[:-1], b.shape[:-1]) + (a.shape[-1] + b.shape[-1] - 1,))
    for j in range(b.shape[-1]):
        out[..., j : j + a.shape[-1]] += a * b[..., j, None]
    return out


def resample_levels(curve: ArrayLike, n: int) -> Float:
    """A level curve measured with ``N = len(curve) - 1`` proposals, read for
    ``n`` proposals: ``a_n(j) = a_N`` at the same fraction ``j / n`` of right
    proposals, linearly interpolated between measured levels (the identity for
    n = N). For a replicated fork measured at its largest sample count, used
    at smaller ones. Keeps a non-decreasing curve non-decreasing."""
    curve = np.asarray(curve, dtype=float)
    if curve.ndim != 1 or curve.size == 0:
        raise ValueError("a level curve needs at least one level")
    if int(n) != n or n < 0:
        raise ValueError("n must be a non-negative integer")
    big = curve.size - 1
    if n == big:
        return curve
    if big == 0:
        return np.full(int(n) + 1, curve[0])
    if n == 0:
        return curve[-1:].copy()  # no proposal: nothing wrong among them
    return np.interp(np.arange(int(n) + 1) / n, np.arange(big + 1) / big, curve)


def level_aggregate_acc(dist: ArrayLike, curve: ArrayLike) -> Float:
    """Fork + aggregator measured per level: ``sum_j P(j right) * a(j)``.

    ``dist[..., j]`` is the chance that j of the n proposals are right
    (:func:`right_count_dist`), ``curve[j]`` the aggregator's success rate
    with exactly j right (``len(curve) - 1`` proposals measured; another count
    is read by :func:`resample_levels`). Non-decreasing in every proposal's
    accuracy when ``curve`` is non-decreasing, which `compose` ensures.
    """
    dist = np.asarray(dist, dtype=float)
    levels = resample_levels(curve, dist.shape[-1] - 1)
    return dist @ levels
