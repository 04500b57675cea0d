"""Query difficulty shared by agents: a Rasch (one-parameter logistic) model of
the per-query outcomes profiling measured.

Composed query by query from raw outcomes (one or a few calls per query and
candidate), an estimate is a replay of the profiling queries: unbiased, but
each configuration carries its own sampling noise, and a search over hundreds
of configurations picks the lucky ones. The model keeps what makes outcomes
correlated, that some queries are hard for every agent, with one number per
query and one per candidate: candidate c is right on query q w.p.
``sigmoid(ability_c - difficulty_q)``. Difficulties get a normal prior whose
spread is estimated from the data (empirical Bayes, Laplace approximation), so
queries every candidate solves or fails stay finite, and nothing is tuned.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flowcompile.proxy.model import Agent, Node, walk

ABILITY_PRIOR = 4.0
"""Spread (logits) of the weak prior that keeps an always-right candidate's ability finite."""
SPREAD_ROUNDS = 8
NEWTON_STEPS = 40


def fit(rows: Sequence[np.ndarray], calls: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """(ability per row, difficulty per query) from `rows[i][q]`, the share of
    `calls[i]` calls of candidate i right on query q (NaN: not measured)."""
    rates = np.array(rows, dtype=float)
    weight = np.where(np.isnan(rates), 0.0, np.asarray(calls, dtype=float)[:, None])
    right = np.nan_to_num(rates) * weight
    ability, difficulty = np.zeros(len(rates)), np.zeros(rates.shape[1])
    spread = 1.0
    for _ in range(SPREAD_ROUNDS):
        ability, difficulty, information = _newton(right, weight, ability, difficulty, spread)
        # E-step of the spread: each difficulty's mean square plus its posterior variance
        spread = float(np.sqrt(np.mean(difficulty**2 + 1.0 / (information + spread**-2))))
    ability, difficulty, _ = _newton(right, weight, ability, difficulty, spread)
    return ability, difficulty


def _newton(right, weight, ability, difficulty, spread):
    """Damped Newton steps on the penalized binomial log-likelihood."""
    for _ in range(NEWTON_STEPS):
        p = _sigmoid(ability[:, None] - difficulty[None, :])
        residual, curvature = right - weight * p, weight * p * (1.0 - p)
        ability = ability + 0.5 * (residual.sum(1) - ability / ABILITY_PRIOR**2) / (
            curvature.sum(1) + ABILITY_PRIOR**-2
        )
        difficulty = difficulty + 0.5 * (-residual.sum(0) - difficulty / spread**2) / (
            curvature.sum(0) + spread**-2
        )
    p = _sigmoid(ability[:, None] - difficulty[None, :])
    return ability, difficulty, (weight * p * (1.0 - p)).sum(0)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def smooth(root: Node) -> None:
    """Replace the per-query outcomes of the graph's leaf agents (those
    measured per query on every choice) by the model's rates, fitted over all
    of them together; their `hits_k` becomes 0 (rates, drawn independently
    given the query). Agents profiled on different query sets are left alone."""
    leaves = [n for n in walk(root) if isinstance(n, Agent) and n.measured_per_query]
    sizes = {len(h) for a in leaves for h in a.hits}  # pyright: ignore[reportArgumentType]
    if not leaves or len(sizes) != 1:
        return
    rows = [h for a in leaves for h in a.hits]
    calls = [a.hits_k for a in leaves for _ in a.hits]
    ability, difficulty = fit(rows, calls)  # pyright: ignore[reportArgumentType]
    rates = _sigmoid(ability[:, None] - difficulty[None, :])
    start = 0
    for agent in leaves:
        agent.hits = tuple(rates[start + i] for i in range(len(agent.hits)))
        agent.hits_k = 0
        start += len(agent.hits)
