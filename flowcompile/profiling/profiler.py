"""Profiling a workflow, the way the FlowCompile paper does.

1. Run the reference configuration (every agent at its strongest candidate)
   end to end on the profiling queries, recording every agent's inputs
   (its rendered messages) and output.
2. Keep the runs whose final answer the judge accepts: their agent outputs are
   pseudo ground truth.
3. Call every candidate configuration of every agent on those recorded inputs
   and score its output against the reference output of the same call.

The number of calls is the reference runs' calls plus, per agent, candidates x
recorded inputs. Every call goes through the caller's backend stack (cache,
retries); this module only orchestrates and aggregates. It reads the IR to know
the agents and their candidates but writes nothing to it.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from flowcompile.backends.base import Backend, CallRequest, CallResult, Message
from flowcompile.backends.middleware import bounded_gather
from flowcompile.dialects.flow import AgentOp, ConfigAttr, LoopOp, SwitchOp, UntilOp, WorkflowOp
from flowcompile.profiling.dataset import Query
from flowcompile.runtime import (
    REPLICA_STRIDE,
    RunResult,
    answer_key,
    is_approval,
    reference_assignment,
    route_label,
    run_many,
    score,
)

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

    @property
    def acc(self) -> float:
        return self.successes / self.n if self.n else 0.0

    @property
    def rec(self) -> float | None:
        if self.rec_n is None:
            return None
        return self.rec_successes / self.rec_n if self.rec_n else 0.0  # pyright: ignore


@dataclass
class Measurements:
    """Everything profiling learned about one workflow."""

    agents: dict[str, dict[str, CandidateStats]] = field(default_factory=dict)
    switch_probs: dict[str, list[float]] = field(default_factory=dict)
    loop_stats: dict[str, tuple[float, float]] = field(default_factory=dict)
    """loop name -> (mean iterations, pass rate)"""
    queries: int = 0
    accepted: int = 0
    reference_calls: int = 0
    candidate_calls: int = 0
    recovery_calls: int = 0
    failed_calls: int = 0
    failed_runs: int = 0
    fallback_agents: list[str] = field(default_factory=list)
    """Agents profiled on unaccepted runs, having no accepted input."""


def output_kind(agent: AgentOp) -> str:
    """How the agent's output is judged: a route, a verdict, or an answer."""
    for use in agent.output[0].uses:
        if isinstance(use.operation, SwitchOp):
            return "route"
        if isinstance(use.operation, UntilOp) and use.index == 0:
            return "verdict"
    return "answer"


def _labels_for(agent: AgentOp) -> list[str]:
    for use in agent.output[0].uses:
        if isinstance(use.operation, SwitchOp):
            return use.operation.label_names
    return []


def same_output(kind: str, labels: Sequence[str], reference: str, candidate: str) -> bool:
    """Whether a candidate's output agrees with the reference output."""
    if kind == "route":
        return route_label(candidate, labels) == route_label(reference, labels)
    if kind == "verdict":
        return is_approval(candidate) == is_approval(reference)
    key = answer_key(candidate)
    return bool(key) and key == answer_key(reference)


def request_for(workflow: WorkflowOp, config: ConfigAttr, messages: tuple[Message, ...], sample: int, seed: int) -> CallRequest:
    """The backend request for one agent call under `config`."""
    model = workflow.model_pool().get(config.model)
    return CallRequest(
        model=config.model,
        provider_model=(model.get("provider") if model else None) or config.model,  # pyright: ignore
        api_base=model.get("api_base") if model else None,  # pyright: ignore
        budget=config.budget,
        messages=messages,
        sample=sample,
        seed=seed,
        price_in=model.get("price_in") if model else None,  # pyright: ignore
        price_out=model.get("price_out") if model else None,  # pyright: ignore
    )


def _stats(
    results: Sequence[tuple[bool, CallResult]],
    recovery: Sequence[tuple[bool, CallResult]] | None = None,
) -> CandidateStats:
    rec_ok = [good for good, r in recovery or () if r.ok]
    # An agent with no upstream agent has no perturbed input: nothing measured.
    rec = (sum(rec_ok), len(rec_ok)) if recovery else (None, None)
    ok = [(good, r) for good, r in results if r.ok]
    if not ok:
        return CandidateStats(0, 0, 0.0, 0.0, 0.0, 0.0, 0.0, *rec)
    lat = np.array([r.latency_s for _, r in ok])
    return CandidateStats(
        successes=sum(good for good, _ in ok),
        n=len(ok),
        lat=float(lat.mean()),
        lat_p95=float(np.percentile(lat, 95)),
        tok_in=float(np.mean([r.tokens_in for _, r in ok])),
        tok_out=float(np.mean([r.tokens_out + r.reasoning_tokens for _, r in ok])),
        cost=float(np.mean([r.cost for _, r in ok])),
        rec_successes=rec[0],
        rec_n=rec[1],
    )


@dataclass(frozen=True)
class Recorded:
    """One call of the reference run: the agent's input and its output."""

    run: int
    messages: tuple[Message, ...]
    output: str


@dataclass(frozen=True)
class Job:
    """One candidate call, scored against the reference output of its input."""

    agent: str
    config: str
    kind: str
    labels: tuple[str, ...]
    reference: str
    request: CallRequest
    run: int


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
) -> Measurements:
    """Profile every agent of `workflow` under every candidate configuration.

    With `recovery`, also measure each agent's recovery rate: its candidates
    run again on recorded inputs in which one upstream agent's output is
    replaced by a wrong output that agent's candidates produced."""
    report = progress or (lambda stage, done, total: None)
    out = Measurements(queries=len(queries))
    report("reference runs", 0, len(queries))
    runs = await run_many(
        workflow, reference_assignment(workflow), backend, queries, concurrency=concurrency, seed=seed
    )
    report("reference runs", len(queries), len(queries))
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
    _structure_stats(workflow, [runs[i] for i in good], out)

    agents = list(workflow.agents)
    recorded = {a.agent_name: _recorded(a.agent_name, runs, accepted) for a in agents}
    for agent in agents:
        if not recorded[agent.agent_name]:
            recorded[agent.agent_name] = _recorded(agent.agent_name, runs, good)
            if recorded[agent.agent_name]:
                out.fallback_agents.append(agent.agent_name)

    jobs = [job for agent in agents for job in _jobs(workflow, agent, recorded[agent.agent_name], seed)]
    out.candidate_calls = len(jobs)
    results = await _call_all(backend, jobs, concurrency, "candidates", report)
    scored = dict(zip(jobs, results, strict=True))

    rec_results: dict[Job, tuple[bool, CallResult]] = {}
    if recovery:
        perturbed = {
            a.agent_name: _perturbed(a, recorded, scored) for a in agents
        }
        rec_jobs = [job for a in agents for job in _jobs(workflow, a, perturbed[a.agent_name], seed)]
        out.recovery_calls = len(rec_jobs)
        rec_results = dict(zip(rec_jobs, await _call_all(backend, rec_jobs, concurrency, "recovery", report), strict=True))

    out.failed_calls = sum(1 for _, r in [*results, *rec_results.values()] if not r.ok)
    for agent in agents:
        name = agent.agent_name
        out.agents[name] = {}
        for config in agent.candidates():
            mine = [v for j, v in scored.items() if j.agent == name and j.config == config.key]
            rec = [v for j, v in rec_results.items() if j.agent == name and j.config == config.key]
            out.agents[name][config.key] = _stats(mine, rec if recovery else None)
    return out


def _recorded(name: str, runs: Sequence[RunResult], indices: Sequence[int]) -> list[Recorded]:
    return [
        Recorded(i, c.messages, c.result.text)
        for i in indices
        for c in runs[i].calls
        if c.agent == name
    ]


def _jobs(workflow: WorkflowOp, agent: AgentOp, inputs: Sequence[Recorded], seed: int) -> list[Job]:
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
            request = request_for(workflow, config, entry.messages, sample, seed)
            jobs.append(Job(agent.agent_name, config.key, kind, labels, entry.output, request, entry.run))
    return jobs


async def _call_all(
    backend: Backend, jobs: Sequence[Job], concurrency: int, stage: str, report: Progress
) -> list[tuple[bool, CallResult]]:
    done = 0

    async def one(job: Job) -> tuple[bool, CallResult]:
        nonlocal done
        result = await backend.call(job.request)
        done += 1
        if done % max(1, len(jobs) // 20) == 0 or done == len(jobs):
            report(stage, done, len(jobs))
        return (result.ok and same_output(job.kind, job.labels, job.reference, result.text), result)

    report(stage, 0, len(jobs))
    return await bounded_gather([one(job) for job in jobs], concurrency)


def _perturbed(
    agent: AgentOp,
    recorded: dict[str, list[Recorded]],
    scored: dict[Job, tuple[bool, CallResult]],
) -> list[Recorded]:
    """The agent's recorded inputs with one upstream output made wrong: the
    first wrong output (in candidate order) that an upstream agent's
    candidates gave on the same query. The reference output stays the target."""
    upstream = [v.owner.agent_name for v in agent.inputs if isinstance(v.owner, AgentOp)]
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
                perturbed.append(Recorded(entry.run, messages, entry.output))
                break
    return perturbed


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


def estimate_calls(workflow: WorkflowOp, queries: int) -> tuple[int, int]:
    """Upper bounds (reference calls, candidate calls) before anything runs:
    every agent invoked at its largest replica count and loop bound, every
    query accepted."""
    reference = candidates = 0
    for agent in workflow.agents:
        invocations = 1
        parent = agent.parent_op()
        while parent is not None and not isinstance(parent, WorkflowOp):
            if isinstance(parent, LoopOp):
                invocations *= max(parent.max_iter_values)
            knob = getattr(parent, "samples", None)
            if knob is not None:
                invocations *= max(knob.iter_values())
            parent = parent.parent_op()
        reference += queries * invocations
        candidates += queries * invocations * len(agent.candidates())
    return reference, candidates


def run(coro):
    """Run a coroutine from synchronous pass code."""
    start = time.perf_counter()
    result = asyncio.run(coro)
    return result, time.perf_counter() - start
