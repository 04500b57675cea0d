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

Agents that read other agents' outputs are measured per query twice, on a
right input (`hits`) and on a wrong one (`rec_hits`). How strongly each of
those outcomes follows the queries' difficulty is not one for all: a reviser
may fix a wrong draft as often on hard queries as on easy ones. So, with the
difficulties the leaf agents fixed, each (agent, kind of input) gets its own
slope, shared by the agent's candidates: right w.p.
``sigmoid(ability_c - slope * difficulty_q)``, the slope's prior centred on 0
(outcomes independent of the query, the rule without per-query data).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flowcompile.proxy.model import Agent, Node, walk

ABILITY_PRIOR = 4.0
"""Spread (logits) of the weak prior that keeps an always-right candidate's ability finite."""
SLOPE_PRIOR = 1.0
"""Spread of the prior on how strongly a downstream outcome follows difficulty."""
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


def fit_slope(rows: Sequence[np.ndarray], difficulty: np.ndarray) -> tuple[np.ndarray, float]:
    """(ability per row, shared slope) of `rows[i][q]`, one call's outcome of
    candidate i on query q (NaN: not measured), against known difficulties:
    right w.p. ``sigmoid(ability_i - slope * difficulty_q)``.

    The candidates' abilities share a normal prior whose mean and spread are
    estimated from the rows (empirical Bayes, as the difficulties' spread in
    `fit`): where the candidates measure alike, as revisers fixing a wrong
    draft often do, a candidate measured on few queries is pulled toward the
    others rather than ranked by its own few outcomes; where they differ
    widely, the prior is weak."""
    rates = np.array(rows, dtype=float)
    weight = (~np.isnan(rates)).astype(float)
    right = np.nan_to_num(rates)
    n = len(rates)
    params = np.zeros(n + 1)
    centre, spread = 0.0, ABILITY_PRIOR
    for _ in range(SPREAD_ROUNDS):
        params, information = _slope_newton(right, weight, difficulty, params, centre, spread)
        ability = params[:n]
        centre = float(np.average(ability, weights=information + spread**-2))
        spread = float(np.sqrt(np.mean((ability - centre) ** 2 + 1.0 / (information + spread**-2))))
    params, _ = _slope_newton(right, weight, difficulty, params, centre, spread)
    return params[:n], float(params[n])


def _slope_newton(right, weight, difficulty, params, centre: float, spread: float):
    """Newton steps on the penalized log-likelihood of `fit_slope` (concave,
    so full steps); also each ability's Fisher information."""
    n = len(right)
    prior = np.array([spread**-2] * n + [SLOPE_PRIOR**-2])
    mean = np.append(np.full(n, centre), 0.0)
    for _ in range(NEWTON_STEPS):
        ability, slope = params[:n], params[n]
        p = _sigmoid(ability[:, None] - slope * difficulty[None, :])
        residual, curvature = right - weight * p, weight * p * (1.0 - p)
        gradient = np.append(residual.sum(1), -(residual * difficulty).sum()) - prior * (params - mean)
        hessian = np.zeros((n + 1, n + 1))
        hessian[np.arange(n), np.arange(n)] = curvature.sum(1)
        hessian[:n, n] = hessian[n, :n] = -(curvature * difficulty).sum(1)
        hessian[n, n] = (curvature * difficulty**2).sum()
        params = params + np.linalg.solve(hessian + np.diag(prior), gradient)
    p = _sigmoid(params[:n, None] - params[n] * difficulty[None, :])
    return params, (weight * p * (1.0 - p)).sum(1)


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
    for agent in walk(root):
        if isinstance(agent, Agent) and not agent.is_leaf and agent.hits_k == 1:
            _smooth_downstream(agent, difficulty)


def _smooth_downstream(agent: Agent, difficulty: np.ndarray) -> None:
    """An agent reading other agents' outputs: both kinds of its per-query
    outcomes as modeled rates (`fit_slope`), when every candidate has some
    of each kind on the leaves' queries; otherwise its rows are left alone."""
    kinds = [agent.hits, agent.rec_hits]
    if not all(_measured_rows(rows, len(agent.acc), len(difficulty)) for rows in kinds):
        return
    modeled = []
    for rows in kinds:
        ability, slope = fit_slope(rows, difficulty)  # pyright: ignore[reportArgumentType]
        modeled.append(tuple(_sigmoid(ability[:, None] - slope * difficulty[None, :])))
    agent.hits, agent.rec_hits = modeled
    agent.hits_k = 0


def _measured_rows(rows: Sequence[np.ndarray | None], choices: int, queries: int) -> bool:
    return len(rows) == choices and all(
        r is not None and len(r) == queries and not np.isnan(r).all() for r in rows
    )
