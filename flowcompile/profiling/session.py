"""One profiling session: the backend stack, the dataset, progress and summary.

The `profile` pass holds the options; this module builds what they name
(backend, cache, retries, dataset, judge), runs the profiler, and reports on
stderr: a progress bar on a terminal, a few log lines otherwise, and always a
summary line.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flowcompile.backends import generated_queries, open_backend
from flowcompile import installed_version
from flowcompile.backends.base import Backend, CallRequest, Message, backend_provenance
from flowcompile.backends.middleware import CachedBackend, RetryingBackend
from flowcompile.backends.store import ProfileStore
from flowcompile.dialects.flow import AgentOp, ToolOp, WorkflowOp
from flowcompile.profiling.dataset import Query, as_query, load_dataset, queries_digest
from flowcompile.profiling.adaptive import Candidate, profile_adaptively, spending
from flowcompile.profiling.failures import ProfilingStopped
from flowcompile.profiling.profiler import Measurements, profile_workflow, run
from flowcompile.profiling.shape import aggregate_calls_bound, estimate_calls, recovery_calls_bound
from flowcompile.runtime import RunResult, score
from flowcompile.diagnostics import FlowError
from flowcompile.steps import param_problems

GENERATED_QUERIES = 32


class ProfileSession:
    def __init__(self, options: Any, cache: Path | None):
        self.options = options
        self.base = self._backend()
        self.retrying = RetryingBackend(self.base, max_attempts=options.retries)
        self.store: ProfileStore | None = None
        self.backend: Backend = self.retrying
        if cache is not None:
            self.store = ProfileStore(cache)
            self.backend = CachedBackend(self.retrying, self.store)
        self._queries: list[Query] | None = None

    def close(self) -> None:
        if self.store is not None:
            self.store.close()

    def check_models(self, workflow: WorkflowOp) -> None:
        """FlowError at the first agent that chooses a model the sim backend does
        not simulate, before any call (the sim would fail on it mid-profiling),
        and at the first tool step no one registers or whose params it refuses."""
        for op in workflow.walk():
            if isinstance(op, ToolOp) and (problems := param_problems(op.tool_name, op.param_values())):
                raise FlowError(op, f"tool @{op.agent_name}: {problems[0]}")
        world = getattr(self.base, "world", None)  # the sim's (a backend knows its models)
        if world is None or not hasattr(world, "model_names"):
            return
        names = world.model_names()
        known = {name.lower() for name in names}
        for op in workflow.walk():
            if isinstance(op, AgentOp):
                for model in op.models:
                    if model.data.lower() not in known:
                        raise FlowError(op, (
                            f"agent @{op.agent_name} chooses model '{model.data}', which the sim backend does "
                            f"not simulate (its models: {', '.join(names)}); rename it in the pool and the "
                            "agents' models, or profile with another backend"
                        ))

    def _backend(self) -> Backend:
        o = self.options
        return open_backend(o.backend, world=o.world, trace=o.trace, timeout=o.timeout)

    def queries(self) -> list[Query]:
        if self._queries is not None:
            return self._queries
        o = self.options
        # Adaptive profiling draws from a pool of max_samples queries.
        size = max(o.samples, getattr(o, "max_samples", 0))
        if o.dataset:
            queries = load_dataset(o.dataset)
            if size:
                queries = queries[:size]
        elif (rows := generated_queries(o.backend, size or GENERATED_QUERIES, o.seed, world=o.world)) is not None:
            queries = [as_query(row) for row in rows]
        else:
            raise ValueError(f"backend={o.backend} needs dataset=PATH (JSONL: id, input, reference)")
        self._queries = queries
        return queries

    # Profiling -------------------------------------------------------------

    def profile(
        self,
        workflow: WorkflowOp,
        count: int | None = None,
        horizon: Callable[[str, str], int] | None = None,
    ) -> Measurements:
        """Profile on the first `count` queries (default: all), each candidate
        limited to its `horizon` (see `profile_workflow`)."""
        name = workflow.sym_name.data
        queries = self.queries()[:count] if count is not None else self.queries()
        counts_before = self._counters()
        with Progress(f"profile @{name}") as progress:
            measured, elapsed = run(
                profile_workflow(
                    workflow,
                    queries,
                    self.backend,
                    seed=self.options.seed,
                    concurrency=self.options.concurrency,
                    accept=self._judge(workflow),
                    progress=progress.update,
                    recovery=self.options.recovery,
                    horizon=horizon,
                    by_answers=self._by_answers(),
                    max_failures=float(getattr(self.options, "max_failures", 1.0)),
                )
            )
        counts = {k: v - counts_before.get(k, 0) for k, v in self._counters().items()}
        log(summary(name, measured, counts, elapsed))
        for line in measured.failures.lines(name):
            log(line)
        if measured.accepted == 0:
            log(
                f"profile @{name}: warning: the judge accepted no reference run; "
                "profiles compare candidates with unaccepted reference outputs"
            )
        return measured

    def profile_adaptively(
        self, workflow: WorkflowOp, in_play: Callable[[Measurements], Mapping[Candidate, float]], first: int, budget: int
    ) -> Measurements:
        """Profile in rounds over the session's queries (the pool), giving more
        queries only to the candidates `in_play` names (see
        `flowcompile.profiling.adaptive`); logs what it spent and where."""
        measured, rounds = profile_adaptively(
            lambda count, horizon: self.profile(workflow, count, horizon),
            in_play,
            first=first,
            pool=len(self.queries()),
            budget=budget,
            shrink=self.options.shrink,
        )
        log(f"profile @{workflow.sym_name.data} (adaptive): {spending(rounds, measured)}")
        return measured

    def backend_record(self) -> dict[str, object]:
        """Which backend answers, as it describes itself (a simulation says so,
        naming its world and the digest of its parameters), and which
        FlowCompile measured."""
        record: dict[str, object] = {"backend": self.options.backend}
        record.update(backend_provenance(self.base))
        record["flowcompile"] = installed_version()
        return record

    def provenance(self, measured: Measurements) -> dict[str, object]:
        """What measured these profiles, for the IR: the backend (a simulation
        says so, naming its world), the query ids, the calls profiling takes and
        how many ran at once."""
        record = self.backend_record()
        used = self.queries()[: measured.queries]
        record["queries"] = [q.id for q in used]
        record["queries_digest"] = queries_digest(used)
        record["calls"] = measured.total_calls
        record["judged"] = "reference answers" if measured.by_answers else "reference outputs"
        # latencies measured with calls queued behind each other are not a
        # lone call's: say at how many at once (what `retarget` may correct)
        record["concurrency"] = self.options.concurrency
        return record

    def _counters(self) -> dict[str, int]:
        cache = getattr(self.backend, "counters", {}) if self.store else {}
        return {
            "made": self.retrying.counters["calls"],
            "retries": self.retrying.counters["retries"],
            "failures": self.retrying.counters["failures"],
            "hits": cache.get("cache_hits", 0),
        }

    def _judge(self, workflow: WorkflowOp):
        judge = self.options.judge
        if judge == "exact":
            return score
        if judge.startswith("llm:"):
            model, pool = judge.removeprefix("llm:"), workflow.model_pool()
            if pool and model not in pool:
                raise ValueError(
                    f"judge=llm:{model}: '{model}' is not a model of the pool ({', '.join(sorted(pool))})"
                )
            return LLMJudge(workflow, model, self.backend)
        raise ValueError(f"unknown judge {judge!r}: use exact or llm:MODEL")

    def _by_answers(self) -> bool:
        """Whether answers and verdicts are judged by the reference answers."""
        return self.options.judge == "exact" and getattr(self.options, "by_answers", True)

    def dry_run(self, workflow: WorkflowOp) -> None:
        name = workflow.sym_name.data
        queries = self.queries()
        reference, candidates = estimate_calls(workflow, len(queries))
        aggregate = {a.agent_name: aggregate_calls_bound(a, len(queries)) for a in workflow.agents}
        recovery = (
            sum(recovery_calls_bound(a, len(queries), self._by_answers()) for a in workflow.agents)
            if self.options.recovery
            else 0
        )
        prompt_tokens = sum(len(q.input) for q in queries) / max(1, len(queries)) / 4 + 200
        tokens_in = tokens_out = dollars = 0.0
        unpriced: set[str] = set()
        pool = workflow.model_pool()
        for agent in workflow.agents:
            share = (candidates + recovery) / max(1, sum(len(a.candidates()) for a in workflow.agents))
            for config in agent.candidates():
                calls = share + aggregate[agent.agent_name] / len(agent.candidates())
                out = config.budget + 400
                tokens_in += calls * prompt_tokens
                tokens_out += calls * out
                model = pool.get(config.model)
                price_in = model.get("price_in") if model else None
                price_out = model.get("price_out") if model else None
                if price_in is None or price_out is None:
                    unpriced.add(config.model)
                    continue
                dollars += calls * (prompt_tokens * price_in + out * price_out)  # pyright: ignore
        note = f"; no price for {', '.join(sorted(unpriced))}" if unpriced else ""
        levels = sum(aggregate.values())
        adaptive = getattr(self.options, "max_samples", 0) > (self.options.samples or GENERATED_QUERIES)
        budget = getattr(self.options, "budget", 0)
        log(
            f"profile @{name} (dry run): at most {reference + candidates + recovery + levels} calls "
            f"({reference} reference + {candidates} candidate"
            + (f" + {recovery} recovery" if recovery else "")
            + (f" + {levels} aggregate-level" if levels else "")
            + f") on {len(queries)} queries"
            + (" (adaptive: the candidates out of play make fewer"
               + (f"; the budget caps it at {budget} after the first round" if budget else "") + ")"
               if adaptive else "")
            + ", "
            f"~{tokens_in:,.0f} input and ~{tokens_out:,.0f} output tokens, "
            f"~${dollars:,.2f}{note}; no call was made"
        )


def summary(name: str, m: Measurements, counts: dict[str, int], elapsed: float) -> str:
    agents = len(m.agents)
    text = (
        f"profile @{name}: {m.total_calls} calls "
        f"({m.reference_calls} reference on {m.queries} queries, {m.accepted} accepted; "
        f"{m.candidate_calls} candidate calls for {agents} agents"
        + (f"; {m.recovery_calls} recovery calls" if m.recovery_calls else "")
        + (f", {m.mixed_calls} of them on mixed inputs" if m.mixed_calls else "")
        + (f"; {m.aggregate_calls} aggregate-level calls" if m.aggregate_calls else "")
        + ("; answers and verdicts judged by the reference answers" if m.by_answers else "")
        + "); "
        f"{counts['made']} made, {counts['hits']} cache hits, {counts['retries']} retries, "
        f"{counts['failures']} failures, {elapsed:.1f} s"
    )
    if m.fallback_agents:
        text += f"; no input known right for {', '.join(m.fallback_agents)}: profiled on the inputs it had"
    return text


class LLMJudge:
    """Accepts a reference run when a model of the pool grades its answer right."""

    def __init__(self, workflow: WorkflowOp, model: str, backend: Backend):
        pool = workflow.model_pool()
        entry = pool.get(model)
        self.request = dict(
            model=model,
            provider_model=(entry.get("provider") if entry else None) or model,
            api_base=entry.get("api_base") if entry else None,
            api_key_env=entry.get("api_key_env") if entry else None,
        )
        self.backend = backend

    async def __call__(self, result: RunResult, query: Query) -> bool:
        if result.reader.answer_key(result.output or "") == result.reader.answer_key(query.reference):
            return True
        prompt = (
            f"Question:\n{query.input}\n\nReference answer:\n{query.reference}\n\n"
            f"Candidate answer:\n{result.output}\n\n"
            "Is the candidate answer correct? Reply with YES or NO only."
        )
        request = CallRequest(
            messages=(Message("system", "You are a strict grader."), Message("user", prompt)),
            budget=0,
            **self.request,  # pyright: ignore[reportArgumentType]
        )
        reply = await self.backend.call(request)
        if not reply.ok:  # a failed grading is no verdict: never read it as "NO"
            raise ProfilingStopped(f"profiling stopped: the judge's call failed: {reply.failure_text()}")
        return reply.text.strip().upper().startswith("YES")


class Progress:
    """A rich progress bar on a terminal; a log line per stage otherwise."""

    def __init__(self, title: str):
        self.title = title
        self.tty = sys.stderr.isatty()
        self.bar: Any = None
        self.tasks: dict[str, Any] = {}
        self.logged: set[tuple[str, int]] = set()
        """(stage, quarter) pairs already logged: one line per quarter of a stage."""

    def __enter__(self) -> Progress:
        if self.tty:
            from rich.progress import Progress as RichProgress

            self.bar = RichProgress(transient=True)
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def update(self, stage: str, done: int, total: int) -> None:
        if self.bar is not None:
            if stage not in self.tasks:
                self.tasks[stage] = self.bar.add_task(f"{self.title}: {stage}", total=total)
            self.bar.update(self.tasks[stage], completed=done, total=total)
            return
        quarter = 4 * done // max(1, total)
        if (stage, quarter) not in self.logged:
            self.logged.add((stage, quarter))
            log(f"{self.title}: {stage} {done}/{total}")


def log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()

