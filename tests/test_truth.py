"""Judging recorded calls by the reference answers (`flowcompile.profiling.truth`).

The runs here are written by hand: each call's messages and output text are
chosen so that which upstream outputs an input contains, and whether they
give the reference answer, is known by construction."""

from __future__ import annotations

from dataclasses import replace

from flowcompile.backends.base import CallResult, Message
from flowcompile.profiling.truth import (
    APPROVE,
    REJECT,
    Recorded,
    Upstream,
    flipped,
    input_state,
    judged_calls,
    judged_kinds,
    mixed,
    upstream_outputs,
)
from flowcompile.runtime import RunResult
from flowcompile.runtime.interpreter import AgentCall

GOLD = "42"


def call(agent: str, reads: str, says: str, case: str | None = None) -> AgentCall:
    messages = (Message("system", f"You are {agent}."), Message("user", reads))
    return AgentCall(agent, "m@0", messages, CallResult(text=says), case=case)


def run(*calls: AgentCall) -> RunResult:
    return RunResult("q", calls[-1].result.text, 1.0, 0.0, list(calls))


KINDS = {"planner": "plan", "solver": "answer", "checker": "answer", "critic": "verdict", "router": "route"}


def chain(solver_says: str) -> RunResult:
    return run(
        call("planner", "Q", "plan: add six to 36"),
        call("solver", "Q\nplan: add six to 36", f"Answer: {solver_says}"),
        call("checker", f"Q\nplan: add six to 36\nAnswer: {solver_says}", "Answer: 42"),
    )


def test_upstream_outputs_are_the_earlier_calls_the_input_contains():
    found = upstream_outputs(chain("41"), 2, KINDS, GOLD, frozenset())
    assert found == (
        Upstream("planner", "plan", "plan: add six to 36", None),
        Upstream("solver", "answer", "Answer: 41", False),
    )
    assert upstream_outputs(chain("41"), 0, KINDS, GOLD, frozenset()) == ()
    # skipped agents (an aggregator's proposers) are not part of the state
    assert [u.agent for u in upstream_outputs(chain("41"), 2, KINDS, GOLD, frozenset({"solver"}))] == ["planner"]


def test_control_outputs_are_not_content():
    r = run(
        call("solver", "Q", "Answer: 42"),
        call("critic", "Q\nAnswer: 42", "REJECT: too short"),
        call("checker", "Q\nAnswer: 42\nREJECT: too short", "Answer: 42"),
    )
    assert [u.agent for u in upstream_outputs(r, 2, KINDS, GOLD, frozenset())] == ["solver"]


def test_input_state_rules():
    plan = Upstream("planner", "plan", "p", None)
    right, wrong = Upstream("solver", "answer", "a", True), Upstream("solver", "answer", "b", False)
    assert input_state(()) is True  # the query alone (or on the reference's route, in any run)
    assert input_state((right,)) is True
    assert input_state((plan, wrong)) is False  # one wrong answer decides
    assert input_state((plan, right)) is True  # the reference's plan, accepted or not


def test_judged_calls_of_answers_and_verdicts():
    runs = [chain("42"), chain("41"), chain("41")]
    accepted = frozenset({0, 1})  # run 2 the judge did not accept
    checker = judged_calls("checker", "answer", runs, [0, 1, 2], accepted, [GOLD] * 3, KINDS)
    assert [(e.run, e.right_input, e.target) for e in checker] == [(0, True, GOLD), (1, False, GOLD), (2, False, GOLD)]
    solver = judged_calls("solver", "answer", runs, [0, 1, 2], accepted, [GOLD] * 3, KINDS)
    assert [e.run for e in solver] == [0, 1, 2]  # the reference's plan is right in every run
    # a run without a reference answer is left out
    assert judged_calls("checker", "answer", runs, [0, 1, 2], accepted, [GOLD, "", GOLD], KINDS)[1].run == 2

    drafts = [run(call("solver", "Q", "Answer: 42"), call("critic", "Q\nAnswer: 42", "APPROVE")),
              run(call("solver", "Q", "Answer: 7"), call("critic", "Q\nAnswer: 7", "APPROVE"))]
    critic = judged_calls("critic", "verdict", drafts, [0, 1], frozenset({0}), [GOLD] * 2, KINDS)
    assert [(e.right_input, e.target) for e in critic] == [(True, APPROVE), (False, REJECT)]


def test_judged_kinds_tell_plans_from_answers_by_the_accepted_runs():
    runs = [chain("42"), chain("42"), chain("41")]
    kinds = judged_kinds({"planner": "answer", "solver": "answer", "checker": "answer"}, runs, [0, 1, 2], [GOLD] * 3)
    assert kinds == {"planner": "plan", "solver": "answer", "checker": "answer"}


def entry(content: str, upstream: tuple[Upstream, ...], right: bool, accepted: bool = True) -> Recorded:
    return Recorded(3, (Message("system", "s"), Message("user", content)), "out", GOLD, right, upstream, accepted)


def test_flipping_a_right_input_swaps_an_answer_before_a_plan():
    plan, answer = Upstream("planner", "plan", "P1", None), Upstream("solver", "answer", "A42", True)
    asked = []

    def alternatives(run: int, u: Upstream, right: bool) -> list[str]:
        asked.append((run, u.agent, right))
        return {"solver": ["A42", "A41"], "planner": ["P2"]}[u.agent]

    made = flipped(entry("P1 then A42", (plan, answer), True), "answer", GOLD, alternatives)
    assert made is not None and made.messages[-1].content == "P1 then A41"
    assert (made.right_input, made.target, made.run) == (False, GOLD, 3)
    assert asked == [(3, "solver", False)]


def test_flipping_a_wrong_input_repairs_every_wrong_answer_or_nothing():
    a, b = Upstream("p1", "answer", "A1", False), Upstream("p2", "answer", "A2", False)
    made = flipped(entry("A1 | A2", (a, b), False), "answer", GOLD, lambda run, u, right: ["R" + u.text])
    assert made is not None and made.messages[-1].content == "RA1 | RA2" and made.right_input
    assert flipped(entry("A1 | A2", (a, b), False), "answer", GOLD, lambda run, u, right: []) is None
    # a verdict's target follows the flip
    judged = flipped(entry("A1", (a,), False), "verdict", GOLD, lambda run, u, right: ["R"])
    assert judged is not None and judged.target == APPROVE
    # a repaired input of an unaccepted run keeps its plan, the reference's: it is right
    plan = Upstream("planner", "plan", "P", None)
    repaired = flipped(entry("P A1", (plan, a), False, accepted=False), "answer", GOLD, lambda r, u, ok: ["R"])
    assert repaired is not None and repaired.messages[-1].content == "P R" and repaired.right_input


def test_a_mixed_input_swaps_the_plan_the_answer_was_built_on():
    r = chain("42")
    recorded = upstream_outputs(r, 2, KINDS, GOLD, frozenset())
    right = Recorded(0, r.calls[2].messages, r.calls[2].result.text, GOLD, True, recorded)
    asked = []

    def alternatives(run: int, u: Upstream, ok: bool) -> list[str]:
        asked.append((u.agent, ok))
        return ["plan: add seven to 36"]

    made = mixed(right, r, alternatives)
    assert made is not None and made.mixed and made.right_input and made.target == GOLD
    assert made.messages[-1].content == "Q\nplan: add seven to 36\nAnswer: 42"
    assert asked == [("planner", False)]  # a wrong plan, the answer kept
    # a wrong input, or one with nothing an output was built on, has no mixed form
    assert mixed(replace(right, right_input=False), r, alternatives) is None
    alone = Recorded(0, r.calls[1].messages, r.calls[1].result.text, GOLD, True, recorded[:1])
    assert mixed(alone, r, alternatives) is None
    # nor one whose plan has no wrong alternative
    assert mixed(right, r, lambda run, u, ok: []) is None
