"""The search's front checked against brute force (shared by the search tests)."""

from __future__ import annotations

import random

import pytest

from flowcompile.proxy.model import Node, evaluate
from flowcompile.proxy.search import brute_force, frontier


def assert_same_front(root: Node) -> None:
    """`frontier` finds brute force's Pareto set, each point scored (cost
    too) as `evaluate` scores it, sorted by latency with rising accuracy."""
    fast = frontier(root)
    slow = brute_force(root)
    # Compared with a tolerance: rounding both to a fixed number of decimals
    # splits exact decimal ties that float noise puts on either side (seed 5670).
    def points(front):
        return sorted((p.estimate.t, p.estimate.acc) for p in front)

    assert len(fast) == len(slow)
    for (t1, a1), (t2, a2) in zip(points(fast), points(slow), strict=True):
        assert t1 == pytest.approx(t2, abs=1e-9) and a1 == pytest.approx(a2, abs=1e-9)
    for point in fast:
        again = evaluate(root, point.assignment)
        assert again.acc == pytest.approx(point.estimate.acc, abs=1e-12)
        assert again.t == pytest.approx(point.estimate.t, abs=1e-12)
        assert again.cost == pytest.approx(point.estimate.cost, abs=1e-12)
    ts = [p.estimate.t for p in fast]
    accs = [p.estimate.acc for p in fast]
    assert ts == sorted(ts) and accs == sorted(accs)


def random_levels(rng: random.Random, choices: int, levels: int) -> tuple[tuple[float, ...] | None, ...]:
    """Random non-decreasing level curves (j = 0..levels right proposals) for
    an aggregator's choices, a fifth of them left unmeasured; () for no levels."""
    if not levels:
        return ()
    return tuple(
        None if rng.random() < 0.2 else tuple(sorted(round(rng.uniform(0, 1), 3) for _ in range(levels + 1)))
        for _ in range(choices)
    )
