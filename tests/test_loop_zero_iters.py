"""A refine loop whose max_iters may be 0: the draft as it is, a structure
choice enumerated like the others, on points, in the artifact and the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowcompile.artifact import from_config_set
from flowcompile.compiler import parse, run_passes
from flowcompile.dialects.flow import ConfigSetOp, WorkflowOp
from flowcompile.passes.proxy_model import build_model
from flowcompile.proxy import model as pm
from flowcompile.proxy.model import refine_loop
from flowcompile.proxy.search import brute_force, by_key, frontier
from flowcompile.report import frontier_table

IR = (Path(__file__).resolve().parent.parent / "lit_tests" / "proxy" / "loop-zero-iters.mlir").read_text()


def test_zero_rounds_is_the_first_draft() -> None:
    acc, lat, checks, revisions = refine_loop(0.6, 0.9, 0.5, 0.8, 0.2, 0.4, 1.0, 0)
    assert (float(acc), float(lat), float(checks), float(revisions)) == (0.6, 0.0, 0.0, 0.0)
    # and one round is the Markov chain's first step
    assert float(refine_loop(0.6, 0.9, 0.5, 0.8, 0.2, 0.4, 1.0, 1)[0]) == pytest.approx(0.748)


def test_zero_rounds_are_enumerated_and_recorded_on_points() -> None:
    module = run_passes(parse(IR.replace("max_iters = [0, 1]", "max_iters = [0, 1, 2]"), "loop.mlir"), "compose,pareto")
    wf = next(op for op in module.ops if isinstance(op, WorkflowOp))
    root = build_model(wf)
    assert set(by_key(frontier(root))) == set(by_key(brute_force(root)))
    (config_set,) = [op for op in module.ops if isinstance(op, ConfigSetOp)]
    rounds = [p.assign["final.max_iters"].value.data for p in config_set.points]  # pyright: ignore
    assert rounds[0] == 0 and any(r > 0 for r in rounds)
    # the fastest point is the draft alone: its accuracy and latency
    first = config_set.points.data[0]
    assert (first.get("acc"), first.get("lat")) == (0.6, 0.5)
    artifact = from_config_set(module)
    assert [p.assign["final.max_iters"] for p in artifact.points] == rounds
    table = frontier_table(config_set.points)
    assert "final.max_iters=0," in table and ": i64" not in table
    assert pm.Loop in {type(n) for n in pm.walk(root)}


def test_the_artifact_names_the_agents_each_point_runs() -> None:
    """`active`: a point of 0 rounds runs the drafter alone; one of more runs
    the loop's agents too."""
    module = run_passes(parse(IR, "loop.mlir"), "compose,pareto")
    wf = next(op for op in module.ops if isinstance(op, WorkflowOp))
    everyone = [a.agent_name for a in wf.agents]
    artifact = from_config_set(module)
    by_rounds = {p.assign["final.max_iters"]: p.active for p in artifact.points}
    outside = [a.agent_name for a in wf.agents if a.parent_op() is wf]
    assert by_rounds[0] == outside and len(outside) < len(everyone)
    assert by_rounds[1] == everyone


def test_a_skipped_agent_is_not_active() -> None:
    text = (Path(__file__).resolve().parent.parent / "lit_tests" / "proxy" / "skip-absent.mlir").read_text()
    module = run_passes(parse(text, "skip.mlir"), "compose,pareto")
    points = from_config_set(module).points
    skipped = [p for p in points if p.assign.get("p2") == "skip"]
    running = [p for p in points if p.assign.get("p2") != "skip"]
    assert skipped and running
    assert all("p2" not in p.active and "p1" in p.active for p in skipped)
    assert all("p2" in p.active for p in running)
