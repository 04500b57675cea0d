"""Exact 2-D hypervolume and hypervolume-optimal subset selection.

Objectives: maximise ``acc``, minimise ``lat``.  The reference point
``(ref_acc, ref_lat)`` is the worst corner; a point contributes the box
``[ref_acc, acc] x [lat, ref_lat]``.
"""

from __future__ import annotations

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


def select_k(acc: ArrayLike, lat: ArrayLike, k: int, ref_acc: float, ref_lat: float) -> NDArray[np.intp]:
    """Indices (ascending) of ``min(k, m)`` points with maximum joint hypervolume.

    Exact dynamic programme over the useful front ``u_1..u_n`` sorted by lat:
    ``H[1][i] = (acc_i - ref_acc)(ref_lat - lat_i)`` and
    ``H[j][i] = max_{p<i} H[j-1][p] + (acc_i - acc_p)(ref_lat - lat_i)``, the
    gain of appending ``i`` after ``p`` in a front sorted by lat.  O(k n^2)
    time, O(k n) backpointers.  Ties go to the smallest predecessor / last
    point (first ``argmax``), so the result is deterministic.  Every useful
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
    # gain[p, i]: volume added by i when its predecessor in the subset is p.
    gain = (a[None, :] - a[:, None]) * w[None, :]
    earlier = np.tri(n, k=-1, dtype=bool).T  # earlier[p, i] = p < i
    for j in range(1, k):
        cand = np.where(earlier, h[:, None] + gain, -np.inf)
        back[j] = np.argmax(cand, axis=0)
        h = cand[back[j], np.arange(n)]
    i = int(np.argmax(h))
    chosen = [i]
    for j in range(k - 1, 0, -1):
        i = int(back[j, i])
        chosen.append(i)
    return np.sort(useful[chosen]).astype(np.intp)
