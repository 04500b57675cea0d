"""Spaces past every fixed-width integer: `enumerate` writes their exact size.

A chain of 30 agents of 6 candidates, one optional (a 7th choice), and a
replicated fork with a vote holds 6^29 * 7 * 6 * 3 configurations, past 2^64;
the space is written as an integer wide enough for it, prints and parses back
unchanged, and the search still runs (the chain's frontier is a few hundred
points, not its 10^23 configurations).
"""

from __future__ import annotations

import math
import random

import yaml
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, ModuleOp

from flowcompile.compiler import context, run_passes
from flowcompile.dialects.flow import AgentOp, ForkOp, ProfileAttr, WorkflowOp
from flowcompile.frontend.load import load_spec_text
from flowcompile.frontend.lower import lower_spec
from flowcompile.passes.enumerate import space_attr

MODELS = {name: {"litellm": f"openai/{name}"} for name in ("s", "m", "l")}


def wide_chain(rng: random.Random, length: int) -> ModuleOp:
    agents = {f"a{i}": {"role": "solver", "models": list(MODELS), "budgets": [0, 512]} for i in range(length)}
    for i in range(1, length):
        agents[f"a{i}"]["inputs"] = ["query", f"a{i - 1}"]
    agents[f"a{length - 1}"] = {**agents[f"a{length - 1}"], "inputs": [f"a{length - 2}"], "optional": True}
    agents["final"] = {"role": "solver", "models": list(MODELS), "budgets": [0, 512], "inputs": [f"a{length - 1}"]}
    steps: list = [f"a{i}" for i in range(length)]
    steps.append({"fork": {"as": "answers", "branches": [["final"]], "samples": [1, 3, 5]}})
    spec = {"workflow": "w", "models": MODELS, "agents": agents, "steps": steps, "output": "answers"}
    module = lower_spec(*load_spec_text(yaml.safe_dump(spec), "wide.yaml"))
    for op in module.walk():
        if isinstance(op, AgentOp):
            op.attributes["profiles"] = DictionaryAttr({
                c.key: ProfileAttr.build(
                    acc=round(rng.uniform(0.5, 1.0), 3), acc_n=40, lat=round(rng.uniform(0.1, 5.0), 2),
                    cost=round(rng.uniform(0, 0.001), 6),
                )
                for c in op.candidates()
            })
    return module


def expected_space(module: ModuleOp) -> int:
    """Every agent's candidates (and skipping, if optional) times every
    replicated fork's sample counts."""
    sizes = []
    for op in module.walk():
        if isinstance(op, AgentOp):
            sizes.append(len(op.candidates()) + (op.optional is not None))
        if isinstance(op, ForkOp) and op.samples is not None:
            sizes.append(len(list(op.samples.iter_values())))  # pyright: ignore[reportAttributeAccessIssue]
    return math.prod(sizes)


def test_a_space_past_2_64_is_written_exactly() -> None:
    module = run_passes(wide_chain(random.Random(0), 30), "compose,enumerate")
    expected = expected_space(module)
    assert expected >= 2**64
    (workflow,) = [op for op in module.walk() if isinstance(op, WorkflowOp)]
    space = workflow.attributes["space"]
    assert isinstance(space, IntegerAttr) and space.value.data == expected
    assert f"space = {expected} : i128" in str(module)
    from flowcompile.diagnostics import parse_located

    again = parse_located(context(), str(module), "<round trip>")
    (reparsed,) = [op for op in again.walk() if isinstance(op, WorkflowOp)]
    assert reparsed.attributes["space"] == space
    assert workflow.attributes["frontier"].data  # pyright: ignore[reportAttributeAccessIssue]


def test_space_widths() -> None:
    """i64 (printed bare in IR) while the size fits a signed 64-bit integer,
    then the next multiple of 64 bits: no size prints negative."""
    for size, width in ((0, 64), (2**63 - 1, 64), (2**63, 128), (2**127 - 1, 128), (2**127, 192), (24**64, 320)):
        attr = space_attr(size)
        assert attr.type.width.data == width and attr.value.data == size  # pyright: ignore[reportAttributeAccessIssue]
