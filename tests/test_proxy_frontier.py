"""Pareto filtering and frontier combination against brute force."""

from __future__ import annotations

import tracemalloc
from functools import reduce

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowcompile.proxy.frontier import (
    Frontier,
    FrontierLimitError,
    brute_force_pareto,
    combine,
    leaf,
    pareto_indices,
    pareto_mask,
    prune,
)
from flowcompile.proxy.rules import (
    aggregate_acc,
    chain_acc,
    chain_lat,
    majority_vote_acc,
    parallel_lat,
    switch_acc,
    switch_lat,
)

seeds = st.integers(0, 2**32 - 1)


def naive_keep(acc, lat, cost):
    """O(m^2) definition: not dominated, and first of its exact (acc, lat) tie by (cost, index)."""
    m = len(acc)
    keep = []
    for i in range(m):
        dominated = any(
            acc[j] >= acc[i] and lat[j] <= lat[i] and (acc[j] > acc[i] or lat[j] < lat[i]) for j in range(m)
        )
        shadowed = any(
            acc[j] == acc[i] and lat[j] == lat[i] and (cost[j], j) < (cost[i], i) for j in range(m)
        )
        keep.append(not dominated and not shadowed)
    return np.array(keep, dtype=bool)


def candidates(rng, n, discrete=False):
    if discrete:  # few distinct values -> many exact ties
        return (rng.integers(0, 4, n) / 4, rng.integers(0, 4, n).astype(float), rng.integers(0, 3, n).astype(float))
    return rng.random(n), rng.random(n) * 10, rng.random(n)


# ---------------------------------------------------------------- filtering


@settings(deadline=None, max_examples=80)
@given(seeds, st.integers(0, 25), st.booleans())
def test_pareto_mask_matches_definition(seed, m, discrete):
    acc, lat, cost = candidates(np.random.default_rng(seed), m, discrete)
    mask = pareto_mask(acc, lat, cost)
    assert np.array_equal(mask, naive_keep(acc, lat, cost))
    idx = pareto_indices(acc, lat, cost)
    assert np.all(np.diff(lat[idx]) > 0) and np.all(np.diff(acc[idx]) > 0)
    assert sorted(idx) == list(np.flatnonzero(mask))


def test_pareto_tie_break_lowest_cost_then_index():
    acc = [0.5, 0.5, 0.5, 0.5]
    lat = [1.0, 1.0, 1.0, 1.0]
    assert list(pareto_indices(acc, lat, [3.0, 1.0, 1.0, 2.0])) == [1]
    assert list(pareto_indices(acc, lat)) == [0]
    with pytest.raises(ValueError):
        pareto_indices([np.nan], [1.0])


@settings(deadline=None, max_examples=40)
@given(seeds, st.integers(0, 15))
def test_leaf_and_prune(seed, m):
    acc, lat, cost = candidates(np.random.default_rng(seed), m, discrete=seed % 2 == 0)
    f = leaf(acc, lat, cost)
    # Backpointers recover the original candidates.
    idx = f.assignments()[:, 0]
    assert np.array_equal(f.acc, acc[idx]) and np.array_equal(f.lat, lat[idx]) and np.array_equal(f.cost, cost[idx])
    assert np.array_equal(np.sort(idx), np.flatnonzero(pareto_mask(acc, lat, cost)))
    g = prune(f)
    assert np.array_equal(g.acc, f.acc) and np.array_equal(g.choice, f.choice)
    assert len(f) == len(idx) and f.n_leaves == 1


def test_frontier_validates_shapes():
    with pytest.raises(ValueError):
        Frontier(np.zeros(2), np.zeros(2), np.zeros(2), np.zeros((2, 2), dtype=np.intp))
    with pytest.raises(ValueError):
        Frontier(np.zeros(2), np.zeros(3), np.zeros(2), np.zeros((2, 1), dtype=np.intp))


# ---------------------------------------------------------------- combine


def prod_acc(xs):
    return reduce(np.multiply, xs)


def vote_acc(xs):
    return majority_vote_acc(np.stack(np.broadcast_arrays(*xs), axis=-1))


def agg_acc(xs):  # first child is the aggregator, the rest are the fork
    return aggregate_acc(np.stack(np.broadcast_arrays(*xs[1:]), axis=-1), xs[0])


W3 = np.array([0.5, 0.3, 0.2])


def sw_acc(xs):  # router, then three branches
    return switch_acc(W3, xs[0], np.stack(np.broadcast_arrays(*xs[1:]), axis=-1))


def sw_lat(xs):
    return switch_lat(W3, xs[0], np.stack(np.broadcast_arrays(*xs[1:]), axis=-1))


RULES = {
    # name: (acc_fn, lat_fn, associative, n_children)
    "sequence": (prod_acc, chain_lat, True, 3),
    # A uniform recovery keeps chain_acc a left fold; candidates are lifted to
    # acc >= 0.2 > recovery so the rule is monotone (see sequence_acc).
    "sequence_recovery": (lambda xs: chain_acc(xs, [0.1] * len(xs)), chain_lat, True, 3),
    "parallel_vote": (vote_acc, parallel_lat, False, 3),
    "parallel_vote_even": (vote_acc, parallel_lat, False, 4),
    "fork_aggregate": (agg_acc, lambda xs: xs[0] + parallel_lat(xs[1:]), False, 3),
    "switch": (sw_acc, sw_lat, False, 4),
}


def evaluate(rule, cands, assign):
    """Evaluate acc/lat/cost of explicit leaf assignments (rows)."""
    acc_fn, lat_fn = rule
    cols = range(len(cands))
    a = np.asarray(acc_fn([cands[j][0][assign[:, j]] for j in cols]))
    l = np.asarray(lat_fn([cands[j][1][assign[:, j]] for j in cols]))
    c = sum(cands[j][2][assign[:, j]] for j in cols)
    return a, l, c


@pytest.mark.parametrize("name", sorted(RULES))
@settings(deadline=None, max_examples=25)
@given(seed=seeds, discrete=st.booleans())
def test_combine_equals_brute_force(name, seed, discrete):
    acc_fn, lat_fn, assoc, k = RULES[name]
    rng = np.random.default_rng(seed)
    cands = [candidates(rng, int(rng.integers(1, 7)), discrete) for _ in range(k)]
    if name == "sequence_recovery":
        cands = [(0.2 + 0.8 * a, l, c) for a, l, c in cands]
    front = combine([leaf(*c) for c in cands], acc_fn, lat_fn, associative=assoc)
    b_acc, b_lat, b_cost, b_assign = brute_force_pareto(cands, acc_fn, lat_fn)

    np.testing.assert_allclose(front.acc, b_acc, rtol=0, atol=1e-12)
    np.testing.assert_allclose(front.lat, b_lat, rtol=0, atol=1e-12)
    assign = front.assignments()
    assert assign.shape == (len(front), k)
    # Every reconstructed assignment really produces its point.
    a, l, c = evaluate((acc_fn, lat_fn), cands, assign)
    np.testing.assert_allclose(a, front.acc, rtol=0, atol=1e-12)
    np.testing.assert_allclose(l, front.lat, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c, front.cost, rtol=0, atol=1e-12)
    if not discrete:  # no exact ties almost surely: the assignment is unique
        assert np.array_equal(assign, b_assign)
        np.testing.assert_allclose(front.cost, b_cost, rtol=0, atol=1e-12)
    for i in range(len(front)):
        assert front.assignment(i) == tuple(assign[i])


@settings(deadline=None, max_examples=30)
@given(seed=seeds, discrete=st.booleans())
def test_nested_regions_equal_brute_force(seed, discrete):
    """seq(A, vote(B, C, D), parallel(E, F)): nested combine vs flat enumeration."""
    rng = np.random.default_rng(seed)
    cands = [candidates(rng, int(rng.integers(1, 5)), discrete) for _ in range(6)]
    fa, fb, fc, fd, fe, ff = (leaf(*c) for c in cands)
    vote = combine([fb, fc, fd], vote_acc, parallel_lat)
    par = combine([fe, ff], prod_acc, parallel_lat, associative=True)
    top = combine([fa, vote, par], prod_acc, chain_lat, associative=True)

    def flat_acc(xs):
        return xs[0] * vote_acc(xs[1:4]) * (xs[4] * xs[5])

    def flat_lat(xs):
        return xs[0] + parallel_lat(xs[1:4]) + np.maximum(xs[4], xs[5])

    b_acc, b_lat, b_cost, b_assign = brute_force_pareto(cands, flat_acc, flat_lat)
    np.testing.assert_allclose(top.acc, b_acc, rtol=0, atol=1e-12)
    np.testing.assert_allclose(top.lat, b_lat, rtol=0, atol=1e-12)
    assign = top.assignments()
    assert top.n_leaves == 6
    a, l, c = evaluate((flat_acc, flat_lat), cands, assign)
    np.testing.assert_allclose(a, top.acc, rtol=0, atol=1e-12)
    np.testing.assert_allclose(l, top.lat, rtol=0, atol=1e-12)
    np.testing.assert_allclose(c, top.cost, rtol=0, atol=1e-12)
    if not discrete:
        assert np.array_equal(assign, b_assign)


def test_combine_empty_child_gives_empty_frontier():
    empty = leaf([], [], [])
    full = leaf([0.5, 0.9], [1.0, 2.0], [0.0, 0.0])
    for assoc in (False, True):
        f = combine([full, empty], prod_acc, chain_lat, associative=assoc)
        assert len(f) == 0 and f.assignments().shape == (0, 2)


# ---------------------------------------------------------------- limits


def test_limit_error_fires_before_allocation():
    big = leaf(np.linspace(0.0, 1.0, 1000), np.linspace(0.0, 1.0, 1000), np.zeros(1000))
    calls = []

    def spy(xs):
        calls.append(1)
        return prod_acc(xs)

    tracemalloc.start()
    try:
        with pytest.raises(FrontierLimitError) as err:
            combine([big] * 8, spy, chain_lat, limit=10**6)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.value.size == 1000**8 and err.value.limit == 10**6
    assert calls == []
    assert peak < 1_000_000  # nothing close to even one pairwise product (8 MB)

    # Folded mode checks every pairwise product as well.
    with pytest.raises(FrontierLimitError) as err:
        combine([big, big], spy, chain_lat, limit=999_999, associative=True)
    assert err.value.size == 10**6 and calls == []

    # The limit is inclusive.
    small = leaf([0.1, 0.2], [1.0, 2.0], [0.0, 0.0])
    assert len(combine([small, small], prod_acc, chain_lat, limit=4)) > 0
    with pytest.raises(FrontierLimitError):
        brute_force_pareto([([0.1, 0.2], [1.0, 2.0], [0.0, 0.0])] * 3, prod_acc, chain_lat, limit=7)


def test_folding_keeps_memory_bounded_where_full_product_cannot():
    rng = np.random.default_rng(3)
    # Anti-correlated candidates: every one of the 30 is on the leaf frontier.
    fronts = [leaf(np.sort(rng.random(30)), np.sort(rng.random(30)), rng.random(30)) for _ in range(6)]
    assert all(len(f) == 30 for f in fronts)
    with pytest.raises(FrontierLimitError):
        combine(fronts, prod_acc, chain_lat, limit=10**5)
    f = combine(fronts, prod_acc, chain_lat, limit=10**5, associative=True)
    assert len(f) > 0 and f.assignments().shape == (len(f), 6)
    a, l, _ = evaluate((prod_acc, chain_lat), [(x.acc, x.lat, x.cost) for x in fronts], f.choice)
    np.testing.assert_allclose(a, f.acc, rtol=1e-12)
    np.testing.assert_allclose(l, f.lat, rtol=1e-12)
