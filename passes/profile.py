"""Measure every sub-agent under every candidate configuration.

Reads: the workflows, their agents' choice spaces and model pool; a profiling
dataset (JSONL `{id, input, reference}`; the `sim` backend generates one when
none is given); a backend (`sim`, `litellm`, `replay`). Writes:
* `profiles = {"model@budget" = #flow.profile<acc, acc_n, lat, lat_p95,
  tok_in, tok_out, cost>}` on every agent (acc: the success rate on right
  inputs; tok_out counts reasoning tokens too). With the exact judge and
  `by-answers=true` (the default), answer agents are right when they give
  the query's reference answer and verdict agents when they approve right
  drafts (acc) and reject wrong ones (rec), on every reference run's calls,
  each by its own input's state (`flowcompile.profiling.truth`); otherwise
  right is agreement with the reference configuration's accepted outputs on
  the same inputs, the paper's pseudo ground truth;
* with `recovery=true`, `rec` and `rec_n` in each profile: how often the
  candidate still produced a right output from a wrong input (an upstream
  output replaced by a wrong one that agent's candidates gave; judged by the
  answers, also the recorded inputs that were wrong, and those made right),
  and on an agent that reads an output beside another built on it (a
  checker's plan and answer), `mixed` and `mixed_n`: its success on right
  inputs with that output made wrong (`truth.mixed`; judged by the answers);
* on every aggregator (an agent reading fork results), always, `by_right` and
  `by_right_n` in each profile: the success rate and call count on inputs with
  exactly j = 0..n of its n proposals right (the recorded inputs rewritten with
  right or wrong outputs the proposers' candidates gave on the same query; at
  most n x its candidate calls more, stated in the dry run and the summary);
* `wrong_agree` and `wrong_agree_n` on every answer-producing agent: how often
  two wrong answers that different candidates gave on the same recorded input
  agree, and over how many pairs (from the candidate calls, no extra call);
* `probs = [...]` on every switch (how often the reference run took each case);
* `iters` (mean iterations) and `pass_rate` (approved before the bound) on
  every loop; judged by the reference answers, also `revised` and `fixed`:
  per round, the wrong drafts the reference run revised and how many of
  those revisions it got right (what `proxy.model.round_decay` composes);
* `budget_no_effect = ["model@budget", ...]` on an agent whose candidates at a
  budget > 0 reported no reasoning token and replied with hardly more tokens
  than at the model's smallest budget (a service that ignores the budget); a warning
  names each such model once, and a note each model declared `reasoning = false`
  (profiled at one budget).
A call that fails after retries is never a measurement
(`flowcompile.profiling.failures`): a candidate more than `max-failures` of
whose calls failed gets no profile, `failed = {"model@budget" = "why"}` on its
agent instead (the search leaves it out); a stage with more failures than that
stops profiling with the provider's message.
Every call goes through a content-addressed SQLite cache (`cache=PATH`), so a
rerun, or a run after a crash, repeats no finished call, and a cache hit keeps
the latency measured when the call was made. `dry-run=true` prints what the
run would cost and calls nothing. A summary line goes to stderr.

Invalidates (erases, as `flowcompile.passes.invalidation` derives it): what
is derived from the profiles it rewrites, the `estimates`, the `proxy` rules
and the votes' `wrong_agree` (and an older IR's `estimate`), and each
workflow's `frontier`, `space`, `validated` and `retargeted` (the latencies
it measures anew).
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from xdsl.context import Context
from xdsl.dialects import builtin
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, FloatAttr, IntegerAttr, StringAttr, f64, i64
from xdsl.ir import Attribute

from flowcompile.diagnostics import FlowError
from flowcompile.dialects.flow import (
    JUDGED_BY_REFERENCE_OUTPUT,
    AgentOp,
    ConfigAttr,
    LoopOp,
    ProfileAttr,
    StepOp,
    SwitchOp,
    WorkflowOp,
)
from flowcompile.dialects.syntax import float_array, int_array, string_list
from flowcompile.passes.backend_options import BackendPassOptions
from flowcompile.passes.invalidation import JUDGED, invalidate
from flowcompile.profiling.failures import FAILED_ATTR, ProfilingStopped, failed_attr
from flowcompile.proxy import hypervolume_2d, pareto_indices
from flowcompile.passes.compose import ComposePass
from flowcompile.passes.proxy_model import build_model
from flowcompile.profiling.profiler import NO_GROWTH, budgets_without_effect
from flowcompile.profiling.session import GENERATED_QUERIES, ProfileSession
from flowcompile.proxy import model as pm
from flowcompile.proxy.search import DEFAULT_LIMIT
from flowcompile.validation import SampleCounts, drawn_fronts

NO_EFFECT_ATTR = "budget_no_effect"


def _round(value: float) -> float:
    # Six significant decimals keep the IR readable and byte-stable.
    return round(value, 6)


@dataclass(frozen=True)
class ProfilePass(BackendPassOptions):
    """Measure every agent under every candidate configuration against a backend.

    Ground truth: the queries' reference answers for answer and verdict agents
    (`by-answers`), the reference configuration's accepted outputs otherwise."""

    name = "profile"

    dataset: str = ""
    """JSONL profiling set; empty: the sim world generates `samples` queries."""

    samples: int = 0
    """How many queries to profile on (0: the whole dataset, or 32 generated)."""

    seed: int = 0
    """Seed of the generated dataset and of every call."""

    judge: str = "exact"
    """exact (answer match) or llm:MODEL (a model of the pool grades answers)."""

    recovery: bool = True
    """Also measure recovery rates, on inputs with one upstream output made wrong."""

    by_answers: bool = True
    """With the exact judge: judge answer and verdict agents by the queries'
    reference answers on every run; false: by the reference run's accepted
    outputs (the paper's pseudo ground truth, biased toward easy queries)."""

    dry_run: bool = False
    """Print how many calls, tokens and dollars the run would take; call nothing."""

    max_samples: int = 256
    """Adaptive profiling when above `samples` (32 by default): after a uniform
    first round, rounds of doubling query counts up to this many, each only for
    the candidates on the proxy's frontier under plausible accuracies; 0 (or at
    most `samples`): uniform profiling on `samples` queries."""

    budget: int = 0
    """Adaptive profiling's calls at most (0: as many as `max-samples` take)."""

    draws: int = 16
    """Adaptive profiling: posterior draws of the accuracies that decide which
    candidates are in play."""

    min_value: float | int = 0.001
    """Adaptive profiling: a candidate stays in play while the configurations
    using it that are on some but not all drawn frontiers hold at least this
    share of a frontier's hypervolume (what resolving it is worth); 0: every
    candidate of such a configuration."""

    shrink: float | int = 1.0
    """Adaptive profiling: round k + 1 measures at most this share to the
    power k of the candidates, the most valuable in play (successive
    halving); 1: every candidate in play. Below 1 it trades the frontier's
    quality for calls."""

    max_failures: float | int = 0.05
    """The share of a stage's calls (reference runs, candidate, recovery,
    aggregate-level calls) that may fail after retries: past it profiling
    stops with the provider's message (a rerun resumes from the cache); a
    candidate past it on its own calls is excluded from the search."""

    def apply(self, ctx: Context, op: builtin.ModuleOp) -> None:
        if min(self.samples, self.max_samples, self.budget, self.draws, self.min_value) < 0:
            raise ValueError("samples, max-samples, budget, draws and min-value must be >= 0")
        if not 0 < self.shrink <= 1:
            raise ValueError("shrink must be > 0 and <= 1")
        workflows = [w for w in op.ops if isinstance(w, WorkflowOp)]
        if not workflows:
            return
        first = self.samples or GENERATED_QUERIES
        adaptive = self.max_samples > first
        cache = self.cache_path()
        if adaptive and cache is None:  # rounds re-read earlier calls: keep them for the run
            cache = Path(":memory:")
        session = ProfileSession(self, None if self.dry_run else cache)
        try:
            for workflow in workflows:
                session.check_models(workflow)  # located at the agent, before any call
                if self.dry_run:
                    session.dry_run(workflow)
                    continue
                try:
                    if adaptive:
                        measured = session.profile_adaptively(
                            workflow,
                            lambda m, w=workflow: frontier_candidates(ctx, w, m, self.draws, self.seed, self.min_value),
                            first, self.budget,
                        )
                    else:
                        measured = session.profile(workflow)
                except ProfilingStopped as e:
                    raise FlowError(workflow, str(e)) from None
                invalidate(workflow, self.name)
                write_measurements(workflow, measured)
                write_provenance(workflow, session.provenance(measured))
                for line in budget_notes(workflow):
                    log(line)
        finally:
            session.close()


def write_measurements(workflow: WorkflowOp, measured) -> None:
    """Annotate the workflow with what profiling measured (in each profile,
    what a fork's latency needs: `lat_max` inside replicated forks, `lat_q` at
    the end of a branch of a fork of several)."""
    excluded = measured.failures.excluded
    for agent in workflow.walk():
        if not isinstance(agent, StepOp):
            continue
        stats = measured.agents[agent.agent_name]
        # a failed candidate has no profile: a failed call is never a measurement
        failed = {key: why for (name, key), why in excluded.items() if name == agent.agent_name}
        if failed:
            agent.attributes[FAILED_ATTR] = failed_attr(failed)
        else:
            agent.attributes.pop(FAILED_ATTR, None)
        agent.attributes["profiles"] = DictionaryAttr(
            {
                key: ProfileAttr.build(
                    acc=_round(s.acc),
                    acc_n=s.n,
                    lat=_round(s.lat),
                    lat_p95=_round(s.lat_p95),
                    tok_in=_round(s.tok_in),
                    tok_out=_round(s.tok_out),
                    # six decimals of micro-dollars; round(x, 12) keeps the short repr
                    # (x * 1e6 / 1e6 printed as 2.8756667000000002e-05)
                    cost=round(s.cost, 12),
                    rec=None if s.rec is None else _round(s.rec),
                    rec_n=s.rec_n,
                    mixed=None if s.mixed is None else _round(s.mixed),
                    mixed_n=s.mixed_n if s.mixed is not None else None,
                    by_right=None if s.by_right is None else [_round(r) for r in s.by_right],
                    by_right_n=None if s.level_n is None else list(s.level_n),
                    lat_max=None if s.lat_max is None else [_round(x) for x in s.lat_max],
                    lat_q=None if s.lat_q is None else [_round(x) for x in s.lat_q],
                    hits=s.hits,
                    hits_k=s.hits_k if s.hits is not None and s.hits_k > 1 else None,
                    rec_hits=s.rec_hits,
                    level_hits=s.level_hits,
                )
                for key, s in stats.items()
                if key not in failed
            }
        )
        no_effect = budgets_without_effect({k: s for k, s in stats.items() if k not in failed})
        if no_effect:
            keys = [f"{model}@{b}" for model, budgets in no_effect.items() for b in budgets]
            agent.attributes[NO_EFFECT_ATTR] = ArrayAttr([StringAttr(k) for k in keys])
        else:
            agent.attributes.pop(NO_EFFECT_ATTR, None)
        if agent.agent_name in measured.plans:
            agent.attributes[JUDGED.name] = StringAttr(JUDGED_BY_REFERENCE_OUTPUT)
        else:
            agent.attributes.pop(JUDGED.name, None)
        if agent.agent_name in measured.wrong_agree:
            agree, pairs = measured.wrong_agree[agent.agent_name]
            agent.attributes["wrong_agree"] = FloatAttr(_round(agree / pairs), f64)
            agent.attributes["wrong_agree_n"] = IntegerAttr(pairs, i64)
        else:  # nothing to compare now: a stale rate must not survive re-profiling
            agent.attributes.pop("wrong_agree", None)
            agent.attributes.pop("wrong_agree_n", None)
    switches = [op for op in workflow.walk() if isinstance(op, SwitchOp)]
    for index, switch in enumerate(switches):
        probs = measured.switch_probs[str(switch.region_name or index)]
        rounded = [_round(p) for p in probs]
        rounded[-1] = _round(1.0 - sum(rounded[:-1]))  # keep the sum exactly 1
        switch.attributes["probs"] = float_array(rounded)
    loops = [op for op in workflow.walk() if isinstance(op, LoopOp)]
    for index, loop in enumerate(loops):
        stats = measured.loop_stats.get(str(loop.region_name or index))
        if stats is not None:
            loop.attributes["iters"] = FloatAttr(_round(stats[0]), f64)
            loop.attributes["pass_rate"] = FloatAttr(_round(stats[1]), f64)
        rounds = measured.loop_rounds.get(str(loop.region_name or index))
        for name, counts in zip(("revised", "fixed"), rounds or (None, None), strict=True):
            if counts is None:
                loop.attributes.pop(name, None)
            else:
                loop.attributes[name] = int_array(counts)


def budget_notes(workflow: WorkflowOp) -> list[str]:
    """A warning per model whose budgets showed no effect on some agent (from
    `budget_no_effect`), and a note per model declared not to reason whose
    agents offer several budgets; each model once."""
    name = workflow.sym_name.data
    ignored: dict[str, dict[str, list[str]]] = {}
    collapsed: dict[str, list[str]] = {}
    pool = workflow.model_pool()
    for agent in workflow.agents:
        found = agent.attributes.get(NO_EFFECT_ATTR)
        for key in string_list(found) if isinstance(found, ArrayAttr) else []:
            model, _, budget = key.rpartition("@")
            ignored.setdefault(model, {}).setdefault(budget, []).append(f"@{agent.agent_name}")
        if len(agent.budget_values) > 1:
            for model in agent.model_names:
                if model in pool and not pool[model].reasoning:
                    collapsed.setdefault(model, []).append(f"@{agent.agent_name} at {min(agent.budget_values)}")
    lines = []
    for model, budgets in ignored.items():
        agents = sorted({a for names in budgets.values() for a in names})
        lines.append(
            f"profile @{name}: warning: model '{model}': reasoning budget(s) {', '.join(budgets)} had no "
            f"observable effect on {', '.join(agents)} (no reasoning tokens reported, output tokens within "
            f"{NO_GROWTH:.0%} of its smallest budget's); the service may ignore budgets. If the model does "
            "not reason, declare it `reasoning: false` in `models:` to profile it at one budget"
        )
    for model, agents in collapsed.items():
        lines.append(
            f"profile @{name}: note: model '{model}' is declared `reasoning: false`: profiled at one "
            f"budget per agent, the smallest ({', '.join(agents)})"
        )
    return lines


def frontier_candidates(
    ctx: Context, workflow: WorkflowOp, measured, draws: int, seed: int, min_value: float = 0.0
) -> dict[tuple[str, str], float]:
    """The (agent, config) candidates whose measurements can still change the
    frontier in a way worth a round, with what resolving each is worth. A
    configuration is uncertain when it is on some but not all of the proxy's
    frontiers (the nominal one and those under `draws` posterior draws of the
    candidates' rates, `validation.drawn_fronts`, composed from `measured` on
    a scratch copy of the workflow): on every frontier it is on whatever the
    noise, on none it cannot reach it; on every one, it is uncertain still
    when it tops some of them but not all. A candidate's worth is what its
    uncertain configurations are worth together (`uncertain_worth`); it is
    in play at a worth of at least `min_value`: resolving a candidate whose
    configurations are near twins of their neighbours changes little."""
    scratch = workflow.clone()
    write_measurements(scratch, measured)
    ComposePass().apply(ctx, builtin.ModuleOp([scratch]))
    root = build_model(scratch)
    excluded = measured.failures.excluded  # not searched, so not counted (the labels' order)
    kept = {agent: [s for key, s in stats.items() if (agent, key) not in excluded] for agent, stats in measured.agents.items()}
    counts = SampleCounts.of(kept, getattr)
    labels = {v.key: v.labels for v in pm.all_vars(root)}
    fronts = [
        [(tuple(sorted(p.assignment.items())), p.estimate.acc, p.estimate.t) for p in front]
        for front in drawn_fronts(root, counts, draws, seed, DEFAULT_LIMIT)
    ]
    worth: dict[tuple[str, str], float] = {}
    for key, share in uncertain_worth(fronts).items():
        for var, choice in key:
            if isinstance(label := labels[var][choice], ConfigAttr):
                worth[var, label.key] = worth.get((var, label.key), 0.0) + share
    return {candidate: share for candidate, share in worth.items() if share >= min_value}


Configuration = tuple[tuple[str, int], ...]
"""A configuration as sorted (variable, choice) pairs."""


def uncertain_worth(fronts: Sequence[Sequence[tuple[Configuration, float, float]]]) -> dict[Configuration, float]:
    """What resolving each uncertain configuration of `fronts` (the nominal
    and the drawn frontiers, as (configuration, acc, t) points) is worth: its
    exclusive share of a front's hypervolume, averaged over the fronts; for
    the most accurate point of a front, whose area is nil (the corner is at
    its own latency), the share of the front's accuracy range only it
    reaches, where that is more: which configuration tops the front is what
    a user asks first. Certain configurations (on every front, and on top of
    all of them or of none) are left out."""
    times: Counter[Configuration] = Counter()
    value: dict[Configuration, float] = {}
    tops: Counter[Configuration] = Counter()
    ref_acc = min((acc for front in fronts for _, acc, _ in front), default=0.0)
    ref_lat = max((t for front in fronts for _, _, t in front), default=0.0)
    for front in fronts:
        shares = hypervolume_shares([acc for _, acc, _ in front], [t for *_, t in front], ref_acc, ref_lat)
        for (key, _, _), share in zip(front, shares, strict=True):
            times[key] += 1
            value[key] = value.get(key, 0.0) + share / len(fronts)
        if front:
            accs = sorted((acc for _, acc, _ in front), reverse=True)
            top = max(front, key=lambda point: (point[1], -point[2]))
            reach = (accs[0] - (accs[1] if len(accs) > 1 else ref_acc)) / max(accs[0] - ref_acc, 1e-12)
            tops[top[0]] += 1
            value[top[0]] += max(0.0, reach - shares[front.index(top)]) / len(fronts)
    return {
        key: value[key]
        for key, on in times.items()
        if on < len(fronts) or 0 < tops[key] < len(fronts)
    }


def hypervolume_shares(acc: Sequence[float], lat: Sequence[float], ref_acc: float, ref_lat: float) -> list[float]:
    """Each point of a front's exclusive share of its hypervolume: the area
    only it dominates, over the whole (0 for a dominated point). For mutually
    non-dominated points, as the caller's fronts are, that is the area lost
    without it.
    The reference corner is widened by a hair so that the slowest and the
    least accurate points of the space still hold an area."""
    values = np.asarray(acc, dtype=float), np.asarray(lat, dtype=float)
    ref_acc, ref_lat = ref_acc - 1e-3, ref_lat * 1.001 + 1e-9
    kept = pareto_indices(*values)
    order = sorted(kept, key=lambda i: values[1][i])
    total = hypervolume_2d(values[0], values[1], ref_acc, ref_lat)
    shares = [0.0] * len(acc)
    if total <= 0:
        return shares
    for rank, i in enumerate(order):
        below = values[0][order[rank - 1]] if rank else ref_acc
        after = values[1][order[rank + 1]] if rank + 1 < len(order) else ref_lat
        shares[i] = float((values[0][i] - below) * (after - values[1][i]) / total)
    return shares


def write_provenance(workflow: WorkflowOp, provenance: dict[str, object]) -> None:
    """Record what measured the profiles: `profiled = {backend, simulation,
    queries = [ids], calls}`. The query ids let later stages check that their
    validation and held-out sets are disjoint from the profiling set."""
    workflow.attributes["profiled"] = provenance_attr(provenance)


def provenance_attr(provenance: dict[str, object]) -> DictionaryAttr:
    """A provenance record as a dictionary attribute (strings, ints, floats, id lists)."""
    fields: dict[str, Attribute] = {}
    for key, value in provenance.items():
        if isinstance(value, str):
            fields[key] = StringAttr(value)
        elif isinstance(value, int):
            fields[key] = IntegerAttr(value, i64)
        elif isinstance(value, float):
            fields[key] = FloatAttr(value, f64)
        else:
            fields[key] = ArrayAttr([StringAttr(str(v)) for v in value])  # pyright: ignore
    return DictionaryAttr(fields)


def recorded_ids(workflow: WorkflowOp, key: str) -> list[str]:
    """The query ids a provenance record (`profiled`, `validated`) lists."""
    record = workflow.attributes.get(key)
    if not isinstance(record, DictionaryAttr):
        return []
    ids = record.data.get("queries")
    return [s.data for s in ids.data if isinstance(s, StringAttr)] if isinstance(ids, ArrayAttr) else []


def log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
