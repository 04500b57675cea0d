"""The deterministic simulation: replay, monotonicity, correlation, roles, faults."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import math
import random
from pathlib import Path

import pytest
import yaml

from flowcompile.backends import Backend, CallRequest, CallResult, Message, get_backend, register_backend
from flowcompile.sim import DEFAULT_WORLD, SimWorld, build_messages, content_hash, format_tag, parse_world
from flowcompile.sim.backend import SimBackend
from flowcompile.sim.engine import generate_dataset, read_jsonl, sigmoid, write_jsonl
from flowcompile.sim.protocol import find_tags

N = 1500  # queries per statistical test: 4 sigma of a rate is < 0.052


def q(i: int) -> str:
    return f"q{i:05d}"


def req(
    qid: str,
    model: str = "qwen3-8b",
    role: str = "solver",
    agent: str = "solve",
    budget: int = 0,
    upstream: tuple[str, ...] = (),
    sample: int = 0,
    seed: int = 0,
    branch: str | None = None,
    max_tokens: int | None = None,
) -> CallRequest:
    msgs = build_messages(role, agent, f"[sim-query {qid}] Solve it.", upstream, branch=branch)
    return CallRequest(model=model, budget=budget, messages=msgs, sample=sample, seed=seed, max_tokens=max_tokens)


def within(rate: float, p: float, n: int, sigmas: float = 4.0) -> bool:
    return abs(rate - p) <= sigmas * math.sqrt(p * (1 - p) / n) + 1e-9


@pytest.fixture(scope="module")
def sim() -> SimWorld:
    return SimWorld()


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(DEFAULT_WORLD.read_text())


def world_with(raw: dict, roles: dict | None = None, faults: dict | None = None) -> SimWorld:
    data = copy.deepcopy(raw)
    data["roles"].update(roles or {})
    data["faults"].update(faults or {})
    return SimWorld(parse_world(data))


def success_rate(sim: SimWorld, **kw: object) -> float:
    return sum(sim.trace(req(q(i), **kw)).correct for i in range(N)) / N  # type: ignore[arg-type]


# -- determinism ------------------------------------------------------------------


def test_same_request_same_result_and_order_independent(sim: SimWorld) -> None:
    requests = [
        req(q(i), model=m, budget=b, sample=s)
        for i in range(30)
        for m in ("qwen3-4b", "qwen3-32b")
        for b in (0, 2048)
        for s in (0, 1)
    ]
    first = [sim.respond(r) for r in requests]
    assert first == [sim.respond(r) for r in requests]
    fresh = SimWorld()
    shuffled = list(range(len(requests)))
    random.Random(7).shuffle(shuffled)
    replay = {i: fresh.respond(requests[i]) for i in shuffled}
    assert [replay[i] for i in range(len(requests))] == first
    # samples and request seeds are independent draws, not copies
    assert len({r.text for r in first}) > len(first) * 0.9


def test_outputs_carry_exactly_one_tag_of_the_role_kind(sim: SimWorld) -> None:
    for role, kind in [("planner", "plan"), ("solver", "answer"), ("critic", "verdict"), ("router", "route"),
                       ("mystery", "answer")]:
        text = sim.respond(req(q(1), role=role, agent="a1")).text
        tags = find_tags(text)
        assert len(tags) == 1 and tags[0].kind == kind and tags[0].agent == "a1"
        assert "simulated" in text


def test_missing_header_defaults_to_anonymous_default_role(sim: SimWorld) -> None:
    r = CallRequest(model="qwen3-8b", messages=(Message("user", "[sim-query q00001] hi"),))
    t = sim.trace(r)
    assert (t.role, t.agent, t.kind, t.query) == ("default", "anonymous", "answer", "q00001")
    untagged = CallRequest(model="qwen3-8b", messages=[("user", "no tag at all")])
    free = sim.trace(untagged)
    assert free.query.startswith("anon-") and free == sim.trace(untagged)


# -- capability, budget, latency ------------------------------------------------------


def test_bigger_model_succeeds_more_and_is_slower(sim: SimWorld) -> None:
    small = [sim.trace(req(q(i), model="qwen3-0.6b")) for i in range(N)]
    big = [sim.trace(req(q(i), model="qwen3-32b")) for i in range(N)]
    assert sum(t.correct for t in big) / N > sum(t.correct for t in small) / N + 0.2
    assert sum(t.result.latency_s for t in big) > 3 * sum(t.result.latency_s for t in small)


def test_bigger_budget_succeeds_more_and_is_slower(sim: SimWorld) -> None:
    off = [sim.trace(req(q(i), budget=0)) for i in range(N)]
    on = [sim.trace(req(q(i), budget=8192)) for i in range(N)]
    assert sum(t.correct for t in on) / N > sum(t.correct for t in off) / N + 0.1
    assert sum(t.result.latency_s for t in on) > 5 * sum(t.result.latency_s for t in off)
    assert all(t.result.reasoning_tokens == 0 for t in off)
    assert all(0 < t.result.reasoning_tokens <= 8192 for t in on)
    spent = sum(t.result.reasoning_tokens for t in on) / N / 8192
    assert abs(spent - sim.world.model("qwen3-8b").reasoning.usage) < 0.1


def test_latency_tokens_and_cost_follow_the_model_card(sim: SimWorld) -> None:
    r = req(q(3), model="qwen3-14b", budget=1024)
    res = sim.respond(r)
    spec = sim.world.model("qwen3-14b")
    chars = sum(len(m.content) for m in r.messages)
    assert res.tokens_in == math.ceil(chars / 4) + 4 * len(r.messages)
    generated = res.tokens_out + res.reasoning_tokens
    assert res.cost == pytest.approx(res.tokens_in * spec.price_in + generated * spec.price_out)
    base = spec.ttft_s + res.tokens_in / spec.prefill_tok_per_s + generated / spec.decode_tok_per_s
    assert 0.4 * base < res.latency_s < 2.5 * base
    # reply length matches the reported output tokens (so downstream tokens_in is realistic)
    assert abs(len(res.text) / 4 - res.tokens_out) <= 0.1 * res.tokens_out + 5


def test_max_tokens_truncation_makes_the_reply_wrong(sim: SimWorld) -> None:
    for i in range(50):
        t = sim.trace(req(q(i), budget=4096, max_tokens=600))
        assert t.truncated and not t.correct
        assert t.result.tokens_out + t.result.reasoning_tokens <= 600
        assert len(find_tags(t.result.text)) == 1


# -- correlated difficulty ----------------------------------------------------------


def test_failures_are_correlated_across_agents(sim: SimWorld) -> None:
    a = [sim.trace(req(q(i), agent="alpha")).correct for i in range(N)]
    b = [sim.trace(req(q(i), model="qwen3-4b", agent="beta")).correct for i in range(N)]
    p_b_fail = sum(not x for x in b) / N
    both = sum((not x) and (not y) for x, y in zip(a, b))
    p_b_fail_given_a_fail = both / sum(not x for x in a)
    assert p_b_fail_given_a_fail > p_b_fail + 0.1


def test_independent_wrong_answers_sometimes_agree(sim: SimWorld) -> None:
    agree = wrong = 0
    for i in range(N):
        x = sim.trace(req(q(i), model="qwen3-0.6b", agent="v1"))
        y = sim.trace(req(q(i), model="qwen3-0.6b", agent="v2"))
        if not x.correct and not y.correct:
            wrong += 1
            agree += x.value == y.value
    assert wrong > 200 and 0.25 < agree / wrong < 0.75


# -- roles ----------------------------------------------------------------------


def _answer(sim: SimWorld, qid: str, right: bool, agent: str = "up", i: int = 0) -> str:
    value = sim.correct_value(qid, "answer") if right else sim.distractors(qid, "answer")[i]
    return f"some upstream text {format_tag('answer', agent, value)}"


def test_recovery_rate_is_respected(raw: dict) -> None:
    sim = world_with(raw, roles={"solver": {"kind": "answer", "recovery": 0.3}})
    wrong = [sim.trace(req(q(i), upstream=(_answer(sim, q(i), False),))) for i in range(N)]
    assert all(t.input_ok is False for t in wrong)
    assert within(sum(t.correct for t in wrong) / N, 0.3, N)
    # a failed recovery repeats the upstream error
    assert all(t.value == sim.distractors(t.query, "answer")[0] for t in wrong if not t.correct)
    right = [sim.trace(req(q(i), upstream=(_answer(sim, q(i), True),))) for i in range(N)]
    assert all(t.input_ok for t in right)
    assert sum(t.correct for t in right) / N > 0.45


def test_verdicts_match_false_accept_and_reject_rates(raw: dict) -> None:
    sim = world_with(raw, roles={"verifier": {"kind": "verdict", "false_accept": 0.2, "false_reject": 0.1,
                                              "judge_slope": 0.0}})
    on_right = [sim.trace(req(q(i), role="verifier", agent="check", upstream=(_answer(sim, q(i), True),)))
                for i in range(N)]
    on_wrong = [sim.trace(req(q(i), role="verifier", agent="check", upstream=(_answer(sim, q(i), False),)))
                for i in range(N)]
    assert within(sum(t.value == "reject" for t in on_right) / N, 0.1, N)
    assert within(sum(t.value == "approve" for t in on_wrong) / N, 0.2, N)


def test_verdicts_judge_the_latest_answer_and_improve_with_capability(sim: SimWorld) -> None:
    def reject_rate(model: str, latest_right: bool) -> float:
        out = 0
        for i in range(N):
            ups = (_answer(sim, q(i), not latest_right, "first"), _answer(sim, q(i), latest_right, "second"))
            out += sim.trace(req(q(i), model=model, role="critic", agent="crit", upstream=ups)).value == "reject"
        return out / N

    assert reject_rate("qwen3-8b", False) > reject_rate("qwen3-8b", True) + 0.3
    assert reject_rate("qwen3-32b", False) > reject_rate("qwen3-0.6b", False)  # fewer false accepts


def test_aggregator_selects_a_correct_input(raw: dict) -> None:
    sim = world_with(raw, roles={"aggregator": {"kind": "answer", "aggregate": True, "selection": 0.5,
                                                "judge_slope": 0.0, "recovery": 0.05}})

    def rate(n_right: int) -> float:
        ok = 0
        for i in range(N):
            ups = tuple(_answer(sim, q(i), k < n_right, f"p{k}", i=k % 3) for k in range(3))
            ok += sim.trace(req(q(i), role="aggregator", agent="agg", upstream=ups)).correct
        return ok / N

    assert within(rate(1), 0.5 + 0.5 / 3, N)
    assert within(rate(0), 0.05, N)


def _aggregator_world(raw: dict, rule: str) -> SimWorld:
    return world_with(raw, roles={"aggregator": {"kind": "answer", "aggregate": True, "aggregate_rule": rule,
                                                "selection": 0.3, "judge_slope": 0.0, "recovery": 0.05}})


def _aggregate(sim: SimWorld, inputs: str) -> list:
    """Aggregator traces over N queries; `inputs` spells the upstream answers in
    order: R = the right answer, 0/1/2 = that distractor."""
    traces = []
    for i in range(N):
        ups = tuple(
            _answer(sim, q(i), c == "R", f"p{k}", i=0 if c == "R" else int(c)) for k, c in enumerate(inputs)
        )
        traces.append(sim.trace(req(q(i), role="aggregator", agent="agg", upstream=ups)))
    return traces


def _rate(traces: list) -> float:
    return sum(t.correct for t in traces) / len(traces)


def test_plurality_aggregator_follows_agreeing_wrong_inputs(raw: dict) -> None:
    select, plurality = _aggregator_world(raw, "select"), _aggregator_world(raw, "plurality")
    # 1 of 3 right, the two wrong ones agree: unspotted, plurality takes the wrong majority
    assert within(_rate(_aggregate(select, "R00")), 0.3 + 0.7 / 3, N)
    lone_right = _aggregate(plurality, "0R0")
    assert within(_rate(lone_right), 0.3, N)
    assert _rate(lone_right) < _rate(_aggregate(select, "0R0")) - 0.15
    # a wrong plurality output is the plurality answer
    assert all(t.value == plurality.distractors(t.query, "answer")[0] for t in lone_right if not t.correct)
    # 2 of 3 right: the plurality is right, so it always is; select still misses some
    assert within(_rate(_aggregate(select, "R0R")), 0.3 + 0.7 * 2 / 3, N)
    assert _rate(_aggregate(plurality, "R0R")) == 1.0
    # none right: recovery under both rules
    assert within(_rate(_aggregate(plurality, "010")), 0.05, N)
    assert within(_rate(_aggregate(select, "010")), 0.05, N)


def test_plurality_ties_go_to_the_first_input(raw: dict) -> None:
    plurality = _aggregator_world(raw, "plurality")
    assert _rate(_aggregate(plurality, "R01")) == 1.0
    right_last = _aggregate(plurality, "12R")
    assert within(_rate(right_last), 0.3, N)
    assert all(t.value == plurality.distractors(t.query, "answer")[1] for t in right_last if not t.correct)


def _default_fingerprint(sim: SimWorld) -> tuple[int, str]:
    """Decisions (value, correct) of a fixed set of calls, hashed."""
    digest = hashlib.sha256()
    right = 0
    for i in range(300):
        qid = q(i)
        good, bad = sim.correct_value(qid, "answer"), sim.distractors(qid, "answer")
        values = (bad[0], good, bad[0]) if i % 2 else (good, good, bad[1])
        ups = tuple(format_tag("answer", f"p{k}", v) for k, v in enumerate(values))
        for role, model, budget, upstream in (
            ("aggregator", "qwen3-4b", 0, ups),
            ("solver", "qwen3-8b", 1024, ()),
            ("planner", "qwen3-1.7b", 0, ()),
            ("critic", "qwen3-14b", 0, ups[:1]),
        ):
            msgs = build_messages(role, "a", f"[sim-query {qid}] x", upstream)
            t = sim.trace(CallRequest(model=model, budget=budget, messages=msgs))
            right += t.correct
            digest.update(f"{t.value}|{t.correct}\n".encode())
    return right, digest.hexdigest()[:16]


def test_default_world_decisions_are_pinned(sim: SimWorld) -> None:
    # Pinned with the engine before `aggregate_rule` existed: adding rules or
    # worlds must not change what the default world decides. A deliberate change
    # of default-world semantics has to update this pin.
    assert all(role.aggregate_rule == "select" for role in sim.world.roles.values())
    assert _default_fingerprint(sim) == (812, "15c9a4bee165b82b")


def test_router_and_branches(sim: SimWorld) -> None:
    routes = [sim.trace(req(q(i), role="router", agent="route")) for i in range(400)]
    assert {t.value for t in routes} <= set(sim.world.queries.routes())
    assert all((t.value == sim.correct_value(t.query, "route")) == t.correct for t in routes)
    assert sum(t.correct for t in routes) / 400 > 0.6
    for i in range(200):
        right = sim.correct_value(q(i), "route")
        wrong = next(r for r in sim.world.queries.routes() if r != right)
        route_tag = format_tag("route", "route", wrong)
        t = sim.trace(req(q(i), agent="solve_x", branch=wrong, upstream=(route_tag,)))
        assert t.misrouted and not t.correct
        t = sim.trace(req(q(i), agent="solve_x", branch=right, upstream=(format_tag("route", "route", right),)))
        assert not t.misrouted
    # a non-branch agent that sees a wrong route tag has a wrong input
    assert sim.trace(req(q(0), upstream=(format_tag("route", "r", "nowhere"),))).input_ok is False


# -- faults ----------------------------------------------------------------------


def test_fault_rates_and_shapes(raw: dict) -> None:
    rates = {"rate_limit": 0.1, "server_error": 0.05, "timeout": 0.05, "malformed": 0.05}
    sim = world_with(raw, faults=rates)
    results = [sim.respond(req(q(i), sample=i % 2)) for i in range(2 * N)]
    for kind, p in rates.items():
        assert within(sum(r.error == kind for r in results) / len(results), p, len(results)), kind
    for r in results:
        assert r.retryable == (r.error is not None)
        if r.error in ("rate_limit", "server_error", "timeout"):
            assert r.text == "" and r.cost == 0.0
        elif r.error == "malformed":
            assert r.text and not find_tags(r.text)
    assert next(r for r in results if r.error == "timeout").latency_s == sim.world.faults.timeout_s


def test_retries_redraw_faults_but_not_content(raw: dict) -> None:
    faulty = world_with(raw, faults={"rate_limit": 0.5})
    clean = SimWorld()
    mixed = 0
    for i in range(20):
        r = req(q(i))
        attempts = [faulty.respond(r, attempt=k) for k in range(12)]
        assert attempts == [faulty.respond(r, attempt=k) for k in range(12)]
        ok = [a for a in attempts if a.error is None]
        mixed += 0 < len(ok) < len(attempts)
        assert ok and all(a == clean.respond(r) for a in ok)
    assert mixed >= 18


# -- scoring and datasets -----------------------------------------------------------


def test_score_and_dataset(sim: SimWorld, tmp_path: Path) -> None:
    rows = generate_dataset(sim, 50, seed=0)
    assert [r["id"] for r in rows] == [q(i) for i in range(50)]
    other = generate_dataset(DEFAULT_WORLD, 50, seed=3)
    assert not {r["id"] for r in rows} & {r["id"] for r in other}
    for row in rows:
        assert f"[sim-query {row['id']}]" in row["input"]
        assert row["reference"] == sim.correct_value(row["id"], "answer")
        t = sim.trace(CallRequest(model="qwen3-8b", messages=build_messages("solver", "s", row["input"])))
        assert sim.score(t.result.text, row["reference"]) == t.correct
        assert sim.score(t.result.text, format_tag("answer", "ref", row["reference"])) == t.correct
    assert not sim.score("no tag here", rows[0]["reference"])
    path = write_jsonl(tmp_path / "sub" / "d.jsonl", rows)
    assert read_jsonl(path) == rows


def test_distractors_are_distinct_and_wrong(sim: SimWorld) -> None:
    for i in range(200):
        ds = sim.distractors(q(i), "answer")
        assert len(set(ds)) == sim.world.queries.distractors
        assert sim.correct_value(q(i), "answer") not in ds


def test_sigmoid_is_overflow_safe() -> None:
    assert sigmoid(1000) == 1.0 and sigmoid(-1000) == 0.0 and sigmoid(0) == 0.5


# -- backend interface -------------------------------------------------------------


def test_call_request_normalises_messages_and_is_hashable() -> None:
    a = CallRequest(model="m", messages=[{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
    b = CallRequest(model="m", messages=[("user", "hi")])
    assert a == b and hash(a) == hash(b) and a.messages == (Message("user", "hi"),)
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash(CallRequest(model="m", messages=[("user", "hi")], sample=1))
    with pytest.raises(ValueError):
        CallRequest(model="m", budget=-1)
    assert CallResult(error="rate_limit").retryable and not CallResult(error="auth").retryable
    assert CallResult().ok and not CallResult().retryable


def test_sim_backend_via_registry(sim: SimWorld) -> None:
    backend = get_backend("sim")
    assert isinstance(backend, SimBackend) and isinstance(backend, Backend) and backend.name == "sim"
    r = req(q(5), budget=1024)
    assert asyncio.run(backend.call(r)) == sim.respond(r)
    assert backend.total_calls == 1
    assert get_backend("sim", world=DEFAULT_WORLD).world.name == sim.world.name
    with pytest.raises(ValueError, match="unknown backend 'nope'; known backends: .*sim"):
        get_backend("nope")


def test_registry_accepts_callables_and_lazy_paths() -> None:
    class Fake:
        name = "fake"

        def __init__(self, tag: str = "") -> None:
            self.tag = tag

        async def call(self, request: CallRequest) -> CallResult:
            return CallResult(text=self.tag)

    register_backend("fake-test", Fake)
    assert get_backend("fake-test", tag="x").tag == "x"  # type: ignore[attr-defined]
    register_backend("lazy-test", "flowcompile.sim.backend:SimBackend")
    assert isinstance(get_backend("lazy-test"), SimBackend)
    with pytest.raises(ValueError):
        register_backend("bad", "no_colon_here")
