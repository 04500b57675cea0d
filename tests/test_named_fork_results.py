"""A fork's branch values read by name: a two-layer mixture of agents, end to end.

Each second-layer proposer reads every first-layer proposal (issue 14, item 4);
the workflow compiles on the simulated backend, every agent is a decision
variable on the points, and a run of a point sends each first-layer answer to
the second-layer calls.
"""

from __future__ import annotations

from flowcompile import api
from helpers.specs import TWO_MODELS

SPEC = """\
workflow: moa2
""" + TWO_MODELS + """defaults: {models: [qwen3-1.7b, qwen3-8b], budgets: [0]}
agents:
  p1_a: {role: proposer, inputs: [query], prompt: "Answer.\\n{query}"}
  p1_b: {role: proposer, inputs: [query], prompt: "Answer another way.\\n{query}"}
  p2_a: {role: proposer, inputs: [query, p1_a, p1_b], prompt: "Improve.\\n{query}\\nA: {p1_a}\\nB: {p1_b}"}
  p2_b: {role: proposer, inputs: [query, p1_a, p1_b], prompt: "Improve again.\\n{query}\\nA: {p1_a}\\nB: {p1_b}"}
  final: {role: aggregator, inputs: [query], prompt: "Pick the best answer.\\n{query}"}
steps:
  - fork: {as: layer1, branches: [[p1_a], [p1_b]], combine: vote}
  - fork: {as: layer2, branches: [[p2_a], [p2_b]], combine: final}
"""


def test_a_two_layer_mixture_compiles_and_runs_with_every_proposal_read(tmp_path) -> None:
    workflow = api.parse_yaml(SPEC, "moa2.yaml")
    compiled = api.compile(workflow, api.CompileOptions(
        cache=str(tmp_path / "c.sqlite"), samples=8, max_samples=0, validate=False))
    points = compiled.points
    assert points
    agents = {"p1_a", "p1_b", "p2_a", "p2_b", "final"}
    assert all(agents <= set(p.assign) and agents == set(p.active) for p in points)
    result = api.run(compiled, points[-1], "What is 17 * 23?", samples=1)[0]
    assert result.error is None
    first = {c.agent: c.result.text for c in result.calls if c.agent in ("p1_a", "p1_b")}
    second = [c for c in result.calls if c.agent in ("p2_a", "p2_b")]
    assert set(first) == {"p1_a", "p1_b"} and len(second) == 2
    for call in second:
        assert all(text in call.messages[-1].content for text in first.values())
