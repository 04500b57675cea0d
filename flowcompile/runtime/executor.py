"""The workflow executor: runs a `flow.workflow` under one configuration on queries.

`run_workflow` runs one query, `run_many` a dataset with bounded concurrency,
`score` compares an output with the reference. Outputs are read by the
backend's reader for the workflow's endpoints (`run_reader`) unless the
caller gives one; a `RunResult` keeps the reader that read it. How each op
executes (forks, votes, switches, loops, skipped agents), how latency is
measured (the critical path in the backend's reported call latencies,
wall-clock kept apart) and how sample indices are numbered is described in
`flowcompile.runtime.interpreter`.
"""

from __future__ import annotations

import time
from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from flowcompile.backends.base import Backend
from flowcompile.backends.middleware import bounded_gather
from flowcompile.backends.reader import TEXT_READER, Reader, reader_of
from flowcompile.dialects.flow import ForkOp, PointAttr, WorkflowOp
from flowcompile.profiling.dataset import Query, as_query
from flowcompile.runtime.assignment import Assignment, knob_value, validate_assignment
from flowcompile.runtime.interpreter import (
    REPLICA_STRIDE,
    AgentCall,
    CallFailed,
    Env,
    Interpreter,
    Scope,
    StructKey,
    Value,
)

QueryLike: TypeAlias = Query | Mapping[str, Any]


@dataclass
class RunResult:
    """The outcome of one run of a workflow on one query."""

    query_id: str
    output: str | None
    latency: float
    """Critical path of the run in reported call latencies (s); see `interpreter`."""
    cost: float
    calls: list[AgentCall] = field(default_factory=list)
    routes: dict[StructKey, str] = field(default_factory=dict)
    """The label each switch took (the last one, for a switch run several times)."""
    misroutes: list[StructKey] = field(default_factory=list)
    """Switches whose router named no label (the first case ran)."""
    loops: dict[StructKey, tuple[int, bool]] = field(default_factory=dict)
    """Loop -> (iterations run, ended by approval)."""
    error: str | None = None
    """The first failed call ("agent @solver failed: server_error"); the run stopped there."""
    wall_s: float = field(default=0.0, compare=False)
    """Wall-clock time of the run (s)."""
    reader: Reader = field(default=TEXT_READER, compare=False, repr=False)
    """How the run read its agents' outputs; `score` reads the output with it."""

    @property
    def ok(self) -> bool:
        """True when every call succeeded."""
        return self.error is None


def _resolve(workflow: WorkflowOp, assignment: Assignment | PointAttr) -> Assignment:
    """The validated assignment (of a point, or as given)."""
    assign = dict(assignment.assign) if isinstance(assignment, PointAttr) else assignment
    validate_assignment(workflow, assign)
    for op in workflow.walk():
        if isinstance(op, ForkOp) and op.samples is not None and op.knob_key:
            total, outer = 1, op
            while outer is not None:
                if isinstance(outer, ForkOp) and outer.samples is not None and outer.knob_key:
                    total *= knob_value(assign, outer.knob_key)
                outer = outer.parent_op()
            if total > REPLICA_STRIDE:
                raise ValueError(f"{op.knob_key}: {total} replicas in one run, at most {REPLICA_STRIDE}")
    return assign


def pool_endpoints(workflow: WorkflowOp) -> list[str | None]:
    """The `api_base` of every model of the workflow's pool, in pool order."""
    return [entry.get("api_base") for entry in workflow.model_pool().values()]


def run_reader(workflow: WorkflowOp, backend: Backend) -> Reader:
    """How `backend`'s replies to `workflow`'s calls read."""
    return reader_of(backend, pool_endpoints(workflow))


def _as_query(query: QueryLike) -> Query:
    return query if isinstance(query, Query) else as_query(query)


async def run_workflow(
    workflow: WorkflowOp,
    assignment: Assignment | PointAttr,
    backend: Backend,
    query: QueryLike,
    *,
    sample: int = 0,
    seed: int = 0,
    max_tokens: int | None = None,
    concurrency: int | None = None,
    reader: Reader | None = None,
) -> RunResult:
    """Run `workflow` under `assignment` on `query`.

    A failed call (after the backend's own retries) stops the run and is
    reported in `RunResult.error`; an invalid assignment raises ValueError.
    Each workflow input whose SSA name is a key of the query's `meta` gets that
    value, the others the query's input text. `concurrency` bounds the calls
    in flight (None: unbounded). `reader` reads the outputs (None: `run_reader`).
    """
    assign = _resolve(workflow, assignment)
    _check_settings(sample, concurrency)
    return await _run_one(
        workflow, assign, backend, reader or run_reader(workflow, backend), query,
        sample=sample, seed=seed, max_tokens=max_tokens, concurrency=concurrency,
    )


def _check_settings(sample: int, concurrency: int | None) -> None:
    if sample < 0:
        raise ValueError(f"sample must be >= 0, got {sample}")
    if concurrency is not None and concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")


async def _run_one(
    workflow: WorkflowOp,
    assign: Assignment,
    backend: Backend,
    reader: Reader,
    query: QueryLike,
    *,
    sample: int,
    seed: int,
    max_tokens: int | None,
    concurrency: int | None,
) -> RunResult:
    """Run one query under an assignment `_resolve` already accepted (and settings
    `_check_settings` did): validation is not repeated per query of a dataset."""
    q = _as_query(query)
    interpreter = Interpreter(
        workflow, assign, backend, reader, sample=sample, seed=seed, max_tokens=max_tokens, concurrency=concurrency
    )
    started = time.perf_counter()
    block = workflow.body.block
    env: Env = ChainMap()
    for arg in block.args:
        text = q.meta.get(arg.name_hint) if arg.name_hint else None
        env[arg] = Value((str(text) if text is not None else q.input,), 0.0)
    output: str | None = None
    error: str | None = None
    try:
        await interpreter.block(block, env, Scope())
        returned = [env[v] for v in block.last_op.operands] if block.last_op is not None else []
        output = "\n\n".join(v.render() for v in returned) if returned else None
        latency = max((v.ready for v in returned), default=interpreter.horizon)
    except CallFailed as failure:
        error = str(failure)
        latency = interpreter.horizon
    calls = interpreter.calls
    return RunResult(
        query_id=q.id,
        output=output,
        latency=latency,
        cost=sum(c.result.cost for c in calls),
        calls=calls,
        routes=interpreter.routes,
        misroutes=interpreter.misroutes,
        loops=interpreter.loops,
        error=error,
        wall_s=time.perf_counter() - started,
        reader=reader,
    )


async def run_many(
    workflow: WorkflowOp,
    assignment: Assignment | PointAttr,
    backend: Backend,
    queries: Iterable[QueryLike],
    *,
    concurrency: int = 8,
    seed: int = 0,
    sample: int = 0,
    max_tokens: int | None = None,
    on_done: Callable[[RunResult], None] | None = None,
    reader: Reader | None = None,
) -> list[RunResult]:
    """Run every query, at most `concurrency` runs at once; results in query order.

    The assignment is validated once for the whole dataset (an invalid one raises
    ValueError before any call). `on_done(result)` sees each run as it ends; an
    exception it raises stops the others (a profiler's failure threshold).
    `reader` reads the outputs (None: `run_reader`)."""
    assign = _resolve(workflow, assignment)
    _check_settings(sample, None)
    read = reader or run_reader(workflow, backend)

    async def one(q: QueryLike) -> RunResult:
        result = await _run_one(
            workflow, assign, backend, read, q, sample=sample, seed=seed, max_tokens=max_tokens, concurrency=None
        )
        if on_done is not None:
            on_done(result)
        return result

    return await bounded_gather((one(q) for q in queries), concurrency)


def score(result: RunResult, query: QueryLike) -> bool:
    """Whether the run's output gives the query's reference answer (by the
    `answer_key` of the reader that read the run)."""
    if result.output is None:
        return False
    got = result.reader.answer_key(result.output)
    return bool(got) and got == result.reader.answer_key(_as_query(query).reference)
