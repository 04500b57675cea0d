"""The configuration space of a workflow, as the peer benchmark sees it.

A configuration is a tuple of choice indices, one per decision variable (an
agent's candidates, plus "skip" for an optional agent; a structure knob's
values), in the order of `Space.keys`. `Space.assignment` turns it into the
runtime's assignment (agent -> #flow.config / "skip", knob -> integer), the same
dictionary a `#flow.point` carries, so every method is executed by the real
runtime.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from xdsl.dialects.builtin import IntegerAttr, StringAttr, i64
from xdsl.ir import Attribute

from flowcompile.dialects.flow import SKIP, ConfigAttr, WorkflowOp

Config = tuple[int, ...]


@dataclass(frozen=True)
class Space:
    """Decision variables of one workflow: `labels[i]` are the choices of `keys[i]`."""

    keys: tuple[str, ...]
    labels: tuple[tuple[Attribute, ...], ...]

    @staticmethod
    def of(workflow: WorkflowOp) -> Space:
        keys: list[str] = []
        labels: list[tuple[Attribute, ...]] = []
        for agent in workflow.agents:
            choices: list[Attribute] = list(agent.candidates())
            if agent.optional is not None:
                choices.append(StringAttr(SKIP))
            keys.append(agent.agent_name)
            labels.append(tuple(choices))
        for key, values in workflow.knobs().items():
            keys.append(key)
            labels.append(tuple(IntegerAttr(v, i64) for v in values))
        return Space(tuple(keys), tuple(labels))

    @property
    def size(self) -> int:
        return math.prod(len(c) for c in self.labels)

    @property
    def arity(self) -> tuple[int, ...]:
        return tuple(len(c) for c in self.labels)

    def all(self) -> Iterator[Config]:
        return itertools.product(*(range(len(c)) for c in self.labels))

    def assignment(self, config: Config) -> dict[str, Attribute]:
        return {key: self.labels[i][c] for i, (key, c) in enumerate(zip(self.keys, config, strict=True))}

    def config_of(self, assign: Mapping[str, Attribute]) -> Config:
        """The configuration of a runtime assignment (a point's `assign`)."""
        return tuple(self.labels[i].index(assign[key]) for i, key in enumerate(self.keys))

    def describe(self, config: Config) -> dict[str, str]:
        out = {}
        for key, label in self.assignment(config).items():
            if isinstance(label, ConfigAttr):
                out[key] = label.key
            elif isinstance(label, StringAttr):
                out[key] = label.data
            else:
                assert isinstance(label, IntegerAttr)
                out[key] = str(label.value.data)
        return out


# Heuristic configurations ------------------------------------------------------


def _agent_choice(space: Space, index: int, rank: str) -> int:
    """The cheapest, middle or strongest candidate of an agent variable.

    Candidates are models-major (weakest model first), budgets in declaration
    order; "strongest" is the last model at its largest budget."""
    choices = space.labels[index]
    configs = [(i, c) for i, c in enumerate(choices) if isinstance(c, ConfigAttr)]
    models = list(dict.fromkeys(c.model for _, c in configs))
    budgets = sorted({c.budget for _, c in configs})
    if rank == "cheapest":
        model, budget = models[0], budgets[0]
    elif rank == "strongest":
        model, budget = models[-1], budgets[-1]
    else:
        model, budget = models[(len(models) - 1) // 2], budgets[(len(budgets) - 1) // 2]
    return next(i for i, c in configs if c.model == model and c.budget == budget)


def heuristic(space: Space, workflow: WorkflowOp, rank: str, last: str | None = None) -> Config:
    """Every agent at `rank` (cheapest / middle / strongest), knobs likewise;
    with `last`, the workflow's last agent at that rank instead."""
    agents = [a.agent_name for a in workflow.agents]
    config = []
    for i, key in enumerate(space.keys):
        own = last if (last is not None and agents and key == agents[-1]) else rank
        if key in agents:
            config.append(_agent_choice(space, i, own))
        else:
            n = len(space.labels[i])
            config.append({"cheapest": 0, "strongest": n - 1}.get(own, (n - 1) // 2))
    return tuple(config)


def heuristics(space: Space, workflow: WorkflowOp) -> dict[str, Config]:
    return {
        "all-strongest": heuristic(space, workflow, "strongest"),
        "all-cheapest": heuristic(space, workflow, "cheapest"),
        "uniform-middle": heuristic(space, workflow, "middle"),
        "strongest-last": heuristic(space, workflow, "cheapest", last="strongest"),
    }


# Restricting a spec --------------------------------------------------------------


def _spread(values: Sequence, keep: int) -> list:
    """`keep` values spread over `values`: first, last and evenly between."""
    if len(values) <= keep:
        return list(values)
    picks = sorted({round(i * (len(values) - 1) / (keep - 1)) for i in range(keep)})
    return [values[i] for i in picks]


def restrict_spec(spec: Path, workflow: WorkflowOp, out: Path, models: int = 3, budgets: int = 2) -> Path:
    """A copy of the YAML spec where every agent offers `models` of its models
    (weakest, strongest, and evenly between) and `budgets` of its budgets
    (smallest and largest), so its space is small enough to measure whole.
    The strongest and cheapest configurations stay in the space."""
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    for agent in workflow.agents:
        entry = data["agents"][agent.agent_name]
        entry["models"] = _spread(agent.model_names, models)
        entry["budgets"] = _spread(sorted(agent.budget_values), budgets)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return out
