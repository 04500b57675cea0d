"""Pareto filtering of (acc, lat) points: maximise ``acc``, minimise ``lat``.

``cost`` is not an objective; it only breaks exact ``(acc, lat)`` ties (lowest
cost, then lowest index wins). The search itself lives in
`flowcompile.proxy.search`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["FrontierLimitError", "pareto_indices", "pareto_mask"]

Float = NDArray[np.float64]
Index = NDArray[np.intp]


class FrontierLimitError(Exception):
    """A cross product of ``size`` points would exceed ``limit``."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"cross product of {size} points exceeds limit {limit}")
        self.size = size
        self.limit = limit


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
