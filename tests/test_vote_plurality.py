"""The vote rule against the executor: `flow.vote` takes the most common answer.

Synthetic independent agents (a fake backend: every call right w.p. p, else
one of D wrong values uniformly) run through the real executor on a
self-consistency workflow with 1, 2, 3 and 5 samples; the proxy's estimate,
through compose and the proxy graph, must lie inside a binomial confidence
bound of the measured accuracy, ties included. Profiling must measure how often
two wrong answers agree (1/D here).
"""

from __future__ import annotations

import asyncio
import hashlib
import math

import pytest
from xdsl.dialects.builtin import FloatAttr, IntegerAttr, StringAttr, i64

import flowcompile.backends as backends
from flowcompile.backends.base import CallRequest, CallResult, Message
from flowcompile.compiler import parse, run_passes
from flowcompile.dialects.flow import ConfigAttr, VoteOp, WorkflowOp
from flowcompile.passes.proxy_model import build_model
from flowcompile.profiling.dataset import as_query
from flowcompile.profiling.profiler import profile_workflow
from flowcompile.proxy import model as pm
from flowcompile.proxy.rules import binomial_plurality_acc
from flowcompile.proxy.stats import acc_interval
from flowcompile.runtime import run_many, score
from flowcompile.sim import write_jsonl
from flowcompile.sim.protocol import SIM_READER, find_query, format_tag

RIGHT = "right"


def draw(*key: object) -> float:
    """A uniform number in [0, 1) fixed by `key` (calls replay exactly)."""
    digest = hashlib.blake2b(repr(key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class Independent:
    """A fake backend whose agents answer independently: model `m` is right
    w.p. `p[m]`, else it says one of the query's wrong values uniformly. The
    query has `values` wrong values; a fractional count is a per-query mix of
    floor and ceil, mixed so two wrong answers agree w.p. 1 / values."""

    name = "independent"
    reader_for = staticmethod(lambda endpoints: SIM_READER)  # it answers in the sim's tags

    def __init__(self, p: dict[str, float], values: float, seed: int = 0) -> None:
        self.p = p
        self.values = values
        self.seed = seed

    def wrong_values(self, query: str) -> int:
        low = math.floor(self.values)
        if low == self.values:
            return low
        share = (1 / self.values - 1 / (low + 1)) * low * (low + 1)  # of `low` values
        return low if draw(self.seed, query, "values") < share else low + 1

    async def call(self, request: CallRequest) -> CallResult:
        query = find_query(request.messages[-1].content) or "?"
        key = (self.seed, query, request.model, request.budget, request.sample)
        if draw(*key, "right") < self.p[request.model]:
            value = RIGHT
        else:
            value = f"w{int(draw(*key, 'wrong') * self.wrong_values(query))}"
        return CallResult(text=f"reasoning\n{format_tag('answer', 'solver', value)}", latency_s=1.0)


def workflow_ir(models: list[str], profile: str = "", agent_attrs: str = "") -> str:
    models_list = ", ".join(f'"{m}"' for m in models)
    return f"""
flow.workflow @sc(%query: !flow.msg) -> !flow.msg {{
  %0 = flow.fork @answer attributes {{samples = [1, 2, 3, 5]}} {{
    %solver = flow.agent @solver(%query) {{role = "solver", prompt = "Solve.\\n{{query}}", args = ["query"], models = [{models_list}], budgets = [0]{profile}{agent_attrs}}}
    flow.yield %solver
  }}
  %answer = flow.vote(%0) {{method = "majority"}}
  flow.return %answer
}}
"""


def queries(n: int, seed: int) -> list[dict[str, str]]:
    return [{"id": f"q{seed}-{i}", "input": f"[sim-query q{seed}-{i}] a question", "reference": RIGHT} for i in range(n)]


SETTINGS = [
    # (p, wrong values): weak and middling solvers, mistakes that always agree
    # (D = 1: the strict majority, ties with 2 samples), that split two or three
    # ways (ties between wrong values and with the right one), that rarely agree,
    # and a fractional count.
    (0.3, 1),
    (0.3, 2),
    (0.3, 3),
    (0.3, 8),
    (0.55, 1),
    (0.55, 2),
    (0.2, 2.5),
    (0.45, 4),
]


@pytest.mark.parametrize(("p", "values"), SETTINGS)
def test_vote_estimate_is_inside_the_executors_confidence_bound(p, values):
    """Through compose and the proxy graph: the solver's profile says p, its
    measured wrong_agree 1/values; every sample count's estimate lies in the
    99.9% Wilson interval of 800 executed queries."""
    ir = workflow_ir(
        ["m"],
        profile=f', profiles = {{"m@0" = #flow.profile<acc = {p}, acc_n = 10000, lat = 1.0>}}',
        agent_attrs=f", wrong_agree = {1 / values!r}, wrong_agree_n = 10000",
    )
    module = run_passes(parse(ir, "sc.mlir"), "compose")
    wf = next(op for op in module.walk() if isinstance(op, WorkflowOp))
    root = build_model(wf)
    backend = Independent({"m": p}, values, seed=int(values * 10) + int(p * 100))
    data = queries(800, int(values * 10))
    old_rule_rejected = False
    for k in (1, 2, 3, 5):
        estimate = pm.evaluate(root, {"solver": 0, "answer.samples": [1, 2, 3, 5].index(k)}).acc
        assign = {"solver": ConfigAttr.of("m", 0), "answer.samples": IntegerAttr(k, i64)}
        runs = asyncio.run(run_many(wf, assign, backend, data, concurrency=64))
        right = sum(score(r, q) for r, q in zip(runs, data, strict=True))
        lo, hi = acc_interval(right, len(data), level=0.999)
        assert lo <= estimate <= hi, (p, values, k, estimate, right / len(data))
        strict = float(binomial_plurality_acc(p, k, 1.0))
        old_rule_rejected |= not lo <= strict <= hi
    if values >= 3:
        # the bound has the power to tell: the strict majority falls outside it
        assert old_rule_rejected


def test_profiling_measures_how_often_wrong_answers_agree():
    """Two weak candidates and an always-right reference: their wrong answers
    (to the same recorded input) agree w.p. 1/3 with 3 wrong values."""
    ir = workflow_ir(["a", "b", "ref"])
    wf = next(op for op in parse(ir, "sc.mlir").walk() if isinstance(op, WorkflowOp))
    backend = Independent({"a": 0.3, "b": 0.3, "ref": 1.0}, 3, seed=5)
    data = [as_query(q) for q in queries(60, 77)]
    measured = asyncio.run(profile_workflow(wf, data, backend))
    agree, pairs = measured.wrong_agree["solver"]
    assert pairs > 500
    assert agree / pairs == pytest.approx(1 / 3, abs=0.04)


def test_profile_pass_writes_wrong_agree_and_compose_hands_it_to_the_vote(monkeypatch, tmp_path):
    backend = Independent({"a": 0.4, "b": 0.4, "ref": 1.0}, 2, seed=9)
    monkeypatch.setitem(backends._FACTORIES, "independent", lambda **_: backend)  # pyright: ignore[reportPrivateUsage]
    path = write_jsonl(tmp_path / "data.jsonl", queries(30, 3))
    module = run_passes(
        parse(workflow_ir(["a", "b", "ref"]), "sc.mlir"),
        f'profile{{backend=independent dataset="{path}" cache=none}},compose',
    )
    wf = next(op for op in module.walk() if isinstance(op, WorkflowOp))
    (solver,) = list(wf.agents)
    rate = solver.attributes["wrong_agree"]
    assert isinstance(rate, FloatAttr) and rate.value.data == pytest.approx(0.5, abs=0.08)
    (vote,) = [op for op in wf.walk() if isinstance(op, VoteOp)]
    assert vote.attributes["wrong_agree"] == rate
    assert vote.attributes["proxy"] == StringAttr("binomial-plurality-per-query")  # its samples profiled per query


def test_fake_backend_is_what_it_claims():
    """Sanity of the fake: right w.p. p, and two wrong answers to one query
    agreeing w.p. 1/values (here the mix of 2 and 3 values for 2.5)."""
    backend = Independent({"m": 0.3}, 2.5, seed=1)
    pairs = []
    for i in range(4000):
        messages = (Message("system", "You are the solver agent 'solver' of workflow 'sc'."),
                    Message("user", f"[sim-query q{i}] a question"))
        replies = [asyncio.run(backend.call(CallRequest(model="m", budget=0, sample=s, messages=messages))) for s in (0, 1)]
        pairs.append([SIM_READER.answer_key(r.text) for r in replies])
    right = sum(v == RIGHT for pair in pairs for v in pair) / (2 * len(pairs))
    wrong = [a == b for a, b in pairs if RIGHT not in (a, b)]
    assert right == pytest.approx(0.3, abs=0.03)
    assert sum(wrong) / len(wrong) == pytest.approx(0.4, abs=0.04)
