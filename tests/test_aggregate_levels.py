"""Aggregators as a function of how many proposals are right.

Profiling rewrites each aggregator's recorded inputs to every level j of right
proposals (checked here against the simulator's own notion of a right answer),
states the extra calls in the dry run and the summary, and the proxy's level
rule is checked against the real executor on the mixture example.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

import pytest

from flowcompile.backends.base import CallRequest
from flowcompile.compiler import import_spec, run_passes
from flowcompile.dialects.flow import ConfigAttr, EstimateAttr, ProfileAttr, WorkflowOp
from flowcompile.passes.proxy_model import assignment_of, build_model
from flowcompile.profiling.dataset import as_query
from flowcompile.profiling.profiler import profile_workflow
from flowcompile.profiling.shape import estimate_aggregate_calls
from flowcompile.proxy import model as pm
from flowcompile.runtime import REPLICA_STRIDE, run_many, score
from flowcompile.sim import SimWorld, generate_dataset
from flowcompile.sim.backend import SimBackend
from flowcompile.sim.protocol import find_query, find_tags
from helpers.profiling import RecordingSim
from helpers.specs import TWO_MODELS

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"



def workflow(module) -> WorkflowOp:
    return next(op for op in module.walk() if isinstance(op, WorkflowOp))


def agent_of(request: CallRequest) -> str:
    return request.messages[0].content.split("'")[1]


@pytest.mark.parametrize("spec", ["mixture", "sampled"])
def test_level_inputs_have_exactly_j_right_proposals(spec, tmp_path):
    """Every aggregator call after the reference runs is counted at the level
    of right proposals its input really has (by the sim's right answer), and
    those counts are the profile's `by_right_n`."""
    if spec == "sampled":
        path = tmp_path / "sampled.yaml"
        path.write_text(SAMPLED)
    else:
        path = EXAMPLES / "mixture.yaml"
    wf = workflow(import_spec(path))
    queries = [as_query(row) for row in generate_dataset(SimWorld(), 8, 0)]
    backend = RecordingSim()
    measured = asyncio.run(profile_workflow(wf, queries, backend))
    world = backend.sim
    seen: dict[str, Counter[int]] = {}
    for request in backend.requests:
        if agent_of(request) != "aggregator" or request.sample < REPLICA_STRIDE:
            continue  # reference-run calls
        query = find_query(request.messages[-1].content)
        assert query is not None
        right = sum(world.tag_ok(query, t) for t in find_tags(request.messages[-1].content) if t.kind == "answer")
        seen.setdefault(f"{request.model}@{request.budget}", Counter())[right] += 1
    (aggregator,) = [a for a in wf.agents if a.agent_name == "aggregator"]
    n = 3
    assert measured.aggregate_calls > 0
    assert measured.aggregate_calls <= estimate_aggregate_calls(wf, len(queries))
    for config in aggregator.candidates():
        stats = measured.agents["aggregator"][config.key]
        assert stats.level_n is not None and len(stats.level_n) == n + 1
        assert list(stats.level_n) == [seen[config.key][j] for j in range(n + 1)]
        # every level is measured on (nearly) every accepted query
        assert min(stats.level_n) >= measured.accepted - 1
    # agents that read no fork have no levels
    assert all(s.level_n is None for name, t in measured.agents.items() if name != "aggregator" for s in t.values())


SAMPLED = """
workflow: sampled
""" + TWO_MODELS + """defaults:
  models: [qwen3-1.7b, qwen3-8b]
  budgets: [0, 1024]
agents:
  solver:
    role: proposer
    prompt: "Solve.\\n{query}"
  aggregator:
    role: aggregator
    inputs: [query]
steps:
  - fork:
      as: answer
      samples: [1, 3]
      branches: [[solver]]
      combine: aggregator
"""


def test_profile_writes_levels_and_states_their_calls(capsys):
    from flowcompile.tools import opt

    source = EXAMPLES / "mixture.mlir"
    assert opt.run([str(source), "-p", "profile{samples=8 max-samples=0 cache=none dry-run=true}"]) == 0
    _, err = capsys.readouterr()
    bound = estimate_aggregate_calls(workflow(import_spec(EXAMPLES / "mixture.yaml")), 8)
    assert bound == 3 * 8 * 6  # three proposals x queries x the aggregator's six candidates
    assert f"+ {bound} aggregate-level)" in err
    assert opt.run([str(source), "-p", "profile{samples=8 max-samples=0 cache=none}"]) == 0
    out, err = capsys.readouterr()
    assert re.search(r"\d+ aggregate-level calls[;)]", err.splitlines()[-1])
    assert "by_right = [" in out and "by_right_n = [" in out


def old_rule(root: pm.Node) -> pm.Node:
    """The same proxy graph with the aggregators' level curves dropped: the
    rule before levels were measured (p_c times P(some proposal right))."""
    for node in pm.walk(root):
        if isinstance(node, pm.Agent):
            node.by_right = ()
    return root


def test_levels_bring_a_cheap_proposers_estimate_closer_to_the_executor():
    """Cheap proposers (qwen3-1.7b@1024) with a reasoning aggregator
    (qwen3-8b@4096): the level rule's estimate is closer to the accuracy the
    executor measures on 150 held-out queries than the older rule's (which
    counted any one right proposal as good as three)."""
    module = import_spec(EXAMPLES / "mixture.yaml")
    run_passes(module, "profile{samples=48 max-samples=0 cache=none},compose,enumerate")
    wf = workflow(module)
    (aggregator,) = [a for a in wf.agents if a.agent_name == "aggregator"]
    assert all(p is not None and p.get("by_right") for p in aggregator.per_candidate("profiles", ProfileAttr))
    curves = [e.get("by_right") for e in aggregator.per_candidate("estimates", EstimateAttr)]  # pyright: ignore
    assert all(c is not None and list(c) == sorted(c) for c in curves)  # pyright: ignore

    assign = {
        a.agent_name: ConfigAttr.of("qwen3-8b", 4096) if a.agent_name == "aggregator" else ConfigAttr.of("qwen3-1.7b", 1024)
        for a in wf.agents
    }
    queries = generate_dataset(SimWorld(), 150, 1000)
    runs = asyncio.run(run_many(wf, assign, SimBackend(), queries, concurrency=16))
    measured = sum(score(r, q) for r, q in zip(runs, queries, strict=True)) / len(queries)

    new = build_model(wf)
    old = old_rule(build_model(wf))
    variables = pm.all_vars(new)
    choice = {v.key: v.labels.index(assign[v.key]) for v in variables}
    estimate_new, estimate_old = pm.evaluate(new, choice).acc, pm.evaluate(old, choice).acc
    assert abs(estimate_new - measured) < abs(estimate_old - measured), (estimate_new, estimate_old, measured)
    # enumerate ranked by the level rule: its points are the new rule's estimates
    for point in wf.attributes["frontier"].data:  # pyright: ignore[reportAttributeAccessIssue]
        assert point.get("acc") == pytest.approx(pm.evaluate(new, assignment_of(new, point)).acc, abs=1e-6)
