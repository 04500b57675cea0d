"""Lowering a validated workflow spec into `flow` IR.

Names in the spec become SSA values: a scope maps each visible name to the
value that produced it. Structure blocks open nested scopes, so a value made
inside a branch is visible outside only through the block's `as` name.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import ArrayAttr, IntegerAttr, ModuleOp, StringAttr
from xdsl.ir import Block, BlockArgument, OpResult, Operation, Region, SSAValue

from flowcompile.dialects.flow import (
    SKIP_ABSENT,
    SKIP_PASS,
    AgentOp,
    ForkOp,
    LoopOp,
    ModelAttr,
    ReturnOp,
    SamplingAttr,
    SwitchOp,
    ToolOp,
    UntilOp,
    VoteOp,
    WorkflowOp,
    YieldOp,
    absent_branch,
    is_verdict,
    msg,
)
from flowcompile.frontend.load import Loc, Locator, SpecError, SpecProblem
from flowcompile.frontend.spec import (
    SAMPLING_FIELDS,
    AgentSpec,
    ForkStep,
    LoopStep,
    SwitchStep,
    ToolSpec,
    WorkflowSpec,
)
from flowcompile.selection import BUILTIN_PRESETS
from flowcompile.steps import param_problems
from flowcompile.frontend.load import format_loc

Scope = dict[str, SSAValue]


class _Lowering:
    def __init__(self, spec: WorkflowSpec, locator: Locator | None):
        self.spec = spec
        self.locator = locator
        self.problems: list[SpecProblem] = []
        self.used: dict[str, Loc] = {}
        self.sole: tuple[str, bool] | None = None
        """While a fork branch of one agent step is lowered: that agent, and
        whether the fork has `samples`."""
        self.passing: list[tuple[SSAValue, Loc]] = []
        """The values `optional: {pass: <input>}` names, where: none may be a verdict (`check_passing`)."""
        self.shared_results: dict[str, Loc] = {}
        """Names of a shared agent that ends several branches of one fork (at
        it): no one branch value has the name."""
        self.absent_results: dict[str, Loc] = {}
        """Fork branch results that may be no value (an `optional: absent`
        agent alone in its branch), where each is: no later agent reads them."""

    def problem(self, loc: Loc, message: str) -> None:
        line, col = self.locator.find(loc) if self.locator else (None, None)
        self.problems.append(SpecProblem(loc, message, line, col))

    def unique(self, values: Sequence[object] | None, loc: Loc, what: str | None = None) -> bool:
        """Whether `values` holds no value twice; a problem at the first repeat
        otherwise (`what` names it, or the list is a choice space)."""
        seen: set[object] = set()
        for index, value in enumerate(values or ()):
            if value in seen:
                if what is None:
                    self.problem(loc, "duplicate choices")
                else:
                    self.problem((*loc, index), f"'{value}' is already {what}")
                return False
            seen.add(value)
        return True

    # Workflow ---------------------------------------------------------------

    def workflow(self) -> WorkflowOp:
        spec = self.spec
        self.unique(spec.inputs, ("inputs",), "a workflow input")
        block = Block(arg_types=[msg] * len(spec.inputs))
        self.top = block
        scope: Scope = dict(zip(spec.inputs, block.args, strict=True))
        for name, arg in scope.items():
            arg.name_hint = _ssa_name(name)
        last = self.steps(spec.steps, ("steps",), block, scope)
        output = scope.get(spec.output) if spec.output else last
        if spec.output and output is None:
            self.problem(("output",), f"'{spec.output}' is not a value of the workflow")
        block.add_op(ReturnOp(*([output] if output is not None else [])))
        self.check_passing()
        for name in spec.agents:
            if name not in self.used:
                self.problem(("agents", name), "agent is defined but not used in steps")
        pool = {
            name: ModelAttr.build(
                provider=m.litellm,
                api_base=m.api_base,
                api_key_env=m.api_key_env,
                price_in=m.price_in,
                price_out=m.price_out,
                reasoning=None if m.reasoning else IntegerAttr.from_bool(False),
            )
            for name, m in spec.models.items()
        }
        for name in spec.presets:
            if name in BUILTIN_PRESETS:
                self.problem(("presets", name), f"'{name}' is a built-in preset ({', '.join(BUILTIN_PRESETS)}); "
                             "name yours differently")
        presets = {name: p.model_dump(exclude_none=True) for name, p in spec.presets.items()}
        return WorkflowOp(spec.workflow, len(spec.inputs), 1, Region(block), pool, presets)

    def steps(
        self, steps: Sequence[object], loc: Loc, block: Block, scope: Scope
    ) -> SSAValue | None:
        """Lower a list of steps into `block`; returns the last value produced."""
        last = next(reversed(scope.values()), None)
        for index, step in enumerate(steps):
            step_loc = (*loc, index)
            if isinstance(step, str):
                value = self.agent(step, step_loc, block, scope, last)
                name = step
            elif isinstance(step, ForkStep):
                value, name = self.fork(step, (*step_loc, "fork"), block, scope, last)
            elif isinstance(step, SwitchStep):
                value, name = self.switch(step, (*step_loc, "switch"), block, scope)
            else:
                assert isinstance(step, LoopStep)
                value, name = self.loop(step, (*step_loc, "loop"), block, scope)
            if value is None:
                continue
            if not isinstance(step, str) and name in self.spec.agents:
                self.problem(step_loc, f"'{name}' is the name of an agent; name the block's value differently")
            if name in scope and not _same_agent(scope[name], value):
                self.problem(step_loc, f"'{name}' is already a value in this scope")
            scope[name] = value
            value.name_hint = _ssa_name(name)
            last = value
        return last

    # Agents -----------------------------------------------------------------

    def agent(
        self,
        name: str,
        loc: Loc,
        block: Block,
        scope: Scope,
        previous: SSAValue | None,
        extra_inputs: Sequence[SSAValue] = (),
        extra_names: Sequence[str] = (),
    ) -> SSAValue | None:
        spec = self.spec.agents.get(name)
        if spec is None:
            self.problem(loc, f"unknown agent '{name}' (agents: {', '.join(self.spec.agents)})")
            return None
        if name in self.used and isinstance(spec, ToolSpec):
            self.problem(loc, f"tool step '{name}' is already used at {_fmt(self.used[name])}; a tool step "
                         "appears once (define another for another call)")
            return None
        self.used.setdefault(name, loc)  # a shared agent: every site has one configuration
        agent_loc = ("agents", name)
        resolved = self.resolve_inputs(spec, agent_loc, scope, previous, extra_inputs, extra_names)
        if isinstance(spec, ToolSpec):
            return self.tool(name, spec, agent_loc, block, resolved)
        models = spec.models or self.spec.defaults.models or list(self.spec.models)
        budgets = spec.budgets or self.spec.defaults.budgets or [0]
        for index, model in enumerate(models):
            if model not in self.spec.models:
                where = (*agent_loc, "models", index) if spec.models else ("defaults", "models", index)
                self.problem(where, f"model '{model}' is not in the pool ({', '.join(self.spec.models)})")
        for field in ("models", "budgets"):
            self.unique(getattr(spec, field), (*agent_loc, field))
        sampling = self.sampling(spec, agent_loc)
        if resolved is None:
            return None
        inputs, args = resolved
        optional = self.skip_mode(name, spec, (*agent_loc, "optional"), inputs)
        passes = self.passed_input(spec, (*agent_loc, "optional", "pass"), inputs, args)
        op = AgentOp(
            name,
            inputs,
            spec.role,
            models,
            budgets,
            prompt=spec.prompt,
            recovery=spec.recovery,
            optional=optional,
            args=args,
            sampling=sampling,
            passes=passes if len(inputs) > 1 else None,
        )
        block.add_op(op)
        if passes is not None:
            self.passing.append((op.inputs[passes], (*agent_loc, "optional", "pass")))
        return op.output

    def tool(
        self, name: str, spec: ToolSpec, loc: Loc, block: Block, resolved: tuple[list[SSAValue], list[str]] | None
    ) -> SSAValue | None:
        """A tool step: a problem at `tool` for a tool no one registers, at
        `params` for each one it does not take."""
        for problem in param_problems(spec.tool, spec.params):
            if problem.startswith("unknown tool"):
                self.problem((*loc, "tool"), problem)
            else:  # at the params, or at the entry that gives none
                self.problem((*loc, "params") if spec.params else loc, problem)
        if resolved is None:
            return None
        op = ToolOp(name, resolved[0], spec.tool, spec.params)
        block.add_op(op)
        return op.output

    def skip_mode(self, name: str, spec: AgentSpec, loc: Loc, inputs: Sequence[SSAValue]) -> str | None:
        """What a skip of the agent produces (`optional`), or None for one that
        always runs; a problem where the spec's `optional` cannot mean that."""
        if spec.optional is False:
            return None
        if isinstance(spec.optional, dict):
            return SKIP_PASS  # which input: `passed_input`
        sole = self.sole is not None and self.sole[0] == name
        if spec.optional is True:
            query = [v for v in inputs if isinstance(v, BlockArgument) and v.owner is self.top]
            if len(inputs) != 1:
                self.problem(loc, f"true passes the agent's one input on, and it has {len(inputs)}; write "
                             "optional: {pass: <input>} (that input passes on), or optional: absent (a skip "
                             "produces no value) for a proposer alone in a fork branch")
            elif sole or query:
                what = "a fork branch of its own (a proposal)" if sole else "a workflow input"
                self.problem(loc, f"true is ambiguous here: the agent is {what}, so a skip passing its "
                             "input on would count that input as its answer; write optional: absent (a skip "
                             "produces no value) or optional: pass (its input passes on unchanged)")
            return SKIP_PASS
        if spec.optional == SKIP_PASS:
            if len(inputs) != 1:
                self.problem(loc, f"pass passes the agent's one input on, and it has {len(inputs)}; "
                             "write optional: {pass: <input>} to name the one a skip passes on")
            return SKIP_PASS
        if not sole:
            self.problem(loc, "absent needs the agent alone in a fork branch (a proposal the fork's "
                         "vote or aggregator can do without)")
        elif self.sole is not None and self.sole[1]:
            self.problem(loc, "absent is not allowed in a fork with samples (every sample would be absent)")
        return SKIP_ABSENT

    def passed_input(
        self, spec: AgentSpec, loc: Loc, inputs: Sequence[SSAValue], names: Sequence[str]
    ) -> int | None:
        """The index of the input `optional: {pass: <input>}` names (None for
        any other `optional`); a problem where that input is not a single
        answer that is always there."""
        if not isinstance(spec.optional, dict):
            return None
        name = spec.optional["pass"]
        if name not in names:
            self.problem(loc, f"'{name}' is not an input of the agent (its inputs: {', '.join(names)})")
            return None
        index = list(names).index(name)
        value = inputs[index]
        owner = value.owner
        if isinstance(value, BlockArgument) and owner is self.top:
            self.problem(loc, f"'{name}' is a workflow input, not an answer: a skip passing it on would count "
                         "it as the agent's answer; name a step's value")
        elif isinstance(owner, ForkOp) and absent_branch(value) is not None:
            self.problem(loc, f"'{name}' is an optional: absent branch and may produce no value; name a "
                         "proposal that always runs")
        return index

    def check_passing(self) -> None:
        """A value a skip passes on is no loop's verdict (known once the loop is built)."""
        for value, loc in self.passing:
            if is_verdict(value):
                self.problem(loc, "the input is a loop's verdict, not an answer; name the draft or "
                             "another step's answer")

    def sampling(self, spec: AgentSpec, loc: Loc) -> SamplingAttr | None:
        """The agent's sampling fields, each its own or else `defaults:`'s; None when none is set."""
        defaults = self.spec.defaults
        values = {f: v if (v := getattr(spec, f)) is not None else getattr(defaults, f) for f in SAMPLING_FIELDS}
        stop_loc = (*loc, "stop") if spec.stop is not None else ("defaults", "stop")
        if not self.unique(values["stop"], stop_loc, "a stop string") or all(v is None for v in values.values()):
            return None
        stop = values.pop("stop")
        return SamplingAttr.build(**values, stop=None if stop is None else ArrayAttr([StringAttr(t) for t in stop]))

    def resolve_inputs(
        self,
        spec: AgentSpec | ToolSpec,
        loc: Loc,
        scope: Scope,
        previous: SSAValue | None,
        extra: Sequence[SSAValue],
        extra_names: Sequence[str],
    ) -> tuple[list[SSAValue], list[str]] | None:
        """The agent's inputs and the names its prompt knows them by."""
        if spec.inputs is None:
            inputs = [previous] if previous is not None and not extra else []
            names = [_name_of(previous, scope)] if inputs else []
        else:
            names = list(spec.inputs)
            if not self.unique(names, (*loc, "inputs"), "an input of the agent"):
                return None
            inputs = []
            for index, name in enumerate(names):
                if name not in scope and name in self.shared_results:
                    self.problem((*loc, "inputs", index), f"'{name}' ends several branches of the fork at "
                                 f"{_fmt(self.shared_results[name])} (a shared agent), so no one value has its "
                                 "name; read the fork's value, or end the branches with different agents")
                    return None
                if name not in scope and name in self.absent_results:
                    self.problem((*loc, "inputs", index), f"'{name}' is an optional: absent branch of the fork at "
                                 f"{_fmt(self.absent_results[name])} and may produce no value; only the fork's "
                                 "vote or aggregator reads it")
                    return None
                if name not in scope:
                    visible = ", ".join(scope) or "none"
                    self.problem((*loc, "inputs", index), f"'{name}' is not a value in scope here (visible: {visible})")
                    return None
                inputs.append(scope[name])
        for field in spec.placeholders():
            if field not in names:
                hint = "" if field not in scope else " (add it to inputs)"
                self.problem((*loc, "prompt"), f"placeholder '{{{field}}}' names no input of the agent{hint}")
        names += list(extra_names)
        inputs = [*inputs, *extra]
        if not inputs:
            self.problem(loc, f"{'tool step' if isinstance(spec, ToolSpec) else 'agent'} has no inputs")
            return None
        return inputs, names

    # Structure blocks ------------------------------------------------------

    def fork(
        self, step: ForkStep, loc: Loc, block: Block, scope: Scope, previous: SSAValue | None
    ) -> tuple[SSAValue | None, str]:
        spec = step.fork
        if spec.samples is not None and len(spec.branches) != 1:
            self.problem((*loc, "samples"), "samples replicates a single branch; give one branch")
        self.unique(spec.samples, (*loc, "samples"))
        regions = []
        branch_names: list[str] = []
        values: list[SSAValue] = []
        absent: list[bool] = []  # per branch: a lone `optional: absent` agent, which may give no value
        for index, branch in enumerate(spec.branches):
            inner = Block()
            inner_scope = dict(scope)
            lone = branch[0] if len(branch) == 1 and isinstance(branch[0], str) else None
            agent = self.spec.agents.get(lone) if lone is not None else None
            absent.append(isinstance(agent, AgentSpec) and agent.optional == SKIP_ABSENT)
            if lone is not None:
                self.sole = (lone, spec.samples is not None)
            try:
                value = self.steps(branch, (*loc, "branches", index), inner, inner_scope)
            finally:
                self.sole = None
            if value is None:
                return None, spec.as_
            inner.add_op(YieldOp(value))
            regions.append(Region(inner))
            values.append(value)
            branch_names.append(_name_of(value, inner_scope))
        if all(absent) and spec.samples is None:
            self.problem((*loc, "branches"), "every branch is an agent with optional: absent; at least one "
                         "branch must always run (the vote or aggregator needs a proposal)")
            return None, spec.as_
        # a shared agent ending several branches: its proposals named by branch
        shared = [branch_names.count(n) > 1 and _site_of(v, n) for n, v in zip(branch_names, values, strict=True)]
        branch_names = [f"{n}[{i}]" if s else n for i, (n, s) in enumerate(zip(branch_names, shared, strict=True))]
        fork = ForkOp(regions, spec.samples, name=spec.as_)
        block.add_op(fork)
        results = list(fork.res)
        if spec.samples is None:
            self.name_results(loc, scope, results, branch_names, absent, shared)
        if spec.combine == "vote":
            combiner: Operation | None = VoteOp(results)
            block.add_op(combiner)
            return combiner.results[0], spec.as_
        value = self.agent(
            spec.combine, (*loc, "combine"), block, scope, previous, results, branch_names
        )
        return value, spec.as_

    def name_results(
        self, loc: Loc, scope: Scope, results: Sequence[SSAValue], names: Sequence[str], absent: Sequence[bool],
        shared: Sequence[bool],
    ) -> None:
        """Each branch's value enters the enclosing scope under its branch's
        name (its last step's), so any later agent can read one branch: a
        second mixture layer reading every first-layer proposal. A branch of
        an `optional: absent` agent alone may give no value, so it is not
        readable (`absent_results` says why when a later agent asks), nor is
        a shared agent's that ends several branches (`shared_results`)."""
        for index, (value, name, maybe_none, one_of) in enumerate(zip(results, names, absent, shared, strict=True)):
            if one_of:  # no one value has the agent's name
                self.shared_results[name.removesuffix(f"[{index}]")] = loc
                scope.pop(name.removesuffix(f"[{index}]"), None)
            elif maybe_none:
                self.absent_results[name] = (*loc, "branches", index)
            elif name in scope and not _same_agent(scope[name], value):
                self.problem((*loc, "branches", index), f"the branch's value '{name}' is already a value in this scope")
            else:
                scope[name] = value

    def switch(
        self, step: SwitchStep, loc: Loc, block: Block, scope: Scope
    ) -> tuple[SSAValue | None, str]:
        spec = step.switch
        route = scope.get(spec.route)
        if route is None:
            self.problem((*loc, "route"), f"'{spec.route}' is not a value in scope here")
            return None, spec.as_
        cases: dict[str, Region] = {}
        for label, branch in spec.cases.items():
            inner = Block()
            value = self.steps(branch, (*loc, "cases", label), inner, dict(scope))
            if value is None:
                return None, spec.as_
            inner.add_op(YieldOp(value))
            cases[label] = Region(inner)
        op = SwitchOp(route, cases, name=spec.as_)
        block.add_op(op)
        return op.res[0], spec.as_

    def loop(
        self, step: LoopStep, loc: Loc, block: Block, scope: Scope
    ) -> tuple[SSAValue | None, str]:
        spec = step.loop
        self.unique(spec.max_iters, (*loc, "max_iters"))
        if max(spec.max_iters) == 0:
            self.problem((*loc, "max_iters"), "every count is 0: the loop would never run its body; "
                         "drop the loop or allow a positive count")
        inits = []
        for name, initial in spec.carry.items():
            if initial not in scope:
                self.problem((*loc, "carry", name), f"'{initial}' is not a value in scope here")
                return None, spec.as_
            inits.append(scope[initial])
        if set(spec.next) != set(spec.carry):
            self.problem((*loc, "next"), f"next must give a value for each carried name ({', '.join(spec.carry)})")
            return None, spec.as_
        body = Block(arg_types=[msg] * len(inits))
        inner = dict(scope)
        for name, arg in zip(spec.carry, body.args, strict=True):
            inner[name] = arg
            arg.name_hint = _ssa_name(name)
        self.steps(spec.body, (*loc, "body"), body, inner)
        verdict = inner.get(spec.until)
        if verdict is None:
            self.problem((*loc, "until"), f"'{spec.until}' is not a value of the loop body")
            return None, spec.as_
        if not isinstance(verdict.owner, Operation) or verdict.owner.parent_block() is not body:
            # A verdict from outside would be the same in every iteration: the loop
            # would stop at once or never.
            self.problem((*loc, "until"), f"'{spec.until}' is not a value of the loop body: "
                         "the verdict must come from a step of the body")
            return None, spec.as_
        nexts = []
        for name in spec.carry:
            if spec.next[name] not in inner:
                self.problem((*loc, "next", name), f"'{spec.next[name]}' is not a value of the loop body")
                return None, spec.as_
            nexts.append(inner[spec.next[name]])
        body.add_op(UntilOp(verdict, *nexts))
        op = LoopOp(inits, spec.max_iters, Region(body), name=spec.as_)
        block.add_op(op)
        return op.res[0], spec.as_


def _site_of(value: SSAValue, name: str) -> bool:
    """Whether `value` is the output of a site of agent `name`."""
    return isinstance(value.owner, AgentOp) and value.owner.agent_name == name


def _agent_behind(value: SSAValue) -> AgentOp | None:
    """The agent site whose output `value` is, directly or as the result of
    the fork branch it ends."""
    owner = value.owner
    if isinstance(owner, ForkOp) and owner.samples is None and isinstance(value, OpResult):
        last = owner.branches[value.index].block.last_op
        return _agent_behind(last.operands[0]) if isinstance(last, YieldOp) else None
    return owner if isinstance(owner, AgentOp) else None


def _same_agent(bound: SSAValue, value: SSAValue) -> bool:
    """Whether two values are outputs of sites of one shared agent (the later
    site's value takes the name)."""
    a, b = _agent_behind(bound), _agent_behind(value)
    return a is not None and b is not None and a is not b and a.agent_name == b.agent_name


def _name_of(value: SSAValue | None, scope: Scope) -> str:
    """The spec name of a value (its last binding in scope), for prompt args."""
    names = [name for name, v in scope.items() if v is value]
    return names[-1] if names else "input"


def _fmt(loc: Loc) -> str:
    return format_loc(loc)


def _ssa_name(name: str) -> str:
    """A readable SSA name for a spec name (SSA names allow [A-Za-z0-9_$.-])."""
    return name if name[0].isalpha() or name[0] == "_" else f"v{name}"


def lower_spec(spec: WorkflowSpec, locator: Locator | None = None, file: str = "<spec>") -> ModuleOp:
    """Lower a spec into a module holding one `flow.workflow`; SpecError on problems."""
    lowering = _Lowering(spec, locator)
    workflow = lowering.workflow()
    if lowering.problems:
        raise SpecError(file, lowering.problems)
    module = ModuleOp([workflow])
    return module


def check_pool(
    spec: WorkflowSpec,
    locator: Locator | None,
    file: str,
    known: Sequence[str],
    backend: str = "sim",
) -> None:
    """SpecError at each pool entry an agent chooses that `backend` does not
    serve (`known`: its model names, matched case-insensitively as the sim
    does), so a bad name stops the compile before any call is made."""
    used = {
        m
        for agent in spec.agents.values()
        if isinstance(agent, AgentSpec)
        for m in (agent.models or spec.defaults.models or spec.models)
    }
    names = {name.lower() for name in known}
    problems = []
    for name in spec.models:
        if name in used and name.lower() not in names:
            line, col = locator.find(("models", name)) if locator else (None, None)
            problems.append(SpecProblem(
                ("models", name),
                f"'{name}' is not a model of the {backend} backend (its models: {', '.join(known)}); "
                f"rename the pool entry, or compile with another --backend",
                line, col,
            ))
    if problems:
        raise SpecError(file, problems)
