"""Recompute every profiled latency for other serving hardware, with no call.

Reads: each agent's `profiles` (their mean token counts `tok_in`, `tok_out`,
reasoning included) and a speed table (`speeds`, JSON from `flowcompile
bench-latency`; `flowcompile.latency` states its law). Writes, per candidate
`model@budget`: `lat` = the law at the profile's mean tokens with the
model's speeds (exact for the mean: the law is linear in tokens); `lat_p95`,
`lat_max` and `lat_q`, which describe the spread of latency around that mean,
are scaled by the same factor, new `lat` / old `lat` (the spread is assumed to
scale with the mean, as a multiplicative noise does). Records on the workflow
`retargeted = {speeds = <digest>, backend, concurrency, simulated}`.

Invalidates (erases, as `flowcompile.passes.invalidation` derives it): what
is derived from the profiles it rewrites, the `estimates` and `proxy` rules
(and an older IR's `estimate`), and each workflow's `frontier`, `space` and
`validated`; run `compose` and `pareto` again after it. A `flow.config_set`
already emitted is left as it is (no pass reads one): `pareto` replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import builtin
from xdsl.dialects.builtin import DictionaryAttr
from xdsl.passes import ModulePass

from flowcompile.diagnostics import FlowError
from flowcompile.dialects.flow import AgentOp, ProfileAttr, WorkflowOp
from flowcompile.latency import SpeedTable, SpeedTableError, load
from flowcompile.passes.invalidation import invalidate
from flowcompile.passes.profile import provenance_attr

_SPREAD = ("lat_p95", "lat_max", "lat_q")


def _round(value: float) -> float:
    return round(value, 6)  # as `profile` writes them: readable and byte-stable


def retarget_profile(profile: ProfileAttr, speeds: SpeedTable, model: str) -> ProfileAttr:
    """`profile` with its latencies recomputed from its tokens and `speeds[model]`."""
    old = profile.get("lat")
    new = speeds.models[model].latency(profile.get("tok_in"), profile.get("tok_out"))
    ratio = new / old if old > 0 else 1.0
    values = {name: profile.get(name) for name in profile.fields()}
    values["lat"] = _round(new)
    for name in _SPREAD:
        spread = values[name]
        if isinstance(spread, list):
            values[name] = [_round(x * ratio) for x in spread]
        elif spread is not None:
            values[name] = _round(spread * ratio)
    return ProfileAttr.build(**values)


def retarget_workflow(workflow: WorkflowOp, speeds: SpeedTable, table: str) -> None:
    """Rewrite the profiles of every agent of `workflow` (FlowError on the agent
    whose model or token counts are missing, on the workflow if none is profiled)."""
    profiled = False
    for agent in workflow.walk():
        if not isinstance(agent, AgentOp) or not isinstance(profiles := agent.attributes.get("profiles"), DictionaryAttr):
            continue
        rewritten: dict[str, ProfileAttr] = {}
        for key, profile in profiles.data.items():
            assert isinstance(profile, ProfileAttr)
            model = key.rsplit("@", 1)[0]
            if model not in speeds.models:
                raise FlowError(agent, f"model {model!r} (candidate {key}) is not in the speed table {table}")
            if profile.get("tok_in") is None or profile.get("tok_out") is None:
                raise FlowError(agent, f"candidate {key} has no token counts (tok_in, tok_out): profile it again")
            rewritten[key] = retarget_profile(profile, speeds, model)
        agent.attributes["profiles"] = DictionaryAttr(rewritten)
        profiled = True
    if not profiled:
        raise FlowError(workflow, "no agent has profiles to retarget: run profile first")


@dataclass(frozen=True)
class RetargetPass(ModulePass):
    """Recompute profiled latencies from token counts and a measured speed table."""

    name = "retarget"

    speeds: str = ""
    """The speed table (JSON written by `flowcompile bench-latency`)."""

    def apply(self, ctx: Context, op: builtin.ModuleOp) -> None:
        if not self.speeds:
            raise ValueError("retarget needs speeds=PATH (a table from flowcompile bench-latency)")
        workflows = [w for w in op.walk() if isinstance(w, WorkflowOp)]
        try:
            speeds, digest = load(self.speeds)
        except SpeedTableError as e:
            if not workflows:
                raise ValueError(str(e)) from None
            raise FlowError(workflows[0], str(e)) from None
        for workflow in workflows:
            invalidate(workflow, self.name)
            retarget_workflow(workflow, speeds, self.speeds)
            workflow.attributes["retargeted"] = provenance_attr(
                {
                    "speeds": digest,
                    "backend": speeds.backend,
                    "concurrency": speeds.concurrency,
                    "simulated": int(speeds.simulated),
                }
            )
