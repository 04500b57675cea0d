"""Pareto filtering against its definition."""

from __future__ import annotations


import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowcompile.proxy.frontier import pareto_indices, pareto_mask

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
