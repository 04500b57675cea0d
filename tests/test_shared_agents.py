"""Shared agents: one agent called at several sites with one configuration.

An agent named at several steps (fork branches, before and inside a block) is
one agent: every site is a `flow.agent` with its name and the same call, a
point gives it one configuration, the executor calls it with that at every
site, profiling measures it once (every site carries the same profiles), and
the search chooses one variable for all sites, exactly (brute force).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

from click.testing import CliRunner
from xdsl.dialects.builtin import IntegerAttr

from flowcompile import api
from flowcompile.backends.base import CallRequest
from flowcompile.compiler import import_spec, run_passes
from flowcompile.dialects.flow import AgentOp, ConfigAttr, WorkflowOp
from flowcompile.passes.proxy_model import build_model
from flowcompile.profiling.dataset import as_query
from flowcompile.profiling.profiler import profile_workflow
from flowcompile.proxy import model as pm
from flowcompile.proxy.search import brute_force, by_key, frontier
from flowcompile.runtime import REPLICA_STRIDE, run_workflow
from flowcompile.runtime.assignment import reference_assignment
from flowcompile.sim import SimWorld, generate_dataset
from flowcompile.sim.backend import SimBackend
from flowcompile.tools.cli import cli
from helpers.profiling import RecordingSim
from helpers.specs import TWO_MODELS

SPEC = """
workflow: shared
""" + TWO_MODELS + """defaults: {models: [qwen3-1.7b, qwen3-8b], budgets: [0, 1024]}
agents:
  planner: {role: planner, inputs: [query]}
  solver: {role: solver}
  ensemble: {role: aggregator, inputs: [query]}
steps:
  - fork:
      as: answer
      branches: [[solver], [planner, solver]]
      combine: ensemble
"""


def workflow(tmp_path: Path) -> WorkflowOp:
    spec = tmp_path / "shared.yaml"
    spec.write_text(SPEC)
    return next(op for op in import_spec(spec).walk() if isinstance(op, WorkflowOp))


def sites(wf: WorkflowOp, name: str) -> list[AgentOp]:
    return [op for op in wf.agents if isinstance(op, AgentOp) and op.agent_name == name]


def agent_of(request: CallRequest) -> str:
    return request.messages[0].content.split("'")[1]


def test_a_shared_agent_lowers_to_one_site_per_use(tmp_path: Path) -> None:
    wf = workflow(tmp_path)
    first, second = sites(wf, "solver")
    assert first.inputs[0].name_hint == "query" and second.inputs[0].owner is sites(wf, "planner")[0]
    # its two proposals are named by branch in the aggregator's prompt
    (ensemble,) = sites(wf, "ensemble")
    assert ensemble.arg_names == ["query", "solver[0]", "solver[1]"]


def test_every_site_runs_with_the_one_configuration(tmp_path: Path) -> None:
    wf = workflow(tmp_path)
    strong = ConfigAttr.of("qwen3-8b", 1024)
    assign = {**reference_assignment(wf), "solver": strong, "planner": ConfigAttr.of("qwen3-1.7b", 0)}
    query = generate_dataset(SimWorld(), 1, 5)[0]
    result = asyncio.run(run_workflow(wf, assign, SimBackend(), query))
    calls = [(c.agent, c.config) for c in result.calls]
    assert calls.count(("solver", strong.key)) == 2
    assert [a for a, _ in calls].count("solver") == 2


def test_a_shared_agent_is_profiled_once_and_searched_as_one_variable(tmp_path: Path) -> None:
    wf = workflow(tmp_path)
    module = wf.parent_op()
    assert module is not None
    run_passes(module, "profile{samples=16 max-samples=0 cache=none},compose")  # pyright: ignore[reportArgumentType]
    first, second = sites(wf, "solver")
    assert first.attributes["profiles"] == second.attributes["profiles"]
    root = build_model(wf)
    assert [v.key for v in pm.all_vars(root)].count("solver") == 1
    fast, slow = frontier(root), brute_force(root)
    assert set(by_key(fast)) == set(by_key(slow))
    assert len({p.assignment["solver"] for p in fast}) >= 2  # the choice matters on the frontier


def test_profiling_calls_a_shared_agent_once_per_config_and_recorded_input(tmp_path: Path) -> None:
    """Each candidate of the shared agent runs once on each of its recorded
    calls (both sites' calls of every reference run), not once per site."""
    wf = workflow(tmp_path)
    queries = [as_query(row) for row in generate_dataset(SimWorld(), 6, 0)]
    backend = RecordingSim()
    measured = asyncio.run(profile_workflow(wf, queries, backend))
    (solver, *_) = sites(wf, "solver")
    candidates = [c.key for c in solver.candidates()]
    assert len(candidates) == 4
    assert measured.reference_calls == 4 * len(queries)  # per query: solver twice, planner, ensemble
    for key in candidates:
        assert measured.calls_of["solver", key] == 2 * len(queries), key  # its calls at both sites
        assert measured.calls_of["planner", key] == len(queries), key
    solver_calls = Counter(r for r in backend.requests if agent_of(r) == "solver" and r.sample >= REPLICA_STRIDE)
    assert sum(solver_calls.values()) == 4 * 2 * len(queries) and set(solver_calls.values()) == {1}


def test_compile_writes_one_variable_and_a_run_calls_every_site(tmp_path: Path) -> None:
    """`flowcompile compile` on the spec: the space and every point have one
    `solver`, listed active once; running a point calls it at both sites with
    the point's configuration."""
    spec = tmp_path / "shared.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["compile", str(spec), "--samples", "16", "--max-samples", "0", "--no-validate", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    artifact = json.loads((out / "shared.artifact.json").read_text())
    assert artifact["points"] and all(sorted(p["assign"]) == ["ensemble", "planner", "solver"]
                                      for p in artifact["points"])
    assert all(p["active"] == ["solver", "planner", "ensemble"] for p in artifact["points"])
    compiled = api.load_ir(out / "shared.compiled.mlir")
    assert compiled.op.attributes["space"] == IntegerAttr(4**3, 64)  # three variables of 4 candidates
    chosen_at = set()
    for index, point in enumerate(compiled.config_points()):
        (run,) = api.run(compiled, index, "[sim-query q00001] Solve it.")
        chosen = point.assign["solver"]
        assert isinstance(chosen, ConfigAttr)
        assert [c.config for c in run.calls if c.agent == "solver"] == [chosen.key, chosen.key]
        chosen_at.add(chosen.key)
    assert len(chosen_at) >= 2  # the points differ in it


def test_an_agent_shared_by_two_forks_lowers_and_later_reads_take_the_last_site(tmp_path: Path) -> None:
    """A branch's value enters scope under its agent's name; another site of
    that agent (in a later fork, or a later step) takes the name over, as a
    second plain step does, rather than clashing with it."""
    spec = tmp_path / "two.yaml"
    spec.write_text(SPEC.split("agents:")[0] + """agents:
  a: {role: solver, inputs: [query]}
  b: {role: solver, inputs: [query]}
  ensemble: {role: aggregator, inputs: [query]}
  judge: {role: critic, inputs: [query, a]}
steps:
  - fork: {as: f1, branches: [[a], [b]], combine: ensemble}
  - fork: {as: f2, branches: [[a], [b]], combine: ensemble}
  - judge
""")
    wf = next(op for op in import_spec(spec).walk() if isinstance(op, WorkflowOp))
    assert [len(sites(wf, n)) for n in ("a", "b", "ensemble", "judge")] == [2, 2, 2, 1]
    (judge,) = sites(wf, "judge")
    first_fork, second_fork = (site.parent_op() for site in sites(wf, "a"))
    assert first_fork is not second_fork and judge.inputs[1].owner is second_fork
