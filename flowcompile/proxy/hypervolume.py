"""Exact 2-D hypervolume and hypervolume-optimal subset selection.

Objectives: maximise ``acc``, minimise ``lat``.  The reference point
``(ref_acc, ref_lat)`` is the worst corner; a point contributes the box
``[ref_acc, acc] x [lat, ref_lat]``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .frontier import pareto_indices

__all__ = ["hypervolume_2d", "select_k"]


def _useful(acc: NDArray, lat: NDArray, ref_acc: float, ref_lat: float) -> NDArray[np.intp]:
    """Non-dominated points strictly inside the reference box, by lat ascending."""
    inside = np.flatnonzero((acc > ref_acc) & (lat < ref_lat))
    return inside[pareto_indices(acc[inside], lat[inside])]


def hypervolume_2d(acc: ArrayLike, lat: ArrayLike, ref_acc: float, ref_lat: float) -> float:
    """Area of ``{(x, y): ref_acc <= x <= acc_i, lat_i <= y <= ref_lat for some i}``.

    With the non-dominated points inside the box sorted by lat (so acc rises),
    ``HV = sum_i (acc_i - acc_{i-1}) * (ref_lat - lat_i)``, ``acc_0 = ref_acc``.
    Dominated points and points outside the box contribute nothing.
    """
    acc = np.asarray(acc, dtype=float).ravel()
    lat = np.asarray(lat, dtype=float).ravel()
    idx = _useful(acc, lat, ref_acc, ref_lat)
    a = acc[idx]
    steps = np.diff(a, prepend=ref_acc)
    return float(np.sum(steps * (ref_lat - lat[idx])))


def _line(h: list[float], a: list[float], p: int, x: float) -> float:
    return h[p] - a[p] * x


def _best_predecessors(h: NDArray, a: NDArray, w: NDArray) -> tuple[NDArray, NDArray[np.intp]]:
    """``max_{p<i} h[p] + (a_i - a_p) w_i`` for every i, and the smallest p
    attaining it (-inf and 0 where no p < i has a finite ``h[p]``).

    Less the term ``a_i w_i`` that all p share, this is the upper envelope of
    the lines ``h[p] - a_p x`` at ``x = w_i``.  Along the front ``a`` rises
    (the slopes fall) and ``w`` falls, so the lines are added in slope order
    and queried in order, and the envelope is kept as a hull whose best line
    only moves forward (the monotone convex hull trick)."""
    n = len(h)
    best = np.full(n, -np.inf)
    arg = np.zeros(n, dtype=np.intp)
    hs, av, wv = h.tolist(), a.tolist(), w.tolist()
    hull: list[int] = []
    head = 0
    for i in range(n):
        x = wv[i]
        if head < len(hull):
            while head + 1 < len(hull) and _line(hs, av, hull[head + 1], x) > _line(hs, av, hull[head], x):
                head += 1
            p = hull[head]
            best[i] = hs[p] + (av[i] - av[p]) * x
            arg[i] = p
        if hs[i] == -math.inf:
            continue
        # the last line is never strictly best once line i is in (ties go to the earlier)
        while len(hull) - head >= 2:
            p1, p2 = hull[-2], hull[-1]
            if (hs[i] - hs[p2]) * (av[p2] - av[p1]) < (hs[p2] - hs[p1]) * (av[i] - av[p2]):
                break
            hull.pop()
        hull.append(i)
    return best, arg


def select_k(acc: ArrayLike, lat: ArrayLike, k: int, ref_acc: float, ref_lat: float) -> NDArray[np.intp]:
    """Indices (ascending) of ``min(k, m)`` points with maximum joint hypervolume.

    Exact dynamic programme over the useful front ``u_1..u_n`` sorted by lat:
    ``H[1][i] = (acc_i - ref_acc)(ref_lat - lat_i)`` and
    ``H[j][i] = max_{p<i} H[j-1][p] + (acc_i - acc_p)(ref_lat - lat_i)``, the
    gain of appending ``i`` after ``p`` in a front sorted by lat.  Each layer
    is a maximum over lines (`_best_predecessors`), so O(k n) time and O(k n)
    backpointers: frontiers of tens of thousands of points are thinned in
    about a second.  Ties go to the smallest predecessor / last point (first
    ``argmax``), so the result is deterministic.  Every useful
    point has positive gain, so if ``k`` exceeds the useful front the whole
    front is taken and the remaining slots are filled with the lowest unused
    indices (they add no volume).
    """
    acc = np.asarray(acc, dtype=float).ravel()
    lat = np.asarray(lat, dtype=float).ravel()
    if acc.shape != lat.shape:
        raise ValueError("acc and lat must have the same length")
    m = acc.shape[0]
    if k <= 0:
        return np.zeros(0, dtype=np.intp)
    if k >= m:
        return np.arange(m, dtype=np.intp)

    useful = _useful(acc, lat, ref_acc, ref_lat)
    n = useful.shape[0]
    if k >= n:
        rest = np.setdiff1d(np.arange(m), useful)[: k - n]
        return np.sort(np.concatenate([useful, rest])).astype(np.intp)

    a, w = acc[useful], ref_lat - lat[useful]
    h = (a - ref_acc) * w
    back = np.zeros((k, n), dtype=np.intp)
    for j in range(1, k):
        h, back[j] = _best_predecessors(h, a, w)
    i = int(np.argmax(h))
    chosen = [i]
    for j in range(k - 1, 0, -1):
        i = int(back[j, i])
        chosen.append(i)
    return np.sort(useful[chosen]).astype(np.intp)
