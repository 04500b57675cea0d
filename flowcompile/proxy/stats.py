"""Small statistics helpers for profiled per-agent numbers (no scipy)."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["shrunk_acc", "acc_interval", "isotonic", "spearman", "rankdata", "p95"]

Float = NDArray[np.float64]


def shrunk_acc(successes: ArrayLike, n: ArrayLike, prior_mean: ArrayLike, prior_strength: ArrayLike) -> Float:
    """Posterior mean of a Beta prior after ``successes`` out of ``n`` trials.

    Prior ``Beta(m*s, (1-m)*s)`` with ``m = prior_mean``, ``s = prior_strength``:
    ``(successes + m*s) / (n + s)``.  Where ``n + s == 0`` the prior mean is
    returned (the limit of no information).
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    m = np.asarray(prior_mean, dtype=float)
    s = np.asarray(prior_strength, dtype=float)
    if np.any(k < 0) or np.any(k > n) or np.any(s < 0):
        raise ValueError("need 0 <= successes <= n and prior_strength >= 0")
    den = n + s
    with np.errstate(divide="ignore", invalid="ignore"):
        post = (k + m * s) / den
    return np.where(den > 0, post, m)


def isotonic(values: ArrayLike, weights: ArrayLike | None = None) -> Float:
    """The non-decreasing sequence closest to ``values`` in weighted least squares.

    Pool-adjacent-violators: scan left to right keeping blocks with their
    weighted mean; whenever a block's mean falls below the previous block's,
    merge the two (and repeat backwards). Each block's value is then the
    weighted mean of its members, so the weighted mean of the whole sequence
    is kept. ``weights`` default to 1; they must be >= 0, and a zero weight
    counts as a negligible one (its value moves freely to its neighbours').
    """
    y = np.asarray(values, dtype=float).ravel()
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape != y.shape:
        raise ValueError("values and weights must have the same length")
    if np.any(w < 0) or not np.all(np.isfinite(y)):
        raise ValueError("need finite values and weights >= 0")
    w = np.maximum(w, 1e-9)
    means: list[float] = []
    sizes: list[float] = []
    counts: list[int] = []
    for value, weight in zip(y, w):
        means.append(float(value))
        sizes.append(float(weight))
        counts.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            total = sizes[-2] + sizes[-1]
            merged = (means[-2] * sizes[-2] + means[-1] * sizes[-1]) / total
            means[-2:] = [merged]
            sizes[-2:] = [total]
            counts[-2:] = [counts[-2] + counts[-1]]
    return np.repeat(np.asarray(means), counts)


def acc_interval(successes: ArrayLike, n: ArrayLike, level: float = 0.95) -> tuple[Float, Float]:
    """Wilson score interval ``(lo, hi)`` for a binomial proportion.

    With ``z = Phi^-1((1+level)/2)`` and ``k`` successes in ``n`` trials:
    ``centre = (k + z^2/2) / (n + z^2)``,
    ``half = z / (n + z^2) * sqrt(k (n-k) / n + z^2 / 4)``.
    ``n = 0`` gives ``(0, 1)``.
    """
    if not 0.0 < level < 1.0:
        raise ValueError("level must be in (0, 1)")
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(k < 0) or np.any(k > n):
        raise ValueError("need 0 <= successes <= n")
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    z2 = z * z
    # Written without k/n so that n = 0 degrades to the uninformative (0, 1).
    spread = k * (n - k) / np.where(n > 0, n, 1.0)
    centre = (k + z2 / 2.0) / (n + z2)
    half = z / (n + z2) * np.sqrt(spread + z2 / 4.0)
    # The bounds are exactly 0 at k = 0 and 1 at k = n; avoid rounding residue.
    lo = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    hi = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return lo, hi


def rankdata(x: ArrayLike) -> Float:
    """1-based ranks of a 1-D array, ties receiving the average of their ranks."""
    x = np.asarray(x, dtype=float).ravel()
    if np.isnan(x).any():
        raise ValueError("NaN cannot be ranked")
    _, inv, counts = np.unique(x, return_inverse=True, return_counts=True)
    last = np.cumsum(counts)  # 1-based rank of the last member of each tie group
    return (last - (counts - 1) / 2.0)[inv.ravel()]


def spearman(x: ArrayLike, y: ArrayLike) -> float:
    """Spearman's rho: Pearson correlation of average ranks.

    NaN when fewer than two points or when either variable is constant.
    """
    rx, ry = rankdata(x), rankdata(y)
    if rx.shape != ry.shape:
        raise ValueError("x and y must have the same length")
    if rx.size < 2:
        return float("nan")
    dx, dy = rx - rx.mean(), ry - ry.mean()
    den = np.sqrt(np.dot(dx, dx) * np.dot(dy, dy))
    return float(np.dot(dx, dy) / den) if den > 0 else float("nan")


def p95(samples: ArrayLike, axis: int | None = None) -> Float | float:
    """95th percentile with numpy's default ``linear`` interpolation.

    For sorted ``x_0..x_{n-1}``: ``h = 0.95 (n-1)``,
    ``p95 = x_floor(h) + (h - floor(h)) (x_ceil(h) - x_floor(h))``.
    """
    x = np.asarray(samples, dtype=float)
    if x.size == 0:
        raise ValueError("p95 of an empty sample")
    out = np.percentile(x, 95.0, axis=axis, method="linear")
    return float(out) if np.ndim(out) == 0 else out
