"""Turn measured profiles into the structure-aware proxy.

Reads: `profiles` on every agent (a `#flow.profile` per candidate), `probs` on
switches. Writes:
* on every agent, `estimates = {"model@budget" = #flow.estimate<acc, lat,
  acc_lo, acc_hi, cost>}`: the success rate shrunk toward the agent's pooled
  rate when its sample count is small (a Beta prior of `prior-strength`
  pseudo-observations), with the Wilson interval of the raw rate kept beside
  it, and the mean latency and cost;
* on every agent and structural op, `proxy = "<rule>"`: `sequence` (an agent
  on its inputs, with its recovery rate), `aggregate` (an agent reading fork
  results), `majority` / `binomial-majority` (votes), `parallel` (forks),
  `switch`, `refine-loop`.
The rules themselves are in `flowcompile.proxy.model`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects import builtin
from xdsl.dialects.builtin import DictionaryAttr, StringAttr
from xdsl.passes import ModulePass

from flowcompile.diagnostics import FlowError
from flowcompile.dialects.flow import (
    AgentOp,
    EstimateAttr,
    ForkOp,
    LoopOp,
    ProfileAttr,
    SwitchOp,
    VoteOp,
)
from flowcompile.proxy.stats import acc_interval, shrunk_acc


def _profiles(agent: AgentOp) -> list[ProfileAttr]:
    profiles = agent.per_candidate("profiles", ProfileAttr)
    for config, profile in zip(agent.candidates(), profiles, strict=True):
        if profile is None:
            raise FlowError(
                agent,
                f"agent @{agent.agent_name} has no profile for '{config.key}': "
                "run the profile pass first",
            )
    return profiles  # pyright: ignore[reportReturnType]


def _rule(op: builtin.Operation) -> str | None:
    if isinstance(op, AgentOp):
        reads_fork = any(isinstance(v.owner, ForkOp) for v in op.inputs)
        return "aggregate" if reads_fork else "sequence"
    if isinstance(op, VoteOp):
        sampled = any(isinstance(v.owner, ForkOp) and v.owner.samples is not None for v in op.inputs)
        return "binomial-majority" if sampled else "majority"
    if isinstance(op, ForkOp):
        return "parallel"
    if isinstance(op, SwitchOp):
        return "switch"
    if isinstance(op, LoopOp):
        return "refine-loop"
    return None


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
        for nested in op.walk():
            if isinstance(nested, AgentOp):
                self._estimate(nested)
            if isinstance(nested, SwitchOp) and nested.branch_probs() is None:
                raise FlowError(
                    nested,
                    "flow.switch has no branch probabilities (probs): run the profile pass first",
                )
            if (rule := _rule(nested)) is not None:
                nested.attributes["proxy"] = StringAttr(rule)

    def _estimate(self, agent: AgentOp) -> None:
        profiles = _profiles(agent)
        n = np.array([p.get("acc_n") for p in profiles], dtype=float)
        successes = np.round(np.array([p.get("acc") for p in profiles]) * n)
        pooled = successes.sum() / n.sum() if n.sum() > 0 else 0.5
        acc = shrunk_acc(successes, n, pooled, self.prior_strength)
        lo, hi = acc_interval(successes, n)
        rec = self._recovery(agent, profiles)
        estimates = {}
        for i, (config, profile) in enumerate(zip(agent.candidates(), profiles, strict=True)):
            estimates[config.key] = EstimateAttr.build(
                acc=round(float(acc[i]), 6),
                lat=profile.get("lat"),
                acc_lo=round(float(lo[i]), 6),
                acc_hi=round(float(hi[i]), 6),
                cost=profile.get("cost") or 0.0,
                rec=None if rec is None else round(float(rec[i]), 6),
            )
        agent.attributes["estimates"] = DictionaryAttr(estimates)

    def _recovery(self, agent: AgentOp, profiles: list[ProfileAttr]) -> np.ndarray | None:
        """Measured recovery rates, shrunk toward the declared `recovery` (or
        their pooled rate); None when nothing was measured."""
        rec_n = np.array([p.get("rec_n") or 0 for p in profiles], dtype=float)
        if rec_n.sum() == 0:
            return None
        successes = np.round(np.array([p.get("rec") or 0.0 for p in profiles]) * rec_n)
        declared = agent.recovery.value.data if agent.recovery is not None else None
        prior = declared if declared is not None else successes.sum() / rec_n.sum()
        return shrunk_acc(successes, rec_n, prior, self.prior_strength)
