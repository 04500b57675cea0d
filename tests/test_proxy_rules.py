"""Composition rules against exhaustive enumeration, plus numerical monotonicity."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowcompile.proxy.rules import (
    aggregate_acc,
    any_correct_acc,
    binomial_majority_acc,
    chain_acc,
    chain_lat,
    loop_acc_lat,
    majority_vote_acc,
    parallel_lat,
    sequence_acc,
    switch_acc,
    switch_lat,
)

probs = st.floats(0.0, 1.0, allow_nan=False)
seeds = st.integers(0, 2**32 - 1)


def enumerate_vote(p: list[float]) -> float:
    """Sum over all 2^n outcomes; a tie is worth 1/2."""
    n, total = len(p), 0.0
    for outcome in itertools.product((0, 1), repeat=n):
        w = np.prod([pi if o else 1 - pi for pi, o in zip(p, outcome)])
        k = sum(outcome)
        total += w * (1.0 if 2 * k > n else 0.5 if 2 * k == n else 0.0)
    return total


# ---------------------------------------------------------------- voting


@settings(deadline=None, max_examples=60)
@given(st.lists(probs, min_size=1, max_size=7))
def test_majority_vote_matches_enumeration(p):
    assert majority_vote_acc(p) == pytest.approx(enumerate_vote(p), abs=1e-12)


def test_majority_vote_tie_is_half():
    assert majority_vote_acc([1.0, 0.0]) == pytest.approx(0.5)
    assert majority_vote_acc([1.0, 1.0, 0.0, 0.0]) == pytest.approx(0.5)
    assert majority_vote_acc([0.9]) == pytest.approx(0.9)
    # Hand value: 3 voters 0.6, 0.7, 0.8 -> P(>= 2 correct).
    hand = 0.6 * 0.7 * 0.2 + 0.6 * 0.3 * 0.8 + 0.4 * 0.7 * 0.8 + 0.6 * 0.7 * 0.8
    assert majority_vote_acc([0.6, 0.7, 0.8]) == pytest.approx(hand)


def test_majority_vote_vectorised_over_leading_axes():
    p = np.random.default_rng(0).random((3, 4, 5))
    out = majority_vote_acc(p)
    assert out.shape == (3, 4)
    for i, j in itertools.product(range(3), range(4)):
        assert out[i, j] == pytest.approx(enumerate_vote(list(p[i, j])), abs=1e-12)


def test_majority_vote_rejects_empty():
    with pytest.raises(ValueError):
        majority_vote_acc(np.zeros((3, 0)))


@settings(deadline=None, max_examples=60)
@given(probs, st.integers(1, 12))
def test_binomial_majority_matches_poisson_binomial_and_formula(p, n):
    direct = sum(comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1) if 2 * k > n)
    if n % 2 == 0:
        direct += 0.5 * comb(n, n // 2) * (p * (1 - p)) ** (n // 2)
    got = binomial_majority_acc(p, n)
    assert got == pytest.approx(direct, abs=1e-12)
    assert got == pytest.approx(majority_vote_acc([p] * n), abs=1e-12)


def test_binomial_majority_large_n_and_edges():
    assert binomial_majority_acc(0.5, 2001) == pytest.approx(0.5, abs=1e-9)
    assert binomial_majority_acc(0.6, 2001) > 0.999999
    assert binomial_majority_acc(np.array([0.0, 1.0]), 4) == pytest.approx([0.0, 1.0])
    with pytest.raises(ValueError):
        binomial_majority_acc(0.5, 0)


@settings(deadline=None, max_examples=40)
@given(st.lists(probs, min_size=1, max_size=6), probs)
def test_any_correct_and_aggregate_match_enumeration(p, sel):
    any_ok = sum(
        np.prod([pi if o else 1 - pi for pi, o in zip(p, out)])
        for out in itertools.product((0, 1), repeat=len(p))
        if any(out)
    )
    assert any_correct_acc(p) == pytest.approx(any_ok, abs=1e-12)
    assert aggregate_acc(p, sel) == pytest.approx(sel * any_ok, abs=1e-12)


# ---------------------------------------------------------------- sequence


@settings(deadline=None, max_examples=40)
@given(st.lists(st.tuples(probs, probs), min_size=1, max_size=5))
def test_chain_acc_matches_path_enumeration(stages):
    # Enumerate correct/wrong state after every stage.
    accs = [a for a, _ in stages]
    recs = [r for _, r in stages]
    total = 0.0
    for states in itertools.product((0, 1), repeat=len(stages)):
        w, prev = 1.0, None
        for (a, r), s in zip(stages, states):
            q = a if prev in (None, 1) else r
            w *= q if s else 1 - q
            prev = s
        total += w * states[-1]
    assert chain_acc(accs, recs) == pytest.approx(total, abs=1e-12)
    if len(stages) == 2:
        assert sequence_acc(accs[0], accs[1], recs[1]) == pytest.approx(total, abs=1e-12)


def test_chain_and_parallel_latency():
    assert chain_lat([1.0, 2.0, np.array([3.0, 4.0])]) == pytest.approx([6.0, 7.0])
    assert parallel_lat([1.0, 5.0, np.array([3.0, 6.0])]) == pytest.approx([5.0, 6.0])
    assert chain_acc([0.5, 0.5, 0.5]) == pytest.approx(0.125)


# ---------------------------------------------------------------- switch


@settings(deadline=None, max_examples=40)
@given(seeds, st.integers(1, 5))
def test_switch_matches_enumeration(seed, b):
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.ones(b))
    r, mis = rng.random(2)
    acc_b, lat_b = rng.random(b), rng.random(b) * 10
    r_lat = rng.random()
    # Outcomes: (branch j taken by traffic, router right/wrong).
    acc = sum(w[j] * (r * acc_b[j] + (1 - r) * mis) for j in range(b))
    lat = sum(w[j] * (r_lat + lat_b[j]) for j in range(b))
    assert switch_acc(w, r, acc_b, mis) == pytest.approx(acc, abs=1e-12)
    assert switch_lat(w, r_lat, lat_b) == pytest.approx(lat, abs=1e-12)


# ---------------------------------------------------------------- loop


def enumerate_loop(a, n, tpr, fpr):
    """Sum over all 4^n per-iteration outcomes (correct?, approved?)."""
    outcomes = {
        (1, 1): a * tpr,
        (1, 0): a * (1 - tpr),
        (0, 1): (1 - a) * fpr,
        (0, 0): (1 - a) * (1 - fpr),
    }
    acc = iters = 0.0
    for seq in itertools.product(outcomes, repeat=n):
        w = np.prod([outcomes[o] for o in seq])
        stop = next((i for i, (_, ok) in enumerate(seq) if ok), n - 1)
        acc += w * seq[stop][0]
        iters += w * (stop + 1)
    return acc, iters


@settings(deadline=None, max_examples=60)
@given(probs, st.integers(1, 4), probs, probs, st.floats(0.0, 100.0))
def test_loop_matches_enumeration(a, n, tpr, fpr, body):
    acc, iters = enumerate_loop(a, n, tpr, fpr)
    got_acc, got_lat = loop_acc_lat(a, body, n, tpr, fpr)
    assert got_acc == pytest.approx(acc, abs=1e-12)
    assert got_lat == pytest.approx(iters * body, rel=1e-12, abs=1e-12)


def test_loop_edge_cases():
    assert loop_acc_lat(0.3, 2.0, 1, 0.5, 0.5) == pytest.approx((0.3, 2.0))
    # Perfect verifier, never succeeding body: all iterations run.
    assert loop_acc_lat(0.0, 2.0, 5) == pytest.approx((0.0, 10.0))
    # Perfect verifier: success iff any of N iterations succeeds.
    acc, lat = loop_acc_lat(0.4, 1.0, 3)
    assert acc == pytest.approx(1 - 0.6**3)
    assert lat == pytest.approx(1 + 0.6 + 0.36)
    # Continuity at d -> 0 (no cancellation in the closed form).
    tiny, _ = loop_acc_lat(1e-12, 1.0, 10, 1.0, 0.0)
    assert tiny == pytest.approx(10e-12, rel=1e-6)
    _, lat_tiny = loop_acc_lat(1e-12, 1.0, 10, 1.0, 0.0)
    assert lat_tiny == pytest.approx(10.0, rel=1e-9)
    # Vectorised max_iters.
    acc, lat = loop_acc_lat(0.5, 1.0, np.array([1, 2, 3]))
    assert acc == pytest.approx([0.5, 0.75, 0.875])
    with pytest.raises(ValueError):
        loop_acc_lat(0.5, 1.0, 0)


# ---------------------------------------------------------------- monotonicity

N = 4000
TOL = 1e-12


def bump(rng, x, hi=1.0):
    return np.minimum(x + rng.random(x.shape) * 0.3, hi)


def test_monotone_sequence_and_chain():
    rng = np.random.default_rng(1)
    up, b = rng.random(N), rng.random(N)
    rec = b * rng.random(N)  # recovery <= acc_b: the documented condition
    base = sequence_acc(up, b, rec)
    assert np.all(sequence_acc(bump(rng, up), b, rec) >= base - TOL)
    b2 = bump(rng, b)
    assert np.all(sequence_acc(up, b2, rec) >= base - TOL)
    l1, l2 = rng.random(N), rng.random(N)
    for fn in (chain_lat, parallel_lat):
        assert np.all(fn([l1 + rng.random(N), l2]) >= fn([l1, l2]) - TOL)
        assert np.all(fn([l1, l2 + rng.random(N)]) >= fn([l1, l2]) - TOL)


def test_sequence_not_monotone_when_recovery_exceeds_acc():
    # Documented condition is necessary, not just sufficient.
    assert sequence_acc(0.9, 0.1, 0.5) < sequence_acc(0.1, 0.1, 0.5)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_monotone_votes_and_aggregate(n):
    rng = np.random.default_rng(n)
    p = rng.random((N, n))
    sel = rng.random(N)
    base_v, base_a = majority_vote_acc(p), aggregate_acc(p, sel)
    for i in range(n):
        q = p.copy()
        q[:, i] = bump(rng, p[:, i])
        assert np.all(majority_vote_acc(q) >= base_v - TOL)
        assert np.all(aggregate_acc(q, sel) >= base_a - TOL)
    assert np.all(aggregate_acc(p, bump(rng, sel)) >= base_a - TOL)
    x = rng.random(N)
    assert np.all(binomial_majority_acc(bump(rng, x), n) >= binomial_majority_acc(x, n) - TOL)


def test_monotone_switch():
    rng = np.random.default_rng(7)
    b = 3
    w = rng.dirichlet(np.ones(b), size=N)
    acc_b, lat_b = rng.random((N, b)), rng.random((N, b))
    r, r_lat = rng.random(N), rng.random(N)
    mis = np.sum(w * acc_b, axis=-1) * rng.random(N)  # misroute <= weighted branch acc
    base_acc, base_lat = switch_acc(w, r, acc_b, mis), switch_lat(w, r_lat, lat_b)
    assert np.all(switch_acc(w, bump(rng, r), acc_b, mis) >= base_acc - TOL)
    assert np.all(switch_lat(w, r_lat + rng.random(N), lat_b) >= base_lat - TOL)
    for j in range(b):
        q, ql = acc_b.copy(), lat_b.copy()
        q[:, j] = bump(rng, acc_b[:, j])
        ql[:, j] += rng.random(N)
        assert np.all(switch_acc(w, r, q, mis) >= base_acc - TOL)
        assert np.all(switch_lat(w, r_lat, ql) >= base_lat - TOL)


@pytest.mark.parametrize("n", [1, 2, 3, 6, 20])
def test_monotone_loop(n):
    rng = np.random.default_rng(100 + n)
    a, body = rng.random(N), rng.random(N) * 5
    tpr, fpr = rng.random(N), rng.random(N)
    acc, lat = loop_acc_lat(a, body, n, tpr, fpr)
    a2 = bump(rng, a)
    acc2, lat2 = loop_acc_lat(a2, body, n, tpr, fpr)
    assert np.all(acc2 >= acc - TOL)  # for every tpr, fpr
    good = tpr >= fpr
    assert np.all(lat2[good] <= lat[good] + 1e-9)  # fewer iterations when the verifier is informative
    _, lat3 = loop_acc_lat(a, body + rng.random(N), n, tpr, fpr)
    assert np.all(lat3 >= lat - TOL)
