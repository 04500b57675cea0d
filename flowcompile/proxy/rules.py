"""Composition rules of the structure-aware accuracy/latency proxy.

Every rule is a plain numpy function that broadcasts over its arguments, so a
caller can evaluate a whole cross product of child configurations in one call.

All accuracies are probabilities in [0, 1]; latencies are seconds >= 0.  Each
rule is non-decreasing in every child accuracy and every child latency (the
conditions, where there are any, are stated per rule); this monotonicity is
what makes dominance pruning of sub-regions exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from math import lgamma

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "sequence_acc",
    "chain_acc",
    "chain_lat",
    "parallel_lat",
    "majority_vote_acc",
    "binomial_majority_acc",
    "any_correct_acc",
    "aggregate_acc",
    "switch_acc",
    "switch_lat",
]

Float = NDArray[np.float64]


# --------------------------------------------------------------------------
# Sequence and parallel
# --------------------------------------------------------------------------


def sequence_acc(acc_up: ArrayLike, acc_b: ArrayLike, recovery_b: ArrayLike = 0.0) -> Float:
    """Accuracy of ``up -> b``: ``acc_up * acc_b + (1 - acc_up) * recovery_b``.

    ``recovery_b`` is the probability that ``b`` still ends correct when its
    input is wrong.  Non-decreasing in ``acc_b``; non-decreasing in ``acc_up``
    iff ``acc_b >= recovery_b`` (a stage never does better on wrong input).
    """
    a = np.asarray(acc_up, dtype=float)
    return a * np.asarray(acc_b, dtype=float) + (1.0 - a) * np.asarray(recovery_b, dtype=float)


def chain_acc(accs: Sequence[ArrayLike], recoveries: Sequence[ArrayLike] | None = None) -> Float:
    """Left fold of :func:`sequence_acc` along a chain (a product when no recovery).

    ``recoveries[i]`` belongs to stage ``i``; the first stage's entry is ignored.
    """
    if len(accs) == 0:
        raise ValueError("chain_acc needs at least one stage")
    rec = [0.0] * len(accs) if recoveries is None else list(recoveries)
    if len(rec) != len(accs):
        raise ValueError("recoveries must have one entry per stage")
    out = np.asarray(accs[0], dtype=float)
    for a, r in zip(accs[1:], rec[1:]):
        out = sequence_acc(out, a, r)
    return out


def chain_lat(lats: Sequence[ArrayLike]) -> Float:
    """Latency of a chain: ``sum_i lat_i``."""
    if len(lats) == 0:
        raise ValueError("chain_lat needs at least one stage")
    return reduce(np.add, (np.asarray(x, dtype=float) for x in lats))


def parallel_lat(lats: Sequence[ArrayLike]) -> Float:
    """Latency of independent parallel paths: ``max_i lat_i``."""
    if len(lats) == 0:
        raise ValueError("parallel_lat needs at least one path")
    return reduce(np.maximum, (np.asarray(x, dtype=float) for x in lats))


# --------------------------------------------------------------------------
# Voting and aggregation
# --------------------------------------------------------------------------


def _tie_rule(dist: Float, n: int) -> Float:
    """P(strict majority) + 0.5 * P(tie), from a count distribution on axis -1."""
    out = dist[..., n // 2 + 1 :].sum(axis=-1)
    if n % 2 == 0:
        out = out + 0.5 * dist[..., n // 2]
    return out


def majority_vote_acc(p: ArrayLike) -> Float:
    """Accuracy of a majority vote over ``n = p.shape[-1]`` independent voters.

    Voter ``i`` is correct with probability ``p[..., i]`` (binary correct/wrong
    model: all wrong votes are treated as one opposing bloc).  With ``K`` the
    Poisson-binomial number of correct votes,

        acc = P(K > n/2) + 1/2 * P(K = n/2)

    i.e. for even ``n`` a tie counts as half correct (broken by a fair coin).
    ``P(K = k)`` is computed exactly by the O(n^2) recursion
    ``D_i[k] = D_{i-1}[k] (1 - p_i) + D_{i-1}[k-1] p_i``, vectorised over the
    leading axes.  Non-decreasing in every ``p_i``.
    """
    p = np.asarray(p, dtype=float)
    if p.ndim == 0 or p.shape[-1] == 0:
        raise ValueError("majority_vote_acc needs at least one voter on the last axis")
    n = p.shape[-1]
    dist = np.zeros(p.shape[:-1] + (n + 1,))
    dist[..., 0] = 1.0
    for i in range(n):
        pi = p[..., i, None]
        # Shift-and-mix in place of a convolution; dist[..., k] for k > i+1 stays 0.
        nxt = dist * (1.0 - pi)
        nxt[..., 1:] += dist[..., :-1] * pi
        dist = nxt
    return _tie_rule(dist, n)


def binomial_majority_acc(p: ArrayLike, n: int) -> Float:
    """Majority-vote accuracy of ``n`` i.i.d. samples, each correct w.p. ``p``.

    ``acc = sum_{k > n/2} C(n,k) p^k (1-p)^(n-k) + 1/2 C(n,n/2) (p(1-p))^(n/2)``
    (the last term only for even ``n``: a tie is half correct, as in
    :func:`majority_vote_acc`).  The pmf is evaluated in log space so large
    ``n`` does not overflow.
    """
    if int(n) != n or n < 1:
        raise ValueError("n must be a positive integer")
    n = int(n)
    p = np.asarray(p, dtype=float)
    k = np.arange(n + 1, dtype=float)
    log_comb = np.array([_log_comb(n, int(j)) for j in range(n + 1)])
    pe = p[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        # 0 * log(0) must be 0 so that p in {0, 1} gives a point mass.
        t_hit = np.where(k > 0, k * np.log(pe), 0.0)
        t_miss = np.where(k < n, (n - k) * np.log1p(-pe), 0.0)
    dist = np.exp(log_comb + t_hit + t_miss)
    return _tie_rule(dist, n)


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
    """Fork + aggregator: ``select_acc * (1 - prod_i (1 - p_i))``.

    The aggregator can only succeed if some branch produced a correct answer,
    and then picks/synthesises it with probability ``select_acc``.
    """
    return np.asarray(select_acc, dtype=float) * any_correct_acc(p)


# --------------------------------------------------------------------------
# Switch
# --------------------------------------------------------------------------


def switch_acc(
    branch_probs: ArrayLike,
    router_acc: ArrayLike,
    branch_acc: ArrayLike,
    misroute_acc: ArrayLike = 0.0,
) -> Float:
    """Accuracy of a router followed by one of ``b`` branches.

        acc = router_acc * sum_j w_j * branch_acc_j + (1 - router_acc) * misroute_acc

    ``w = branch_probs[..., j]`` is the traffic share of branch ``j`` (should
    sum to 1 over the last axis).  When the router is right the input goes to
    its branch ``j``; when it is wrong the final answer is correct with
    probability ``misroute_acc`` regardless of branch.  Non-decreasing in each
    ``branch_acc_j``; non-decreasing in ``router_acc`` iff
    ``misroute_acc <= sum_j w_j branch_acc_j``.
    """
    w = np.asarray(branch_probs, dtype=float)
    r = np.asarray(router_acc, dtype=float)
    mixed = np.sum(w * np.asarray(branch_acc, dtype=float), axis=-1)
    return r * mixed + (1.0 - r) * np.asarray(misroute_acc, dtype=float)


def switch_lat(branch_probs: ArrayLike, router_lat: ArrayLike, branch_lat: ArrayLike) -> Float:
    """Expected latency of a switch: ``router_lat + sum_j w_j * branch_lat_j``."""
    w = np.asarray(branch_probs, dtype=float)
    return np.asarray(router_lat, dtype=float) + np.sum(w * np.asarray(branch_lat, dtype=float), axis=-1)
