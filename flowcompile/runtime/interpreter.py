"""The interpreter behind `run_workflow`: how each `flow` op executes.

It interprets the IR directly. Each agent call is a `CallRequest` to the given
backend, whose `Reader` (`flowcompile.backends.reader`) reads the outputs the
control flow decides on; structure follows the dialect:
- ops of a block run in order; `flow.fork` branches run concurrently (a
  replicated fork runs its branch k = `<name>.samples` times under the same
  configuration, one sample index per replica);
- `flow.vote` returns the input text whose `reader.answer_key` is the most common
  (a replicated fork counts every sample; ties go to the earliest);
- `flow.switch` runs the case `reader.route_label(route text, labels)` names; when the
  router names none it runs the first case and records a misroute;
- `flow.loop` runs what the verdict depends on, judges it with `reader.is_approval`,
  ends with the carried messages on approval and otherwise runs the rest of the
  body and carries `%next`; after `max_iters` rejections it ends with the last
  `%next` (ops needed by neither the verdict nor `%next` never run); with
  `max_iters` 0 nothing runs and the carried messages are its results;
- `flow.tool` calls its registered tool in process (`runtime.steps`), its
  call recorded like an agent's (model `tool:<name>`, no tokens, no cost);
  a tool that cannot run fails the run;
- an optional agent assigned "skip" makes no call; with `optional = "pass"` it
  passes its one input on (of several, the one `passes` names: a fork result
  as the fork joined it, ready with the slowest branch), with `optional = "absent"` it produces no value (an
  absent `Value`): its fork branch is absent, a vote counts the present inputs
  only and an aggregator reads the present proposals only (the dialect keeps
  at least one always present: `flow.verify_present_inputs`); an absent
  branch takes no time, so the fork joins the present ones.

Latency is the critical path in the backend's reported time (`latency_s`), not
wall-clock: a value is ready at max(ready of its inputs, gate) + its call
latency, where the gate is the ready time of the route of an enclosing switch
case and the start of the current loop iteration. A fork's results are all
ready when its slowest branch is; a loop iteration starts once the previous
verdict and `%next` are ready; a loop ends when its last verdict (and result)
is. The run's latency is the ready time of its output; wall-clock time is kept
as `RunResult.wall_s`.

Sample indices: a call's `CallRequest.sample` is ``sample * REPLICA_STRIDE +
replica``, so the replicas of a sampled fork and the runs with different
`sample` never share a request (nested replicated forks number their replicas
``outer * k + inner``; at most REPLICA_STRIDE replicas per run).
"""

from __future__ import annotations

import asyncio
from collections import ChainMap, Counter
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeAlias

from xdsl.dialects.builtin import StringAttr
from xdsl.ir import Block, Operation, Region, SSAValue

from flowcompile.backends.base import Backend, CallRequest, CallResult, Message
from flowcompile.backends.middleware import bounded_gather
from flowcompile.backends.reader import Reader
from flowcompile.dialects.flow import (
    SKIP_ABSENT,
    AgentOp,
    ConfigAttr,
    ForkOp,
    LoopOp,
    ReturnOp,
    SwitchOp,
    ToolOp,
    UntilOp,
    VoteOp,
    WorkflowOp,
    YieldOp,
)
from flowcompile.runtime.assignment import Assignment, knob_value
from flowcompile.runtime.messages import agent_messages, render_samples
from flowcompile.runtime.steps import TOOL_FAILED, tool_request, with_tools

REPLICA_STRIDE = 64
"""Sample indices reserved per run sample (the bound on replicas of one run)."""

REPLICA_TEMPERATURE = 0.7
"""The temperature of an agent in a replicated fork that sets none: at the
default 0 (greedy) a real service would give every replica the same reply."""

StructKey: TypeAlias = str | int
"""A switch or loop: its name, else its index among the workflow's ops of its kind."""


@dataclass(frozen=True)
class AgentCall:
    """One call made during a run, in the order calls were issued."""

    agent: str
    config: str
    """`model@budget`."""
    messages: tuple[Message, ...]
    result: CallResult
    replica: int = 0
    """The replica of the enclosing sampled fork(s); 0 outside them."""
    iteration: int = 0
    """The 1-based iteration of the innermost enclosing loop; 0 outside loops."""
    case: str | None = None
    """The label of the innermost enclosing switch case."""
    start: float = 0.0
    """When the call could start on the run's critical-path clock (s)."""


@dataclass(frozen=True)
class Value:
    """A message during a run: one text, or the k samples of a replicated fork."""

    texts: tuple[str, ...]
    ready: float
    samples: bool = False
    absent: bool = False
    """A skipped `optional = "absent"` agent's output: no value at all."""

    def render(self) -> str:
        if self.absent:
            return ""
        return render_samples(self.texts) if self.samples else self.texts[0]


@dataclass(frozen=True)
class Scope:
    """Where an op runs: its earliest start, replica, loop iteration, switch case."""

    gate: float = 0.0
    replica: int = 0
    iteration: int = 0
    case: str | None = None


class CallFailed(Exception):
    """A call failed after the backend's own retries; stops the run."""


Env: TypeAlias = ChainMap[SSAValue, Value]


class Interpreter:
    """Runs the ops of one workflow for one run, recording its calls, routes and loops."""

    def __init__(
        self,
        workflow: WorkflowOp,
        assignment: Assignment,
        backend: Backend,
        reader: Reader,
        *,
        sample: int,
        seed: int,
        max_tokens: int | None,
        concurrency: int | None,
    ) -> None:
        self.workflow = workflow
        self.reader = reader
        self.name = workflow.sym_name.data
        self.pool = workflow.model_pool()
        self.assignment = assignment
        self.backend = with_tools(backend)
        self.sample = sample
        self.seed = seed
        self.max_tokens = max_tokens
        self.sem = asyncio.Semaphore(concurrency) if concurrency is not None else None
        # Slots reserved when a call is issued keep `calls` in issue order.
        self.slots: list[AgentCall | None] = []
        self.horizon = 0.0
        self.routes: dict[StructKey, str] = {}
        self.misroutes: list[StructKey] = []
        self.loops: dict[StructKey, tuple[int, bool]] = {}
        self.keys: dict[Operation, StructKey] = {}
        counts: Counter[type] = Counter()
        for op in workflow.walk():
            if isinstance(op, SwitchOp | LoopOp):
                self.keys[op] = op.region_name or counts[type(op)]
                counts[type(op)] += 1

    @property
    def calls(self) -> list[AgentCall]:
        return [c for c in self.slots if c is not None]

    async def block(self, block: Block, env: Env, scope: Scope, only: set[Operation] | None = None) -> None:
        for op in block.ops:
            if isinstance(op, YieldOp | UntilOp | ReturnOp) or (only is not None and op not in only):
                continue
            await self.op(op, env, scope)

    async def region(self, region: Region, env: Env, scope: Scope) -> list[Value]:
        local = env.new_child()
        await self.block(region.block, local, scope)
        terminator = region.block.last_op
        assert terminator is not None
        return [local[v] for v in terminator.operands]

    async def op(self, op: Operation, env: Env, scope: Scope) -> None:
        if isinstance(op, AgentOp):
            results = [await self.agent(op, env, scope)]
        elif isinstance(op, ToolOp):
            results = [await self.tool(op, env, scope)]
        elif isinstance(op, ForkOp):
            results = await self.fork(op, env, scope)
        elif isinstance(op, VoteOp):
            results = [self.vote(op, env)]
        elif isinstance(op, SwitchOp):
            results = await self.switch(op, env, scope)
        elif isinstance(op, LoopOp):
            results = await self.loop(op, env, scope)
        else:
            raise ValueError(f"the runtime cannot execute {op.name}")
        env.update(zip(op.results, results, strict=True))

    async def agent(self, op: AgentOp, env: Env, scope: Scope) -> Value:
        name = op.agent_name
        config = self.assignment[name]
        inputs = [env[v] for v in op.inputs]
        if isinstance(config, StringAttr):  # "skip": validated, so the agent is optional
            if op.skip_mode == SKIP_ABSENT:
                return Value((), max([scope.gate, *(v.ready for v in inputs)]), absent=True)
            passed = inputs[op.passed_index or 0]
            # a replicated fork's samples pass one answer on: the first sample
            return Value(passed.texts[:1], passed.ready) if passed.samples else passed
        assert isinstance(config, ConfigAttr)
        names = op.arg_names or [v.name_hint or f"input{i}" for i, v in enumerate(op.inputs, start=1)]
        prompt = op.prompt.data if op.prompt is not None else None
        if any(v.absent for v in inputs):
            # an absent proposal is no input: not listed, and a placeholder the
            # prompt template names for it reads as empty
            mentioned = set(op.placeholders())
            present = [(n, v) for n, v in zip(names, inputs, strict=True) if not v.absent or n in mentioned]
            names, inputs = [n for n, _ in present], [v for _, v in present]
        messages = agent_messages(
            op.role.data,
            name,
            self.name,
            prompt,
            names,
            [v.render() for v in inputs],
            scope.case,
        )
        start = max([scope.gate, *(v.ready for v in inputs if not v.absent)])
        slot = len(self.slots)
        self.slots.append(None)
        result = await self.call(self.request(op, config, messages, scope.replica))
        self.slots[slot] = AgentCall(
            name, config.key, messages, result, scope.replica, scope.iteration, scope.case, start
        )
        end = start + result.latency_s
        self.horizon = max(self.horizon, end)
        if not result.ok:
            raise CallFailed(f"agent @{name} failed: {result.failure_text()}")
        return Value((result.text,), end)

    async def tool(self, op: ToolOp, env: Env, scope: Scope) -> Value:
        name = op.agent_name
        config = self.assignment[name]
        assert isinstance(config, ConfigAttr)
        inputs = [value for v in op.inputs if not (value := env[v]).absent]
        request = tool_request(
            op.tool_name, op.param_values(), [v.render() for v in inputs],
            sample=self.sample * REPLICA_STRIDE + scope.replica,
        )
        start = max([scope.gate, *(v.ready for v in inputs)])
        slot = len(self.slots)
        self.slots.append(None)
        result = await self.call(request)
        self.slots[slot] = AgentCall(
            name, config.key, request.messages, result, scope.replica, scope.iteration, scope.case, start
        )
        end = start + result.latency_s
        self.horizon = max(self.horizon, end)
        if not result.ok:
            raise CallFailed(f"tool @{name} failed: {result.text.removeprefix(TOOL_FAILED + ': ')}")
        return Value((result.text,), end)

    def request(self, op: AgentOp, config: ConfigAttr, messages: tuple[Message, ...], replica: int) -> CallRequest:
        return agent_request(
            self.workflow, op, config, messages,
            sample=self.sample * REPLICA_STRIDE + replica, seed=self.seed, max_tokens=self.max_tokens,
        )

    async def call(self, request: CallRequest) -> CallResult:
        if self.sem is None:
            return await self.backend.call(request)
        async with self.sem:
            return await self.backend.call(request)

    async def fork(self, op: ForkOp, env: Env, scope: Scope) -> list[Value]:
        if op.samples is not None and op.knob_key is not None:
            k = knob_value(self.assignment, op.knob_key)
            scopes = [replace(scope, replica=scope.replica * k + r) for r in range(k)]
            outs = await gather_branches(self.region(op.branches[0], env, s) for s in scopes)
            texts = tuple(t for (value,) in outs for t in value.texts)
            return [Value(texts, max(value.ready for (value,) in outs), samples=True)]
        outs = await gather_branches(self.region(branch, env, scope) for branch in op.branches)
        # the fork joins its branches (an absent one runs no call: nothing to wait for)
        ready = max((value.ready for (value,) in outs if not value.absent), default=scope.gate)
        return [replace(value, ready=ready) for (value,) in outs]

    def vote(self, op: VoteOp, env: Env) -> Value:
        inputs = [value for v in op.inputs if not (value := env[v]).absent]
        texts = [t for value in inputs for t in value.texts]
        keys = [self.reader.answer_key(t) for t in texts]
        counts = Counter(keys)
        top = max(counts.values())
        winner = next(k for k in keys if counts[k] == top)  # earliest among ties
        return Value((texts[keys.index(winner)],), max(value.ready for value in inputs))

    async def switch(self, op: SwitchOp, env: Env, scope: Scope) -> list[Value]:
        route = env[op.route]
        labels = op.label_names
        key = self.keys[op]
        label = self.reader.route_label(route.render(), labels)
        if label is None:
            label = labels[0]
            self.misroutes.append(key)
        self.routes[key] = label
        inner = replace(scope, gate=max(scope.gate, route.ready), case=label)
        outs = await self.region(op.cases[labels.index(label)], env, inner)
        return [replace(v, ready=max(v.ready, route.ready)) for v in outs]

    async def loop(self, op: LoopOp, env: Env, scope: Scope) -> list[Value]:
        block = op.body.block
        until = block.last_op
        assert isinstance(until, UntilOp)
        verdict_value, *next_values = until.operands
        judge_ops = needed_ops(block, [verdict_value])
        next_ops = needed_ops(block, next_values) - judge_ops
        key = self.keys[op]
        max_iters = knob_value(self.assignment, op.knob_key) if op.knob_key else max(op.max_iter_values)
        carried = [env[v] for v in op.init]
        gate = max([scope.gate, *(v.ready for v in carried)])
        for iteration in range(1, max_iters + 1):
            local = env.new_child()
            local.update(zip(block.args, (replace(v, ready=max(v.ready, gate)) for v in carried), strict=True))
            inner = replace(scope, gate=gate, iteration=iteration)
            await self.block(block, local, inner, only=judge_ops)
            verdict = local[verdict_value]
            if self.reader.is_approval(verdict.render()):
                self.loops[key] = (iteration, True)
                end = max(gate, verdict.ready)
                return [replace(v, ready=max(v.ready, end)) for v in carried]
            await self.block(block, local, inner, only=next_ops)
            carried = [local[v] for v in next_values]
            gate = max([verdict.ready, *(v.ready for v in carried)])
        self.loops[key] = (max_iters, False)
        return [replace(v, ready=max(v.ready, gate)) for v in carried]


def agent_request(
    workflow: WorkflowOp,
    agent: AgentOp,
    config: ConfigAttr,
    messages: tuple[Message, ...],
    *,
    sample: int,
    seed: int,
    max_tokens: int | None = None,
) -> CallRequest:
    """The backend request of one call of `agent` under `config`, the same for
    runs and for profiling: the model's pool entry, the agent's sampling (its
    seed added to the run's `seed`, its `max_tokens` before the run's), and
    REPLICA_TEMPERATURE for an agent in a replicated fork that sets no temperature."""
    # Without a pool entry the model name is all a backend gets.
    entry = workflow.model_pool().get(config.model)
    fields: dict[str, Any] = {"provider_model": config.model}
    if entry is not None:
        fields = {
            "provider_model": entry.get("provider"),
            "api_base": entry.get("api_base"),
            "api_key_env": entry.get("api_key_env"),
            "price_in": entry.get("price_in"),
            "price_out": entry.get("price_out"),
        }
    sampling = agent.sampling
    temperature = sampling.get("temperature") if sampling is not None else None
    if temperature is None:
        temperature = REPLICA_TEMPERATURE if replicated(agent) else 0.0
    if sampling is not None:
        fields["top_p"] = sampling.get("top_p")
        fields["stop"] = tuple(sampling.stop or ())
        seed += sampling.get("seed") or 0
        max_tokens = sampling.get("max_tokens") or max_tokens
    return CallRequest(
        model=config.model,
        budget=config.budget,
        messages=messages,
        temperature=temperature,
        max_tokens=max_tokens,
        sample=sample,
        seed=seed,
        **fields,
    )


def replicated(agent: AgentOp) -> bool:
    """Whether `agent` runs inside a fork with a `samples` knob."""
    parent = agent.parent_op()
    while parent is not None and not isinstance(parent, WorkflowOp):
        if isinstance(parent, ForkOp) and parent.samples is not None:
            return True
        parent = parent.parent_op()
    return False


def needed_ops(block: Block, values: Sequence[SSAValue]) -> set[Operation]:
    """The ops of `block` that `values` depend on (through nested regions too)."""
    needed: set[Operation] = set()
    stack = list(values)
    while stack:
        owner = stack.pop().owner
        if isinstance(owner, Operation) and owner.parent_block() is block and owner not in needed:
            needed.add(owner)
            stack.extend(operand for inner in owner.walk() for operand in inner.operands)
    return needed


async def gather_branches(aws: Iterable[Awaitable[list[Value]]]) -> list[list[Value]]:
    # bounded_gather cancels the siblings of a failed branch, so a run stops at its first failure.
    pending = list(aws)
    return await bounded_gather(pending, max(1, len(pending)))
