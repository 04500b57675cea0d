"""Profiling a workflow, the way the FlowCompile paper does.

1. Run the reference configuration (every agent at its strongest candidate)
   end to end on the profiling queries, recording every agent's inputs
   (its rendered messages) and output.
2. Keep the runs whose final answer the judge accepts: their agent outputs are
   pseudo ground truth.
3. Call every candidate configuration of every agent on those recorded inputs
   and score its output against the reference output of the same call. When
   the queries' reference answers are ground truth (`by_answers`), answer and
   verdict agents are instead judged by them, on every run's calls, each a
   measurement of success or of recovery by its own input's state
   (`flowcompile.profiling.truth`).
4. For every aggregator (an agent reading fork results): call its candidates
   again on the recorded inputs rewritten so that exactly j of its n proposals
   are right, for every level j the recorded input is not already at, so its
   success rate is known as a function of how many proposals are right.
5. For every answer-producing agent, from the calls already made: how often
   two wrong outputs of different candidates on the same recorded input give
   the same answer (what a vote's plurality depends on).

The number of calls is the reference runs' calls plus, per agent, candidates x
recorded inputs, plus, per aggregator, at most n x its candidate calls. Every
call goes through the caller's backend stack (cache, retries); this module
only orchestrates and aggregates. It reads the IR to know
the agents and their candidates but writes nothing to it.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from xdsl.ir import SSAValue

from flowcompile.backends.base import Backend, CallRequest, CallResult, Message
from flowcompile.backends.middleware import bounded_gather
from flowcompile.backends.reader import TEXT_READER, Reader
from flowcompile.dialects.flow import (
    LoopOp,
    StepOp,
    SwitchOp,
    UntilOp,
    WorkflowOp,
)
from flowcompile.profiling.dataset import Query
from flowcompile.profiling.failures import GuardedBackend, ProfileFailures, ProfilingStopped, StageGuard
from flowcompile.profiling.shape import ends_parallel_branch, proposal_agents, replicas_of
from flowcompile.profiling.truth import (
    APPROVE,
    Alternatives,
    Recorded,
    Upstream,
    flipped,
    judged_calls,
    judged_kinds,
    mixed,
    pick,
)
from flowcompile.proxy.rules import expected_max_curve, quantile_means
from flowcompile.runtime import (
    REPLICA_STRIDE,
    RunResult,
    reference_assignment,
    run_many,
    run_reader,
    score,
)
from flowcompile.runtime.interpreter import agent_request
from flowcompile.runtime.steps import with_tools

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total)"""


@dataclass(frozen=True)
class CandidateStats:
    """What one candidate configuration of one agent measured."""

    successes: int
    n: int
    lat: float
    lat_p95: float
    tok_in: float
    tok_out: float
    cost: float
    rec_successes: int | None = None
    rec_n: int | None = None
    mixed_successes: int | None = None
    mixed_n: int | None = None
    """Success on mixed inputs (`truth.mixed`: right, with an output behind
    them wrong); None where the agent has none to measure."""
    level_successes: tuple[int, ...] | None = None
    """Aggregators: successes on inputs with exactly j proposals right, j = 0..n."""
    level_n: tuple[int, ...] | None = None
    lat_max: tuple[float, ...] | None = None
    """Agents in replicated forks: expected latency of the slowest of k calls on
    one input, k = 1..K (`rules.expected_max_curve`)."""
    lat_q: tuple[float, ...] | None = None
    """Agents ending a branch of a fork of several branches: the latency
    distribution in LAT_BINS equal-probability atoms (`rules.quantile_means`)."""
    hits: str | None = None
    """Per query: its right calls on a right input (of `hits_k`: the first ones), '.' unmeasured."""
    hits_k: int = 1
    rec_hits: str | None = None
    """Per query: whether its first call on a wrong input was right ('1'), '.' unmeasured."""
    level_hits: str | None = None
    """Aggregators: per level j, per query, right ('1') or not, joined by '|'."""
    reasoning: float = 0.0
    """Mean reasoning tokens per call that the service reported (or that its
    reasoning text showed); part of `tok_out`."""

    @property
    def by_right(self) -> list[float] | None:
        """Success rate per level j (0 where nothing was measured), or None."""
        if self.level_successes is None or self.level_n is None:
            return None
        return [k / n if n else 0.0 for k, n in zip(self.level_successes, self.level_n, strict=True)]

    @property
    def acc(self) -> float:
        return self.successes / self.n if self.n else 0.0

    @property
    def acc_n(self) -> int:
        """`n`, by the name the profile gives it."""
        return self.n

    @property
    def rec(self) -> float | None:
        if self.rec_n is None:
            return None
        return self.rec_successes / self.rec_n if self.rec_n else 0.0  # pyright: ignore

    @property
    def mixed(self) -> float | None:
        if not self.mixed_n:
            return None
        return self.mixed_successes / self.mixed_n  # pyright: ignore[reportOptionalOperand]


@dataclass
class Measurements:
    """Everything profiling learned about one workflow."""

    agents: dict[str, dict[str, CandidateStats]] = field(default_factory=dict)
    switch_probs: dict[str, list[float]] = field(default_factory=dict)
    loop_stats: dict[str, tuple[float, float]] = field(default_factory=dict)
    """loop name -> (mean iterations, pass rate)"""
    loop_rounds: dict[str, tuple[list[int], list[int]]] = field(default_factory=dict)
    """loop name -> per revision round, (wrong drafts revised, of them fixed)
    in the reference runs; measured when the reference answers are ground truth."""
    queries: int = 0
    accepted: int = 0
    reference_calls: int = 0
    candidate_calls: int = 0
    recovery_calls: int = 0
    mixed_calls: int = 0
    """Of the recovery calls, those on mixed inputs (`truth.mixed`)."""
    aggregate_calls: int = 0
    """Aggregator candidates on inputs rewritten to other levels of right proposals."""
    failed_calls: int = 0
    failed_runs: int = 0
    failures: ProfileFailures = field(default_factory=ProfileFailures)
    """The calls that failed after retries (never measured) and the candidates
    they leave unmeasured (`flowcompile.profiling.failures`)."""
    fallback_agents: list[str] = field(default_factory=list)
    """Agents with no input known to be right (no accepted run, or judged by
    the answers only wrong ones): profiled on the inputs they had."""
    by_answers: bool = False
    """Whether answer and verdict agents were judged by the reference answers."""
    plans: list[str] = field(default_factory=list)
    """Agents whose outputs no reference answer judges (plans): each candidate
    was scored by agreement with the reference run's output, which is itself
    right only as often as a fresh draw of the reference candidate agrees."""
    wrong_agree: dict[str, tuple[int, int]] = field(default_factory=dict)
    """agent -> (pairs of wrong answers that agree, pairs compared)."""
    calls_of: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(agent, config) -> the candidate and aggregate-level calls it took (those
    that grow with its horizon; recovery calls are counted apart)."""
    queries_of: dict[tuple[str, str], int] = field(default_factory=dict)
    """(agent, config) -> on how many of the queries (the first ones) it ran."""

    @property
    def total_calls(self) -> int:
        """Every call profiling made (or took from the cache)."""
        return self.reference_calls + self.candidate_calls + self.recovery_calls + self.aggregate_calls


#: Output tokens at most this share above the smallest budget's count as unchanged:
#: a real server's greedy replies vary from call to call (llama.cpp's reuse of its
#: prompt cache changes them), while thinking, even unreported, adds far more.
NO_GROWTH = 0.25


def budgets_without_effect(stats: dict[str, CandidateStats]) -> dict[str, list[int]]:
    """Per model, its budgets > 0 that showed no effect on one agent's calls: no
    reasoning token reported, and on the same inputs at most NO_GROWTH more
    output tokens than at the model's smallest budget (a service that ignores
    the budget). A model with no output measured at its smallest budget is not judged."""
    by_model: dict[str, dict[int, CandidateStats]] = defaultdict(dict)
    for key, s in stats.items():
        model, _, budget = key.rpartition("@")
        by_model[model][int(budget)] = s
    found: dict[str, list[int]] = {}
    for model, budgets in by_model.items():
        low = min(budgets)
        base = budgets[low].tok_out
        if base == 0:
            continue
        same = [
            b for b, s in sorted(budgets.items())
            if b > low and s.reasoning == 0 and 0 < s.tok_out <= (1 + NO_GROWTH) * base
        ]
        if same:
            found[model] = same
    return found


def output_kind(agent: StepOp) -> str:
    """How the agent's output is judged: a route, a verdict, or an answer."""
    for use in agent.output.uses:
        if isinstance(use.operation, SwitchOp):
            return "route"
        if isinstance(use.operation, UntilOp) and use.index == 0:
            return "verdict"
    return "answer"


def _labels_for(agent: StepOp) -> list[str]:
    for use in agent.output.uses:
        if isinstance(use.operation, SwitchOp):
            return use.operation.label_names
    return []


def same_output(reader: Reader, kind: str, labels: Sequence[str], reference: str, candidate: str) -> bool:
    """Whether a candidate's output agrees with the reference output, as `reader` reads both."""
    if kind == "route":
        return reader.route_label(candidate, labels) == reader.route_label(reference, labels)
    if kind == "verdict":
        return reader.is_approval(candidate) == reader.is_approval(reference)
    key = reader.answer_key(candidate)
    return bool(key) and key == reader.answer_key(reference)


LAT_BINS = 8
MAX_HITS_K = 9
"""Per-query hits are one digit per query: kept for up to 9 replicas."""
"""Atoms of `lat_q`: with 8 bin means, the expected maximum of three
independent calls keeps about 97 % of its excess over the mean."""


def _stats(
    calls: Sequence[tuple[bool, CallResult]],
    right: Sequence[tuple[bool, CallResult]] | None = None,
    wrong: Sequence[tuple[bool, CallResult]] = (),
    *,
    runs: Sequence[int] | None = None,
    replicas: int = 1,
    bins: int = 0,
) -> CandidateStats:
    """One candidate's statistics from its calls on recorded inputs (`runs[i]`:
    the query of `calls[i]`): latency, tokens and cost from `calls`, success
    from those on right inputs (`right`; default: `calls`) and recovery from
    those on wrong ones (`wrong`; none: not measured). With `replicas` K > 1,
    `lat_max` for k = 1..K from the calls grouped by query: the reference run
    recorded each replica's input, so a candidate inside a replicated fork ran
    K times on every query, and the maximum of those is what the fork waits
    for. With `bins`, `lat_q`."""
    right = calls if right is None else right
    rec_ok = [good for good, r in wrong if r.ok]
    # An agent with no upstream agent has no wrong input: nothing measured.
    rec = (sum(rec_ok), len(rec_ok)) if wrong else (None, None)
    successes = [good for good, r in right if r.ok]
    ok = [(good, r) for good, r in calls if r.ok]
    if not ok:
        return CandidateStats(sum(successes), len(successes), 0.0, 0.0, 0.0, 0.0, 0.0, *rec)
    lat = np.array([r.latency_s for _, r in ok])
    lat_max = None
    if replicas > 1:
        queries = runs if runs is not None else range(len(calls))
        by_query: dict[int, list[float]] = defaultdict(list)
        for run_index, (_, r) in zip(queries, calls, strict=True):
            if r.ok:
                by_query[run_index].append(r.latency_s)
        curve = expected_max_curve(list(by_query.values()), replicas)
        lat_max = (float(lat.mean()), *curve[1:])  # k = 1 is `lat` itself
    return CandidateStats(
        successes=sum(successes),
        n=len(successes),
        lat=float(lat.mean()),
        lat_p95=float(np.percentile(lat, 95)),
        tok_in=float(np.mean([r.tokens_in for _, r in ok])),
        tok_out=float(np.mean([r.tokens_out + r.reasoning_tokens for _, r in ok])),
        reasoning=float(np.mean([r.reasoning_tokens for _, r in ok])),
        cost=float(np.mean([r.cost for _, r in ok])),
        rec_successes=rec[0],
        rec_n=rec[1],
        lat_max=lat_max,
        lat_q=tuple(quantile_means(lat, bins)) if bins else None,
    )


@dataclass(frozen=True)
class Job:
    """One candidate call, scored against `target` (judged by the reference
    answers) or else against the reference output of its input."""

    agent: str
    config: str
    kind: str
    labels: tuple[str, ...]
    reference: str
    request: CallRequest
    run: int
    target: str | None = None
    right_input: bool = True
    mixed: bool = False
    reader: Reader = field(default=TEXT_READER, compare=False)
    """How the backend's replies read (the profile's reader)."""

    def correct(self, text: str) -> bool:
        """Whether an output of this call is right."""
        if self.target is None:
            return same_output(self.reader, self.kind, self.labels, self.reference, text)
        if self.kind == "verdict":
            return self.reader.is_approval(text) == (self.target == APPROVE)
        key = self.reader.answer_key(text)
        return bool(key) and key == self.target


async def profile_workflow(
    workflow: WorkflowOp,
    queries: Sequence[Query],
    backend: Backend,
    *,
    seed: int = 0,
    concurrency: int = 8,
    accept: Callable[[RunResult, Query], bool | Awaitable[bool]] = score,
    progress: Progress | None = None,
    recovery: bool = False,
    horizon: Callable[[str, str], int] | None = None,
    by_answers: bool = False,
    max_failures: float = 1.0,
    reader: Reader | None = None,
) -> Measurements:
    """Profile every agent of `workflow` under every candidate configuration.

    A call that fails after the backend's retries is no measurement: a stage
    stops (`failures.ProfilingStopped`) once more than `max_failures` of its
    calls failed, and a candidate more than that share of whose calls failed
    is excluded (`Measurements.failures`).

    With `recovery`, also measure each agent's recovery rate: its candidates
    run again on recorded inputs in which one upstream agent's output is
    replaced by a wrong output that agent's candidates produced.

    With `by_answers` (the queries' references are ground truth, as the exact
    judge takes them), answer and verdict agents are judged by the reference
    answers on every run, accepted or not, and each call measures success or
    recovery by the state of its own input; with `recovery`, each recorded
    input is also flipped, right to wrong or wrong to right (see
    `flowcompile.profiling.truth`).

    `horizon(agent, config)` limits a candidate to the first that many queries
    (every call it would make on a later query is left out); the default runs
    every candidate on every query. Adaptive profiling grows the horizon of the
    candidates that can still decide the frontier. Outputs are read by `reader`
    (None: the backend's, `run_reader`)."""
    run = _Profiling(
        workflow, queries, with_tools(backend), seed, concurrency,  # a tool's candidate calls are answered in process
        progress or (lambda stage, done, total: None), horizon or (lambda agent, config: len(queries)),
        max_failures, reader or run_reader(workflow, backend), recovery, by_answers,
        Measurements(queries=len(queries), by_answers=by_answers),
    )
    runs, good, accepted = await run.reference_runs(accept)
    kinds = run.kinds(runs, good, accepted)
    recorded = run.recorded_inputs(runs, good, accepted, kinds)
    scored = await run.candidate_calls(recorded)
    rec_results = await run.recovery_calls(runs, recorded, kinds, scored) if recovery else {}
    levels, level_results = await run.level_calls(runs, recorded, scored)
    run.tally(scored, rec_results, levels, level_results)
    return run.out


@dataclass
class _Profiling:
    """One `profile_workflow`: its settings, what it has measured (`out`),
    and one method per stage, each reading what the earlier ones returned."""

    workflow: WorkflowOp
    queries: Sequence[Query]
    backend: Backend
    seed: int
    concurrency: int
    report: Progress
    reach: Callable[[str, str], int]
    """The horizon: candidate (agent, config) runs on the first that many queries."""
    max_failures: float
    reader: Reader
    recovery: bool
    by_answers: bool
    out: Measurements

    @functools.cached_property
    def agents(self) -> list[StepOp]:
        """Each agent once: a shared agent's recorded calls span its sites."""
        return list(self.workflow.distinct_agents())

    @functools.cached_property
    def golds(self) -> list[str]:
        """Each query's reference answer key."""
        return [self.reader.answer_key(q.reference) for q in self.queries]

    def within(self, jobs: Sequence[Job]) -> list[Job]:
        """The jobs inside their candidate's horizon."""
        return [job for job in jobs if job.run < self.reach(job.agent, job.config)]

    async def _calls(self, jobs: Sequence[Job], stage: str, guard: str) -> list[tuple[bool, CallResult]]:
        ids = [q.id for q in self.queries]
        stage_guard = StageGuard(guard, len(jobs), self.max_failures)
        return await _call_all(self.backend, jobs, self.concurrency, stage, self.report, stage_guard, ids)

    async def reference_runs(
        self, accept: Callable[[RunResult, Query], bool | Awaitable[bool]]
    ) -> tuple[list[RunResult], list[int], list[int]]:
        """The reference configuration on every query: the runs, those that
        did not fail, and those of them the judge accepted."""
        queries, out = self.queries, self.out
        self.report("reference runs", 0, len(queries))
        guard = StageGuard("reference", len(queries), self.max_failures, unit="runs")
        runs = await run_many(
            self.workflow, reference_assignment(self.workflow), GuardedBackend(self.backend, guard), queries,
            concurrency=self.concurrency, seed=self.seed,
            on_done=lambda r: guard.observe(f"run {r.query_id}", r.error), reader=self.reader,
        )
        out.failures.runs = [f"run {r.query_id}: {r.error}" for r in runs if r.error]
        if queries and all(r.error for r in runs):  # nothing to profile on, whatever the threshold
            raise ProfilingStopped(f"profiling stopped: every reference run failed; the last: {runs[-1].error}")
        self.report("reference runs", len(queries), len(queries))
        out.reference_calls = sum(len(r.calls) for r in runs)
        out.failed_runs = sum(1 for r in runs if r.error)
        good = [i for i, r in enumerate(runs) if not r.error]
        accepted = []
        for i in good:
            verdict = accept(runs[i], queries[i])
            if inspect.isawaitable(verdict):
                verdict = await verdict
            if verdict:
                accepted.append(i)
        out.accepted = len(accepted)
        _structure_stats(self.workflow, [runs[i] for i in good], out)
        if self.by_answers:
            out.loop_rounds = revision_rounds(self.workflow, [(runs[i], self.golds[i]) for i in good])
        return runs, good, accepted

    def kinds(self, runs: Sequence[RunResult], good: Sequence[int], accepted: Sequence[int]) -> dict[str, str]:
        """Each agent's output kind; judged by the answers, answer agents
        that do not answer the query are plans (`truth.judged_kinds`)."""
        kinds = {a.agent_name: output_kind(a) for a in self.agents}
        if self.by_answers:
            kinds = judged_kinds(kinds, runs, accepted, self.golds)
            self.out.plans = [name for name, kind in kinds.items() if kind in ("plan", "route")]
        return kinds

    def judged(self, kinds: dict[str, str]) -> set[str]:
        """The agents judged by the reference answers."""
        return {name for name, kind in kinds.items() if self.by_answers and kind in ("answer", "verdict")}

    def recorded_inputs(
        self, runs: Sequence[RunResult], good: Sequence[int], accepted: Sequence[int], kinds: dict[str, str]
    ) -> dict[str, list[Recorded]]:
        """Per agent, the recorded inputs its candidates run on."""
        out, judged = self.out, self.judged(kinds)
        recorded: dict[str, list[Recorded]] = {}
        for agent in self.agents:
            name = agent.agent_name
            if name in judged:
                proposers = frozenset(a.agent_name for a, _ in proposal_agents(agent) or [])
                entries = judged_calls(name, kinds[name], runs, good, frozenset(accepted), self.golds, kinds, proposers)
                # a wrong input measures recovery; a judge is measured on both kinds
                recorded[name] = [e for e in entries if e.right_input or self.recovery or kinds[name] == "verdict"]
                if entries and not self.recovery and not any(e.right_input for e in entries):
                    # only wrong inputs, and no flips to make right ones: success
                    # is measured on what the agent had (stated in the summary)
                    recorded[name] = [replace(e, right_input=True) for e in entries]
                    out.fallback_agents.append(name)
            else:
                # a plan or a route is right when it is the reference's (truth.py), in every run
                by_reference = self.by_answers and kinds[name] in ("plan", "route")
                recorded[name] = _recorded(name, runs, good if by_reference else accepted)
            if not recorded[name]:
                recorded[name] = _recorded(name, runs, good)
                if recorded[name]:
                    out.fallback_agents.append(name)
        return recorded

    def _jobs(self, agent: StepOp, inputs: Sequence[Recorded]) -> list[Job]:
        return _jobs(self.workflow, agent, inputs, self.seed, self.reader)

    async def candidate_calls(self, recorded: dict[str, list[Recorded]]) -> dict[Job, tuple[bool, CallResult]]:
        """Every candidate on its agent's recorded inputs, agents interleaved."""
        jobs = self.within(interleaved([self._jobs(agent, recorded[agent.agent_name]) for agent in self.agents]))
        self.out.candidate_calls = len(jobs)
        scored = dict(zip(jobs, await self._calls(jobs, "candidates", "candidate"), strict=True))
        for agent in self.agents:
            if output_kind(agent) == "answer" and (pairs := _wrong_pairs(agent.agent_name, scored))[1]:
                self.out.wrong_agree[agent.agent_name] = pairs
        return scored

    async def recovery_calls(
        self,
        runs: Sequence[RunResult],
        recorded: dict[str, list[Recorded]],
        kinds: dict[str, str],
        scored: dict[Job, tuple[bool, CallResult]],
    ) -> dict[Job, tuple[bool, CallResult]]:
        """Every candidate on perturbed inputs: judged by the answers, each
        recorded input flipped, and an answer agent's right inputs also made
        mixed (`truth`); otherwise one upstream output made wrong."""
        swaps = _alternatives(scored, kinds, self.golds, self.reader)
        judged = self.judged(kinds)
        perturbed = {
            a.agent_name: (
                [
                    *_flips(recorded[a.agent_name], kinds[a.agent_name], self.golds, swaps),
                    *(_mixed(recorded[a.agent_name], runs, swaps) if kinds[a.agent_name] == "answer" else []),
                ]
                if a.agent_name in judged
                else _perturbed(a, recorded, scored)
            )
            for a in self.agents
        }
        jobs = self.within([job for a in self.agents for job in self._jobs(a, perturbed[a.agent_name])])
        self.out.recovery_calls = len(jobs)
        self.out.mixed_calls = sum(1 for job in jobs if job.mixed)
        return dict(zip(jobs, await self._calls(jobs, "recovery", "recovery"), strict=True))

    async def level_calls(
        self,
        runs: Sequence[RunResult],
        recorded: dict[str, list[Recorded]],
        scored: dict[Job, tuple[bool, CallResult]],
    ) -> tuple[dict[str, _Levels], list[tuple[bool, CallResult]]]:
        """Aggregators: every candidate at every level of right proposals (the
        candidate calls already measured each recorded input's own level)."""
        levels: dict[str, _Levels] = {}
        jobs: list[Job] = []
        for agent in self.agents:
            right_inputs = [e for e in recorded[agent.agent_name] if e.right_input]
            found = _aggregate_levels(self.workflow, agent, right_inputs, runs, scored, self.seed, self.reader)
            if found is not None:
                kept = [(job, lv) for job, lv in zip(found.jobs, found.level_of, strict=True) if self.within([job])]
                found.jobs, found.level_of = [j for j, _ in kept], [lv for _, lv in kept]
                levels[agent.agent_name] = found
                jobs += found.jobs
        self.out.aggregate_calls = len(jobs)
        results = await self._calls(jobs, "aggregate levels", "aggregate-level") if jobs else []
        for job, outcome in zip(jobs, results, strict=True):
            levels[job.agent].results.append((job, outcome))
        return levels, results

    def tally(
        self,
        scored: dict[Job, tuple[bool, CallResult]],
        rec_results: dict[Job, tuple[bool, CallResult]],
        levels: dict[str, _Levels],
        level_results: Sequence[tuple[bool, CallResult]],
    ) -> None:
        """Every candidate's statistics and the failures, into `out`."""
        out, queries = self.out, len(self.queries)
        level_jobs = [job for found in levels.values() for job in found.jobs]
        outcomes = [*scored.items(), *rec_results.items(), *zip(level_jobs, level_results)]
        out.failed_calls = sum(1 for _, (_, r) in outcomes if not r.ok)
        out.failures.count(((job.agent, job.config, r) for job, (_, r) in outcomes), self.max_failures)
        out.calls_of.update((job.agent, job.config) for job in [*scored, *level_jobs])
        out.queries_of = {
            (a.agent_name, c.key): min(queries, self.reach(a.agent_name, c.key))
            for a in self.agents for c in a.candidates()
        }
        candidate_calls = _by_candidate(scored)
        flip_calls = _by_candidate({j: v for j, v in rec_results.items() if not j.mixed})
        mixed_calls = _by_candidate({j: v for j, v in rec_results.items() if j.mixed})
        for agent in self.agents:
            name = agent.agent_name
            out.agents[name] = {}
            replicas, bins = replicas_of(agent), LAT_BINS if ends_parallel_branch(agent) else 0
            for config in agent.candidates():
                mine, flips = candidate_calls[name, config.key], flip_calls[name, config.key]
                stats = _stats(
                    [v for _, v in mine],
                    _success_calls(mine, flips),
                    [v for j, v in [*mine, *flips] if not j.right_input],
                    runs=[j.run for j, _ in mine], replicas=replicas, bins=bins,
                )
                if replicas <= MAX_HITS_K:
                    stats = replace(stats, hits=query_hits([*mine, *flips], queries, replicas), hits_k=replicas)
                if flips or any(not j.right_input for j, _ in mine):
                    stats = replace(stats, rec_hits=query_hits([*mine, *flips], queries, 1, right_input=False))
                if mixes := [good for _, (good, r) in mixed_calls[name, config.key] if r.ok]:
                    stats = replace(stats, mixed_successes=sum(mixes), mixed_n=len(mixes))
                if name in levels:
                    successes, counts = levels[name].tally(config.key, mine)
                    per_query = levels[name].per_query(config.key, mine, queries)
                    stats = replace(stats, level_successes=successes, level_n=counts, level_hits=per_query)
                out.agents[name][config.key] = stats


MIN_NATURAL_RIGHT = 16
"""Right inputs as the reference run gave them, below which success is also
measured on wrong inputs flipped right (`_success_calls`)."""


def _success_calls(
    mine: Sequence[tuple[Job, tuple[bool, CallResult]]], flips: Sequence[tuple[Job, tuple[bool, CallResult]]]
) -> list[tuple[bool, CallResult]]:
    """The calls that measure success: those on the right inputs the reference
    run gave. An input flipped right is a query the reference's upstream got
    wrong, a hard one; counted in, success on right inputs becomes the rate
    over every query, while a right input reaches the agent mostly on the
    queries its upstream solves, the easier ones (difficulty is shared), and
    the sequence rule weighs success by the upstream's accuracy as if it were
    independent of it. On the reference's inputs the rate is the one the
    reference configuration's queries have (the chain's checker: 0.857 over
    every query, 0.907 on the reference's right answers, 0.938 on 2000
    queries). With too few of those, the flipped ones count too."""
    natural = [v for j, v in mine if j.right_input]
    if len(natural) >= MIN_NATURAL_RIGHT:
        return natural
    return [v for j, v in [*mine, *flips] if j.right_input]


def query_hits(
    calls: Sequence[tuple[Job, tuple[bool, CallResult]]], queries: int, k: int, right_input: bool = True
) -> str | None:
    """Per query (run index), how many of its first `k` calls on a right
    input (with `right_input` False: on a wrong one) were right ('.' with
    fewer than k); None when no call counts. What composing agents query by
    query needs: which queries each one solves (or recovers)."""
    outcomes: dict[int, list[bool]] = defaultdict(list)
    for job, (good, result) in calls:
        if job.right_input == right_input and result.ok:
            outcomes[job.run].append(good)
    if not outcomes:
        return None
    return "".join(str(sum(got[:k])) if len(got := outcomes.get(q, [])) >= k else "." for q in range(queries))


def _by_candidate(
    results: dict[Job, tuple[bool, CallResult]],
) -> defaultdict[tuple[str, str], list[tuple[Job, tuple[bool, CallResult]]]]:
    """Calls and their outcomes grouped by (agent, config), in call order."""
    grouped: defaultdict[tuple[str, str], list[tuple[Job, tuple[bool, CallResult]]]] = defaultdict(list)
    for job, outcome in results.items():
        grouped[job.agent, job.config].append((job, outcome))
    return grouped


def _alternatives(
    scored: dict[Job, tuple[bool, CallResult]], kinds: dict[str, str], golds: Sequence[str], reader: Reader
) -> Alternatives:
    """`truth.Alternatives` from the candidate calls: the texts an upstream
    agent's candidates gave on the run's query, right or wrong as asked (an
    answer by the reference answer, a plan by the reference plan); a right
    answer may come from any answer agent when its own gave none."""
    texts: dict[tuple[int, str], list[tuple[str, bool]]] = defaultdict(list)
    right_answers: dict[int, list[str]] = defaultdict(list)
    for job, (good, result) in scored.items():
        if not (result.ok and result.text):
            continue
        texts[job.run, job.agent].append((result.text, good))
        if kinds.get(job.agent) == "answer" and reader.answer_key(result.text) == golds[job.run]:
            right_answers[job.run].append(result.text)

    def alternatives(run: int, upstream: Upstream, right: bool) -> list[str]:
        if upstream.kind != "answer":
            return [t for t, good in texts[run, upstream.agent] if good == right]
        own = [t for t, _ in texts[run, upstream.agent] if (reader.answer_key(t) == golds[run]) == right]
        return own if own or not right else right_answers[run]

    return alternatives


def _flips(entries: Sequence[Recorded], kind: str, golds: Sequence[str], swaps: Alternatives) -> list[Recorded]:
    """Every recorded input that can be flipped, flipped (`truth.flipped`)."""
    found = (flipped(e, kind, golds[e.run], swaps) for e in entries)
    return [e for e in found if e is not None]


def _mixed(entries: Sequence[Recorded], runs: Sequence[RunResult], swaps: Alternatives) -> list[Recorded]:
    """Every right input that can be made mixed, mixed (`truth.mixed`)."""
    found = (mixed(e, runs[e.run], swaps) for e in entries)
    return [e for e in found if e is not None]


def _recorded(name: str, runs: Sequence[RunResult], indices: Sequence[int]) -> list[Recorded]:
    return [
        Recorded(i, c.messages, c.result.text)
        for i in indices
        for c in runs[i].calls
        if c.agent == name
    ]


def interleaved(streams: Sequence[Sequence[Job]]) -> list[Job]:
    """The jobs of every agent, taken in turn: a serving endpoint that caches
    the last prompt's prefix (llama.cpp's slots, vLLM's prefix cache) sees
    another agent's prompt between two calls of one agent, as in a real run,
    rather than the same template back to back, which would make profiled
    latencies faster than deployed ones."""
    out: list[Job] = []
    for i in range(max((len(s) for s in streams), default=0)):
        out.extend(s[i] for s in streams if i < len(s))
    return out


def _jobs(workflow: WorkflowOp, agent: StepOp, inputs: Sequence[Recorded], seed: int, reader: Reader) -> list[Job]:
    kind, labels = output_kind(agent), tuple(_labels_for(agent))
    jobs = []
    for config in agent.candidates():
        seen: Counter[tuple[Message, ...]] = Counter()
        for entry in inputs:
            seen[entry.messages] += 1
            # The reference run used samples 0..REPLICA_STRIDE-1 (its replicas);
            # candidates start past them, so even the reference configuration
            # is sampled afresh, not scored against its own recorded outputs.
            sample = REPLICA_STRIDE * seen[entry.messages]
            request = agent_request(workflow, agent, config, entry.messages, sample=sample, seed=seed)
            jobs.append(
                Job(agent.agent_name, config.key, kind, labels, entry.output, request, entry.run,
                    entry.target, entry.right_input, entry.mixed, reader)
            )
    return jobs


async def _call_all(
    backend: Backend,
    jobs: Sequence[Job],
    concurrency: int,
    stage: str,
    report: Progress,
    guard: StageGuard | None = None,
    ids: Sequence[str] = (),
) -> list[tuple[bool, CallResult]]:
    done = 0

    async def one(job: Job) -> tuple[bool, CallResult]:
        nonlocal done
        if guard is not None:
            guard.check()
        result = await backend.call(job.request)
        done += 1
        if guard is not None:  # may stop the stage: the calls not finished are cancelled
            query = ids[job.run] if job.run < len(ids) else job.run
            guard.observe(f"@{job.agent} {job.config} on {query}", None if result.ok else result.failure_text())
        if done % max(1, len(jobs) // 20) == 0 or done == len(jobs):
            report(stage, done, len(jobs))
        return (result.ok and job.correct(result.text), result)

    report(stage, 0, len(jobs))
    return await bounded_gather([one(job) for job in jobs], concurrency)


def _perturbed(
    agent: StepOp,
    recorded: dict[str, list[Recorded]],
    scored: dict[Job, tuple[bool, CallResult]],
) -> list[Recorded]:
    """The agent's recorded inputs with one upstream output made wrong: the
    first wrong output (in candidate order) that an upstream agent's
    candidates gave on the same query. The reference output stays the target."""
    upstream = [v.owner.agent_name for v in agent.inputs if isinstance(v.owner, StepOp)]
    wrong: dict[tuple[str, int], list[tuple[str, str]]] = defaultdict(list)
    for job, (good, result) in scored.items():
        if job.agent in upstream and result.ok and not good:
            wrong[job.agent, job.run].append((job.reference, result.text))
    perturbed = []
    for entry in recorded[agent.agent_name]:
        user = entry.messages[-1]
        for name in upstream:
            swap = next(
                ((ref, bad) for ref, bad in wrong.get((name, entry.run), []) if ref and ref in user.content),
                None,
            )
            if swap is not None:
                content = user.content.replace(swap[0], swap[1], 1)
                messages = (*entry.messages[:-1], Message(user.role, content))
                perturbed.append(Recorded(entry.run, messages, entry.output, entry.target, right_input=False))
                break
    return perturbed


def _wrong_pairs(name: str, scored: dict[Job, tuple[bool, CallResult]]) -> tuple[int, int]:
    """(agreeing, compared) pairs of wrong answers that two different
    candidates of agent `name` gave on the same recorded input (pooled over
    inputs and candidate pairs): how alike the agent's mistakes are, which is
    what decides whether a right answer can win a plurality vote."""
    by_input: dict[tuple[int, tuple[Message, ...]], Counter[tuple[str, str]]] = defaultdict(Counter)
    for job, (good, result) in scored.items():
        if job.agent == name and result.ok and not good:
            by_input[job.run, job.request.messages][job.config, job.reader.answer_key(result.text)] += 1
    agree = total = 0
    for counts in by_input.values():
        answers: Counter[str] = Counter()
        configs: Counter[str] = Counter()
        for (config, answer), k in counts.items():
            answers[answer] += k
            configs[config] += k
        same_config = sum(k * (k - 1) // 2 for k in configs.values())
        wrong = sum(configs.values())
        total += wrong * (wrong - 1) // 2 - same_config
        # agreeing pairs across candidates: all agreeing pairs minus those within one candidate
        agree += sum(k * (k - 1) // 2 for k in answers.values()) - sum(k * (k - 1) // 2 for k in counts.values())
    return agree, total


@dataclass
class _Levels:
    """An aggregator's level measurements: which level each recorded input is
    at, the jobs for the other levels, and their results."""

    agent: str
    n: int
    """Proposals per input (at the largest sample count)."""
    recorded_level: dict[tuple[int, tuple[Message, ...]], int]
    jobs: list[Job]
    level_of: list[int]
    results: list[tuple[Job, tuple[bool, CallResult]]] = field(default_factory=list)

    def _outcomes(
        self, config: str, calls: Sequence[tuple[Job, tuple[bool, CallResult]]]
    ) -> list[tuple[int | None, Job, tuple[bool, CallResult]]]:
        """(level, job, outcome) of one candidate's calls: on the recorded
        inputs at their own level (None: not placed), then on rewritten ones."""
        found = [(self.recorded_level.get((job.run, job.request.messages)), job, outcome) for job, outcome in calls]
        by_job = {id(job): j for job, j in zip(self.jobs, self.level_of, strict=True)}
        found += [(by_job[id(job)], job, outcome) for job, outcome in self.results if job.config == config]
        return found

    def tally(
        self, config: str, calls: Sequence[tuple[Job, tuple[bool, CallResult]]]
    ) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(successes, calls) per level j = 0..n for one candidate: its calls on
        the recorded inputs (`calls`) at their own level plus those on
        rewritten inputs."""
        successes, counts = [0] * (self.n + 1), [0] * (self.n + 1)
        for level, _, (good, result) in self._outcomes(config, calls):
            if level is None or not result.ok:
                continue
            counts[level] += 1
            successes[level] += good
        return tuple(successes), tuple(counts)

    def per_query(self, config: str, calls: Sequence[tuple[Job, tuple[bool, CallResult]]], queries: int) -> str:
        """`level_hits` for one candidate: per level, per query, the first
        outcome measured there ('.' for none)."""
        grid = [["."] * queries for _ in range(self.n + 1)]
        for level, job, (good, result) in self._outcomes(config, calls):
            if level is not None and result.ok and job.run < queries and grid[level][job.run] == ".":
                grid[level][job.run] = "1" if good else "0"
        return "|".join("".join(row) for row in grid)


def _aggregate_levels(
    workflow: WorkflowOp,
    agent: StepOp,
    inputs: Sequence[Recorded],
    runs: Sequence[RunResult],
    scored: dict[Job, tuple[bool, CallResult]],
    seed: int,
    reader: Reader,
) -> _Levels | None:
    """Jobs that run an aggregator's candidates on its recorded inputs rewritten
    to every other level j = 0..n of right proposals; None for an agent that
    reads no fork (or whose proposals are not agents' outputs).

    A proposal is right when its answer is the call's target (judged by the
    reference answers) or else the aggregator's reference output's (the pseudo
    ground truth of the call). To move an input to level j, the
    right proposals kept are the recorded right ones first (rotating by run
    which ones, so every position is exercised), and each proposal that must
    change is replaced by an output of the same kind, right or wrong as needed,
    that one of the proposers' candidates gave on the same query (its own
    proposer's first, any proposer's otherwise; no text twice in one input)."""
    sources = proposal_agents(agent)
    if not sources:
        return None
    names = {a.agent_name for a, _ in sources}
    kind, labels = output_kind(agent), tuple(_labels_for(agent))
    outputs: dict[tuple[int, str], list[str]] = defaultdict(list)  # (run, proposer) -> texts, job order
    for job, (_, result) in scored.items():
        if job.agent in names and result.ok:
            outputs[job.run, job.agent].append(result.text)
    recorded_level: dict[tuple[int, tuple[Message, ...]], int] = {}
    rewritten: list[tuple[Recorded, int]] = []
    n = 0
    for entry in inputs:
        found = _positions(entry, sources, runs[entry.run])
        truth = entry.target or reader.answer_key(entry.output)
        if found is None or not truth:
            continue
        positions, content = found
        n = max(n, len(positions))
        right = [reader.answer_key(text) == truth for _, text, _ in positions]
        recorded_level[entry.run, entry.messages] = sum(right)
        pools = {
            name: ([t for t in outputs[entry.run, name] if reader.answer_key(t) == truth],
                   [t for t in outputs[entry.run, name] if reader.answer_key(t) != truth])
            for name in names
        }
        for level in range(len(positions) + 1):
            if level == sum(right):
                continue
            texts = _at_level(positions, right, level, pools, entry.run)
            if texts is None:
                continue
            user = entry.messages[-1]
            messages = (*entry.messages[:-1], Message(user.role, _splice(content, positions, texts)))
            rewritten.append((Recorded(entry.run, messages, entry.output, entry.target), level))
    jobs: list[Job] = []
    level_of: list[int] = []
    for config in agent.candidates():
        for entry, level in rewritten:
            # one rewritten input is called once per candidate: past the
            # reference's samples, like the candidate calls
            request = agent_request(workflow, agent, config, entry.messages, sample=REPLICA_STRIDE, seed=seed)
            jobs.append(Job(agent.agent_name, config.key, kind, labels, entry.output, request, entry.run, entry.target,
                            reader=reader))
            level_of.append(level)
    # An aggregator none of whose inputs could be placed still reports its levels (all empty).
    n = n or len(sources)
    return _Levels(agent.agent_name, n, recorded_level, jobs, level_of)


def _positions(
    entry: Recorded, sources: Sequence[tuple[StepOp, bool]], run: RunResult
) -> tuple[list[tuple[str, str, int]], str] | None:
    """The proposals in a recorded aggregator input: (proposer, text, offset in
    the user message), in the message's order, and that message; None when a
    proposal's text cannot be found there."""
    content = entry.messages[-1].content
    taken: list[tuple[int, int]] = []
    positions: list[tuple[str, str, int]] = []
    for source, replicated in sources:
        name = source.agent_name
        texts = [c.result.text for c in run.calls if c.agent == name and c.result.ok and c.result.text]
        placed = 0
        for text in texts:
            start = 0
            while (at := content.find(text, start)) >= 0:
                if all(at + len(text) <= a or at >= b for a, b in taken):
                    break
                start = at + 1
            if at < 0:
                continue
            taken.append((at, at + len(text)))
            positions.append((name, text, at))
            placed += 1
            if not replicated:
                break
        if placed == 0:
            return None
    positions.sort(key=lambda p: p[2])
    return positions, content


def _at_level(
    positions: Sequence[tuple[str, str, int]],
    right: Sequence[bool],
    level: int,
    pools: dict[str, tuple[list[str], list[str]]],
    run: int,
) -> list[str] | None:
    """Proposal texts with exactly `level` right ones, changing as few of the
    recorded ones as possible; None when the pools cannot supply them."""
    n = len(positions)
    # Recorded right proposals first; among equals a per-run rotation, so the
    # kept (or flipped) positions vary from query to query.
    order = sorted(range(n), key=lambda i: (not right[i], (i - run) % n))
    want_right = set(order[:level])
    texts = [text for _, text, _ in positions]
    used = set(texts)
    for i in range(n):
        if (i in want_right) == right[i]:
            continue
        kind = 0 if i in want_right else 1
        own = pools[positions[i][0]][kind]
        others = [t for name, pool in sorted(pools.items()) if name != positions[i][0] for t in pool[kind]]
        if kind == 0:  # a right text may also be another position's recorded one
            others += [t for j, t in enumerate(texts) if right[j]]
        choice = pick(own, used, run + i) or pick(others, used, run + i)
        if choice is None:
            choice = pick(own + others, set(), run + i)  # reuse a text rather than give up
        if choice is None:
            return None
        texts[i] = choice
        used.add(choice)
    return texts


def _splice(content: str, positions: Sequence[tuple[str, str, int]], texts: Sequence[str]) -> str:
    """`content` with each proposal (at its offset) replaced by the new text."""
    parts, cursor = [], 0
    for (_, old, at), new in zip(positions, texts, strict=True):
        parts += [content[cursor:at], new]
        cursor = at + len(old)
    return "".join(parts) + content[cursor:]


def _structure_stats(workflow: WorkflowOp, runs: Sequence[RunResult], out: Measurements) -> None:
    """Branch probabilities and loop statistics observed in the reference runs."""
    switches = [op for op in workflow.walk() if isinstance(op, SwitchOp)]
    for index, switch in enumerate(switches):
        key = switch.region_name or index
        taken = Counter(r.routes[key] for r in runs if key in r.routes)
        total = sum(taken.values())
        labels = switch.label_names
        probs = [taken[l] / total for l in labels] if total else [1.0 / len(labels)] * len(labels)
        out.switch_probs[str(key)] = probs
    loops = [op for op in workflow.walk() if isinstance(op, LoopOp)]
    for index, loop in enumerate(loops):
        key = loop.region_name or index
        seen = [r.loops[key] for r in runs if key in r.loops]
        if seen:
            out.loop_stats[str(key)] = (
                float(np.mean([n for n, _ in seen])),
                float(np.mean([approved for _, approved in seen])),
            )


def revision_rounds(
    workflow: WorkflowOp, runs: Sequence[tuple[RunResult, str]]
) -> dict[str, tuple[list[int], list[int]]]:
    """Per loop whose first draft and revision are agents' outputs, per round
    k: how many wrong drafts the reference runs revised in round k and how
    many of those revisions gave the reference answer (`runs`: each run with
    its query's answer key). What `round_decay` composes."""
    found: dict[str, tuple[list[int], list[int]]] = {}
    loops = [op for op in workflow.walk() if isinstance(op, LoopOp)]
    for index, loop in enumerate(loops):
        until = loop.body.block.last_op
        drafter, reviser = (_agent_of(v) for v in (loop.init[0], until.operands[1] if until else None))
        if drafter is None or reviser is None or len(loop.init) != 1:
            continue
        revised = [0] * max(loop.max_iter_values)
        fixed = [0] * len(revised)
        for run, gold in runs:
            draft_right: bool | None = None
            for call in run.calls:
                if call.replica:
                    continue
                right = run.reader.answer_key(call.result.text) == gold
                if call.agent == drafter and call.iteration == 0:
                    draft_right = right
                elif call.agent == reviser and 1 <= call.iteration <= len(revised) and draft_right is not None:
                    if not draft_right:
                        revised[call.iteration - 1] += 1
                        fixed[call.iteration - 1] += right
                    draft_right = right
        while revised and not revised[-1]:
            revised.pop()
            fixed.pop()
        if revised:
            found[str(loop.region_name or index)] = (revised, fixed)
    return found


def _agent_of(value: SSAValue | None) -> str | None:
    owner = value.owner if value is not None else None
    return owner.agent_name if isinstance(owner, StepOp) else None


def run(coro):
    """Run a coroutine from synchronous pass code."""
    start = time.perf_counter()
    result = asyncio.run(coro)
    return result, time.perf_counter() - start
