"""Validation: the frontier's candidates measured end to end before they ship.

The proxy ranks configurations from per-agent profiles, which are noisy (a
candidate is measured on a few dozen inputs) and biased where the proxy's
rules are approximations. Validation spends a bounded number of calls running
whole configurations on a validation split, disjoint from profiling:

1. Candidates (`plausible_front`): the proxy's exact frontier, and the
   frontiers of the proxy under `draws` posterior draws of every candidate's
   accuracy (Beta, from its measured successes and count). A configuration
   that is Pareto-optimal under plausible estimates is a candidate even if the
   point estimates leave it just off the front; how often it was on a drawn
   front ranks it.
2. Successive halving (`successive_halving`): every candidate runs on a first
   batch of validation queries; the better half (by Pareto layer of the
   combined estimate, then accuracy) goes on to the next batch, and so on,
   while the call budget lasts.
3. The combined estimate of a candidate (`Combination`): the proxy's
   accuracy, moved by the part of the batch's mean gap to the proxy that the
   query sets' luck does not explain, then by its own gap against a prior
   worth `prior_strength` queries (by default fitted to how far the proxy's
   estimates fall from the validation rates: `fitted_combination`); its
   latency is the measured mean once measured.

Nothing here reads a backend's internals: candidates are run by the runtime
(`run_many`), like any user's run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from xdsl.ir import Attribute

from flowcompile.backends.base import Backend
from flowcompile.dialects.flow import WorkflowOp
from flowcompile.profiling.dataset import Query
from flowcompile.proxy import model as pm
from flowcompile.proxy.frontier import pareto_indices
from flowcompile.proxy.hypervolume import select_k
from flowcompile.proxy.search import Point, frontier
from flowcompile.runtime import run_many, score


@dataclass(frozen=True)
class Combination:
    """How validation updates the proxy's estimates.

    Every candidate ran on the same validation queries, so their gaps to the
    proxy (validation rate less estimate) share one term, the batch's `offset`
    (their mean gap): part the proxy's own bias, part the luck of two query
    sets, the profiling set the proxy is estimated on and the validation
    batch. `shift` is the part kept (`fitted_combination`). What a candidate's
    gap holds beyond the offset is its own, weighed against a prior worth
    `prior_strength` validation queries."""

    prior_strength: float
    offset: float = 0.0
    shift: float = 0.0


@dataclass
class Candidate:
    """One configuration under validation."""

    assignment: dict[str, int]
    """Choice indices of the proxy model's variables."""
    proxy_acc: float
    proxy_lat: float
    proxy_cost: float
    on_fronts: int
    """On how many of the nominal and drawn frontiers it was."""
    outcomes: dict[str, bool] = field(default_factory=dict)
    """Validation query id -> whether the run was right."""
    latencies: list[float] = field(default_factory=list)
    on_proxy_front: bool = False
    adjusted: float | None = None
    """Its validation accuracy on a query of average difficulty (`adjust`)."""

    @property
    def n(self) -> int:
        return len(self.outcomes)

    @property
    def successes(self) -> int:
        return sum(self.outcomes.values())

    @property
    def rate(self) -> float | None:
        """Its validation accuracy (on a query of average difficulty once `adjust`ed)."""
        if not self.n:
            return None
        return self.adjusted if self.adjusted is not None else self.successes / self.n

    def acc(self, how: Combination) -> float:
        """The proxy's estimate, moved by the shared `how.shift`, and updated by
        its own gap (beyond the batch's `how.offset`) against a prior worth
        `how.prior_strength` queries."""
        base = self.proxy_acc + how.shift
        if self.rate is None:
            return float(np.clip(base, 0.0, 1.0))
        own = self.rate - self.proxy_acc - how.offset
        return float(np.clip(base + self.n * own / (how.prior_strength + self.n), 0.0, 1.0))

    def lat(self) -> float:
        return float(np.mean(self.latencies)) if self.latencies else self.proxy_lat


@dataclass(frozen=True)
class SampleCounts:
    """Per agent, per searched candidate, how many profiled calls measured
    each of its rates: success (`acc`), recovery or a judge's rejection
    (`rec`), success on mixed inputs (`mixed`); 0 or no entry: not drawn."""

    acc: Mapping[str, Sequence[int]] = field(default_factory=dict)
    rec: Mapping[str, Sequence[int]] = field(default_factory=dict)
    mixed: Mapping[str, Sequence[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, stats: Mapping[str, Sequence[object]], get: Callable[[object, str], int | None]) -> SampleCounts:
        """From each agent's searched candidates' measurements, `get(m, "acc_n")`
        (or "rec_n", "mixed_n") reading a count off one of them."""
        def counts(name: str) -> dict[str, list[int]]:
            return {agent: [get(m, name) or 0 for m in kept] for agent, kept in stats.items()}

        return cls(counts("acc_n"), counts("rec_n"), counts("mixed_n"))


def drawn_fronts(
    root: pm.Node, counts: SampleCounts, draws: int, seed: int, limit: int
) -> Iterator[list[Point]]:
    """The proxy's frontier, then its frontiers under `draws` posterior draws
    of the agents' accuracies (Beta, from each candidate's estimate and its
    profiled sample count `counts.acc[agent][i]`; 0: not drawn, the estimate
    is used as is), of their recovery (or, for a judge, rejection) rates and
    mixed rates likewise from `counts.rec` and `counts.mixed`, and of the
    profiling queries' weights where an aggregator, a vote or a refine loop
    composes query by query (the Bayesian bootstrap: Dirichlet(1, ..., 1)).
    Recovery is drawn because a chain's value leans on it as much as on
    success: with its rate fixed, a strong checker measured low on a first
    round's few wrong inputs is never on any drawn front, so adaptive
    profiling never measures it again and the most accurate configuration is
    lost for good.
    The model's accuracies and weights are restored afterwards."""
    agents = [n for n in pm.walk(root) if isinstance(n, pm.Agent)]
    nominal = {id(a): (a.acc, a.query_weights, a.hits, a.rec_hits, a.recovery, a.rejects, a.mixed) for a in agents}
    weighted = [n for n in pm.walk(root) if isinstance(n, (pm.Vote, pm.Loop)) and n.joint]
    rng = np.random.default_rng(seed)
    try:
        yield frontier(root, limit)
        for _ in range(draws):
            for agent in agents:
                n = np.asarray(counts.acc.get(agent.var.key, [0] * len(agent.acc)), dtype=float)
                p = np.clip(np.asarray(nominal[id(agent)][0], dtype=float), 1e-6, 1 - 1e-6)
                drawn = np.where(n > 0, rng.beta(p * n + 1.0, (1.0 - p) * n + 1.0), p)
                agent.acc = tuple(float(x) for x in drawn)
                rec_n = counts.rec.get(agent.var.key)
                if rec_n is not None:
                    recovery, rejects = nominal[id(agent)][4:6]
                    agent.recovery, agent.rejects = _drawn_beta(recovery, rec_n, rng), _drawn_beta(rejects, rec_n, rng)
                if (mixed_n := counts.mixed.get(agent.var.key)) is not None:
                    agent.mixed = _drawn_beta(nominal[id(agent)][6], mixed_n, rng)
                if agent.hits_k == 0:  # modeled per-query rates: the same uncertainty, on the logit scale
                    hits, rec_hits = nominal[id(agent)][2:4]
                    agent.hits, agent.rec_hits = _drawn_rates(hits, n, rng), _drawn_rates(rec_hits, n, rng)
                if agent.joint:
                    agent.query_weights = rng.dirichlet(np.ones(len(agent.level_hits[0])))  # pyright: ignore
            for node in weighted:
                node.query_weights = rng.dirichlet(np.ones(_queries(node)))
            yield frontier(root, limit)
    finally:
        for agent in agents:
            (agent.acc, agent.query_weights, agent.hits, agent.rec_hits, agent.recovery, agent.rejects,
             agent.mixed) = nominal[id(agent)]
        for node in weighted:
            node.query_weights = None


def _drawn_beta(rates, counts: Sequence[int], rng: np.random.Generator):
    """Per-choice rates (a tuple; None entries, a single rate or no entries
    are kept) drawn from Beta posteriors of `counts[i]` measurements each."""
    if not isinstance(rates, tuple) or len(rates) != len(counts):
        return rates
    drawn = []
    for rate, n in zip(rates, counts, strict=True):
        if rate is None or not n:
            drawn.append(rate)
            continue
        p = min(max(float(rate), 1e-6), 1 - 1e-6)
        drawn.append(float(rng.beta(p * n + 1.0, (1.0 - p) * n + 1.0)))
    return tuple(drawn)


def _drawn_rates(rows: Sequence[np.ndarray | None], counts: np.ndarray, rng: np.random.Generator) -> tuple:
    """Modeled per-query rates with each candidate's logit shifted by a draw
    of its ability's uncertainty, `1 / sqrt(n p (1 - p))` from its `n`
    profiled calls at mean rate p (the normal approximation of the Beta draw
    of its accuracy); candidates with no calls, or no rates, as they are."""
    drawn = []
    for row, n in zip(rows, counts, strict=False):
        if row is None or n <= 0:
            drawn.append(row)
            continue
        rate = np.clip(row, 1e-6, 1 - 1e-6)
        mean = float(rate.mean())
        shift = rng.normal(0.0, 1.0 / np.sqrt(n * mean * (1.0 - mean)))
        drawn.append(1.0 / (1.0 + np.exp(-(np.log(rate / (1.0 - rate)) + shift))))
    return tuple(drawn)


def _queries(node: pm.Vote | pm.Loop) -> int:
    """The profiling queries a node composed query by query averages over."""
    first = node.inputs[0] if isinstance(node, pm.Vote) else node.init
    return len(first.hits[0])  # pyright: ignore[reportAttributeAccessIssue]


def plausible_front(root: pm.Node, counts: SampleCounts, draws: int, seed: int, limit: int) -> list[Candidate]:
    """Every configuration on the proxy's frontier or on one of its frontiers
    under posterior draws (`drawn_fronts`), scored by the nominal proxy."""
    fronts: dict[tuple[tuple[str, int], ...], list[int]] = {}  # key -> [times on a front, on the proxy's]
    for index, points in enumerate(drawn_fronts(root, counts, draws, seed, limit)):
        for point in points:
            seen = fronts.setdefault(tuple(sorted(point.assignment.items())), [0, 0])
            seen[0] += 1
            seen[1] |= index == 0
    found = []
    for key, (times, proxy_front) in fronts.items():
        assignment = dict(key)
        estimate = pm.evaluate(root, assignment)  # every candidate scored by the nominal proxy
        found.append(Candidate(assignment, estimate.acc, estimate.t, estimate.cost, times, on_proxy_front=bool(proxy_front)))
    return found


def choose(found: Sequence[Candidate], at_most: int) -> list[Candidate]:
    """At most `at_most` candidates: two thirds from the proxy's own frontier,
    spread over it (the largest joint hypervolume of their estimates), the rest
    the margin candidates found on the most drawn fronts."""
    own = [c for c in found if c.on_proxy_front]
    margin = sorted((c for c in found if not c.on_proxy_front), key=lambda c: (-c.on_fronts, c.proxy_lat))
    share = min(len(own), max(1, (2 * at_most + 2) // 3))
    if share < len(own):
        acc = np.array([c.proxy_acc for c in own])
        lat = np.array([c.proxy_lat for c in own])
        own = [own[i] for i in select_k(acc, lat, share, ref_acc=0.0, ref_lat=float(lat.max()) * 1.05 + 1e-9)]
    chosen = own + margin[: max(0, at_most - len(own))]
    return sorted(chosen, key=lambda c: c.proxy_lat)


def _layers(acc: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Pareto layer of every point (0: non-dominated)."""
    layer = np.full(len(acc), -1)
    remaining = np.arange(len(acc))
    depth = 0
    while remaining.size:
        front = remaining[pareto_indices(acc[remaining], lat[remaining])]
        layer[front] = depth
        remaining = np.setdiff1d(remaining, front)
        depth += 1
    return layer


@dataclass
class Spent:
    calls: int = 0
    rounds: int = 0
    queries: int = 0


async def successive_halving(
    workflow: WorkflowOp,
    candidates: list[Candidate],
    assignment_of: Callable[[dict[str, int]], dict[str, Attribute]],
    backend: Backend,
    calls_made: Callable[[], int],
    queries: Sequence[Query],
    *,
    budget: int,
    calls_per_run: int,
    prior_strength: float,
    keep: int,
    first_batch: int,
    seed: int,
    concurrency: int,
) -> Spent:
    """Measure candidates on growing batches of `queries`, halving the field
    after each batch, until the queries, the candidates or the budget run out.
    A batch is started only if `calls_per_run` (an upper bound on the calls one
    run makes) says it fits in what is left; `calls_made()`
    gives the calls actually made (cache hits are free). Updates the
    candidates in place."""
    spent = Spent()
    before = calls_made()
    alive = list(range(len(candidates)))
    start, size = 0, max(1, first_batch)
    while alive and start < len(queries):
        batch = list(queries[start : start + size])
        cost = sum(calls_per_run * len(batch) for i in alive)
        if spent.calls + cost > budget:
            # Take as many of the best-ranked candidates as the budget allows.
            affordable = []
            left = budget - spent.calls
            for i in alive:
                if calls_per_run * len(batch) <= left:
                    affordable.append(i)
                    left -= calls_per_run * len(batch)
            if not affordable or (spent.rounds > 0 and len(affordable) < 2):
                break
            alive = affordable
        for i in alive:
            candidate = candidates[i]
            assign: dict[str, Attribute] = assignment_of(candidate.assignment)
            results = await run_many(workflow, assign, backend, batch, concurrency=concurrency, seed=seed)
            failed = [r for r in results if r.error]
            if failed:
                raise ValidationFailed(failed[0].error or "a call failed")
            candidate.outcomes.update((q.id, score(r, q)) for r, q in zip(results, batch, strict=True))
            candidate.latencies.extend(r.latency for r in results)
        spent.calls = calls_made() - before
        spent.rounds += 1
        adjust(candidates)
        spent.queries = start + len(batch)
        start += len(batch)
        size *= 2
        if len(alive) <= keep:
            continue
        acc = np.array([candidates[i].acc(Combination(prior_strength)) for i in alive])
        lat = np.array([candidates[i].lat() for i in alive])
        order = np.lexsort((-acc, _layers(acc, lat)))
        alive = [alive[j] for j in order[: max(keep, (len(alive) + 1) // 2)]]
    return spent


def adjust(candidates: Sequence[Candidate], rounds: int = 50) -> None:
    """Per-candidate accuracy on a validation query of average difficulty.

    After halving, later batches run only the survivors, so raw rates compare
    candidates on different queries, and one easy batch flatters whoever ran
    it. A two-way additive model, right(c, q) ~ a_c + b_q with the b_q centred,
    fitted by alternating means, puts every candidate on the same footing."""
    measured = [c for c in candidates if c.n]
    queries = sorted({q for c in measured for q in c.outcomes})
    if not measured:
        return
    b = dict.fromkeys(queries, 0.0)
    for _ in range(rounds):
        a = [np.mean([y - b[q] for q, y in c.outcomes.items()]) for c in measured]
        sums: dict[str, list[float]] = {q: [] for q in queries}
        for c, a_c in zip(measured, a, strict=True):
            for q, y in c.outcomes.items():
                sums[q].append(y - a_c)
        raw = {q: float(np.mean(v)) for q, v in sums.items()}
        centre = float(np.mean(list(raw.values())))
        b = {q: v - centre for q, v in raw.items()}
    for c in measured:
        c.adjusted = float(np.clip(np.mean([y - b[q] for q, y in c.outcomes.items()]), 0.0, 1.0))


def fitted_combination(
    candidates: Sequence[Candidate],
    default: float,
    profiled: int,
    prior_strength: float | None = None,
    low: float = 2.0,
    high: float = 256.0,
) -> Combination:
    """How far to trust validation over the proxy, from the data (empirical Bayes).

    The batch's offset, the mean gap to the proxy over every validation run,
    is one draw of the proxy's shared bias plus the luck of `profiled`
    profiling queries and of the validation queries, each of variance
    `v(1 - v)` over its count (queries, not runs: runs on one query share its
    difficulty): the bias's variance is what the squared offset holds beyond
    them, and the offset is kept in the share that variance takes (none of it
    when luck explains it, most of it when the proxy is far off). A 64-query
    batch alone is about 0.06 lucky or unlucky for every candidate at once:
    taken whole, it moved every estimate with it.

    A candidate's own gap, on the queries every candidate ran (the first
    batch: later ones ran the survivors of halving, chosen for their luck on
    the earlier ones) and beyond the mean gap there: its variance beyond the
    rates' sampling noise, `tau2 = mean(own^2 - v(1 - v)/n)`, makes a prior
    worth `pbar(1 - pbar) / tau2` queries (unless `prior_strength` is given),
    so an accurate proxy is barely moved by a noisy batch and a biased one
    gives way to it. Fewer than three measured candidates: `default` and no
    shift; the prior clipped to [low, high]."""
    measured = [c for c in candidates if c.n]
    common = set.intersection(*(set(c.outcomes) for c in measured)) if measured else set()
    if len(measured) < 3 or not common:
        return Combination(prior_strength or default)
    rate = np.array([np.mean([c.outcomes[q] for q in common]) for c in measured])
    proxy = np.array([c.proxy_acc for c in measured])
    spread = float(np.mean(rate * (1.0 - rate)))
    # every run's gap counts once: the first batch ran every candidate, later
    # ones ran the survivors on fresh queries, so no count follows luck
    gaps = [float(y) - c.proxy_acc for c in measured for y in c.outcomes.values()]
    offset = float(np.mean(gaps))
    luck_val = spread / len({q for c in measured for q in c.outcomes})
    luck_prof = spread / profiled if profiled > 0 else 0.0
    bias = max(0.0, offset**2 - luck_val - luck_prof)
    kept = (luck_prof + bias) / (luck_prof + bias + luck_val) if luck_prof + bias + luck_val > 0 else 1.0
    if prior_strength is None:
        own = rate - proxy - float(np.mean(rate - proxy))
        tau2 = float(np.mean(own**2 - rate * (1.0 - rate) / len(common)))
        prior_strength = high if tau2 <= spread / high else float(np.clip(spread / tau2, low, high))
    return Combination(prior_strength, offset, kept * offset)


class ValidationFailed(Exception):
    """A validation call failed after its retries: nothing is measured from it."""


def validated_front(candidates: Sequence[Candidate], how: Combination, z: float = 1.0) -> list[Candidate]:
    """The candidates no other confidently dominates, by latency (so the set may
    hold points statistically tied with a faster one): measured ones at their
    combined estimate, the others at the proxy's (the prior).

    q dominates p when it is no slower and more accurate by more than `z`
    standard errors of the difference (each estimate's spread that of a Beta
    posterior worth how.prior_strength + n queries). A plain comparison would let
    one lucky validation batch evict the proxy's most accurate points (the
    winner's curse of measuring many candidates on few queries)."""
    if not candidates:
        return []
    acc = np.array([c.acc(how) for c in candidates])
    lat = np.array([c.lat() for c in candidates])
    var = acc * (1.0 - acc) / np.array([how.prior_strength + c.n + 1.0 for c in candidates])
    kept = []
    for i in range(len(candidates)):
        beaten = (lat <= lat[i]) & (acc - acc[i] > z * np.sqrt(var + var[i]))
        beaten[i] = False
        if not beaten.any():
            kept.append(i)
    return [candidates[i] for i in sorted(kept, key=lambda i: (lat[i], -acc[i]))]

