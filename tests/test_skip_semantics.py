"""What a skipped optional agent produces, at run time and in the proxy.

`optional = "pass"` passes the agent's one input on; `optional = "absent"`
leaves no value, and the vote or aggregator reading its fork branch combines
the proposals present. The executor and the proxy must agree on that:
- the executor makes no call for an absent proposer, leaves it out of the
  aggregator's prompt and out of the vote;
- on synthetic independent agents (a fake backend: proposers right w.p. p, an
  aggregator right w.p. a(j / k) with j of its k proposals right), the proxy's
  estimate of every skip pattern lies in a 99.9% confidence bound of what the
  real executor measures, where scoring the skip as a pass-through does not;
- on the math-like sim workflow of issue 14 (three proposers and an ensemble),
  skipping a proposer lowers the estimate as it lowers the measured accuracy.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects.builtin import FloatAttr, IntegerAttr, StringAttr, f64, i64

from flowcompile.backends.base import CallRequest, CallResult
from flowcompile.compiler import import_spec, parse, run_passes
from flowcompile.dialects.flow import ConfigAttr, WorkflowOp
from flowcompile.passes.proxy_model import build_model
from flowcompile.proxy import model as pm
from flowcompile.proxy.stats import acc_interval
from flowcompile.runtime import run_many, run_workflow, score
from flowcompile.runtime.assignment import reference_assignment
from flowcompile.sim import SimWorld, generate_dataset
from flowcompile.sim.backend import SimBackend
from flowcompile.sim.protocol import SIM_READER, find_query, find_tags, format_tag
from helpers.specs import TWO_MODELS

RIGHT = "right"
SKIP = StringAttr("skip")


def draw(*key: object) -> float:
    """A uniform number in [0, 1) fixed by `key` (calls replay exactly)."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class Synthetic:
    """Independent agents: proposer model `m` is right w.p. `p[m]`, else one of
    `values` wrong values; the aggregator (model "agg") is right w.p.
    `interp(j / k, levels)` with j of the k answers in its prompt right: the
    level curve measured with n proposals, piecewise linear in the share."""

    name = "synthetic"
    reader_for = staticmethod(lambda endpoints: SIM_READER)  # it answers in the sim's tags

    def __init__(
        self, p: dict[str, float], levels: list[float], values: int = 3, seed: int = 0,
        latency: dict[str, float] | None = None, cost: dict[str, float] | None = None,
    ) -> None:
        self.p, self.levels, self.values, self.seed = p, levels, values, seed
        self.latency, self.cost = latency or {}, cost or {}
        self.requests: list[CallRequest] = []

    async def call(self, request: CallRequest) -> CallResult:
        self.requests.append(request)
        prompt = request.messages[-1].content
        query = find_query(prompt) or "?"
        key = (self.seed, query, request.model, request.sample, request.messages[0].content)
        if request.model == "agg":
            answers = [t for t in find_tags(prompt) if t.kind == "answer"]
            share = sum(t.value == RIGHT for t in answers) / len(answers)
            chance = float(np.interp(share, np.linspace(0, 1, len(self.levels)), self.levels))
        else:
            chance = self.p[request.model]
        value = RIGHT if draw(*key, "right") < chance else f"w{int(draw(*key, 'wrong') * self.values)}"
        return CallResult(text=format_tag("answer", "solver", value), latency_s=self.latency.get(request.model, 1.0),
                          cost=self.cost.get(request.model, 0.0))


def profile(acc: float, levels: list[float] | None = None, lat: float = 1.0, cost: float = 0.0) -> str:
    curve = ""
    if levels is not None:
        curve = f", by_right = [{', '.join(map(repr, levels))}], by_right_n = [{', '.join(['100000'] * len(levels))}]"
    return f'profiles = {{"m@0" = #flow.profile<acc = {acc!r}, acc_n = 100000, lat = {lat!r}, cost = {cost!r}{curve}>}}'


def mixture_ir(
    ps: list[float], absent: list[bool], levels: list[float], combine: str = "aggregate",
    passes: int | None = None, lats: list[float] | None = None, costs: list[float] | None = None,
) -> str:
    """A fork of proposers (model m_i), some with optional = "absent", and an
    aggregator (model "agg") or a vote over them; with `passes`, an aggregator
    that may be switched off, passing proposal `passes` on (lats, costs: the
    proposers' and, last, the aggregator's)."""
    lats = lats or [1.0] * (len(ps) + 1)
    costs = costs or [0.0] * (len(ps) + 1)
    models = "".join(f', m{i} = #flow.model<provider = "openai/m{i}">' for i in range(len(ps)))
    branches, results = [], []
    for i, (p, skip) in enumerate(zip(ps, absent, strict=True)):
        optional = ', optional = "absent"' if skip else ""
        branches.append(
            f'{{\n    %p{i} = flow.agent @p{i}(%q) {{role = "proposer", models = ["m{i}"], budgets = [0]{optional}, '
            f'{profile(p, lat=lats[i], cost=costs[i]).replace("m@0", f"m{i}@0")}}}\n    flow.yield %p{i}\n  }}'
        )
        results.append(f"%r{i}")
    if combine == "vote":
        combiner = f'%out = flow.vote({", ".join(results)}) {{method = "majority"}}'
    else:
        skip = "" if passes is None else f', optional = "pass", passes = {passes + 1}'
        combiner = (
            f'%out = flow.agent @agg(%q, {", ".join(results)}) {{role = "aggregator", models = ["agg"], budgets = [0]{skip}, '
            f'{profile(levels[-1], levels, lat=lats[-1], cost=costs[-1]).replace("m@0", "agg@0")}}}'
        )
    return f"""
flow.workflow @mix(%q: !flow.msg) -> !flow.msg attributes {{pool = {{agg = #flow.model<provider = "openai/agg">{models}}}}} {{
  {", ".join(results)} = flow.fork @answer {" ".join(branches)}
  {combiner}
  flow.return %out
}}
"""


def workflow_of(module) -> WorkflowOp:
    return next(op for op in module.walk() if isinstance(op, WorkflowOp))


def queries(n: int, seed: int) -> list[dict[str, str]]:
    return [{"id": f"q{seed}-{i}", "input": f"[sim-query q{seed}-{i}] a question", "reference": RIGHT} for i in range(n)]


def backend_for_spec() -> Synthetic:
    """Every model of the MATH spec right, the aggregator by share."""
    return Synthetic({"qwen3-1.7b": 1.0, "qwen3-8b": 1.0}, [0.0, 1.0])


def test_an_absent_proposer_makes_no_call_and_is_left_out_of_its_readers(tmp_path: Path) -> None:
    ir = mixture_ir([0.5, 0.5, 0.5], [False, True, False], [0.0, 0.3, 0.6, 1.0])
    wf = workflow_of(parse(ir, "mix.mlir"))
    backend = Synthetic({"m0": 1.0, "m1": 1.0, "m2": 0.0}, [0.0, 0.5, 1.0])
    assign = {**reference_assignment(wf), "p1": SKIP}
    result = asyncio.run(run_workflow(wf, assign, backend, queries(1, 1)[0]))
    assert [c.agent for c in result.calls] == ["p0", "p2", "agg"]
    aggregate = result.calls[-1].messages[-1].content
    # two proposals in the prompt, not three (nor the query passed on as one)
    assert "p1" not in aggregate and len([t for t in find_tags(aggregate) if t.kind == "answer"]) == 2
    # the fork joins the branches that ran: 1 s, then the aggregator's 1 s
    assert result.latency == pytest.approx(2.0)
    # from a spec, the aggregator's template names the query; the branches
    # follow it by name, the absent one not at all
    spec = tmp_path / "mix.yaml"
    spec.write_text(MATH.replace("ensemble: {role: aggregator, inputs: [query]}",
                                 'ensemble: {role: aggregator, inputs: [query], prompt: "Pick the best.\\n{query}"}'))
    wf = workflow_of(import_spec(spec))
    assign = {**reference_assignment(wf), "detailed_solver": SKIP}
    result = asyncio.run(run_workflow(wf, assign, backend_for_spec(), queries(1, 2)[0]))
    prompt = result.calls[-1].messages[-1].content
    assert [c.agent for c in result.calls] == ["programmer", "generated_solver", "ensemble"]
    assert "programmer:" in prompt and "generated_solver:" in prompt and "detailed_solver" not in prompt
    # a vote over the same fork counts the present answers: p0 right, p2 wrong,
    # a tie the earliest input (p0) wins; with p1's right answer it would be 2 of 3
    wf = workflow_of(parse(mixture_ir([0.5, 0.5, 0.5], [False, True, False], [], combine="vote"), "vote.mlir"))
    result = asyncio.run(run_workflow(wf, {**reference_assignment(wf), "p1": SKIP}, backend, queries(1, 1)[0]))
    assert [c.agent for c in result.calls] == ["p0", "p2"] and RIGHT in (result.output or "")


def pass_through(root: pm.Node) -> pm.Node:
    """The same proxy graph scoring a skip as the old rule did: the skipped
    proposer's input (the query, always "right") passed on as its proposal."""
    for node in pm.walk(root):
        if isinstance(node, pm.Agent):
            node.absent = False
    return root


SETTINGS = [
    # (proposers' accuracies, which may be absent, the aggregator's level curve)
    ([0.4, 0.7, 0.55], [False, True, True], [0.05, 0.35, 0.7, 0.95]),
    ([0.8, 0.3, 0.6], [True, False, True], [0.1, 0.2, 0.8, 0.9]),
    ([0.5, 0.5, 0.9], [True, True, False], [0.0, 0.6, 0.7, 1.0]),
]


@pytest.mark.parametrize(("ps", "absent", "levels"), SETTINGS)
def test_the_proxy_scores_a_skipped_proposer_as_the_executor_runs_it(ps, absent, levels):
    """Every skip pattern of the optional proposers: the estimate (compose,
    then the proxy graph) lies in the 99.9% Wilson interval of 1000 executed
    queries; the pass-through rule leaves it for some pattern."""
    module = run_passes(parse(mixture_ir(ps, absent, levels), "mix.mlir"), "compose")
    wf = workflow_of(module)
    root, old = build_model(wf), pass_through(build_model(wf))
    backend = Synthetic({f"m{i}": p for i, p in enumerate(ps)}, levels, seed=int(sum(ps) * 100))
    data = queries(1000, int(levels[1] * 100))
    optional = [f"p{i}" for i, skip in enumerate(absent) if skip]
    old_rejected = False
    for skipped in [[], optional[:1], optional[1:], optional]:
        choice, (lo, hi) = assert_within_executor_bound(wf, root, backend, data, skipped)
        before = pm.evaluate(old, choice).acc
        old_rejected |= not lo <= before <= hi
    assert old_rejected



def assert_within_executor_bound(wf, root, backend, data, skipped: list[str]):
    """The estimate with the agents `skipped` lies in the 99.9 % interval of
    the executor's accuracy on `data`; returns the choice and the interval."""
    assign = {**reference_assignment(wf), **{name: SKIP for name in skipped}}
    choice = {v.key: (len(v) - 1 if v.key in skipped else 0) for v in pm.all_vars(root)}
    estimate = pm.evaluate(root, choice).acc
    runs = asyncio.run(run_many(wf, assign, backend, data, concurrency=64))
    right = sum(score(r, q) for r, q in zip(runs, data, strict=True))
    lo, hi = acc_interval(right, len(data), level=0.999)
    assert lo <= estimate <= hi, (skipped, estimate, right / len(data))
    return choice, (lo, hi)

def test_a_vote_over_absent_proposers_is_scored_as_the_executor_runs_it():
    """The vote counts the answers present (three wrong values: ties between
    wrong answers and with the right one), every skip pattern in the bound.
    The voters are alike: the rule takes a tie as a uniform pick, which the
    executor's earliest-input tie-break is for exchangeable voters."""
    ps, absent = [0.45, 0.45, 0.45, 0.45], [False, True, True, False]
    module = parse(mixture_ir(ps, absent, [], combine="vote"), "vote.mlir")
    wf = workflow_of(module)
    # the vote's parameter as compose would measure it: two wrong answers agree w.p. 1/3
    for agent in wf.agents:
        agent.attributes["wrong_agree"] = FloatAttr(1 / 3, f64)
        agent.attributes["wrong_agree_n"] = IntegerAttr(100000, i64)
    run_passes(module, "compose")
    root = build_model(wf)
    backend = Synthetic({f"m{i}": p for i, p in enumerate(ps)}, [0.0, 1.0], values=3, seed=5)
    data = queries(1000, 77)
    for skipped in [[], ["p1"], ["p2"], ["p1", "p2"]]:
        assert_within_executor_bound(wf, root, backend, data, skipped)


MATH = """
workflow: math
""" + TWO_MODELS + """defaults: {models: [qwen3-1.7b, qwen3-8b], budgets: [0, 1024]}
agents:
  programmer: {role: proposer, inputs: [query]}
  detailed_solver: {role: proposer, inputs: [query], optional: absent}
  generated_solver: {role: proposer, inputs: [query], optional: absent}
  ensemble: {role: aggregator, inputs: [query]}
steps:
  - fork:
      as: answer
      branches: [[programmer], [detailed_solver], [generated_solver]]
      combine: ensemble
"""


def test_skipping_a_proposer_of_the_math_shape_no_longer_raises_the_estimate(tmp_path: Path):
    """Issue 14's shape on the sim: cheap proposers and an 8b ensemble. Run
    all, the estimate is 0.76; skipping detailed_solver used to raise it to
    0.89 (the query passed on counted as a right proposal) while the executor
    measured less. Now it falls with the measured accuracy, and stays close."""
    spec = tmp_path / "math.yaml"
    spec.write_text(MATH)
    module = import_spec(spec)
    run_passes(module, "profile{samples=48 max-samples=0 cache=none},compose")
    wf = workflow_of(module)
    root, old = build_model(wf), pass_through(build_model(wf))
    data = generate_dataset(SimWorld(), 200, 1000)
    cheap, strong = ConfigAttr.of("qwen3-1.7b", 1024), ConfigAttr.of("qwen3-8b", 1024)
    results = {}
    for skipped in ([], ["detailed_solver"], ["detailed_solver", "generated_solver"]):
        assign = {a.agent_name: SKIP if a.agent_name in skipped else strong if a.agent_name == "ensemble" else cheap
                  for a in wf.agents}
        choice = {v.key: v.labels.index("skip" if v.key in skipped else assign[v.key]) for v in pm.all_vars(root)}
        runs = asyncio.run(run_many(wf, assign, SimBackend(), data, concurrency=16))
        measured = sum(score(r, q) for r, q in zip(runs, data, strict=True)) / len(data)
        results[len(skipped)] = (pm.evaluate(root, choice).acc, pm.evaluate(old, choice).acc, measured)
    (all_new, all_old, all_measured), (one_new, one_old, one_measured), (two_new, _, two_measured) = (
        results[0], results[1], results[2]
    )
    assert all_new == pytest.approx(all_old)  # nothing skipped: the rules agree
    assert one_old > all_old  # the bug: a skip raised the estimate
    assert one_measured < all_measured and two_measured < one_measured
    assert two_new < one_new < all_new
    for new, measured in ((all_new, all_measured), (one_new, one_measured), (two_new, two_measured)):
        assert abs(new - measured) < 0.1, results
    assert abs(one_old - one_measured) > 0.2


def test_skip_patterns_reach_the_frontier_of_the_math_shape(tmp_path: Path):
    """Enumerate on the math shape: its frontier holds points that skip a
    proposer and points that run all three (different structures), and the
    search equals brute force there."""
    from flowcompile.proxy.search import brute_force, by_key, frontier

    spec = tmp_path / "math.yaml"
    spec.write_text(MATH)
    module = import_spec(spec)
    run_passes(module, "profile{samples=24 max-samples=0 cache=none},compose")
    root = build_model(workflow_of(module))
    fast, slow = frontier(root), brute_force(root)
    assert set(by_key(fast)) == set(by_key(slow))
    skips = {tuple(sorted(k for k in ("detailed_solver", "generated_solver") if p.assignment[k] == 4)) for p in fast}
    assert () in skips and len(skips) >= 2, skips


def test_random_skip_patterns_are_consistent_with_the_executor_on_average():
    """Property over random settings: the mean error of the estimate against
    the executor, over random accuracies and curves and every skip pattern, is
    within sampling noise (no bias), where the pass-through rule's is not."""
    rng = random.Random(11)
    errors, old_errors = [], []
    for trial in range(4):
        ps = [round(rng.uniform(0.2, 0.9), 2) for _ in range(3)]
        levels = sorted(round(rng.uniform(0, 1), 2) for _ in range(4))
        absent = [False, True, True]
        module = run_passes(parse(mixture_ir(ps, absent, levels), "mix.mlir"), "compose")
        wf = workflow_of(module)
        root, old = build_model(wf), pass_through(build_model(wf))
        backend = Synthetic({f"m{i}": p for i, p in enumerate(ps)}, levels, seed=trial)
        data = queries(600, 100 + trial)
        for skipped in (["p1"], ["p2"], ["p1", "p2"]):
            assign = {**reference_assignment(wf), **{name: SKIP for name in skipped}}
            choice = {v.key: (len(v) - 1 if v.key in skipped else 0) for v in pm.all_vars(root)}
            runs = asyncio.run(run_many(wf, assign, backend, data, concurrency=64))
            measured = sum(score(r, q) for r, q in zip(runs, data, strict=True)) / len(data)
            errors.append(pm.evaluate(root, choice).acc - measured)
            old_errors.append(pm.evaluate(old, choice).acc - measured)
    # 12 patterns of 600 queries: the mean of the errors has sd <= 0.5 / sqrt(7200) ~ 0.006
    assert abs(float(np.mean(errors))) < 0.025, errors
    assert float(np.mean(old_errors)) > 0.05, old_errors


ENSEMBLE = dict(ps=[0.4, 0.75, 0.6], absent=[False, False, True], levels=[0.05, 0.4, 0.8, 0.95],
                lats=[1.0, 2.5, 4.0, 1.5], costs=[0.001, 0.002, 0.004, 0.003])


def test_a_switched_off_aggregator_passes_its_named_proposal_on():
    """optional = "pass", passes = 2 (proposal p1): skipped, the aggregator
    makes no call; the output is p1's answer, ready when the fork joins (the
    slowest branch that ran) and every branch that ran is paid for."""
    wf = workflow_of(parse(mixture_ir(**ENSEMBLE, passes=1), "ens.mlir"))
    backend = Synthetic({"m0": 0.0, "m1": 1.0, "m2": 0.0}, [0.0, 1.0],
                        latency={"m0": 1.0, "m1": 2.5, "m2": 4.0, "agg": 1.5},
                        cost={"m0": 0.001, "m1": 0.002, "m2": 0.004, "agg": 0.003})
    for skipped, latency, cost in ((["agg"], 4.0, 0.007), (["agg", "p2"], 2.5, 0.003)):
        assign = {**reference_assignment(wf), **{name: SKIP for name in skipped}}
        result = asyncio.run(run_workflow(wf, assign, backend, queries(1, 3)[0]))
        assert "agg" not in [c.agent for c in result.calls]
        assert RIGHT in (result.output or "")  # p1 is always right here, the others never
        assert result.latency == pytest.approx(latency)
        assert sum(c.result.cost for c in result.calls) == pytest.approx(cost)


@pytest.mark.parametrize("passes", [0, 1])
def test_the_proxy_scores_a_switched_off_aggregator_as_the_executor_runs_it(passes: int):
    """Every pattern of the aggregator's skip and the absent proposer's: the
    estimate lies in the 99.9% Wilson interval of 1000 executed queries, and
    its latency and cost are the executor's (deterministic here): a skip
    takes the passed proposal's accuracy, the fork's join time and the cost
    of the branches that ran, none of its own."""
    module = run_passes(parse(mixture_ir(**ENSEMBLE, passes=passes), "ens.mlir"), "compose")
    wf = workflow_of(module)
    root = build_model(wf)
    backend = Synthetic({f"m{i}": p for i, p in enumerate(ENSEMBLE["ps"])}, ENSEMBLE["levels"], seed=passes + 40,
                        latency={"m0": 1.0, "m1": 2.5, "m2": 4.0, "agg": 1.5},
                        cost={"m0": 0.001, "m1": 0.002, "m2": 0.004, "agg": 0.003})
    data = queries(1000, 90 + passes)
    seen = set()
    for skipped in ([], ["agg"], ["p2"], ["agg", "p2"]):
        choice, _ = assert_within_executor_bound(wf, root, backend, data, skipped)
        estimate = pm.evaluate(root, choice)
        assign = {**reference_assignment(wf), **{name: SKIP for name in skipped}}
        run = asyncio.run(run_workflow(wf, assign, backend, data[0]))
        assert estimate.t == pytest.approx(run.latency), skipped
        assert estimate.cost == pytest.approx(sum(c.result.cost for c in run.calls)), skipped
        if "agg" in skipped:
            assert estimate.acc == pytest.approx(ENSEMBLE["ps"][passes])
        seen.add((round(estimate.acc, 6), round(estimate.t, 6)))
    assert len(seen) == 4  # four structures, four different estimates


def test_an_ensemble_that_may_be_switched_off_puts_both_structures_on_the_frontier(tmp_path: Path):
    """From a spec: `optional: {pass: detailed_solver}` on the math shape's
    ensemble. The search equals brute force and its frontier holds points
    that run the ensemble and points that skip it."""
    from flowcompile.proxy.search import brute_force, by_key, frontier

    spec = tmp_path / "math.yaml"
    spec.write_text(MATH.replace("ensemble: {role: aggregator, inputs: [query]}",
                                 "ensemble: {role: aggregator, inputs: [query], optional: {pass: programmer}}"))
    module = import_spec(spec)
    (agent,) = [a for a in workflow_of(module).agents if a.agent_name == "ensemble"]
    assert agent.skip_mode == "pass" and agent.passed_index == 1  # inputs: query, then the branches
    run_passes(module, "profile{samples=24 max-samples=0 cache=none},compose")
    root = build_model(workflow_of(module))
    fast, slow = frontier(root), brute_force(root)
    assert set(by_key(fast)) == set(by_key(slow))
    skips = {p.assignment["ensemble"] == 4 for p in fast}
    assert skips == {True, False}, [p.assignment for p in fast]


SAMPLED_ENSEMBLE = f"""
flow.workflow @mix(%q: !flow.msg) -> !flow.msg attributes {{pool = {{agg = #flow.model<provider = "openai/agg">, m = #flow.model<provider = "openai/m">}}}} {{
  %r = flow.fork @answer attributes {{samples = [1, 3]}} {{
    %p = flow.agent @p(%q) {{role = "proposer", models = ["m"], budgets = [0], {profile(0.6, lat=1.0, cost=0.001)}}}
    flow.yield %p
  }}
  %out = flow.agent @agg(%q, %r) {{role = "aggregator", models = ["agg"], budgets = [0], optional = "pass", passes = 1, {profile(0.95, [0.05, 0.4, 0.8, 0.95], lat=1.5, cost=0.003).replace("m@0", "agg@0")}}}
  flow.return %out
}}
"""


def test_a_switched_off_aggregator_over_samples_passes_the_first_sample_on():
    """An ensemble over a fork with samples, switched off: the output is the
    first sample's answer alone (one answer, as the proxy scores it: the
    proposer's accuracy), ready when the fork joins, every sample paid for."""
    module = run_passes(parse(SAMPLED_ENSEMBLE, "sampled.mlir"), "compose")
    wf = workflow_of(module)
    root = build_model(wf)
    backend = Synthetic({"m": 0.6}, [0.0, 1.0], values=1000, latency={"m": 1.0, "agg": 1.5},
                        cost={"m": 0.001, "agg": 0.003})
    knob = next(v for v in pm.all_vars(root) if v.key != "p" and v.key != "agg")
    data = queries(400, 7)
    for samples in (1, 3):
        assign = {**reference_assignment(wf), "agg": SKIP, knob.key: IntegerAttr(samples, i64)}
        runs = asyncio.run(run_many(wf, assign, backend, data, concurrency=64))
        for run in runs[:20]:
            calls = [c for c in run.calls if c.agent == "p"]
            assert len(calls) == samples and "agg" not in [c.agent for c in run.calls]
            assert run.output == calls[0].result.text  # the first sample, alone
            assert sum(c.result.cost for c in run.calls) == pytest.approx(0.001 * samples)
        choice = {"p": 0, "agg": 1, knob.key: knob.labels.index(samples)}
        estimate = pm.evaluate(root, choice)
        assert estimate.acc == pytest.approx(0.6) and estimate.cost == pytest.approx(0.001 * samples)
        right = sum(score(r, q) for r, q in zip(runs, data, strict=True))
        lo, hi = acc_interval(right, len(data), level=0.999)
        assert lo <= estimate.acc <= hi, (samples, right / len(data))
    from flowcompile.proxy.search import brute_force, by_key, frontier

    assert set(by_key(frontier(root))) == set(by_key(brute_force(root)))
