"""Composition rules against exhaustive enumeration, plus numerical monotonicity."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowcompile.proxy.model import refine_loop
from flowcompile.proxy.rules import (
    aggregate_acc,
    any_correct_acc,
    binomial_majority_acc,
    chain_acc,
    chain_lat,
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


def enumerate_refine(q0, rho1, rho0, tpr, fpr, t_check, t_revise, n):
    """The refine loop by enumerating every path of the draft's correctness:
    each round the verdict approves (the loop ends with that draft) or rejects
    (the draft is revised); after n rejections the last revision is returned."""
    acc = lat = 0.0
    stack = [(q0, True, 0), (1 - q0, False, 0)]  # (probability, correct?, round)
    while stack:
        p, correct, k = stack.pop()
        if p == 0:
            continue
        lat += p * t_check
        approve = tpr if correct else fpr
        acc += p * approve * correct
        rejected = p * (1 - approve)
        lat += rejected * t_revise
        fix = rho1 if correct else rho0
        if k == n - 1:
            acc += rejected * fix
            continue
        stack += [(rejected * fix, True, k + 1), (rejected * (1 - fix), False, k + 1)]
    return acc, lat


@settings(deadline=None, max_examples=80)
@given(probs, probs, probs, probs, probs, st.floats(0.0, 10.0), st.floats(0.0, 10.0), st.integers(1, 4))
def test_refine_loop_matches_enumeration(q0, rho1, rho0, tpr, fpr, t_check, t_revise, n):
    acc, lat = enumerate_refine(q0, rho1, rho0, tpr, fpr, t_check, t_revise, n)
    got_acc, got_lat, checks, revisions = refine_loop(q0, rho1, rho0, tpr, fpr, t_check, t_revise, n)
    assert got_acc == pytest.approx(acc, abs=1e-12)
    assert got_lat == pytest.approx(lat, rel=1e-9, abs=1e-12)
    assert got_lat == pytest.approx(checks * t_check + revisions * t_revise, rel=1e-9, abs=1e-12)


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


@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_refine_loop_is_monotone_in_its_draft_and_revisions(n):
    """What makes pruning a loop's initial value (and dominated bodies) exact:
    with an informative judge (tpr >= fpr) and revisions no worse from a correct
    draft (rho1 >= rho0), a better draft or revision never lowers accuracy nor
    raises latency."""
    rng = np.random.default_rng(100 + n)
    q0, rho0 = rng.random(N), rng.random(N)
    rho1 = rho0 + (1 - rho0) * rng.random(N)
    fpr = rng.random(N)
    tpr = fpr + (1 - fpr) * rng.random(N)
    t_check, t_revise = rng.random(N) * 5, rng.random(N) * 5
    acc, lat, _, _ = refine_loop(q0, rho1, rho0, tpr, fpr, t_check, t_revise, n)
    for changed in (
        dict(q0=bump(rng, q0)),
        dict(rho1=bump(rng, rho1)),
        dict(rho0=np.minimum(bump(rng, rho0), rho1)),
    ):
        args = dict(q0=q0, rho1=rho1, rho0=rho0, tpr=tpr, fpr=fpr, t_check=t_check, t_revise=t_revise, n=n)
        args.update(changed)
        acc2, lat2, _, _ = refine_loop(**args)
        assert np.all(acc2 >= acc - TOL)
        assert np.all(lat2 <= lat + 1e-9)
    _, lat3, _, _ = refine_loop(q0, rho1, rho0, tpr, fpr, t_check + rng.random(N), t_revise, n)
    assert np.all(lat3 >= lat - TOL)
