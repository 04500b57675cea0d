"""The paper's three workflows (examples/paper/) and the sim tasks behind them."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowcompile import api
from flowcompile.backends.base import CallRequest
from flowcompile.dialects.flow import ForkOp
from flowcompile.sim.protocol import SIM_READER
from flowcompile.sim import SimWorld, WorldError, build_messages, correlated_world_path, default_world_path, parse_world
from flowcompile.sim.engine import generate_dataset
from flowcompile.steps import tool_named
from flowcompile.tools.cli import cli

ROOT = Path(__file__).resolve().parent.parent
PAPER = ROOT / "examples" / "paper"
EXAMPLES = ("math", "hotpotqa", "code")
GRID = [10, 200, 400, 800, 1000, 1500, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 12000, 16000]
"""The paper's budget grid for math and code (thinking tokens)."""
TASK_ROLE = {"math": "generator", "hotpotqa": "qa", "code": "coder"}
WORLDS = (default_world_path(), correlated_world_path())
ON_AND_OFF = {
    "math": ("ensemble", "generate_solver", "refine_solver", "detailed_solver"),
    "hotpotqa": ("ensemble", "best.samples"),
    "code": ("ensemble", "best.samples", "final.max_iters"),
}
"""Per example, the structure choices its small compile's Pareto set holds both
ways: an agent skipped and run, a knob at its least and above it."""


def _call(sim: SimWorld, role: str, model: str, query: str, budget: int, upstream: tuple[str, ...] = ()):
    return sim.trace(CallRequest(model=model, messages=build_messages(role, "a", query, upstream), budget=budget))


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_example_lowers_and_its_dataset_is_the_sim_tasks(name: str) -> None:
    workflow = api.load_yaml(PAPER / f"{name}.yaml")
    assert workflow.name == f"paper_{name}"
    rows = [json.loads(line) for line in (PAPER / "data" / f"{name}.jsonl").read_text().splitlines()]
    # the committed set is what `flowcompile sim-dataset --task NAME --samples 400` writes
    assert rows == generate_dataset(None, 400, 0, name)
    assert all(r["id"].startswith(f"{name}-") and f"[sim-query {r['id']}]" in r["input"] for r in rows)


@pytest.mark.parametrize("name", EXAMPLES)
def test_a_small_compile_has_several_structures(name: str, tmp_path: Path) -> None:
    workflow = api.load_yaml(PAPER / f"{name}.yaml")
    compiled = api.compile(
        workflow, dataset=str(PAPER / "data" / f"{name}.jsonl"), samples=12, max_samples=0, validate=False,
        cache=str(tmp_path / "cache.sqlite"),
    )
    points = compiled.points
    structures = {
        (tuple(p.active), tuple(sorted((k, v) for k, v in p.assign.items() if isinstance(v, int))))
        for p in points
    }
    assert len(points) > 1 and len(structures) > 1, structures
    accs = [p.acc for p in points]
    assert max(accs) - min(accs) > 0.1
    for choice in ON_AND_OFF[name]:
        values = [p.assign[choice] for p in points]
        least = min(values) if all(isinstance(v, int) for v in values) else "skip"  # pyright: ignore[reportArgumentType]
        off = [v for v in values if v == least]
        assert off and len(off) < len(values), (choice, values)


def test_math_shares_its_generated_solver_and_can_switch_its_ensemble_off() -> None:
    """One generate_solver in two branches (one variable), the refine step on
    the problem and the programmer's answer, the ensemble passing the
    programmer's branch on when off."""
    workflow = api.load_yaml(PAPER / "math.yaml").op
    sites = [a for a in workflow.agents if a.agent_name == "generate_solver"]
    assert len(sites) == 2 and all(isinstance(a.parent_op(), ForkOp) for a in sites)
    assert [a.agent_name for a in workflow.distinct_agents()] == [
        "programmer", "refine_solver", "detailed_solver", "generate_solver", "ensemble", "extract"]
    by_name = {a.agent_name: a for a in workflow.agents}
    refine, ensemble = by_name["refine_solver"], by_name["ensemble"]
    assert refine.passes is not None and ensemble.passes is not None
    assert refine.arg_names == ["query", "programmer"]
    assert refine.inputs[refine.passes.value.data].owner is by_name["programmer"]
    passed = ensemble.passes.value.data
    assert isinstance(ensemble.inputs[passed].owner, ForkOp) and ensemble.arg_names[passed] == "refine_solver"
    assert ensemble.arg_names[-2:] == ["generate_solver[2]", "generate_solver[3]"]


@pytest.mark.parametrize("world", WORLDS, ids=["default", "correlated"])
@pytest.mark.parametrize("task", sorted(TASK_ROLE))
def test_the_budget_grid_is_monotone_and_nothing_degenerates(world: Path, task: str) -> None:
    sim = SimWorld(world)
    rows = generate_dataset(sim, 120, 0, task)
    role = TASK_ROLE[task]
    for model in ("qwen3-1.7b", "qwen3-8b", "qwen3-32b"):
        acc, lat = [], []
        for budget in GRID:
            traces = [_call(sim, role, model, r["input"], budget) for r in rows]
            acc.append(statistics.mean(t.p_success for t in traces))
            lat.append(statistics.mean(t.result.latency_s for t in traces))
        assert all(a < b for a, b in zip(acc, acc[1:])), (model, acc)
        assert all(a < b for a, b in zip(lat, lat[1:])), (model, lat)
        assert 0.15 < acc[0] and acc[-1] < 0.95 and lat[0] > 0.2, (model, acc, lat)
        # diminishing returns: the first 4000 tokens buy more than the last 8000
        assert acc[GRID.index(4000)] - acc[0] > acc[-1] - acc[GRID.index(8000)] > 0


def test_recovery_slope_makes_a_repairers_budget_count() -> None:
    sim = SimWorld()
    rows = generate_dataset(sim, 200, 0, "code")
    wrong = [
        "```python\nx\n```\n<<answer:coder:" + sim.distractors(r["id"], "answer")[0] + ">>" for r in rows
    ]
    rates = [
        statistics.mean(_call(sim, "repairer", "qwen3-8b", r["input"], b, (w,)).p_success for r, w in zip(rows, wrong))
        for b in (10, 16000)
    ]
    assert sim.world.role("repairer").recovery_slope > 0 and rates[0] < rates[1]
    # a slope of 0 (every old role) keeps the flat recovery rate
    assert {_call(sim, "reviser", "qwen3-8b", rows[0]["input"], b, (w,)).p_success for b, w in
            ((10, wrong[0]), (16000, wrong[0]))} == {sim.world.role("reviser").recovery}


def test_math_answers_are_numbers_extract_answer_reads() -> None:
    sim = SimWorld()
    extract = tool_named("extract_answer")
    for row in generate_dataset(sim, 50, 0, "math"):
        assert row["reference"].isdigit()
        text = _call(sim, "generator", "qwen3-32b", row["input"], 4000).result.text
        got = extract.run([text], {"number": True}).text
        assert got.startswith("Answer: ") and got[len("Answer: "):] == SIM_READER.answer_key(text)
        wrong = sim.distractors(row["id"], "answer")
        assert row["reference"] not in wrong and all(w.lstrip("-").isdigit() for w in wrong)


def test_hotpotqa_answers_are_short_entities_or_yes_no() -> None:
    sim = SimWorld()
    refs = [r["reference"] for r in generate_dataset(sim, 300, 0, "hotpotqa")]
    yes_no = sum(r in ("yes", "no") for r in refs)
    assert 0.1 < yes_no / len(refs) < 0.3
    assert all(r.isalpha() and len(r) <= 12 for r in refs)
    assert sim.distractors("hotpotqa-00000", "answer") != []


def test_code_programs_pass_the_examples_tests_exactly_when_right_or_a_bug_slips_past() -> None:
    sim = SimWorld()
    test = tool_named("code_test")
    spec = api.load_yaml(PAPER / "code.yaml").spec
    assert spec is not None
    tests = spec[0].agents["test"].params["tests"]
    verdicts = {True: [], False: []}
    for row in generate_dataset(sim, 24, 0, "code"):
        trace = _call(sim, "coder", "qwen3-8b", row["input"], 1000)
        verdicts[trace.correct].append(test.run([trace.result.text], {"tests": tests}).text)
    assert verdicts[True] and all(v == "approve" for v in verdicts[True])
    # the public tests catch most wrong programs, not all (hidden tests would)
    caught = sum(v.startswith("reject") for v in verdicts[False])
    assert 0 < caught < len(verdicts[False])


def test_a_task_needs_its_program_and_a_plain_name() -> None:
    base = {"models": [{"name": "m", "capability": 0, "ttft_s": 0.1, "decode_tok_per_s": 50, "price_in": 0,
                        "price_out": 0}]}
    with pytest.raises(WorldError, match=r"tasks\.code: .*program is required"):
        parse_world({**base, "tasks": {"code": {"answer": "program"}}})
    with pytest.raises(WorldError, match=r"tasks\.code\.program\.bugs: entry 0: not Python"):
        parse_world({**base, "tasks": {"code": {"answer": "program", "program": {
            "solution": "def solve(xs): return xs", "bugs": ["def solve(:"]}}}})
    with pytest.raises(WorldError, match="tasks: .*must be lowercase letters"):
        parse_world({**base, "tasks": {"q": {"answer": "number"}}})
    # ids outside a task draw as before
    assert parse_world({**base, "tasks": {"math": {"answer": "number"}}}).task_of("q00001") is None


def test_sim_dataset_task_option(tmp_path: Path) -> None:
    out = tmp_path / "d.jsonl"
    result = CliRunner().invoke(cli, ["sim-dataset", "--task", "math", "--samples", "3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["math-00000", "math-00001",
                                                                                  "math-00002"]
    bad = CliRunner().invoke(cli, ["sim-dataset", "--task", "chess", "-o", str(out)])
    assert bad.exit_code == 1 and "--task: error: " in bad.output and "has no task 'chess'" in bad.output
    assert "Traceback" not in bad.output
