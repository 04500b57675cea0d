"""The runtime: reading agent outputs, and executing workflows on backends.

Example workflows run on the in-process simulated backend; behaviours that need
exact control over what agents say (votes, routes, verdicts, latencies,
failures) use a scripted fake backend.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from xdsl.context import Context
from xdsl.dialects.builtin import Builtin, DictionaryAttr, IntegerAttr, StringAttr, i64
from xdsl.ir import Attribute

from flowcompile.backends.base import CallRequest, CallResult
from flowcompile.backends.reader import TEXT_READER, Endpoints, Reader
from flowcompile.diagnostics import parse_located
from flowcompile.dialects.flow import ConfigAttr, Flow, PointAttr, WorkflowOp
from flowcompile.profiling.dataset import Query
from flowcompile.runtime import executor
from flowcompile.runtime import (
    REPLICA_STRIDE,
    RunResult,
    assignment_from_point,
    cheapest_assignment,
    reference_assignment,
    render_user,
    run_many,
    run_workflow,
    score,
    system_text,
    validate_assignment,
)
from flowcompile.sim import SimWorld, generate_dataset
from flowcompile.sim.backend import SimBackend
from flowcompile.sim.protocol import SIM_READER, find_branch, format_tag

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
QUERY = Query("q1", "[sim-query q00001] What is 6 * 7?", "42")


def context() -> Context:
    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(Flow)
    return ctx


def parse_workflow(text: str, name: str = "<test>") -> WorkflowOp:
    module = parse_located(context(), text, name)
    module.verify()
    return next(op for op in module.walk() if isinstance(op, WorkflowOp))


@functools.cache
def example(name: str) -> WorkflowOp:
    path = EXAMPLES / f"{name}.mlir"
    return parse_workflow(path.read_text(), str(path))


def with_(assign: Mapping[str, Attribute], **changes: Attribute | int) -> dict[str, Attribute]:
    """`assign` with some entries replaced (ints become knob values; `__` spells `.`)."""
    out = dict(assign)
    for key, value in changes.items():
        out[key.replace("__", ".")] = IntegerAttr(value, i64) if isinstance(value, int) else value
    return out


def run(*args, **kwargs) -> RunResult:
    return asyncio.run(run_workflow(*args, **kwargs))


class Scripted:
    """A fake backend: `reply(agent, request)` gives the text (or a whole CallResult);
    latencies per agent (default 1 s); every request is recorded."""

    name = "scripted"

    def reader_for(self, endpoints: Endpoints) -> Reader:
        return SIM_READER  # it replies in the sim's tags

    def __init__(
        self,
        reply: Callable[[str, CallRequest], str | CallResult],
        latency: Mapping[str, float] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.reply = reply
        self.latency = dict(latency or {})
        self.delay = delay
        self.requests: list[tuple[str, CallRequest]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def call(self, request: CallRequest) -> CallResult:
        match = re.search(r"agent '([^']*)'", request.messages[0].content)
        agent = match.group(1) if match else "?"
        self.requests.append((agent, request))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            out = self.reply(agent, request)
        finally:
            self.in_flight -= 1
        if isinstance(out, CallResult):
            return out
        return CallResult(text=out, latency_s=self.latency.get(agent, 1.0), cost=0.01)

    def agents(self) -> list[str]:
        return [agent for agent, _ in self.requests]


def answer(agent: str, value: str) -> str:
    return f"some reasoning\n{format_tag('answer', agent, value)}"


def default_reply(agent: str, request: CallRequest) -> str:
    return answer(agent, f"{agent}-{request.sample}")


# -- assignments -----------------------------------------------------------------


def test_reference_assignment_is_the_strongest_candidate_everywhere() -> None:
    assign = reference_assignment(example("self_consistency"))
    assert assign["solver"] == ConfigAttr.of("qwen3-32b", 4096)
    assert assign["answer.samples"] == IntegerAttr(5, i64)
    cheap = cheapest_assignment(example("refine"))
    assert cheap["critic"] == ConfigAttr.of("qwen3-1.7b", 0)
    assert cheap["final.max_iters"] == IntegerAttr(1, i64)
    validate_assignment(example("refine"), cheap)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ghost": ConfigAttr.of("qwen3-8b", 0)}, r"'ghost', which is no agent or knob"),
        ({"answer.samples": IntegerAttr(4, i64)}, r"answer\.samples = 4 is not one of its choices \[1, 3, 5\]"),
        ({"answer.samples": ConfigAttr.of("qwen3-8b", 0)}, r"knob 'answer\.samples' must be an integer"),
        ({"solver": ConfigAttr.of("qwen3-8b", 2048)}, r"qwen3-8b@2048 is not a candidate of @solver"),
        ({"solver": ConfigAttr.of("gpt-9", 0)}, r"gpt-9@0 is not a candidate of @solver"),
        ({"solver": StringAttr("skip")}, r"@solver is assigned \"skip\" but is not optional"),
        ({"solver": IntegerAttr(3, i64)}, r"@solver must be assigned a #flow.config"),
        ({"solver": None}, r"sets nothing for solver"),
        ({"answer.samples": None}, r"sets nothing for answer\.samples"),
    ],
)
def test_invalid_assignments_raise_one_line_value_errors(change: dict, message: str) -> None:
    wf = example("self_consistency")
    assign = dict(reference_assignment(wf))
    for key, value in change.items():
        if value is None:
            del assign[key]
        else:
            assign[key] = value
    with pytest.raises(ValueError, match=message) as info:
        validate_assignment(wf, assign)
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match=message):
        run(wf, assign, Scripted(default_reply), QUERY)
    backend = Scripted(default_reply)
    with pytest.raises(ValueError, match=message):
        asyncio.run(run_many(wf, assign, backend, [QUERY, QUERY]))
    assert backend.requests == []


@pytest.mark.parametrize("name", ["chain", "mixture", "refine", "router", "self_consistency"])
def test_validation_accepts_exactly_the_candidates(name: str) -> None:
    # validate_assignment compares (model, budget) with the agent's lists; it must
    # accept exactly `candidates()`
    wf = example(name)
    base = reference_assignment(wf)
    for agent in wf.agents:
        for config in agent.candidates():
            validate_assignment(wf, {**base, agent.agent_name: config})
        foreign = {m for a in wf.agents for m in a.model_names} - set(agent.model_names)
        for model in foreign:
            with pytest.raises(ValueError, match="is not a candidate"):
                validate_assignment(wf, {**base, agent.agent_name: ConfigAttr.of(model, agent.budget_values[0])})
        budget = max(agent.budget_values) + 1
        with pytest.raises(ValueError, match="is not a candidate"):
            validate_assignment(wf, {**base, agent.agent_name: ConfigAttr.of(agent.model_names[0], budget)})


def test_run_many_validates_the_assignment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def counting(workflow: WorkflowOp, assignment: Mapping[str, Attribute]) -> None:
        seen.append(1)
        validate_assignment(workflow, assignment)

    monkeypatch.setattr(executor, "validate_assignment", counting)
    wf = example("mixture")
    queries = [Query(f"q{i}", f"[sim-query q{i:05d}] hi", "x") for i in range(7)]
    results = asyncio.run(run_many(wf, reference_assignment(wf), Scripted(default_reply), queries))
    assert [r.query_id for r in results] == [q.id for q in queries] and all(r.ok for r in results)
    assert len(seen) == 1
    # run_workflow stays public and validates on each call
    run(wf, reference_assignment(wf), Scripted(default_reply), QUERY)
    run(wf, reference_assignment(wf), Scripted(default_reply), QUERY)
    assert len(seen) == 3
    with pytest.raises(ValueError, match="sample must be >= 0"):
        asyncio.run(run_many(wf, reference_assignment(wf), Scripted(default_reply), queries, sample=-1))


# -- examples on the simulated world -------------------------------------------------


@pytest.mark.parametrize("name", ["chain", "mixture", "refine", "router", "self_consistency"])
@pytest.mark.parametrize("which", ["reference", "cheapest"])
def test_every_example_runs_end_to_end_on_the_sim(name: str, which: str) -> None:
    wf = example(name)
    assign = reference_assignment(wf) if which == "reference" else cheapest_assignment(wf)
    queries = generate_dataset(None, 6)
    results = asyncio.run(run_many(wf, assign, SimBackend(), queries))
    assert [r.query_id for r in results] == [q["id"] for q in queries]
    for result in results:
        assert result.ok and result.output
        assert result.latency > 0 and result.cost > 0
        for call in result.calls:
            assert call.config == assign[call.agent].key  # pyright: ignore[reportAttributeAccessIssue]
            assert call.result.ok
        assert result.cost == pytest.approx(sum(c.result.cost for c in result.calls))


def test_reference_scores_clearly_better_than_cheapest_on_chain() -> None:
    sim = SimWorld()
    wf = example("chain")
    queries = generate_dataset(sim, 40)
    accuracy = {}
    for which, assign in (("reference", reference_assignment(wf)), ("cheapest", cheapest_assignment(wf))):
        results = asyncio.run(run_many(wf, assign, SimBackend(sim), queries))
        accuracy[which] = sum(score(r, q) for r, q in zip(results, queries, strict=True)) / len(queries)
    assert accuracy["reference"] >= 0.7
    assert accuracy["reference"] >= accuracy["cheapest"] + 0.25


@pytest.mark.parametrize("name", ["mixture", "refine", "router", "self_consistency"])
def test_runs_are_deterministic(name: str) -> None:
    wf = example(name)
    queries = generate_dataset(None, 5)
    first = asyncio.run(run_many(wf, reference_assignment(wf), SimBackend(), queries, seed=3))
    second = asyncio.run(run_many(wf, reference_assignment(wf), SimBackend(), queries, seed=3, concurrency=2))
    assert first == second
    other_seed = asyncio.run(run_many(wf, reference_assignment(wf), SimBackend(), queries, seed=4))
    assert [r.calls for r in other_seed] != [r.calls for r in first]


def test_chain_latency_is_the_sum_of_its_calls() -> None:
    wf = example("chain")
    result = run(wf, reference_assignment(wf), SimBackend(), generate_dataset(None, 1)[0])
    assert [c.agent for c in result.calls] == ["planner", "solver", "checker"]
    assert result.latency == pytest.approx(sum(c.result.latency_s for c in result.calls))
    assert result.calls[2].start == pytest.approx(sum(c.result.latency_s for c in result.calls[:2]))


def test_fork_latency_is_the_slowest_branch_plus_what_follows() -> None:
    wf = example("mixture")
    result = run(wf, reference_assignment(wf), SimBackend(), generate_dataset(None, 1)[0])
    by_agent = {c.agent: c.result.latency_s for c in result.calls}
    slowest = max(by_agent[p] for p in ("proposer_a", "proposer_b", "proposer_c"))
    assert result.latency == pytest.approx(slowest + by_agent["aggregator"])
    assert result.latency < sum(by_agent.values())
    backend = Scripted(default_reply, {"proposer_a": 3.0, "proposer_b": 5.0, "proposer_c": 1.0, "aggregator": 2.0})
    assert run(wf, reference_assignment(wf), backend, QUERY).latency == pytest.approx(7.0)


# -- structure, with scripted agents -------------------------------------------------


def test_prompt_rendering_substitutes_args_and_appends_the_others() -> None:
    assert render_user("Solve {q} by {plan}.", ["q", "plan"], ["x {y}", "p"]) == "Solve x {y} by p."
    assert render_user("Pick one.\n{q}", ["q", "a", "b"], ["Q", "A", "B"]) == "Pick one.\nQ\n\na:\nA\n\nb:\nB"
    assert render_user(None, ["q", "a"], ["Q", "A"]) == "q:\nQ\n\na:\nA"
    wf = example("mixture")
    backend = Scripted(default_reply)
    result = run(wf, reference_assignment(wf), backend, QUERY)
    system, user = result.calls[-1].messages
    assert system.content == "You are the aggregator agent 'aggregator' of workflow 'mixture'."
    assert user.content == (
        f"Several answers to the question follow. Write the best final answer.\n{QUERY.input}"
        + "".join(f"\n\nproposer_{x}:\n{answer(f'proposer_{x}', f'proposer_{x}-0')}" for x in "abc")
    )


def test_requests_carry_the_pool_entry_and_run_settings() -> None:
    wf = example("chain")
    backend = Scripted(default_reply)
    run(wf, reference_assignment(wf), backend, QUERY, seed=7, max_tokens=900, sample=2)
    _, request = backend.requests[0]
    assert (request.model, request.provider_model, request.api_base) == (
        "qwen3-32b", "hosted_vllm/Qwen/Qwen3-32B", "http://127.0.0.1:8765/v1"
    )
    assert (request.budget, request.seed, request.max_tokens) == (4096, 7, 900)
    assert request.sample == 2 * REPLICA_STRIDE
    bare = parse_workflow(
        'flow.workflow @bare(%q: !flow.msg) -> !flow.msg {\n'
        '  %a = flow.agent @a(%q) {role = "solver", models = ["m1", "m2"], budgets = [0, 8]}\n'
        "  flow.return %a\n}"
    )
    backend = Scripted(default_reply)
    run(bare, reference_assignment(bare), backend, QUERY)
    _, request = backend.requests[0]
    assert (request.model, request.provider_model, request.api_base, request.budget) == ("m2", "m2", None, 8)
    assert request.messages[1].content == f"q:\n{QUERY.input}"  # no prompt: the SSA name labels the input


def test_replicated_fork_makes_k_calls_and_the_vote_takes_the_majority() -> None:
    wf = example("self_consistency")
    assign = with_(reference_assignment(wf), answer__samples=3)
    values = {0: "aaaa", 1: "bbbb", 2: "bbbb"}
    backend = Scripted(lambda agent, req: answer(agent, values[req.sample % REPLICA_STRIDE]))
    result = run(wf, assign, backend, QUERY, sample=2)
    assert [c.agent for c in result.calls] == ["solver"] * 3
    assert sorted(r.sample for _, r in backend.requests) == [2 * REPLICA_STRIDE + i for i in range(3)]
    assert sorted(c.replica for c in result.calls) == [0, 1, 2]
    assert result.output == answer("solver", "bbbb")
    # a three-way tie goes to the earliest sample
    backend = Scripted(lambda agent, req: answer(agent, "abc"[req.sample]))
    assert SIM_READER.answer_key(run(wf, assign, backend, QUERY).output) == "a"


def test_switch_takes_the_labelled_case_and_names_it() -> None:
    wf = example("router")
    backend = Scripted(lambda agent, req: "This is a code question." if agent == "router" else answer(agent, "x"))
    result = run(wf, reference_assignment(wf), backend, QUERY)
    assert [c.agent for c in result.calls] == ["router", "code_expert"]
    assert result.routes == {"answer": "code"} and result.misroutes == []
    system = result.calls[1].messages[0].content
    assert system == "You are the solver agent 'code_expert' of workflow 'router'. You handle the 'code' case."
    assert result.calls[1].case == "code" and result.calls[0].case is None
    # the simulated world reads the case sentence, and still the old marker
    assert find_branch(system) == "code"
    assert find_branch("You are the solver agent 's' of workflow 'w'. [sim-branch math]") == "math"
    assert find_branch(system_text("solver", "s", "w", case="math")) == "math"


def test_switch_without_a_named_label_runs_the_first_case_and_records_a_misroute() -> None:
    wf = example("router")
    backend = Scripted(lambda agent, req: "Hard to say." if agent == "router" else answer(agent, "x"))
    result = run(wf, reference_assignment(wf), backend, QUERY)
    assert [c.agent for c in result.calls] == ["router", "math_expert"]
    assert result.routes == {"answer": "math"} and result.misroutes == ["answer"]


def test_switch_case_waits_for_the_route() -> None:
    wf = example("router")
    backend = Scripted(lambda agent, req: "<<route:router:math>>" if agent == "router" else "ok", {"router": 2.0})
    result = run(wf, reference_assignment(wf), backend, QUERY)
    assert result.calls[1].start == pytest.approx(2.0)
    assert result.latency == pytest.approx(3.0)


def loop_backend(verdicts: list[str]) -> Scripted:
    """Drafter and reviser answer; the critic says `verdicts` in turn."""
    said = iter(verdicts)
    return Scripted(
        lambda agent, req: next(said) if agent == "critic" else answer(agent, f"{agent}-{len(req.messages[1].content)}"),
        {"drafter": 1.0, "critic": 2.0, "reviser": 3.0},
    )


def test_loop_approval_on_the_first_iteration_keeps_the_draft() -> None:
    wf = example("refine")
    backend = loop_backend(["APPROVE"])
    result = run(wf, reference_assignment(wf), backend, QUERY)
    assert backend.agents() == ["drafter", "critic"]
    assert result.output == result.calls[0].result.text
    assert result.loops == {"final": (1, True)}
    assert result.latency == pytest.approx(1.0 + 2.0)


def test_loop_rejection_carries_the_revision_and_max_iters_bounds_the_calls() -> None:
    wf = example("refine")
    backend = loop_backend(["REJECT: wrong"] * 5)
    result = run(wf, with_(reference_assignment(wf), final__max_iters=2), backend, QUERY)
    assert backend.agents() == ["drafter", "critic", "reviser", "critic", "reviser"]
    assert [c.iteration for c in result.calls] == [0, 1, 1, 2, 2]
    assert result.output == result.calls[-1].result.text
    assert result.loops == {"final": (2, False)}
    assert result.latency == pytest.approx(1.0 + 2 * (2.0 + 3.0))
    # the second critic judges the first revision
    assert result.calls[2].result.text in result.calls[3].messages[1].content
    # rejected, then approved: the approved (carried) revision is the output
    backend = loop_backend(["That is wrong.", "LGTM"])
    result = run(wf, reference_assignment(wf), backend, QUERY)
    assert backend.agents() == ["drafter", "critic", "reviser", "critic"]
    assert result.output == result.calls[2].result.text
    assert result.loops == {"final": (2, True)}


def test_loop_with_zero_iterations_keeps_the_draft_and_calls_no_critic() -> None:
    path = EXAMPLES / "refine.mlir"
    wf = parse_workflow(path.read_text().replace("max_iters = [1, 2, 3]", "max_iters = [0, 1, 2, 3]"), str(path))
    backend = loop_backend(["REJECT: wrong"] * 3)
    result = run(wf, with_(reference_assignment(wf), final__max_iters=0), backend, QUERY)
    assert backend.agents() == ["drafter"]
    assert result.output == result.calls[0].result.text
    assert result.loops == {"final": (0, False)}
    assert result.latency == pytest.approx(1.0)


OPTIONAL = """
flow.workflow @polished(%q: !flow.msg) -> !flow.msg {
  %draft = flow.agent @draft(%q) {role = "solver", prompt = "Solve {q}", args = ["q"], models = ["m"], budgets = [0]}
  %polish = flow.agent @polish(%draft) {role = "reviser", models = ["m"], budgets = [0], optional = "pass"}
  flow.return %polish
}
"""


def test_skipped_optional_agent_makes_no_call_and_passes_its_input() -> None:
    wf = parse_workflow(OPTIONAL)
    skip = with_(reference_assignment(wf), polish=StringAttr("skip"))
    backend = Scripted(default_reply)
    result = run(wf, skip, backend, QUERY)
    assert backend.agents() == ["draft"]
    assert result.output == answer("draft", "draft-0")
    backend = Scripted(default_reply)
    assert run(wf, reference_assignment(wf), backend, QUERY).output == answer("polish", "polish-0")
    assert backend.agents() == ["draft", "polish"]
    assert cheapest_assignment(wf)["polish"] == StringAttr("skip")


def test_a_failed_call_stops_the_run_and_names_the_agent() -> None:
    wf = example("chain")

    def reply(agent: str, req: CallRequest) -> str | CallResult:
        return CallResult(latency_s=0.5, error="server_error") if agent == "solver" else answer(agent, "x")

    backend = Scripted(reply)
    result = run(wf, reference_assignment(wf), backend, QUERY)
    assert result.error == "agent @solver failed: server_error" and not result.ok
    assert result.output is None
    assert backend.agents() == ["planner", "solver"]
    assert result.latency == pytest.approx(1.5)
    # a failing branch of a fork stops the run too
    mixture = example("mixture")
    backend = Scripted(
        lambda agent, req: CallResult(error="timeout") if agent == "proposer_b" else answer(agent, "x")
    )
    result = run(mixture, reference_assignment(mixture), backend, QUERY)
    assert result.error == "agent @proposer_b failed: timeout"
    assert "aggregator" not in backend.agents()


def test_concurrency_bounds_the_calls_in_flight() -> None:
    wf = example("mixture")
    unbounded = Scripted(default_reply, delay=0.01)
    run(wf, reference_assignment(wf), unbounded, QUERY)
    assert unbounded.max_in_flight == 3
    bounded = Scripted(default_reply, delay=0.01)
    run(wf, reference_assignment(wf), bounded, QUERY, concurrency=1)
    assert bounded.max_in_flight == 1
    queries = [Query(f"q{i}", f"[sim-query q{i:05d}] hi", "x") for i in range(6)]
    many = Scripted(default_reply, delay=0.01)
    results = asyncio.run(run_many(wf, reference_assignment(wf), many, queries, concurrency=2))
    assert [r.query_id for r in results] == [q.id for q in queries]
    assert many.max_in_flight == 2 * 3


def test_score_compares_answer_keys_as_the_run_read_them() -> None:
    result = RunResult("q", answer("solver", "42"), 1.0, 0.0, reader=SIM_READER)
    assert score(result, QUERY)
    assert not score(RunResult("q", answer("solver", "41"), 1.0, 0.0, reader=SIM_READER), QUERY)
    assert not score(RunResult("q", None, 1.0, 0.0, error="agent @a failed: timeout"), QUERY)
    assert score(RunResult("q", "Final answer: 42.", 1.0, 0.0), {"id": "q", "input": "", "reference": "42"})
    # free text is read as free text: the sim's tag is no answer marker there
    assert RunResult("q", "", 1.0, 0.0).reader is TEXT_READER
    assert not score(RunResult("q", answer("solver", "42"), 1.0, 0.0), QUERY)


def test_assignment_from_point_runs() -> None:
    wf = example("self_consistency")
    point = PointAttr.build(acc=0.5, lat=1.0, assign=DictionaryAttr(with_(cheapest_assignment(wf), answer__samples=3)))
    assert assignment_from_point(point)["answer.samples"] == IntegerAttr(3, i64)
    backend = Scripted(default_reply)
    assert run(wf, point, backend, QUERY).ok and backend.agents() == ["solver"] * 3
