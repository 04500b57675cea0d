"""The numpy pieces of the Pareto search (`flowcompile.proxy.search`): a
front of partial configurations, dominance pruning, and the candidates one
step of the search builds."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

ACC_TOLERANCE = 1e-12
"""Accuracies closer than this are equal for dominance (float noise, not signal)."""


PREFILTER_SIZE = 50_000
PREFILTER_STRIDE = 16
"""`pareto` thins sets larger than this against the front of every
PREFILTER_STRIDE-th point before sorting them."""


@dataclass(frozen=True)
class Front:
    """Non-dominated points; `assign[i, j]` is the choice of variable j (-1: unset).

    `cost` rides along, never compared (cost is reported, not optimised): each
    point's expected cost as `evaluate` gives it, so no point of the result
    needs evaluating again."""

    acc: np.ndarray
    t: np.ndarray
    cost: np.ndarray
    assign: np.ndarray

    def __len__(self) -> int:
        return int(self.acc.shape[0])

    @functools.cached_property
    def sets_any(self) -> bool:
        return bool((self.assign >= 0).any())



def pareto(acc: np.ndarray, t: np.ndarray, cost: np.ndarray | None = None) -> np.ndarray:
    """Indices of the non-dominated points, by latency; of exact ties the
    cheapest (with `cost`), then the first: two configurations that differ
    only in what one pays for and nothing reads (an agent that runs while the
    ensemble reading it is switched off) keep the cheaper.

    Float noise (1e-17) must not decide dominance: a point is kept only when it
    beats every faster point's accuracy by more than ACC_TOLERANCE. (Rounding
    accuracies instead fails on exact ties: products of six-decimal profile
    values often end on the rounding boundary, and noise then sends equal
    values to different sides.) Latencies are sums on a coarse decimal grid,
    so rounding them is safe. The same rule as `frontier.pareto_indices`.

    A large set (an agent's choices over a long chain's front) is first
    thinned without sorting it: a point that a point of a sample's front
    beats outright (more accurate, no slower) is never kept, and whatever it
    would have raised `best_before` to, that point raises it to as much, and
    earlier; so dropping it changes nothing."""
    lat = np.round(t, 12)
    if len(acc) > PREFILTER_SIZE:
        sample = np.arange(0, len(acc), PREFILTER_STRIDE)
        ref = sample[_sorted_front(acc[sample], lat[sample])]  # lat and acc rising
        faster = np.searchsorted(lat[ref], lat, side="right") - 1
        beaten = (faster >= 0) & (acc[ref][np.maximum(faster, 0)] > acc)
        rest = np.flatnonzero(~beaten)
        return rest[_sorted_front(acc[rest], lat[rest], None if cost is None else cost[rest])]
    return _sorted_front(acc, lat, cost)


def _sorted_front(acc: np.ndarray, lat: np.ndarray, cost: np.ndarray | None = None) -> np.ndarray:
    order = np.lexsort((-acc, lat) if cost is None else (cost, -acc, lat))
    ranked = acc[order]
    best_before = np.maximum.accumulate(np.concatenate(([-np.inf], ranked[:-1])))
    return order[ranked > best_before + ACC_TOLERANCE]



def useful_bodies(
    rho1: np.ndarray, rho0: np.ndarray, tpr: np.ndarray, fpr: np.ndarray, t_check: np.ndarray, t_revise: np.ndarray
) -> np.ndarray:
    """Indices of loop-body rows not dominated by another with the same judge.

    With the judge's rates fixed, the loop's accuracy rises with rho1 and
    rho0 (a revision never more often right from a wrong draft than from a
    right one) and its latency rises with t_check and t_revise and falls
    with rho1 and rho0, so a row that another beats or ties on all four can
    never give a better loop; ties keep the first row. The rates may be per
    query (a last axis): then a row must be beaten on every query."""
    judges = np.concatenate([np.reshape(tpr, (len(tpr), -1)), np.reshape(fpr, (len(fpr), -1))], axis=1)
    _, judge = np.unique(judges, axis=0, return_inverse=True)
    rates = [np.reshape(rho1, (len(rho1), -1)), np.reshape(rho0, (len(rho0), -1))]
    dominated = np.zeros(len(tpr), dtype=bool)
    for group in np.unique(judge):
        rows = np.flatnonzero(judge.ravel() == group)
        better = (
            (t_check[rows, None] <= t_check[None, rows]) & (t_revise[rows, None] <= t_revise[None, rows])
        )  # better[i, j]: row i is at least as good as row j
        for r in rates:
            better &= (r[rows, None, :] >= r[None, rows, :]).all(-1)
        strictly = better & ~better.T
        tie_first = better & better.T & (np.arange(len(rows))[:, None] < np.arange(len(rows))[None, :])
        dominated[rows] = (strictly | tie_first).any(axis=0)
    return np.flatnonzero(~dominated)


def useful_choices(lat: np.ndarray, *rates: np.ndarray) -> np.ndarray:
    """Indices of an agent's choices that no other beats on every input.

    `agent_acc` rises with the success rate p and with the recovery floor
    min(r, p) (`mixed_agent_acc` also with its held mixed rate), and the
    latency with the call's, so a choice another is at least as good as on
    every rate and latency gives, on every upstream point, a point that the
    other's point dominates and precedes in `pareto`'s order: an earlier
    choice, or one faster by more than rounding."""
    better = lat[:, None] <= lat[None, :]
    for rate in rates:
        better &= rate[:, None] >= rate[None, :]
    order = np.arange(len(lat))
    precedes = (order[:, None] < order[None, :]) | (lat[:, None] < lat[None, :] - 1e-9)
    return np.flatnonzero(~(better & precedes).any(axis=0))


def merge(fronts: Sequence[Front]) -> Front:
    """The non-dominated points of a union of fronts."""
    acc, t, cost, assign = (np.concatenate([getattr(f, k) for f in fronts]) for k in ("acc", "t", "cost", "assign"))
    keep = pareto(acc, t, cost)
    return Front(acc[keep], t[keep], cost[keep], assign[keep])



def _merge_assign(*parts: np.ndarray) -> np.ndarray:
    """Combine broadcast assignment blocks: each variable is set by at most one
    part (or set identically, for conditioned variables)."""
    result = parts[0]
    for part in parts[1:]:
        result = np.where(part >= 0, part, result)
    return result


def _column(x, n: int) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return x if x.shape == (n,) else np.broadcast_to(x, (n,))


class Candidates:
    """The points one step of the search builds, in blocks: row r of a block
    combines the assignments `front.assign[index[r]]` of its fronts and sets
    its `fixed` columns (to one choice, or one per row). The assignments, the
    widest part of a cross product, are built only for the points that
    survive pruning."""

    def __init__(self, width: int):
        self.width = width
        self.values: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.blocks: list[tuple[Sequence[Front], Sequence[np.ndarray], dict[int, int | np.ndarray]]] = []

    def add(
        self,
        acc,
        t,
        cost,
        fronts: Sequence[Front],
        idx: Sequence[np.ndarray],
        fixed: Mapping[int, int | np.ndarray] | None = None,
    ) -> None:
        n = len(idx[0])
        self.values.append(tuple(_column(x, n) for x in (acc, t, cost)))  # pyright: ignore[reportArgumentType]
        self.blocks.append((fronts, idx, dict(fixed or {})))

    def fixed_column(self, column: int) -> np.ndarray:
        """Every candidate's choice of a column that each block fixes."""
        return np.concatenate([np.broadcast_to(fixed[column], (len(idx[0]),)) for _, idx, fixed in self.blocks])

    def pruned(self, keep: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] = pareto) -> Front:
        """The front of the candidates `keep(acc, t, cost)` selects (by default the non-dominated)."""
        acc, t, cost = (np.concatenate(x) for x in zip(*self.values, strict=True))
        rows = keep(acc, t, cost)
        if len(self.blocks) == 1:  # the common case: no masks to build
            assign = self._assign(*self.blocks[0], rows)
        else:
            assign = np.empty((len(rows), self.width), dtype=np.int32)
            start = 0
            for fronts, idx, fixed in self.blocks:
                n = len(idx[0])
                mine = (rows >= start) & (rows < start + n)
                if mine.any():
                    assign[mine] = self._assign(fronts, idx, fixed, rows[mine] - start)
                start += n
        return Front(acc[rows], t[rows], cost[rows], assign)

    def _assign(
        self, fronts: Sequence[Front], idx: Sequence[np.ndarray], fixed: Mapping[int, int | np.ndarray],
        picked: np.ndarray,
    ) -> np.ndarray:
        """The assignments of a block's rows `picked`."""
        sources = [f.assign[i[picked]] for f, i in zip(fronts, idx, strict=True) if f.sets_any]
        part = _merge_assign(*sources) if sources else np.full((len(picked), self.width), -1, np.int32)
        for column, choice in fixed.items():
            per_row = np.ndim(choice) > 0
            part[:, column] = choice[picked] if per_row else choice  # pyright: ignore[reportIndexIssue]
        return part



def fastest(front: Front) -> Front:
    """The front's earliest point (the first of ties) alone."""
    i = int(np.argmin(front.t))
    return Front(front.acc[i : i + 1], front.t[i : i + 1], front.cost[i : i + 1], front.assign[i : i + 1])
