"""Between flow IR and the proxy model of `flowcompile.proxy.model`.

`build_model` reads a workflow whose agents carry `estimates` (written by
`compose`) and returns the model's output node; `point_attrs` turns points of
the search back into `#flow.point`s. Not a pass: the `enumerate` and `pareto`
passes share it.

An op's `proxy` rule (written by `compose`) says whether it is composed query
by query: a rule name ending in PER_QUERY is, one without it is not, even
where its profiles would allow it. `per_query_ops` is what compose names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from xdsl.dialects.builtin import DictionaryAttr, FloatAttr, IntegerAttr, StringAttr, i64
from xdsl.ir import Attribute, Block, Operation, SSAValue

from flowcompile.diagnostics import FlowError
from flowcompile.dialects.flow import (
    SKIP,
    SKIP_ABSENT,
    ConfigAttr,
    EstimateAttr,
    ForkOp,
    LoopOp,
    PointAttr,
    ProfileAttr,
    ReturnOp,
    StepOp,
    SwitchOp,
    UntilOp,
    VoteOp,
    WorkflowOp,
    YieldOp,
)
from flowcompile.profiling.failures import failed_candidates
from flowcompile.profiling.profiler import output_kind
from flowcompile.proxy import model as pm
from flowcompile.proxy.difficulty import smooth
from flowcompile.proxy.search import Point


def estimates_of(agent: StepOp) -> list[EstimateAttr]:
    """The agent's estimate per candidate, in candidate order."""
    if "estimates" not in agent.attributes:
        raise FlowError(agent, f"agent @{agent.agent_name} has no estimates: run compose first")
    estimates = agent.per_candidate("estimates", EstimateAttr)
    failed = failed_candidates(agent)
    live = [(c, e) for c, e in zip(agent.candidates(), estimates, strict=True) if c.key not in failed]
    for config, estimate in live:
        if estimate is None:
            raise FlowError(agent, f"agent @{agent.agent_name} has no estimate for '{config.key}'")
    return [e for _, e in live]  # pyright: ignore[reportReturnType]


def searched_candidates(agent: StepOp) -> list[ConfigAttr]:
    """The candidates the search chooses from: all but those profiling marked failed."""
    failed = failed_candidates(agent)
    return [c for c in agent.candidates() if c.key not in failed]


PER_QUERY = "-per-query"
"""The suffix of a `proxy` rule composed query by query."""


class _Builder:
    def __init__(self, workflow: WorkflowOp, read_rules: bool = True):
        self.workflow = workflow
        self.read_rules = read_rules
        self.nodes: dict[SSAValue, pm.Node] = {}
        self.sampled: dict[SSAValue, pm.Var] = {}
        self.variables: dict[str, pm.Var] = {}
        self.of_op: dict[Operation, pm.Agent | pm.Vote | pm.Loop] = {}
        """The nodes whose rule may compose query by query, by op."""

    def _ruled(self, op: Operation, node: pm.Agent | pm.Vote | pm.Loop):
        """`node`, allowed to compose query by query unless its op's rule says not."""
        rule = op.attributes.get("proxy") if self.read_rules else None
        node.per_query = not isinstance(rule, StringAttr) or rule.data.endswith(PER_QUERY)
        self.of_op[op] = node
        return node

    def build(self) -> pm.Node:
        block = self.workflow.body.block
        for arg in block.args:
            self.nodes[arg] = pm.Input(arg.name_hint or "input")
        self.block(block, gate=None, replicas=())
        ret = block.last_op
        assert isinstance(ret, ReturnOp)
        if len(ret.values) != 1:
            raise FlowError(ret, "the proxy needs a workflow with exactly one output")
        return self.nodes[ret.values[0]]

    def node(self, value: SSAValue) -> pm.Node:
        return self.nodes[value]

    def block(self, block: Block, gate: pm.Node | None, replicas: tuple[pm.Var, ...]) -> None:
        """The nodes of a block's ops; `replicas`: the samples knobs of the
        replicated forks the block is in (outer first)."""
        for op in block.ops:
            if isinstance(op, StepOp):
                self.nodes[op.output] = self._ruled(op, self.agent(op, gate, replicas))
            elif isinstance(op, ForkOp):
                self.fork(op, gate, replicas)
            elif isinstance(op, VoteOp):
                self.nodes[op.output] = self._ruled(op, self.vote(op))
            elif isinstance(op, SwitchOp):
                self.nodes[op.res[0]] = self.switch(op, replicas)
            elif isinstance(op, LoopOp):
                self.nodes[op.res[0]] = self._ruled(op, self.loop(op, replicas))

    def agent(self, op: StepOp, gate: pm.Node | None, replicas: tuple[pm.Var, ...] = ()) -> pm.Agent:
        estimates = estimates_of(op)
        labels: tuple[object, ...] = tuple(searched_candidates(op))
        if op.optional is not None:
            labels += (SKIP,)
        inputs, proposals, samples_of = [], [], {}
        gates = [gate] if gate is not None else []
        for value in op.inputs:
            if isinstance(value.owner, ForkOp):
                if value in self.sampled:
                    samples_of[len(proposals)] = self.sampled[value]
                proposals.append(self.node(value))
            elif isinstance(value.owner, StepOp) and output_kind(value.owner) == "verdict":
                # a verdict decides that the agent runs (to revise), not
                # whether its input is right: a value it waits for
                gates.append(self.node(value))
            else:
                inputs.append(self.node(value))
        measured = [e.get("rec") for e in estimates]
        recovery: float | tuple[float, ...] = (
            tuple(r if r is not None else 0.0 for r in measured)  # pyright: ignore
            if any(r is not None for r in measured)
            else (op.recovery.value.data if op.recovery is not None else 0.0)
        )
        return pm.Agent(
            self.variable(op, labels),
            tuple(inputs),
            tuple(e.get("acc") for e in estimates),  # pyright: ignore[reportArgumentType]
            tuple(e.get("lat") for e in estimates),  # pyright: ignore[reportArgumentType]
            tuple(e.get("cost") or 0.0 for e in estimates),  # pyright: ignore[reportArgumentType]
            recovery=recovery,
            proposals=tuple(proposals),
            gates=tuple(gates),
            skippable=op.optional is not None,
            absent=op.skip_mode == SKIP_ABSENT,
            passes=self.node(op.inputs[index]) if (index := op.passed_index) is not None else None,
            samples_of=samples_of,
            by_right=tuple(
                tuple(curve) if isinstance(curve := e.get("by_right"), list) else None for e in estimates
            )
            if proposals
            else (),
            lat_max=tuple(
                tuple(curve) if isinstance(curve := e.get("lat_max"), list) else None for e in estimates
            )
            if replicas
            else (),
            replicas=replicas,
            rejects=tuple(e.get("rec") for e in estimates) if output_kind(op) == "verdict" else (),  # pyright: ignore
            hits=per_query_hits(op),
            rec_hits=per_query_hits(op, "rec_hits"),
            mixed=tuple(e.get("mixed") for e in estimates) if any(e.get("mixed") is not None for e in estimates) else (),
            hits_k=max((int(p.get("hits_k") or 1) for p in _profiles(op) if p is not None), default=1),  # pyright: ignore
            level_hits=per_query_levels(op) if proposals else (),
        )

    def variable(self, op: StepOp, labels: tuple[object, ...]) -> pm.Var:
        """The agent's decision variable: one for every site of a shared agent."""
        var = self.variables.setdefault(op.agent_name, pm.Var(op.agent_name, labels))
        if var.labels != labels:
            raise FlowError(op, f"agent @{op.agent_name} is called at several sites whose searched candidates "
                            "differ (profiling failed some at one site only); one configuration needs one set")
        return var

    def fork(self, op: ForkOp, gate: pm.Node | None, replicas: tuple[pm.Var, ...]) -> None:
        knob = None
        if op.knob_key is not None:
            values = tuple(op.samples.iter_values())  # pyright: ignore[reportOptionalMemberAccess]
            knob = pm.Var(op.knob_key, values)
        inner = (*replicas, knob) if knob is not None else replicas
        for region, result in zip(op.branches, op.res, strict=True):
            self.block(region.block, gate, inner)
            yielded = region.block.last_op
            assert isinstance(yielded, YieldOp)
            self.nodes[result] = node = self.node(yielded.values[0])
            source = yielded.values[0].owner
            # The fork waits for the slowest of its different branches: the
            # agent that ends a branch brings its latency's spread.
            if (
                knob is None and len(op.branches) > 1 and isinstance(source, StepOp)
                and source.parent_block() is region.block and isinstance(node, pm.Agent)
            ):
                node.lat_dev = _deviations(estimates_of(source))
        if knob is not None:
            self.sampled[op.res[0]] = knob

    def vote(self, op: VoteOp) -> pm.Vote:
        sampled = [v for v in op.inputs if v in self.sampled]
        if sampled and len(op.inputs) != 1:
            raise FlowError(op, "a vote over a replicated fork must have it as its only input")
        samples = self.sampled[sampled[0]] if sampled else None
        rate = op.attributes.get("wrong_agree")  # written by compose; absent: the strict majority
        wrong_agree = rate.value.data if isinstance(rate, FloatAttr) else 1.0
        return pm.Vote(tuple(self.node(v) for v in op.inputs), samples, wrong_agree)

    def switch(self, op: SwitchOp, replicas: tuple[pm.Var, ...] = ()) -> pm.Switch:
        probs = op.branch_probs()
        if probs is None:
            raise FlowError(op, "flow.switch has no branch probabilities (probs): profile the workflow first")
        if len(op.res) != 1:
            raise FlowError(op, "the proxy needs a switch with exactly one result")
        route = self.node(op.route)
        branches = []
        for region in op.cases:
            self.block(region.block, gate=route, replicas=replicas)
            yielded = region.block.last_op
            assert isinstance(yielded, YieldOp)
            branches.append(self.node(yielded.values[0]))
        return pm.Switch(route, tuple(branches), tuple(probs))

    def loop(self, op: LoopOp, replicas: tuple[pm.Var, ...] = ()) -> pm.Loop:
        if len(op.init) != 1 or op.knob_key is None:
            raise FlowError(op, "the proxy needs a named loop carrying exactly one message")
        name = op.region_name or "loop"
        carried = pm.Carried(name)
        self.nodes[op.body.block.args[0]] = carried
        self.block(op.body.block, gate=None, replicas=replicas)
        until = op.body.block.last_op
        assert isinstance(until, UntilOp)
        verdict = self.node(until.operands[0])
        if not isinstance(verdict, pm.Agent) or verdict.skippable:
            raise FlowError(until, "the loop's verdict must be the output of an agent that always runs")
        return pm.Loop(
            name,
            self.node(op.init[0]),
            carried,
            verdict,
            self.node(until.operands[1]),
            pm.Var(op.knob_key, tuple(op.max_iter_values)),
            decay=pm.round_decay(*op.revision_rounds) if op.revision_rounds else (),
        )


def _profiles(op: StepOp) -> list[ProfileAttr | None]:
    """The profiles of the searched candidates, in their order."""
    if "profiles" not in op.attributes:
        return []
    found = op.attributes["profiles"]
    entries = found.data if isinstance(found, DictionaryAttr) else {}
    return [p if isinstance(p := entries.get(c.key), ProfileAttr) else None for c in searched_candidates(op)]


def per_query_hits(op: StepOp, field: str = "hits") -> tuple[np.ndarray | None, ...]:
    """Per candidate, its success rate on each profiling query (`hits` over
    `hits_k`, or `rec_hits`: from a wrong input; NaN where not measured), None
    for a candidate without them."""
    rows: list[np.ndarray | None] = []
    for profile in _profiles(op):
        hits = profile.get(field) if profile is not None else None
        k = (profile.get("hits_k") if profile is not None and field == "hits" else None) or 1
        rows.append(_rates(hits, int(k)) if isinstance(hits, str) else None)  # pyright: ignore[reportArgumentType]
    return tuple(rows)


def per_query_levels(op: StepOp) -> tuple[np.ndarray | None, ...]:
    """Per candidate of an aggregator, its outcome per profiling query (rows)
    and level of right proposals (columns), NaN where not measured."""
    rows: list[np.ndarray | None] = []
    for profile in _profiles(op):
        levels = profile.get("level_hits") if profile is not None else None
        rows.append(np.stack([_rates(r, 1) for r in levels.split("|")], axis=1) if isinstance(levels, str) else None)
    return tuple(rows)


def _rates(hits: str, k: int) -> np.ndarray:
    return np.array([np.nan if c == "." else int(c) / k for c in hits], dtype=float)


def _deviations(estimates: list[EstimateAttr]) -> tuple[tuple[float, ...] | None, ...]:
    """Per candidate, its latency atoms (`lat_q`) minus their mean: what a
    call adds to or takes from its expected latency, for a fork that waits for
    the slowest of several different branches. () unless every candidate
    that has atoms has as many (then the fork's latency is max of means)."""
    atoms = [e.get("lat_q") for e in estimates]
    sizes = {len(a) for a in atoms if isinstance(a, list) and a}  # pyright: ignore[reportArgumentType]
    if len(sizes) != 1:
        return ()
    return tuple(
        tuple(float(x) - sum(a) / len(a) for x in a) if isinstance(a, list) and a else None  # pyright: ignore
        for a in atoms
    )


def build_model(workflow: WorkflowOp) -> pm.Node:
    """The proxy model of a workflow whose agents carry estimates; the
    per-query outcomes of its leaf agents smoothed by the query-difficulty
    model (`flowcompile.proxy.difficulty`)."""
    return _built(workflow)[0]


def per_query_ops(workflow: WorkflowOp) -> set[Operation]:
    """The ops whose rule can compose query by query, as their profiles
    allow (whatever `proxy` rules the IR names now: what compose decides)."""
    return {op for op, node in _built(workflow, read_rules=False)[1].items() if node.joint}


def _built(
    workflow: WorkflowOp, read_rules: bool = True
) -> tuple[pm.Node, dict[Operation, pm.Agent | pm.Vote | pm.Loop]]:
    builder = _Builder(workflow, read_rules)
    root = builder.build()
    smooth(root)
    return root, builder.of_op


def label_attr(label: object) -> Attribute:
    if isinstance(label, ConfigAttr):
        return label
    if label == SKIP:
        return StringAttr(SKIP)
    assert isinstance(label, int)
    return IntegerAttr(label, i64)


def point_attrs(root: pm.Node, points: Sequence[Point]) -> list[PointAttr]:
    """Search points as `#flow.point<acc, lat, cost, assign = {...}>`."""
    variables = {v.key: v for v in pm.all_vars(root)}
    labels = {key: [label_attr(label) for label in var.labels] for key, var in variables.items()}
    return [
        PointAttr.build(
            acc=round(point.estimate.acc, 6),
            lat=round(point.estimate.t, 6),
            cost=round(point.estimate.cost, 8),
            assign=DictionaryAttr({key: labels[key][choice] for key, choice in sorted(point.assignment.items())}),
        )
        for point in points
    ]


def assignment_of(root: pm.Node, point: PointAttr) -> dict[str, int]:
    """A `#flow.point`'s assign as choice indices of the model's variables."""
    result: dict[str, int] = {}
    assign: Mapping[str, Attribute] = point.assign
    for var in pm.all_vars(root):
        value = assign.get(var.key)
        label: object = value
        if isinstance(value, IntegerAttr):
            label = value.value.data
        elif isinstance(value, StringAttr):
            label = value.data
        if label not in var.labels:
            raise ValueError(f"point does not assign '{var.key}' one of its choices")
        result[var.key] = var.labels.index(label)
    return result
