"""Tool steps in the spec: `agents:` entries with `tool:`, lowered to `flow.tool`."""

from __future__ import annotations

import pytest
import yaml

from flowcompile.diagnostics import verify_located
from flowcompile.dialects.flow import AgentOp, ToolOp, WorkflowOp
from flowcompile.frontend.load import SpecError, format_loc, load_spec_text
from flowcompile.frontend.lower import lower_spec

BASE = {
    "workflow": "w",
    "models": {"small": {"litellm": "openai/small"}},
    "agents": {"solver": {"role": "solver"}, "extract": {"tool": "extract_answer", "params": {"number": True}}},
    "steps": ["solver", "extract"],
}


def spec_text(extract: dict | None = None, **changes: object) -> str:
    spec = {**BASE, **changes}
    if extract is not None:
        spec["agents"] = {**BASE["agents"], "extract": extract}
    return yaml.safe_dump(spec, sort_keys=False)


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        spec, locator = load_spec_text(text, "wf.yaml")
        lower_spec(spec, locator, "wf.yaml")
    return [f"{format_loc(p.loc)}: {p.message}" for p in info.value.problems]


def test_a_tool_entry_lowers_to_flow_tool_reading_the_previous_step() -> None:
    spec, locator = load_spec_text(spec_text(), "wf.yaml")
    module = lower_spec(spec, locator)
    assert verify_located(module) is None
    (workflow,) = module.ops
    assert isinstance(workflow, WorkflowOp)
    solver, extract = workflow.agents
    assert isinstance(solver, AgentOp) and isinstance(extract, ToolOp)
    assert extract.tool_name == "extract_answer" and extract.param_values() == {"number": True}
    assert list(extract.inputs) == [solver.output]
    assert [c.key for c in extract.candidates()] == ["tool:extract_answer@0"]


@pytest.mark.parametrize("field", ["role", "models", "budgets", "prompt", "temperature", "optional"])
def test_agent_fields_on_a_tool_step_are_spec_errors(field: str) -> None:
    value = {"role": "x", "models": ["small"], "budgets": [0], "prompt": "p", "temperature": 0.5, "optional": True}[field]
    found = problems(spec_text({"tool": "extract_answer", "params": {"number": True}, field: value}))
    assert found == [f"agents.extract.{field}: a tool step has no {field}: it runs a registered tool in one "
                     "configuration (the fields of a tool step: tool, params, inputs)"]


def test_an_unknown_tool_is_a_spec_error_at_its_line() -> None:
    text = spec_text({"tool": "extract_answr"})
    with pytest.raises(SpecError) as info:
        spec, locator = load_spec_text(text, "wf.yaml")
        lower_spec(spec, locator, "wf.yaml")
    (problem,) = info.value.problems
    assert problem.message.startswith("unknown tool 'extract_answr' (known tools: code_test, extract_answer")
    assert format_loc(problem.loc) == "agents.extract.tool"
    assert problem.line == text.splitlines().index("    tool: extract_answr") + 1


def test_bad_params_are_spec_errors() -> None:
    assert problems(spec_text({"tool": "extract_answer", "params": {"pattern": "(a)(b)"}})) == [
        "agents.extract.params: tool extract_answer: pattern needs exactly one group, has 2"
    ]
    assert problems(spec_text({"tool": "code_test", "params": {"tests": ["assert x"]}})) == [
        "agents.extract.params: params.tests must be a string, a number or a boolean, not ['assert x']"
    ]


@pytest.mark.parametrize("entry", [{"role": "solver"}, {"tool": "extract_answer", "params": {"number": True}}])
def test_a_duplicate_input_is_a_spec_error_for_agents_and_tools(entry: dict) -> None:
    assert problems(spec_text({**entry, "inputs": ["query", "query"]})) == [
        "agents.extract.inputs[1]: 'query' is already an input of the agent"
    ]


def test_a_code_test_verdict_can_end_a_loop() -> None:
    text = spec_text(
        agents={
            "coder": {"role": "solver"},
            "test": {"tool": "code_test", "params": {"tests": "assert f(1) == 2"}},
            "fixer": {"role": "reviser", "inputs": ["query", "draft", "test"]},
        },
        steps=["coder", {"loop": {"as": "final", "carry": {"draft": "coder"}, "body": ["test", "fixer"],
                                  "until": "test", "next": {"draft": "fixer"}, "max_iters": [1, 2]}}],
    )
    spec, locator = load_spec_text(text, "wf.yaml")
    module = lower_spec(spec, locator)
    assert verify_located(module) is None
    tools = [op for op in module.walk() if isinstance(op, ToolOp)]
    assert [t.tool_name for t in tools] == ["code_test"]
