"""Workflow configurations as the runtime takes them, and their validation.

An `Assignment` is the `assign` dictionary of a `#flow.point`: agent name ->
`#flow.config<model, budget>` (or `"skip"` for an optional agent), knob key
(`answer.samples`, `final.max_iters`) -> integer.

Convention: an agent's `models` are listed weakest to strongest (and its
`budgets` in any order), so the strongest configuration is the last model with
the largest budget. `reference_assignment` is that configuration everywhere,
the one profiling runs end to end.
"""

from __future__ import annotations

from collections.abc import Mapping

from xdsl.dialects.builtin import IntegerAttr, StringAttr, i64
from xdsl.ir import Attribute

from flowcompile.dialects.flow import SKIP, AgentOp, ConfigAttr, LoopOp, PointAttr, WorkflowOp

Assignment = Mapping[str, Attribute]
"""Agent name -> ConfigAttr or StringAttr("skip"); knob key -> IntegerAttr."""


def reference_config(agent: AgentOp) -> ConfigAttr:
    """The agent's strongest candidate: the last model of its list with its
    largest budget (what the reference run, and so every plan's judge, used)."""
    return ConfigAttr.of(agent.model_names[-1], max(agent.budgets_of(agent.model_names[-1])))


def reference_assignment(workflow: WorkflowOp) -> dict[str, Attribute]:
    """The strongest configuration: every agent on the last model of its list with
    its largest budget (the smallest of a model declared not to reason), optional
    agents run, every knob at its largest value."""
    assign: dict[str, Attribute] = {a.agent_name: reference_config(a) for a in workflow.agents}
    assign.update({key: IntegerAttr(max(values), i64) for key, values in workflow.knobs().items()})
    return assign


def cheapest_assignment(workflow: WorkflowOp) -> dict[str, Attribute]:
    """The weakest configuration: first model, smallest budget, optional agents
    skipped, every knob at its smallest value."""
    assign: dict[str, Attribute] = {}
    for a in workflow.agents:
        assign[a.agent_name] = (
            StringAttr(SKIP) if a.optional is not None else ConfigAttr.of(a.model_names[0], min(a.budget_values))
        )
    assign.update({key: IntegerAttr(min(values), i64) for key, values in workflow.knobs().items()})
    return assign


def assignment_from_point(point: PointAttr) -> dict[str, Attribute]:
    """The assignment of a `#flow.point`."""
    return dict(point.assign)


def validate_assignment(workflow: WorkflowOp, assignment: Assignment) -> None:
    """Raise ValueError (one line) unless `assignment` configures every agent and
    knob of `workflow` with one of its choices, and nothing else."""
    wf = f"@{workflow.sym_name.data}"
    agents: dict[str, AgentOp] = {a.agent_name: a for a in workflow.agents}
    knobs = workflow.knobs()
    for key, value in assignment.items():
        if key in knobs:
            if not isinstance(value, IntegerAttr):
                raise ValueError(f"{wf}: knob '{key}' must be an integer, got {value}")
            if value.value.data not in knobs[key]:
                raise ValueError(
                    f"{wf}: {key} = {value.value.data} is not one of its choices {knobs[key]}"
                )
            continue
        agent = agents.get(key)
        if agent is None:
            raise ValueError(f"{wf}: the assignment names '{key}', which is no agent or knob of the workflow")
        if isinstance(value, StringAttr) and value.data == SKIP:
            if agent.optional is None:
                raise ValueError(f"{wf}: @{key} is assigned \"skip\" but is not optional")
            continue
        if not isinstance(value, ConfigAttr):
            raise ValueError(f"{wf}: @{key} must be assigned a #flow.config or \"skip\", got {value}")
        # compare the fields, not `agent.candidates()`: building every candidate
        # attribute cost ~2.5 ms per call, paid on each run of a dataset
        if value.model not in agent.model_names or value.budget not in agent.budgets_of(value.model):
            raise ValueError(
                f"{wf}: {value.key} is not a candidate of @{key} (models {agent.model_names}, "
                f"budgets {agent.budgets_of(value.model)} for {value.model})"
            )
    missing = [name for name in agents if name not in assignment]
    missing += [key for key in knobs if key not in assignment]
    if missing:
        raise ValueError(f"{wf}: the assignment sets nothing for {', '.join(missing)}")


def knob_value(assignment: Assignment, key: str) -> int:
    """The integer value of a (validated) knob."""
    value = assignment[key]
    assert isinstance(value, IntegerAttr)
    return value.value.data


def active_agents(workflow: WorkflowOp, assignment: Assignment) -> list[str]:
    """The agents that may make calls under `assignment`, in walk order: all
    but those assigned "skip" and those inside a loop assigned 0 iterations
    (an agent in a switch case is active: whether it runs depends on the
    query); a shared agent once, if any of its sites may run."""
    active = []
    for agent in workflow.agents:
        if isinstance(assignment.get(agent.agent_name), StringAttr):
            continue
        op = agent.parent_op()
        idle = False
        while op is not None and op is not workflow:
            if isinstance(op, LoopOp) and (key := op.knob_key) and key in assignment and knob_value(assignment, key) == 0:
                idle = True
            op = op.parent_op()
        if not idle and agent.agent_name not in active:
            active.append(agent.agent_name)
    return active
