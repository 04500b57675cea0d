"""The YAML workflow spec: schema validation, error paths, and lowering."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from flowcompile.diagnostics import verify_located
from flowcompile.dialects.flow import AgentOp, ForkOp, LoopOp, SwitchOp, VoteOp, WorkflowOp
from flowcompile.frontend.load import SpecError, format_loc, load_spec, load_spec_text
from flowcompile.frontend.lower import lower_spec

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

BASE = {
    "workflow": "w",
    "models": {"small": {"litellm": "openai/small"}, "big": {"litellm": "openai/big"}},
    "defaults": {"budgets": [0, 512]},
    "agents": {"solver": {"role": "solver"}},
    "steps": ["solver"],
}


def spec_text(**changes: object) -> str:
    return yaml.safe_dump({**BASE, **changes}, sort_keys=False)


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        spec, locator = load_spec_text(text, "wf.yaml")
        lower_spec(spec, locator, "wf.yaml")
    return [f"{format_loc(p.loc)}: {p.message}" for p in info.value.problems]


def lowered(text: str) -> WorkflowOp:
    spec, locator = load_spec_text(text, "wf.yaml")
    module = lower_spec(spec, locator)
    assert verify_located(module) is None
    (workflow,) = module.ops
    assert isinstance(workflow, WorkflowOp)
    return workflow


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_lowers_to_verified_ir(path: Path) -> None:
    spec, locator = load_spec(path)
    module = lower_spec(spec, locator, str(path))
    assert verify_located(module) is None
    (workflow,) = module.ops
    assert isinstance(workflow, WorkflowOp)
    assert workflow.sym_name.data == spec.workflow
    assert sorted(a.agent_name for a in workflow.agents) == sorted(spec.agents)


def test_defaults_fill_the_choice_space_and_the_pool_is_kept() -> None:
    workflow = lowered(spec_text())
    (agent,) = workflow.agents
    assert agent.model_names == ["small", "big"]
    assert agent.budget_values == [0, 512]
    assert [c.key for c in agent.candidates()] == ["small@0", "small@512", "big@0", "big@512"]
    assert workflow.model_pool()["big"].get("provider") == "openai/big"


def test_agent_inputs_default_to_the_previous_step() -> None:
    agents = {"a": {"role": "planner"}, "b": {"role": "solver"}}
    workflow = lowered(spec_text(agents=agents, steps=["a", "b"]))
    a, b = workflow.agents
    assert b.inputs[0] is a.output
    assert a.inputs[0] is workflow.body.block.args[0]


def test_structure_blocks_lower_to_their_ops() -> None:
    agents = {
        "r": {"role": "router"},
        "x": {"role": "solver", "inputs": ["query"]},
        "y": {"role": "solver", "inputs": ["query"]},
        "s": {"role": "solver", "inputs": ["query"]},
        "c": {"role": "critic", "inputs": ["d"]},
        "v": {"role": "reviser", "inputs": ["d", "c"]},
    }
    steps = [
        "r",
        {"switch": {"as": "routed", "route": "r", "cases": {"m": ["x"], "k": ["y"]}}},
        {"fork": {"as": "voted", "samples": [1, 3], "branches": [["s"]]}},
        {"loop": {"as": "out", "carry": {"d": "voted"}, "body": ["c", "v"],
                  "until": "c", "next": {"d": "v"}, "max_iters": [2]}},
    ]
    workflow = lowered(spec_text(agents=agents, steps=steps))
    ops = list(workflow.body.block.ops)
    kinds = [type(op) for op in ops]
    assert kinds[:5] == [AgentOp, SwitchOp, ForkOp, VoteOp, LoopOp]
    switch, fork, loop = ops[1], ops[2], ops[4]
    assert isinstance(switch, SwitchOp) and switch.label_names == ["m", "k"]
    assert isinstance(fork, ForkOp) and fork.samples is not None
    assert isinstance(loop, LoopOp) and loop.max_iter_values == [2]
    assert loop.init[0] is ops[3].results[0]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"models": {}}, "models: Dictionary should have at least 1 item"),
        ({"agents": {"solver": {"role": "solver", "budgets": [-1]}}},
         "agents.solver.budgets[0]: Input should be greater than or equal to 0"),
        ({"agents": {"solver": {"role": "solver", "recovery": 1.5}}},
         "agents.solver.recovery: Input should be less than or equal to 1"),
        ({"agents": {"solver": {"role": "solver", "models": ["huge"]}}},
         "agents.solver.models[0]: model 'huge' is not in the pool (small, big)"),
        ({"agents": {"solver": {"role": "solver", "budgets": [0, 0]}}},
         "agents.solver.budgets: duplicate choices"),
        ({"agents": {"solver": {"role": "solver", "prompt": "{nothing}"}}},
         "agents.solver.prompt: placeholder '{nothing}' names no input of the agent"),
        ({"agents": {"solver": {"role": "solver"}, "extra": {"role": "x"}}},
         "agents.extra: agent is defined but not used in steps"),
        ({"steps": ["ghost"]}, "steps[0]: unknown agent 'ghost' (agents: solver)"),
        ({"steps": [{"fork": {"as": "f", "branches": [["solver"]], "samples": [0]}}]},
         "steps[0].fork.samples[0]: Input should be greater than 0"),
        ({"steps": [{"fork": {"branches": [["solver"]]}}]},
         "steps[0].fork.as: required field is missing"),
        ({"steps": [{"parallel": {}}]}, "steps[0]: a step is an agent name or one of"),
        ({"output": "nowhere"}, "output: 'nowhere' is not a value of the workflow"),
        ({"colour": "blue"}, "colour: unknown field"),
    ],
)
def test_bad_specs_name_the_field_and_the_reason(changes: dict, expected: str) -> None:
    found = problems(spec_text(**changes))
    assert any(p.startswith(expected) for p in found), found


def test_errors_carry_the_yaml_line_of_the_field() -> None:
    text = "workflow: w\nmodels:\n  m: {litellm: x}\nagents:\n  a:\n    role: solver\n    budgets: [1, -2]\nsteps: [a]\n"
    with pytest.raises(SpecError) as info:
        load_spec_text(text, "wf.yaml")
    (problem,) = info.value.problems
    assert (problem.line, problem.col) == (7, 18)
    assert str(info.value).startswith("wf.yaml:7:18: error: agents.a.budgets[1]:")


def test_a_loop_must_carry_a_next_value_for_its_message() -> None:
    agents = {"c": {"role": "critic", "inputs": ["d"]}}
    steps = [{"loop": {"as": "o", "carry": {"d": "query"}, "body": ["c"], "until": "c",
                       "next": {"e": "c"}, "max_iters": [1]}}]
    assert any("next must give a value" in p for p in problems(spec_text(agents=agents, steps=steps)))


def test_values_inside_a_branch_are_not_visible_after_it() -> None:
    agents = {"s": {"role": "solver"}, "u": {"role": "checker"}, "t": {"role": "solver", "inputs": ["s"]}}
    steps = [{"fork": {"as": "f", "branches": [["s", "u"]]}}, "t"]
    found = problems(spec_text(agents=agents, steps=steps))
    assert any("'s' is not a value in scope here (visible: query, u, f)" in p for p in found), found


def test_a_branch_value_is_readable_by_its_name_after_the_fork() -> None:
    agents = {
        "a": {"role": "proposer", "inputs": ["query"]},
        "b": {"role": "proposer", "inputs": ["query"]},
        "t": {"role": "solver", "inputs": ["query", "b", "f"]},
    }
    steps = [{"fork": {"as": "f", "branches": [["a"], ["b"]]}}, "t"]
    workflow = lowered(spec_text(agents=agents, steps=steps))
    fork = next(op for op in workflow.walk() if isinstance(op, ForkOp))
    reader = next(op for op in workflow.walk() if isinstance(op, AgentOp) and op.agent_name == "t")
    assert list(reader.operands)[1] is fork.results[1]
    assert isinstance(list(reader.operands)[2].owner, VoteOp)


def test_a_sampled_branch_has_no_value_by_name() -> None:
    agents = {"s": {"role": "solver"}, "t": {"role": "solver", "inputs": ["s"]}}
    steps = [{"fork": {"as": "f", "samples": [1, 3], "branches": [["s"]]}}, "t"]
    assert any("'s' is not a value in scope here (visible: query, f)" in p
               for p in problems(spec_text(agents=agents, steps=steps)))


def test_two_branch_values_of_one_name_are_a_problem() -> None:
    agents = {"s": {"role": "solver"}, "t": {"role": "solver"}}
    inner = [[{"fork": {"as": "x", "branches": [["s"]]}}], [{"fork": {"as": "x", "branches": [["t"]]}}]]
    steps = [{"fork": {"as": "f", "branches": inner}}]
    found = problems(spec_text(agents=agents, steps=steps))
    assert "steps[0].fork.branches[1]: the branch's value 'x' is already a value in this scope" in found, found


def test_import_spec_keeps_the_location_translate_prints(tmp_path):
    from flowcompile.compiler import CompileError, import_spec
    from flowcompile.tools.translate import import_yaml

    path = tmp_path / "spec.yaml"
    text = "workflow: w\nmodels: {m: {litellm: x/m}}\nagents:\n  a: {role: solver, inputs: [query, nope]}\nsteps: [a]\n"
    path.write_text(text)
    with pytest.raises(CompileError) as error:
        import_spec(path)
    _, translated = import_yaml(text, str(path))
    assert str(error.value) == translated
    assert str(error.value).startswith(f"{path}:4:37: error: agents.a.inputs[1]: ")
    assert (error.value.diagnostic.line, error.value.diagnostic.col) == (4, 37)


def test_the_sim_pool_check_names_each_unknown_entry_at_its_line():
    from flowcompile.frontend.load import SpecError, load_spec_text
    from flowcompile.frontend.lower import check_pool

    text = ("workflow: w\nmodels:\n  qwen3-8b: {litellm: x/a}\n  big: {litellm: x/b}\n  unused: {litellm: x/c}\n"
            "agents:\n  a: {role: solver, models: [qwen3-8b, big]}\nsteps: [a]\n")
    spec, locator = load_spec_text(text, "s.yaml")
    check_pool(spec, locator, "s.yaml", ["QWEN3-8B", "Big"])  # case-insensitive, as the sim; unused: unchecked
    with pytest.raises(SpecError) as error:
        check_pool(spec, locator, "s.yaml", ["qwen3-8b"])
    assert [(p.loc, p.line, p.col) for p in error.value.problems] == [(("models", "big"), 4, 3)]


def test_api_key_env_lowers_into_the_pool_and_round_trips() -> None:
    from xdsl.context import Context
    from xdsl.parser import Parser

    from flowcompile.dialects.flow import Flow, ModelAttr

    models = {"local": {"litellm": "openai/local", "api_base": "http://127.0.0.1:9/v1", "api_key_env": "none"},
              "hosted": {"litellm": "openai/gpt-4o-mini", "api_key_env": "MY_OPENAI_KEY"},
              "plain": {"litellm": "openai/small"}}
    workflow = lowered(spec_text(models=models))
    pool = workflow.model_pool()
    assert [pool[m].get("api_key_env") for m in models] == ["none", "MY_OPENAI_KEY", None]
    printed = str(pool["hosted"])
    assert printed == '#flow.model<provider = "openai/gpt-4o-mini", api_key_env = "MY_OPENAI_KEY">'
    ctx = Context()
    ctx.load_dialect(Flow)
    assert Parser(ctx, printed).parse_attribute() == pool["hosted"]
    with pytest.raises(Exception, match="api_key_env must name an environment variable"):
        ModelAttr.build(provider="openai/x", api_key_env="sk-proj-0123456789abcdef")


def test_a_key_pasted_as_api_key_env_is_refused_without_being_repeated() -> None:
    key = "sk-proj-AbCdEf0123456789xyz"
    found = problems(spec_text(models={"m": {"litellm": "openai/m", "api_key_env": key}}))
    assert found and all(key not in p and "AbCdEf" not in p for p in found), found
    assert any("api_key_env" in p for p in found), found
