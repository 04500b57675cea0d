"""Turn measured profiles into the structure-aware proxy.

Reads: `profiles` on every agent (a `#flow.profile` per candidate), `probs` on
switches. Writes:
* on every agent, `estimates = {"model@budget" = #flow.estimate<acc, lat,
  acc_lo, acc_hi, cost>}`: the success rate shrunk toward the agent's pooled
  rate when its sample count is small (a Beta prior of `prior-strength`
  pseudo-observations), with the Wilson interval of the raw rate kept beside
  it, and the mean latency and cost; on an aggregator whose profiles carry
  `by_right` (success per number j of right proposals), `by_right` on each
  estimate too: every level's rate shrunk toward the agent's pooled rate at
  that level, then made non-decreasing in j (weighted isotonic regression:
  more right proposals never hurt in expectation, which also keeps the
  search's pruning exact); where profiles carry them, each estimate's
  `lat_max` (the expected latency of the slowest of k replicas, k = 1..K:
  from `lat` at k = 1, then the profile's values made non-decreasing, since
  one more replica never shortens the wait) and `lat_q` (the latency
  distribution's atoms, ascending): what `parallel` composes;
* on every agent and structural op, `proxy = "<rule>"`: `sequence` (an agent
  on its inputs, with its recovery rate), `aggregate` (an agent reading fork
  results), `plurality` / `binomial-plurality` (votes: the most common answer,
  as `flow.vote` decides), `parallel` (forks: the expected latency of the
  slowest branch or replica), `switch`, `refine-loop`; an aggregate, a vote
  or a refine loop composed query by query (its profiles carry per-query
  outcomes, see `flowcompile.proxy.model`) ends in `-per-query`, and the
  search reads the rule: edited to drop the suffix, the op is composed
  from marginal rates;
* on every vote, its rule's parameter `wrong_agree`: how often two wrong
  inputs agree, the pooled rate that profiling measured on the agents it
  counts (absent when none was measured: then all wrong answers count as
  one, the strict-majority rule).
The rules themselves are in `flowcompile.proxy.model`.

Invalidates (erases, as `flowcompile.passes.invalidation` derives it): the
`frontier`, `space` and `validated` of every workflow, computed from the
estimates it rewrites.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects import builtin
from xdsl.dialects.builtin import DictionaryAttr, FloatAttr, IntegerAttr, StringAttr, f64
from xdsl.passes import ModulePass

from flowcompile.diagnostics import FlowError
from flowcompile.dialects.flow import (
    JUDGED_BY_REFERENCE_OUTPUT,
    ConfigAttr,
    EstimateAttr,
    ForkOp,
    LoopOp,
    ProfileAttr,
    StepOp,
    SwitchOp,
    VoteOp,
    WorkflowOp,
)
from flowcompile.passes.invalidation import JUDGED, invalidate
from flowcompile.passes.proxy_model import PER_QUERY, per_query_ops
from flowcompile.profiling.failures import failed_candidates
from flowcompile.proxy.stats import acc_interval, isotonic, shrunk_acc
from flowcompile.runtime.assignment import reference_config


def _profiles(agent: StepOp) -> list[tuple[ConfigAttr, ProfileAttr]]:
    """The searched candidates and their profiles: those profiling marked
    failed have none and are left out (`profiling.failures`)."""
    failed = failed_candidates(agent)
    live = [
        (c, p) for c, p in zip(agent.candidates(), agent.per_candidate("profiles", ProfileAttr), strict=True)
        if c.key not in failed
    ]
    if not live:
        key, why = next(iter(failed.items()))
        raise FlowError(agent, f"agent @{agent.agent_name}: every candidate failed in profiling ('{key}': {why})")
    for config, profile in live:
        if profile is None:
            raise FlowError(
                agent,
                f"agent @{agent.agent_name} has no profile for '{config.key}': "
                "run the profile pass first",
            )
    return live  # pyright: ignore[reportReturnType]


def _slowest_of(profile: ProfileAttr) -> list[float] | None:
    """The estimate's `lat_max`: `lat` for one replica, then the profile's
    expected maxima made non-decreasing (a running maximum); None without."""
    measured = profile.get("lat_max")
    if not isinstance(measured, list) or not measured:
        return None
    curve = [float(profile.get("lat"))]  # pyright: ignore[reportArgumentType]
    for value in measured[1:]:
        curve.append(max(curve[-1], float(value)))
    return [round(v, 6) for v in curve]


def _rule(op: builtin.Operation) -> str | None:
    if isinstance(op, StepOp):
        reads_fork = any(isinstance(v.owner, ForkOp) for v in op.inputs)
        return "aggregate" if reads_fork else "sequence"
    if isinstance(op, VoteOp):
        sampled = any(isinstance(v.owner, ForkOp) and v.owner.samples is not None for v in op.inputs)
        return "binomial-plurality" if sampled else "plurality"
    if isinstance(op, ForkOp):
        return "parallel"
    if isinstance(op, SwitchOp):
        return "switch"
    if isinstance(op, LoopOp):
        return "refine-loop"
    return None


def voted_agents(vote: VoteOp) -> list[StepOp]:
    """The agents whose answers a vote counts (through fork results)."""
    found = []
    for value in vote.inputs:
        owner = value.owner
        if isinstance(owner, ForkOp):
            yielded = owner.branches[owner.res.index(value)].block.last_op
            owner = yielded.operands[0].owner if yielded is not None and yielded.operands else None
        if isinstance(owner, StepOp):
            found.append(owner)
    return found


def _judged_by_reference_output(agent: StepOp) -> bool:
    judged = agent.attributes.get(JUDGED.name)
    return isinstance(judged, StringAttr) and judged.data == JUDGED_BY_REFERENCE_OUTPUT


def _relative_to_reference(
    agent: StepOp, configs: list[ConfigAttr], *rates: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Rates of agreement with the reference run's output as the chance of an
    output as good as the reference's: divided by the reference candidate's
    own rate, at most 1. A plan's judge is the reference's plan, which a fresh
    draw of the reference candidate matches only so often; its downstream
    agents were profiled on the reference's plans, so their success already
    pays for the plans' own errors, which the raw rate would count twice.
    Unchanged when the reference candidate has no profile or never agreed."""
    keys = [c.key for c in configs]
    reference = reference_config(agent).key
    if reference not in keys:
        return rates
    base = float(rates[0][keys.index(reference)])
    if base <= 0:
        return rates
    return tuple(np.minimum(1.0, rate / base) for rate in rates)


def _vote_parameter(vote: VoteOp) -> None:
    """`wrong_agree` on a vote: its agents' measured rates pooled over pairs
    (the agents' wrong answers are taken to agree across agents as often as
    across one agent's candidates)."""
    agree = pairs = 0.0
    for agent in voted_agents(vote):
        rate, n = agent.attributes.get("wrong_agree"), agent.attributes.get("wrong_agree_n")
        if isinstance(rate, FloatAttr) and isinstance(n, IntegerAttr) and n.value.data > 0:
            agree += rate.value.data * n.value.data
            pairs += n.value.data
    if pairs > 0:
        vote.attributes["wrong_agree"] = FloatAttr(round(agree / pairs, 6), f64)
    else:
        vote.attributes.pop("wrong_agree", None)


@dataclass(frozen=True)
class ComposePass(ModulePass):
    """Estimate every candidate from its profile and name each op's proxy rule.

    Estimates are shrunk toward the agent's pooled rate, with intervals."""

    name = "compose"

    prior_strength: float | int = 2.0
    """Pseudo-observations of the prior: how strongly small samples shrink."""

    def apply(self, ctx: Context, op: builtin.ModuleOp) -> None:
        if self.prior_strength < 0:
            raise ValueError("prior-strength must be >= 0")
        invalidate(op, self.name)
        for nested in op.walk():
            if isinstance(nested, StepOp):
                self._estimate(nested)
            if isinstance(nested, SwitchOp) and nested.branch_probs() is None:
                raise FlowError(
                    nested,
                    "flow.switch has no branch probabilities (probs): run the profile pass first",
                )
        # which rules compose query by query needs every agent's estimates
        joint = set().union(*(per_query_ops(w) for w in op.walk() if isinstance(w, WorkflowOp)))
        for nested in op.walk():
            if (rule := _rule(nested)) is not None:
                nested.attributes["proxy"] = StringAttr(rule + (PER_QUERY if nested in joint else ""))
            if isinstance(nested, VoteOp):
                _vote_parameter(nested)

    def _estimate(self, agent: StepOp) -> None:
        live = _profiles(agent)
        profiles = [p for _, p in live]
        n = np.array([p.get("acc_n") for p in profiles], dtype=float)
        successes = np.round(np.array([p.get("acc") for p in profiles]) * n)
        pooled = successes.sum() / n.sum() if n.sum() > 0 else 0.5
        acc = shrunk_acc(successes, n, pooled, self.prior_strength)
        lo, hi = acc_interval(successes, n)
        if _judged_by_reference_output(agent):
            acc, lo, hi = _relative_to_reference(agent, [c for c, _ in live], acc, lo, hi)
        rec = self._recovery(agent, profiles)
        mixed = self._rate(profiles, "mixed")
        curves = self._by_right(profiles)
        estimates = {}
        for i, (config, profile) in enumerate(live):
            estimates[config.key] = EstimateAttr.build(
                acc=round(float(acc[i]), 6),
                lat=profile.get("lat"),
                acc_lo=round(float(lo[i]), 6),
                acc_hi=round(float(hi[i]), 6),
                cost=profile.get("cost") or 0.0,
                rec=None if rec is None else round(float(rec[i]), 6),
                mixed=None if mixed is None else round(float(mixed[i]), 6),
                by_right=None if curves is None else [round(float(a), 6) for a in curves[i]],
                lat_max=_slowest_of(profile),
                lat_q=None if (atoms := profile.get("lat_q")) is None else sorted(atoms),  # pyright: ignore
            )
        agent.attributes["estimates"] = DictionaryAttr(estimates)

    def _by_right(self, profiles: list[ProfileAttr]) -> np.ndarray | None:
        """Per candidate (rows), the success rate per number of right proposals
        (columns): shrunk per level toward the pooled rate of all candidates at
        that level (toward the pooled rate over all levels where no candidate
        measured it), then isotonic in the level, weighted by each level's
        calls plus the prior's pseudo-observations. None without level data."""
        rates = [p.get("by_right") for p in profiles]
        if all(r is None for r in rates):
            return None
        width = max(len(r) for r in rates if r is not None)  # pyright: ignore[reportArgumentType]
        n = np.zeros((len(profiles), width))
        successes = np.zeros_like(n)
        for i, (profile, rate) in enumerate(zip(profiles, rates, strict=True)):
            if rate is None:
                continue  # a candidate without levels takes the pooled curve
            counts = np.asarray(profile.get("by_right_n"), dtype=float)
            n[i, : len(counts)] = counts
            successes[i, : len(counts)] = np.round(np.asarray(rate) * counts)
        overall = successes.sum() / n.sum() if n.sum() > 0 else 0.5
        level_n = n.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            pooled = np.where(level_n > 0, successes.sum(axis=0) / level_n, overall)
        shrunk = shrunk_acc(successes, n, pooled[None, :], self.prior_strength)
        weights = n + self.prior_strength
        return np.stack([isotonic(row, w) for row, w in zip(shrunk, weights, strict=True)])

    def _recovery(self, agent: StepOp, profiles: list[ProfileAttr]) -> np.ndarray | None:
        """Measured recovery rates, shrunk toward the declared `recovery` (or
        their pooled rate); None when nothing was measured."""
        return self._rate(profiles, "rec", agent.recovery.value.data if agent.recovery is not None else None)

    def _rate(self, profiles: list[ProfileAttr], name: str, declared: float | None = None) -> np.ndarray | None:
        """A measured rate (`name`, counted by `name_n`) per candidate, shrunk
        toward `declared` (None: the candidates' pooled rate); None when no
        candidate measured it."""
        n = np.array([p.get(f"{name}_n") or 0 for p in profiles], dtype=float)
        if n.sum() == 0:
            return None
        successes = np.round(np.array([p.get(name) or 0.0 for p in profiles]) * n)
        prior = declared if declared is not None else successes.sum() / n.sum()
        return shrunk_acc(successes, n, prior, self.prior_strength)
