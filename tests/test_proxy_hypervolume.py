"""Exact hypervolume and hypervolume-optimal subset selection."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowcompile.proxy.hypervolume import hypervolume_2d, select_k

seeds = st.integers(0, 2**32 - 1)


def grid_hypervolume(acc, lat, ref_acc, ref_lat):
    """Independent check: sum the cells of the coordinate grid covered by some box."""
    xs = np.unique(np.clip(np.concatenate([acc, [ref_acc]]), ref_acc, None))
    ys = np.unique(np.clip(np.concatenate([lat, [ref_lat]]), None, ref_lat))
    total = 0.0
    for x0, x1 in zip(xs[:-1], xs[1:]):
        for y0, y1 in zip(ys[:-1], ys[1:]):
            if np.any((acc >= x1) & (lat <= y0)):
                total += (x1 - x0) * (y1 - y0)
    return total


def random_front(rng, m):
    """m points with lat and acc both strictly increasing (a Pareto front)."""
    return np.sort(rng.choice(np.arange(1, 1000), m, replace=False)) / 1000, np.sort(rng.random(m)) * 10


@settings(deadline=None, max_examples=60)
@given(seeds, st.integers(0, 12))
def test_hypervolume_matches_grid(seed, m):
    rng = np.random.default_rng(seed)
    # Arbitrary points: dominated ones, duplicates and points outside the box.
    acc = rng.integers(0, 6, m) / 5 if seed % 2 else rng.random(m)
    lat = rng.integers(0, 6, m) * 2.0 if seed % 2 else rng.random(m) * 10
    ref_acc, ref_lat = 0.1, 8.0
    assert hypervolume_2d(acc, lat, ref_acc, ref_lat) == pytest.approx(
        grid_hypervolume(acc, lat, ref_acc, ref_lat), abs=1e-12
    )


def test_hypervolume_hand_cases():
    assert hypervolume_2d([0.5], [1.0], 0.0, 3.0) == pytest.approx(1.0)
    # Two boxes [0,.5]x[1,3] and [0,1]x[2,3]: 1.0 + 1.0 - 0.5 overlap.
    assert hypervolume_2d([0.5, 1.0], [1.0, 2.0], 0.0, 3.0) == pytest.approx(1.5)
    assert hypervolume_2d([], [], 0.0, 1.0) == 0.0
    assert hypervolume_2d([0.9], [5.0], 0.0, 3.0) == 0.0  # too slow


@settings(deadline=None, max_examples=60)
@given(seeds, st.integers(1, 9), st.data())
def test_select_k_is_exact_on_fronts(seed, m, data):
    acc, lat = random_front(np.random.default_rng(seed), m)
    k = data.draw(st.integers(1, m))
    ref_acc, ref_lat = 0.0, 10.0
    got = select_k(acc, lat, k, ref_acc, ref_lat)
    assert len(got) == k and np.all(np.diff(got) > 0)
    best = max(
        hypervolume_2d(acc[list(s)], lat[list(s)], ref_acc, ref_lat)
        for s in itertools.combinations(range(m), k)
    )
    assert hypervolume_2d(acc[got], lat[got], ref_acc, ref_lat) == pytest.approx(best, rel=1e-12, abs=1e-15)


@settings(deadline=None, max_examples=40)
@given(seeds, st.integers(1, 8), st.data())
def test_select_k_is_exact_on_arbitrary_points(seed, m, data):
    rng = np.random.default_rng(seed)
    acc, lat = rng.integers(0, 5, m) / 4, rng.integers(0, 5, m) * 2.5
    k = data.draw(st.integers(0, m + 1))
    got = select_k(acc, lat, k, 0.1, 9.0)
    assert len(got) == min(k, m) and len(set(got.tolist())) == len(got)
    best = max(
        (hypervolume_2d(acc[list(s)], lat[list(s)], 0.1, 9.0) for s in itertools.combinations(range(m), min(k, m))),
        default=0.0,
    )
    assert hypervolume_2d(acc[got], lat[got], 0.1, 9.0) == pytest.approx(best, abs=1e-12)


def test_select_k_hand_case_and_determinism():
    acc = np.array([0.2, 0.6, 0.9])
    lat = np.array([1.0, 2.0, 9.0])
    # Single boxes (ref 0, 10): 1.8, 4.8, 0.9 -> pick the middle one.
    assert select_k(acc, lat, 1, 0.0, 10.0).tolist() == [1]
    # Pairs: {0,1}=1.8+0.4*8=5.0, {1,2}=4.8+0.3=5.1, {0,2}=1.8+0.7=2.5.
    assert select_k(acc, lat, 2, 0.0, 10.0).tolist() == [1, 2]
    assert select_k(acc, lat, 3, 0.0, 10.0).tolist() == [0, 1, 2]
    assert select_k(acc, lat, 7, 0.0, 10.0).tolist() == [0, 1, 2]
    assert select_k(acc, lat, 0, 0.0, 10.0).tolist() == []
    rng = np.random.default_rng(5)
    a, l = random_front(rng, 40)
    first = select_k(a, l, 6, 0.0, 10.0)
    assert np.array_equal(first, select_k(a, l, 6, 0.0, 10.0))
    # Order of the input does not change the chosen points.
    perm = rng.permutation(40)
    again = perm[select_k(a[perm], l[perm], 6, 0.0, 10.0)]
    assert np.array_equal(np.sort(again), first)
