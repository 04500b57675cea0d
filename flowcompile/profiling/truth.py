"""Judging recorded calls by the queries' reference answers.

With the exact judge a query's reference answer is ground truth, so answer
and verdict agents need no pseudo ground truth from the reference run:
* an answer agent's call is right when its answer is the query's reference
  answer;
* a verdict agent's call is right when it approves a right draft or rejects a
  wrong one;
and every recorded call, accepted run or not, measures something: success
when its input is right, recovery when it is wrong. Which one follows from
the input itself, from the upstream outputs its last message contains (calls
issued earlier in the same run whose output text appears there):
* an answer among them that is not the reference answer makes it wrong;
* a plan (an output no reference judges) is right in every run: for a plan,
  right means the reference configuration's own plan, which is what the
  planner's candidates are judged against (`same_output`), so downstream
  agents are measured on the reference's plans on every query, not only on
  the queries the reference solved;
* a call in a switch case is, likewise, on the reference's route in every
  run, right or not: the router's candidates are judged against that route
  (in every run), and `compose` reads the router's and the plans' rates
  relative to the reference candidate's own (`judged = "reference output"`),
  so a case agent's success, which pays for the reference's misroutes, is
  not charged for them twice. (Counted only where the judge accepted the
  run, where the route is known right, a case agent was measured on the
  queries the reference solved, the easy ones.)
* verdicts and routes are control, not content: they decide what runs.

Why: the reference run's accepted calls (the paper's pseudo ground truth)
are the queries the strongest configuration solves, the easy ones. Measured
there, a weak agent looks far better than it is, and recovery measured on
them is far above recovery on the hard queries where inputs do go wrong.
Both inflate the proxy's estimate of cheap configurations.
Plans were once vouched for only by acceptance; a solver after a planner was
then measured on easy queries alone, and where agents fail together on hard
queries (the correlated sim world) every chain was estimated about 0.06 too
high at 600 confirmation queries (0.018 with plans judged in every run).

`flipped` gives a recorded input with its correctness reversed (a right
upstream answer swapped for a wrong one, or every wrong one for a right one,
taken from what the upstream agents' candidates answered on the same query),
so each agent is measured on both kinds of input on the same queries.
`mixed` gives a right input with a wrong output behind it (a checker's
right answer next to a wrong plan that answer's solver recovered from): the
third kind of input a chain with a skip connection delivers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from flowcompile.backends.base import Message
from flowcompile.runtime import RunResult

APPROVE = "approve"
REJECT = "reject"
CONTROL_KINDS = ("verdict", "route")


@dataclass(frozen=True)
class Upstream:
    """An upstream output found in a recorded input."""

    agent: str
    kind: str
    text: str
    right: bool | None
    """Answers: whether it is the reference answer; plans: None (unjudged)."""


@dataclass(frozen=True)
class Recorded:
    """One call of the reference run: the agent's input and its output. Judged
    by the reference answers, also what a right output of it is (`target`: an
    answer key, or APPROVE / REJECT), whether its input is right, and the
    upstream outputs that decide it."""

    run: int
    messages: tuple[Message, ...]
    output: str
    target: str | None = None
    right_input: bool = True
    upstream: tuple[Upstream, ...] = ()
    accepted: bool = True
    mixed: bool = False
    """A right input with an output behind it made wrong (`mixed`)."""


ANSWER_SHARE = 0.25
"""An agent whose outputs give the reference answer in at least this share of
the accepted reference runs answers the query; below it, its outputs are
plans (intermediate text that no reference answer judges)."""


def judged_kinds(
    kinds: Mapping[str, str], runs: Sequence[RunResult], accepted: Sequence[int], golds: Sequence[str]
) -> dict[str, str]:
    """`kinds` (route / verdict / answer, by where an output goes) with the
    answer agents that do not answer the query marked "plan". The structure
    cannot tell a solver (its answer feeds a checker) from a planner (its
    plan feeds a solver); the accepted runs can: a solver's outputs mostly
    give the reference answer there, a plan's almost never."""
    hits: dict[str, list[bool]] = {name: [] for name in kinds}
    for i in accepted:
        for call in runs[i].calls:
            if call.agent in hits and call.result.ok:
                hits[call.agent].append(runs[i].reader.answer_key(call.result.text) == golds[i])
    return {
        name: "plan" if kind == "answer" and hits[name] and sum(hits[name]) < ANSWER_SHARE * len(hits[name]) else kind
        for name, kind in kinds.items()
    }


def upstream_outputs(
    run: RunResult, index: int, kinds: Mapping[str, str], gold: str, skip: frozenset[str]
) -> tuple[Upstream, ...]:
    """The outputs of calls issued before call `index` of `run` that its last
    message contains (not those of agents in `skip`, nor control outputs)."""
    content = run.calls[index].messages[-1].content
    found = []
    for call in run.calls[:index]:
        kind = kinds.get(call.agent, "plan")
        text = call.result.text
        if call.agent in skip or kind in CONTROL_KINDS or not call.result.ok or not text or text not in content:
            continue
        right = run.reader.answer_key(text) == gold if kind == "answer" else None
        if all(u.text != text for u in found):
            found.append(Upstream(call.agent, kind, text, right))
    return tuple(found)


def input_state(upstream: Sequence[Upstream]) -> bool:
    """Right (True) or wrong (False): see the module docstring."""
    if any(u.right is False for u in upstream):
        return False
    return True


def judged_calls(
    agent: str,
    kind: str,
    runs: Sequence[RunResult],
    indices: Sequence[int],
    accepted: frozenset[int],
    golds: Sequence[str],
    kinds: Mapping[str, str],
    skip: frozenset[str] = frozenset(),
) -> list[Recorded]:
    """Every call of `agent` (an answer or verdict agent) in the runs
    `indices` whose input state is known, judged by the reference answers
    (`golds[i]`: run i's reference answer key; an empty one leaves the run
    out). `skip`: agents whose outputs are not part of the input's state (an
    aggregator's proposers: how many are right is its level, not its input)."""
    found = []
    for i in indices:
        if not golds[i]:
            continue
        run = runs[i]
        for index, call in enumerate(run.calls):
            if call.agent != agent:
                continue
            upstream = upstream_outputs(run, index, kinds, golds[i], skip)
            state = input_state(upstream)
            found.append(
                Recorded(i, call.messages, call.result.text, target_of(kind, golds[i], state), state, upstream, i in accepted)
            )
    return found


def target_of(kind: str, gold: str, right_input: bool) -> str:
    """What a right output is: a verdict approves exactly the right inputs."""
    if kind == "verdict":
        return APPROVE if right_input else REJECT
    return gold


Alternatives = Callable[[int, Upstream, bool], Sequence[str]]
"""alternatives(run, upstream, right): texts that agent gave on the run's
query that are right (or wrong), for swapping into an input."""


def flipped(entry: Recorded, kind: str, gold: str, alternatives: Alternatives) -> Recorded | None:
    """`entry` with its input's correctness reversed, or None when no
    alternative text can do it. A right input loses one upstream output (an
    answer first, else a plan) to a wrong one; a wrong input gets every wrong
    answer replaced by a right one (its plans stay: they are the reference's)."""
    content = entry.messages[-1].content
    if entry.right_input:
        order = sorted(entry.upstream, key=lambda u: u.kind != "answer")
        for u in order:
            swap = pick(alternatives(entry.run, u, False), {u.text}, entry.run)
            if swap is not None:
                return _with(entry, kind, gold, content.replace(u.text, swap, 1), False)
        return None
    for u in entry.upstream:
        if u.right is False:
            swap = pick(alternatives(entry.run, u, True), {u.text}, entry.run)
            if swap is None:
                return None
            content = content.replace(u.text, swap, 1)
    return _with(entry, kind, gold, content, True)


def mixed(entry: Recorded, run: RunResult, alternatives: Alternatives) -> Recorded | None:
    """`entry`, a right input, with a *mixed* input instead: an upstream
    output that another upstream output was derived from (that output's call
    read it: the plan its solver followed, which a checker reads beside the
    answer) swapped for a wrong one, the outputs derived from it kept right.
    The proxy drops such a derived-from input as redundant to the one built
    on it; whether a wrong one still matters is this call's to measure. None
    when the entry has no such output or no wrong text to swap in."""
    if not entry.right_input:
        return None
    for u in entry.upstream:
        if not any(v is not u and _read_by(run, v, u.text) for v in entry.upstream):
            continue
        swap = pick(alternatives(entry.run, u, False), {u.text}, entry.run)
        if swap is not None:
            return replace(_rewritten(entry, entry.messages[-1].content.replace(u.text, swap, 1)), mixed=True)
    return None


def _read_by(run: RunResult, output: Upstream, text: str) -> bool:
    """Whether the call that gave `output` in `run` read `text`."""
    return any(
        c.agent == output.agent and c.result.text == output.text and text in c.messages[-1].content for c in run.calls
    )


def _with(entry: Recorded, kind: str, gold: str, content: str, right_input: bool) -> Recorded:
    return replace(_rewritten(entry, content), right_input=right_input, target=target_of(kind, gold, right_input))


def _rewritten(entry: Recorded, content: str) -> Recorded:
    """`entry` with its last message's content replaced."""
    user = entry.messages[-1]
    return replace(entry, messages=(*entry.messages[:-1], Message(user.role, content)))


def pick(pool: Sequence[str], used: set[str], start: int) -> str | None:
    """The first text of `pool` not in `used`, scanning from `start` (mod len):
    the start rotates with the run, so different queries use different texts."""
    for k in range(len(pool)):
        text = pool[(start + k) % len(pool)]
        if text not in used:
            return text
    return None
