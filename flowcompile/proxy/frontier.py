"""Pareto frontiers of partial workflow configurations.

A frontier is the 2-objective non-dominated set of a region: maximise ``acc``,
minimise ``lat``.  ``cost`` is carried along for reporting but is *not* an
objective; it only breaks exact ``(acc, lat)`` ties (lowest cost, then lowest
index wins).  Points are stored sorted by latency ascending, which for a
non-dominated set means accuracy is strictly increasing too.

Because every composition rule is monotone, a child point that is dominated
can never be part of a non-dominated parent point that is not also reachable
from the dominating child point, so pruning children before combining them is
exact for the ``(acc, lat)`` frontier.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "Frontier",
    "FrontierLimitError",
    "pareto_indices",
    "pareto_mask",
    "prune",
    "leaf",
    "combine",
    "brute_force_pareto",
]

Float = NDArray[np.float64]
Index = NDArray[np.intp]
# A rule maps a list of mutually broadcastable child arrays to one array.
Rule = Callable[[list[Float]], ArrayLike]


class FrontierLimitError(Exception):
    """A cross product of ``size`` points would exceed ``limit``."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"cross product of {size} points exceeds limit {limit}")
        self.size = size
        self.limit = limit


@dataclass(frozen=True, eq=False)
class Frontier:
    """Non-dominated points of a region, sorted by ``lat`` ascending.

    ``choice[i, j]`` is the row of ``children[j]`` used by point ``i``; for a
    leaf (no children) ``choice[i, 0]`` is the index into the agent's original
    candidate list.
    """

    acc: Float
    lat: Float
    cost: Float
    choice: Index
    children: tuple[Frontier, ...] = field(default=())

    def __post_init__(self) -> None:
        m = self.acc.shape[0]
        if self.acc.shape != (m,) or self.lat.shape != (m,) or self.cost.shape != (m,):
            raise ValueError("acc, lat and cost must be 1-D arrays of equal length")
        k = max(len(self.children), 1)
        if self.choice.shape != (m, k):
            raise ValueError(f"choice must have shape ({m}, {k}), got {self.choice.shape}")

    def __len__(self) -> int:
        return int(self.acc.shape[0])

    @property
    def n_leaves(self) -> int:
        return 1 if not self.children else sum(c.n_leaves for c in self.children)

    def assignments(self) -> Index:
        """Leaf candidate indices of every point, shape ``(m, n_leaves)``.

        Columns are the leaves in depth-first, left-to-right order.
        """
        if not self.children:
            return self.choice.copy()
        cols = [c.assignments()[self.choice[:, j]] for j, c in enumerate(self.children)]
        return np.concatenate(cols, axis=1)

    def assignment(self, i: int) -> tuple[int, ...]:
        """Leaf candidate indices of point ``i``."""
        if not self.children:
            return (int(self.choice[i, 0]),)
        return sum((c.assignment(int(self.choice[i, j])) for j, c in enumerate(self.children)), ())


# --------------------------------------------------------------------------
# Non-dominated filtering
# --------------------------------------------------------------------------


def _as_points(acc: ArrayLike, lat: ArrayLike, cost: ArrayLike | None) -> tuple[Float, Float, Float]:
    acc = np.asarray(acc, dtype=float).ravel()
    lat = np.asarray(lat, dtype=float).ravel()
    cost = np.zeros_like(acc) if cost is None else np.asarray(cost, dtype=float).ravel()
    if not (acc.shape == lat.shape == cost.shape):
        raise ValueError("acc, lat and cost must have the same number of points")
    if np.isnan(acc).any() or np.isnan(lat).any() or np.isnan(cost).any():
        raise ValueError("NaN in frontier points")
    return acc, lat, cost


def pareto_indices(acc: ArrayLike, lat: ArrayLike, cost: ArrayLike | None = None) -> Index:
    """Indices of the non-dominated points, ordered by ``lat`` ascending.

    O(m log m): sort by (lat asc, acc desc, cost asc, index asc) and keep a
    point iff its acc beats the running maximum of everything before it.  The
    first point of each exact ``(acc, lat)`` tie is therefore the cheapest,
    then the lowest-index one.
    """
    acc, lat, cost = _as_points(acc, lat, cost)
    m = acc.shape[0]
    order = np.lexsort((np.arange(m), cost, -acc, lat))
    a = acc[order]
    best_before = np.empty_like(a)
    if m:
        best_before[0] = -np.inf
        best_before[1:] = np.maximum.accumulate(a)[:-1]
    return order[a > best_before]


def pareto_mask(acc: ArrayLike, lat: ArrayLike, cost: ArrayLike | None = None) -> NDArray[np.bool_]:
    """Boolean mask of the points kept by :func:`pareto_indices`."""
    keep = pareto_indices(acc, lat, cost)
    mask = np.zeros(np.asarray(acc).size, dtype=bool)
    mask[keep] = True
    return mask


def prune(front: Frontier) -> Frontier:
    """Drop dominated points of ``front`` (a no-op on an already pruned one)."""
    keep = pareto_indices(front.acc, front.lat, front.cost)
    return Frontier(front.acc[keep], front.lat[keep], front.cost[keep], front.choice[keep], front.children)


def leaf(acc: ArrayLike, lat: ArrayLike, cost: ArrayLike | None = None) -> Frontier:
    """Frontier of one agent's candidate configurations."""
    acc, lat, cost = _as_points(acc, lat, cost)
    keep = pareto_indices(acc, lat, cost)
    return Frontier(acc[keep], lat[keep], cost[keep], keep[:, None].astype(np.intp))


# --------------------------------------------------------------------------
# Cross products
# --------------------------------------------------------------------------


def _check_limit(sizes: Sequence[int], limit: int | None) -> int:
    # Python ints: the product of many sizes must not overflow before the check.
    size = math.prod(int(s) for s in sizes)
    if limit is not None and size > limit:
        raise FrontierLimitError(size, limit)
    return size


def _open_mesh(arrays: Sequence[Float]) -> list[Float]:
    """Reshape array ``j`` to lie along axis ``j`` so the list broadcasts to the product."""
    k = len(arrays)
    return [a.reshape((1,) * j + (-1,) + (1,) * (k - j - 1)) for j, a in enumerate(arrays)]


def _product(
    parts: Sequence[tuple[Float, Float, Float]],
    acc_fn: Rule,
    lat_fn: Rule,
    cost_fn: Rule,
    limit: int | None,
) -> tuple[Float, Float, Float, Index]:
    """Evaluate the rules on the full cross product and prune it.

    Returns the kept points and their per-part row indices, shape ``(m, k)``.
    """
    shape = tuple(p[0].shape[0] for p in parts)
    size = _check_limit(shape, limit)
    vals = []
    for pos, fn in enumerate((acc_fn, lat_fn, cost_fn)):
        out = np.asarray(fn(_open_mesh([p[pos] for p in parts])), dtype=float)
        vals.append(np.broadcast_to(out, shape).reshape(size))
    keep = pareto_indices(*vals)
    choice = np.stack(np.unravel_index(keep, shape), axis=1) if size else np.zeros((0, len(shape)), np.intp)
    return vals[0][keep], vals[1][keep], vals[2][keep], choice.astype(np.intp)


def combine(
    fronts: Sequence[Frontier],
    acc_fn: Rule,
    lat_fn: Rule,
    cost_fn: Rule = sum,
    limit: int | None = None,
    associative: bool = False,
) -> Frontier:
    """Frontier of a region whose children have frontiers ``fronts``.

    Each rule receives a list with one array per child, mutually broadcastable
    to the cross product, e.g. ``lat_fn = chain_lat`` or
    ``acc_fn = lambda a: majority_vote_acc(np.stack(np.broadcast_arrays(*a), -1))``.

    With ``associative=True`` the rules must be left folds
    (``fn(xs) == fn([fn(xs[:-1]), xs[-1]])``, true for sum, max, products and
    :func:`~flowcompile.proxy.rules.chain_acc`); children are then combined
    pairwise and pruned after every step, so memory is bounded by
    ``max |partial frontier| * |child frontier|`` instead of the full product.
    Otherwise the full cross product is evaluated.  Either way
    :class:`FrontierLimitError` is raised before any product with more than
    ``limit`` points is allocated.

    The ``(acc, lat)`` frontier is exact in both modes.  The representative of
    an exact ``(acc, lat)`` tie is the cheapest (then lowest-index) among the
    combinations of *surviving* child points; it can differ from the globally
    cheapest assignment only when a rule is not strictly monotone (e.g. max),
    because dominated child or partial points are discarded regardless of cost.
    """
    fronts = list(fronts)
    if not fronts:
        raise ValueError("combine needs at least one child frontier")
    parts = [(f.acc, f.lat, f.cost) for f in fronts]
    if not associative or len(fronts) == 1:
        acc, lat, cost, choice = _product(parts, acc_fn, lat_fn, cost_fn, limit)
        return Frontier(acc, lat, cost, choice, tuple(fronts))

    acc, lat, cost = parts[0]
    choice = np.arange(len(fronts[0]), dtype=np.intp)[:, None]
    for j in range(1, len(parts)):
        acc, lat, cost, pair = _product([(acc, lat, cost), parts[j]], acc_fn, lat_fn, cost_fn, limit)
        # Backpointers are composed eagerly so the result indexes the real children.
        choice = np.concatenate([choice[pair[:, 0]], pair[:, 1:]], axis=1)
    return Frontier(acc, lat, cost, choice, tuple(fronts))


def brute_force_pareto(
    candidates: Sequence[tuple[ArrayLike, ArrayLike, ArrayLike]],
    acc_fn: Rule,
    lat_fn: Rule,
    cost_fn: Rule = sum,
    limit: int | None = None,
) -> tuple[Float, Float, Float, Index]:
    """Reference frontier by exhaustive enumeration (for tests).

    ``candidates[j] = (acc, lat, cost)`` of leaf ``j`` (unpruned); the rules
    take one array per leaf.  Returns ``(acc, lat, cost, assignment)`` with
    ``assignment[i, j]`` the candidate index of leaf ``j`` at point ``i``.
    """
    parts = [_as_points(a, l, c) for a, l, c in candidates]
    return _product(parts, acc_fn, lat_fn, cost_fn, limit)
