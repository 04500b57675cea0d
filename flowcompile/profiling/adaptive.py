"""Adaptive profiling: more queries for the candidates that decide the frontier.

Uniform profiling measures every candidate on every query. Most candidates
cannot reach the frontier whatever their true accuracy, while the frontier's
own members are measured on a few dozen inputs each, and that noise is the
proxy's largest error. Adaptive profiling measures in rounds:

1. every candidate on the first `first` queries (uniform profiling);
2. after each round, `in_play(measured)` names the candidates that can still
   decide the frontier, each with what resolving it is worth (the caller's
   proxy judges); the most valuable of them, at most `shrink`^k of all
   candidates in round k + 1 (successive halving), run on the next queries, the reference
   runs extend to those queries, and the query count doubles, or grows by
   what the call budget still allows;
3. until the queries or the budget run out, or nothing is in play.

Why the cap: a front decided between near-equal configurations keeps most
of their candidates in play round after round, and each round doubles their
cost; halving the set each round bounds profiling at a few times the first
round whatever the front looks like, and the candidates dropped are the ones
whose resolution was worth least.

A candidate keeps everything it measured when it drops out of play, and one
that comes back is first measured on the queries it missed. Each round
profiles every query so far, each candidate limited to its horizon (the first
queries it was given): the calls of earlier rounds come from the cache, so a
round pays only for its new calls. The first round always runs in full, even
past the budget.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flowcompile.profiling.profiler import Measurements

Candidate = tuple[str, str]
"""(agent, config key)"""

MIN_GROWTH = 8
"""A round adds at least this many queries (fewer is not worth its reference runs)."""


@dataclass(frozen=True)
class Round:
    """What one round of adaptive profiling measured."""

    queries: int
    """Queries profiled so far (the reference ran on all of them)."""
    calls: int
    """Calls profiling has taken so far (distinct; earlier rounds' included)."""
    in_play: int
    """Candidates measured on this round's new queries."""


def profile_adaptively(
    profile: Callable[[int, Callable[[str, str], int]], Measurements],
    in_play: Callable[[Measurements], Mapping[Candidate, float]],
    *,
    first: int,
    pool: int,
    budget: int = 0,
    shrink: float = 1.0,
) -> tuple[Measurements, list[Round]]:
    """Profile in rounds (see the module docstring); `profile(n, horizon)`
    profiles the first n queries with candidate (a, c) limited to its first
    `horizon(a, c)` of them. `budget` caps the calls (0: only the pool does);
    `shrink` (in (0, 1]) the share of the candidates each round may measure
    against the round before: round k + 1 at most `shrink`^k of them."""
    n = min(first, pool)
    measured = profile(n, lambda agent, config: n)
    horizon = dict.fromkeys(measured.queries_of, n)
    rounds = [Round(n, measured.total_calls, len(horizon))]
    while n < pool:
        worth = {key: value for key, value in in_play(measured).items() if key in horizon}
        cap = math.ceil(len(horizon) * shrink ** len(rounds))
        playing = sorted(sorted(worth, key=lambda key: (-worth[key], key))[:cap])
        if not playing:
            break
        target = _next_size(measured, horizon, playing, n, pool, budget)
        if target - n < min(MIN_GROWTH, pool - n):
            break
        for key in playing:
            horizon[key] = target
        n = target
        measured = profile(n, lambda agent, config: horizon[agent, config])
        rounds.append(Round(n, measured.total_calls, len(playing)))
    return measured, rounds


def _next_size(
    measured: Measurements, horizon: dict[Candidate, int], playing: list[Candidate], n: int, pool: int, budget: int
) -> int:
    """The next round's query count: double, at most the pool, and no more than
    the calls left pay for, at the rates measured so far (reference calls per
    query, and each candidate's calls per query it was given)."""
    target = min(2 * n, pool)
    if not budget:
        return target
    per_reference = measured.reference_calls / max(1, n)
    rates = {key: measured.calls_of[key] / max(1, horizon[key]) for key in playing}
    slope = per_reference + sum(rates.values())
    gaps = sum(rate * (n - horizon[key]) for key, rate in rates.items())  # returning candidates catch up
    left = budget - measured.total_calls - gaps
    if slope <= 0:
        return target
    return min(target, n + max(0, math.floor(left / slope)))


def spending(rounds: list[Round], measured: Measurements) -> str:
    """One line on what adaptive profiling spent, round by round, and where the
    queries went at the end (per agent: candidates measured on all of them)."""
    steps = ", ".join(f"{r.queries} queries/{r.calls} calls/{r.in_play} in play" for r in rounds)
    full: dict[str, list[int]] = {}
    for (agent, _), queries in sorted(measured.queries_of.items()):
        tally = full.setdefault(agent, [0, 0])
        tally[0] += queries == measured.queries
        tally[1] += 1
    where = ", ".join(f"{agent} {k}/{total}" for agent, (k, total) in full.items())
    return f"{len(rounds)} rounds ({steps}); candidates on all {measured.queries} queries: {where}"
