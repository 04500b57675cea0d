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

    @property
    def acc(self) -> float:
        return self.successes / self.n if self.n else 0.0


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


def _stats(results: Sequence[tuple[bool, CallResult]]) -> CandidateStats:
    ok = [(good, r) for good, r in results if r.ok]
    if not ok:
        return CandidateStats(0, 0, 0.0, 0.0, 0.0, 0.0, 0.0)
    lat = np.array([r.latency_s for _, r in ok])
    return CandidateStats(
        successes=sum(good for good, _ in ok),
        n=len(ok),
        lat=float(lat.mean()),
        lat_p95=float(np.percentile(lat, 95)),
        tok_in=float(np.mean([r.tokens_in for _, r in ok])),
        tok_out=float(np.mean([r.tokens_out + r.reasoning_tokens for _, r in ok])),
        cost=float(np.mean([r.cost for _, r in ok])),
    )


async def profile_workflow(
    workflow: WorkflowOp,
    queries: Sequence[Query],
    backend: Backend,
    *,
    seed: int = 0,
    concurrency: int = 8,
    accept: Callable[[RunResult, Query], bool | Awaitable[bool]] = score,
    progress: Progress | None = None,
) -> Measurements:
    """Profile every agent of `workflow` under every candidate configuration."""
    report = progress or (lambda stage, done, total: None)
    out = Measurements(queries=len(queries))
    reference = reference_assignment(workflow)
    report("reference runs", 0, len(queries))
    runs = await run_many(workflow, reference, backend, queries, concurrency=concurrency, seed=seed)
    report("reference runs", len(queries), len(queries))
    out.reference_calls = sum(len(r.calls) for r in runs)
    out.failed_runs = sum(1 for r in runs if r.error)
    good = [r for r in runs if not r.error]
    accepted = []
    for r, q in zip(runs, queries, strict=True):
        if r.error:
            continue
        verdict = accept(r, q)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        if verdict:
            accepted.append(r)
    out.accepted = len(accepted)
    _structure_stats(workflow, good, out)

    agents = list(workflow.agents)
    recorded: dict[str, list[tuple[tuple[Message, ...], str]]] = {}
    for agent in agents:
        name = agent.agent_name
        calls = [(c.messages, c.result.text) for r in accepted for c in r.calls if c.agent == name]
        if not calls:
            calls = [(c.messages, c.result.text) for r in good for c in r.calls if c.agent == name]
            if calls:
                out.fallback_agents.append(name)
        recorded[name] = calls

    jobs = []
    for agent in agents:
        kind, labels = output_kind(agent), _labels_for(agent)
        for config in agent.candidates():
            seen: Counter[tuple[Message, ...]] = Counter()
            for messages, ref_text in recorded[agent.agent_name]:
                seen[messages] += 1
                # sample >= 1: the reference configuration is sampled afresh,
                # not scored against its own recorded outputs.
                request = request_for(workflow, config, messages, seen[messages], seed)
                jobs.append((agent.agent_name, config.key, kind, labels, ref_text, request))
    out.candidate_calls = len(jobs)
    done = 0

    async def one(job) -> tuple[bool, CallResult]:
        nonlocal done
        *_, kind, labels, ref_text, request = job
        result = await backend.call(request)
        done += 1
        if done % max(1, len(jobs) // 20) == 0 or done == len(jobs):
            report("candidates", done, len(jobs))
        return (result.ok and same_output(kind, labels, ref_text, result.text), result)

    report("candidates", 0, len(jobs))
    results = await bounded_gather([one(job) for job in jobs], concurrency)
    out.failed_calls = sum(1 for _, r in results if not r.ok)
    grouped: dict[str, dict[str, list[tuple[bool, CallResult]]]] = defaultdict(lambda: defaultdict(list))
    for job, result in zip(jobs, results, strict=True):
        grouped[job[0]][job[1]].append(result)
    for agent in agents:
        out.agents[agent.agent_name] = {
            c.key: _stats(grouped[agent.agent_name][c.key]) for c in agent.candidates()
        }
    return out


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
