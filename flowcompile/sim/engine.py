"""The deterministic SIMULATION of LLM sub-agents (`SimWorld`).

This is a simulated world, not a model: it reads only message text, decides
whether an agent's output is right from the world file, and writes a reply that
carries the decision as a tag. Every random draw is a blake2b hash of
(world seed, request seed, query id, agent, model, budget, sample, purpose), so
any call replays exactly and calls are order independent.

Text protocol
-------------
* System message: ``You are the <role> agent '<agent>' of workflow '<wf>'.``
  then free text. Missing: role "default", agent "anonymous". Unknown roles use
  the world's ``default`` role entry.
* User message(s): free text with one query tag ``[sim-query <id>]`` (ids like
  ``q00042``; without one, the id is a hash of the text) and zero or more
  upstream outputs. A branch agent's system message says ``You handle the
  '<route>' case.`` (or carries the older ``[sim-branch <route>]``).
* Every simulated output holds exactly one tag ``<<kind:agent:value>>``, kind
  in plan / answer / verdict / route, e.g. ``<<answer:solver:4f2a>>``,
  ``<<verdict:critic:approve>>``, ``<<route:router:math>>``.

Semantics
---------
* The correct value of (query, kind) is a hash of (world seed, query, kind), so
  all answer agents share the right token, which is the dataset reference.
  Wrong plans/answers come from a few per-query distractors (weights 1/(i+1)),
  so independent wrong answers sometimes agree; routes misroute uniformly.
* Difficulty: d(q, agent) = d_q + noise(q, agent) + role.difficulty, with d_q
  shared by all agents (correlated failures). Effective capability =
  capability + role.reasoning_weight * gain * log1p(budget / scale);
  margin = effective capability - d(q, agent).
* Input is correct when every upstream tag (not verdicts; not routes for a
  branch agent) carries the correct value; no upstream counts as
  correct. Correct input: success w.p. sigmoid(margin [+ upstream_bonus]).
  Wrong input: success w.p. role.recovery (with role.recovery_slope > 0:
  sigmoid(logit(recovery) + recovery_slope * margin), so a fixer's model and
  budget count), else the wrong upstream value is usually copied. A branch agent whose route is not the query's route fails.
* Verdicts judge the most recent answer tag (else plan tag): approve a correct
  one w.p. 1 - FR, a wrong one w.p. FA, where FA/FR = sigmoid(logit(rate) -
  judge_slope * margin).
* Aggregators (role.aggregate): with k of n input answers correct (k >= 1) the
  aggregator spots a right one w.p. sel = sigmoid(logit(selection) +
  judge_slope * margin). Otherwise, by role.aggregate_rule: "select" (the
  default) is still right w.p. k/n, so right w.p. sel + (1 - sel) * k/n in all;
  "plurality" takes the most common input answer (ties: the first in input
  order), right exactly when that answer is, so right w.p. sel, or 1 when the
  plurality is right. With none right: right w.p. recovery. A wrong output is
  the most common wrong input answer (under "plurality", the plurality itself).
* Tasks (world.tasks, `flowcompile.sim.tasks`): a query id `<task>-...` of a
  task in the world gets that task's answers (integers, one-word entities or
  yes/no, programs rendered in a ```python fence) and difficulty offset; every
  other id draws exactly as without tasks.
* Tokens: output ~ role.output_tokens (lognormal); reasoning used = budget x
  usage (lognormal, <= budget); tokens_in = chars / chars_per_token + 4 per
  message. If ``max_tokens`` is exceeded the reply is truncated and wrong.
* Latency = (ttft + tokens_in / prefill + (out + reasoning) / decode) x lognormal
  noise; cost = tokens_in * price_in + (out + reasoning) * output price.
* ``temperature`` is ignored: each sample index is an independent sample.
* Faults are drawn per (call, sample, attempt): rate_limit, server_error and
  timeout return no text; malformed returns garbage text. `attempt` counts
  retries of an identical request, so a retry can succeed; the content of a
  successful reply never depends on it.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowcompile.backends.base import CallRequest, CallResult
from flowcompile.sim.protocol import (
    Tag,
    content_hash,
    digest,
    filler,
    find_branch,
    find_query,
    find_tags,
    format_tag,
    hex_token,
    last_answer,
    logit,
    lognormal_factor,
    normal,
    parse_header,
    sigmoid,
    uniform,
)
from flowcompile.sim.tasks import program_fence, task_answer, task_distractors, task_input
from flowcompile.sim.world import ModelSpec, RoleSpec, World, default_world_path, load_world

__all__ = [
    "SimTrace",
    "SimWorld",
    "content_hash",
    "generate_dataset",
    "logit",
    "read_jsonl",
    "sigmoid",
    "write_jsonl",
]

_STUBS = (
    "Solve the following simulated task and state one final answer.",
    "Answer the simulated question below; finish with your final answer.",
    "Work out the simulated problem step by step, then give the answer.",
    "A simulated user asks a question; reply with a single final answer.",
)


@dataclass(frozen=True)
class SimTrace:
    """Everything the simulation decided for one call (for tests and analysis).

    `correct`/`value` describe the content; `result.error` may still be set by
    an injected fault, in which case the content never reached the caller."""

    query: str
    role: str
    agent: str
    kind: str
    model: str
    margin: float
    p_success: float
    input_ok: bool | None
    misrouted: bool
    correct: bool
    value: str
    truncated: bool
    result: CallResult


class SimWorld:
    """A loaded world that answers `CallRequest`s deterministically."""

    def __init__(self, world: World | str | Path | None = None) -> None:
        if world is None:
            world = default_world_path()
        self.world: World = world if isinstance(world, World) else load_world(world)
        self._routes = self.world.queries.routes()
        self._correct: dict[tuple[str, str], str] = {}
        self._distractors: dict[tuple[str, str], list[str]] = {}

    # -- the query population -------------------------------------------------

    def query_difficulty(self, query: str) -> float:
        """The latent difficulty d_q shared by all agents on `query`."""
        q = self.world.queries
        task = self.world.task_of(query)
        offset = task.difficulty if task is not None else 0.0
        return q.difficulty_mean + offset + q.difficulty_sd * normal(self.world.seed, query, "difficulty")

    def agent_difficulty(self, query: str, agent: str) -> float:
        """d_q plus the per-(query, agent) noise (role offset not included)."""
        noise = self.world.queries.agent_noise_sd * normal(self.world.seed, query, agent, "agent-noise")
        return self.query_difficulty(query) + noise

    def correct_value(self, query: str, kind: str) -> str:
        """The right value of a (query, kind) tag; for "answer" the dataset reference."""
        key = (query, kind)
        if key not in self._correct:
            if kind == "route":
                idx = int(uniform(self.world.seed, query, "route") * len(self._routes))
                self._correct[key] = self._routes[idx]
            elif kind == "verdict":
                self._correct[key] = "approve"
            elif kind == "answer" and (task := self.world.task_of(query)) is not None:
                self._correct[key] = task_answer(self.world.seed, query, task)
            else:
                self._correct[key] = hex_token(self.world.seed, query, kind, "correct")
        return self._correct[key]

    def distractors(self, query: str, kind: str) -> list[str]:
        """The per-query wrong values of a plan/answer, most plausible first."""
        key = (query, kind)
        if key not in self._distractors and kind == "answer" and (task := self.world.task_of(query)) is not None:
            self._distractors[key] = task_distractors(
                self.world.seed, query, task, self.correct_value(query, kind), self.world.queries.distractors
            )
        if key not in self._distractors:
            right = self.correct_value(query, kind)
            out: list[str] = []
            salt = 0
            while len(out) < self.world.queries.distractors:
                tok = hex_token(self.world.seed, query, kind, "distractor", len(out), salt)
                if tok != right and tok not in out:
                    out.append(tok)
                else:
                    salt += 1
            self._distractors[key] = out
        return self._distractors[key]

    def tag_ok(self, query: str, tag: Tag) -> bool:
        """Whether an upstream tag carries the right value for `query`."""
        if tag.kind == "route":
            return tag.value.lower() == self.correct_value(query, "route").lower()
        return tag.value == self.correct_value(query, tag.kind)

    # -- one call ----------------------------------------------------------------

    def respond(self, request: CallRequest, attempt: int = 0) -> CallResult:
        """The simulated reply to `request` (pure: same inputs, same result)."""
        return self.trace(request, attempt).result

    def score(self, output_text: str, reference: str) -> bool:
        """Whether the last answer tag of `output_text` equals the reference token."""
        want = last_answer(reference) or reference.strip()
        got = last_answer(output_text)
        return got is not None and got == want

    def trace(self, request: CallRequest, attempt: int = 0) -> SimTrace:
        """Decide one call and return the decision with its `CallResult`."""
        w = self.world
        spec = w.model(request.model)
        system = "\n".join(m.content for m in request.messages if m.role == "system")
        body = "\n".join(m.content for m in request.messages if m.role != "system")
        header = parse_header(system)
        role = w.role(header.role)
        query = find_query(body) or find_query(system) or "anon-" + digest(body).hex()[:10]
        branch = find_branch(system) or find_branch(body)
        tags = find_tags(body)
        key = (w.seed, request.seed, query, header.agent, spec.name, request.budget, request.sample)
        in_key = digest(*(f"{t.kind}:{t.agent}:{t.value}" for t in tags)).hex()

        effective = spec.capability + role.reasoning_weight * spec.reasoning.gain_at(request.budget)
        margin = effective - self.agent_difficulty(query, header.agent) - role.difficulty
        u = uniform(*key, in_key, "outcome")
        decide = self._verdict if role.kind == "verdict" else self._produce
        value, correct, p, input_ok, misrouted = decide(query, role, tags, branch, margin, u, (*key, in_key))

        tokens_in = math.ceil(sum(len(m.content) for m in request.messages) / w.chars_per_token)
        tokens_in += 4 * len(request.messages)
        spread = lognormal_factor(role.output_tokens_sd, normal(*key, "out-tokens"))
        tokens_out = max(4, round(role.output_tokens * spread))
        reasoning = self._reasoning_used(spec, request.budget, key)
        truncated = request.max_tokens is not None and reasoning + tokens_out > request.max_tokens
        if truncated:
            assert request.max_tokens is not None
            # thinking eats the allowance first; keep one visible token for the tag
            reasoning = min(reasoning, request.max_tokens - 1)
            tokens_out = request.max_tokens - reasoning
            if correct:
                value, correct = self._wrong(query, role.kind, tags, value, (*key, in_key)), False

        noise = lognormal_factor(w.latency_noise_sd, normal(*key, "latency"))
        latency = (
            spec.ttft_s + tokens_in / spec.prefill_tok_per_s + (tokens_out + reasoning) / spec.decode_tok_per_s
        ) * noise
        cost = tokens_in * spec.price_in + (tokens_out + reasoning) * spec.output_price(request.budget)
        text = self._render(spec, header.role, header.agent, query, role.kind, value, tokens_out, key)
        result = CallResult(
            text=text,
            latency_s=latency,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            reasoning_tokens=reasoning,
            cost=cost,
        )
        result = self._fault(request, spec, key, attempt, result)
        return SimTrace(
            query=query,
            role=header.role,
            agent=header.agent,
            kind=role.kind,
            model=spec.name,
            margin=margin,
            p_success=p,
            input_ok=input_ok,
            misrouted=misrouted,
            correct=correct,
            value=value,
            truncated=truncated,
            result=result,
        )

    # -- decisions ---------------------------------------------------------------

    def _produce(
        self, query: str, role: RoleSpec, tags: list[Tag], branch: str | None, margin: float, u: float, key: tuple
    ) -> tuple[str, bool, float, bool | None, bool]:
        """Plan / answer / route outputs (including aggregators)."""
        relevant = [t for t in tags if t.kind != "verdict" and not (branch is not None and t.kind == "route")]
        input_ok = all(self.tag_ok(query, t) for t in relevant) if relevant else None
        misrouted = branch is not None and branch.lower() != self.correct_value(query, "route").lower()
        answers = [t for t in tags if t.kind == "answer"]
        if misrouted:
            p = 0.0  # the wrong specialist answers: no recovery
        elif role.aggregate and answers and role.kind == "answer":
            right = sum(self.tag_ok(query, t) for t in answers)
            if right:
                sel = sigmoid(logit(role.selection) + role.judge_slope * margin)
                if role.aggregate_rule == "plurality":
                    # Unspotted, it follows the crowd: right iff the plurality is.
                    # When that is wrong, `_wrong` picks the same value (the most
                    # common wrong input, first in input order on ties).
                    p = 1.0 if self.tag_ok(query, _plurality(answers)) else sel
                else:
                    p = sel + (1 - sel) * right / len(answers)
            else:
                p = role.recovery
        elif input_ok is False:
            p = role.recovery
            if role.recovery_slope:
                # a budget helps a fixer too; slope 0 keeps the flat rate (and every old draw)
                p = sigmoid(logit(role.recovery) + role.recovery_slope * margin)
        else:
            p = sigmoid(margin + (role.upstream_bonus if relevant else 0.0))
        right_value = self.correct_value(query, role.kind)
        if u < p:
            return right_value, True, p, input_ok, misrouted
        return self._wrong(query, role.kind, tags, right_value, key), False, p, input_ok, misrouted

    def _verdict(
        self, query: str, role: RoleSpec, tags: list[Tag], branch: str | None, margin: float, u: float, key: tuple
    ) -> tuple[str, bool, float, bool | None, bool]:
        """Approve/reject the most recent answer (else plan) in the input."""
        judged = [t for t in tags if t.kind == "answer"] or [t for t in tags if t.kind == "plan"]
        truth = self.tag_ok(query, judged[-1]) if judged else True
        if truth:
            p_approve = 1.0 - sigmoid(logit(role.false_reject) - role.judge_slope * margin)
        else:
            p_approve = sigmoid(logit(role.false_accept) - role.judge_slope * margin)
        approve = u < p_approve
        p_right = p_approve if truth else 1.0 - p_approve
        return ("approve" if approve else "reject"), approve == truth, p_right, (truth if judged else None), False

    def _wrong(self, query: str, kind: str, tags: list[Tag], right: str, key: tuple) -> str:
        """A wrong value: a wrong upstream value of the same kind if any, else a distractor."""
        if kind == "verdict":
            return "reject" if right == "approve" else "approve"
        u = uniform(*key, "wrong")
        if kind == "route":
            others = [r for r in self._routes if r.lower() != right.lower()]
            return others[int(u * len(others))] if others else "unrouted"
        copied = [t.value for t in tags if t.kind == kind and t.value != right]
        if copied:
            # Prefer what most upstream agents said (aggregators keep the majority error).
            return Counter(copied).most_common(1)[0][0]
        options = self.distractors(query, kind)
        weights = [1.0 / (i + 1) for i in range(len(options))]
        target = u * sum(weights)
        for option, wgt in zip(options, weights):
            target -= wgt
            if target < 0:
                return option
        return options[-1]

    # -- resources and text ----------------------------------------------------

    @staticmethod
    def _reasoning_used(spec: ModelSpec, budget: int, key: tuple) -> int:
        """Reasoning tokens actually spent: a noisy fraction of the (clipped) budget."""
        allowed = spec.reasoning.clip(budget)
        if allowed == 0:
            return 0
        curve = spec.reasoning
        frac = min(1.0, curve.usage * lognormal_factor(curve.usage_sd, normal(*key, "reasoning")))
        return max(1, min(allowed, round(allowed * frac)))

    def _render(
        self, spec: ModelSpec, role: str, agent: str, query: str, kind: str, value: str, tokens: int, key: tuple
    ) -> str:
        """Reply text about `tokens` long, ending with the single output tag."""
        head = f"(simulated reply: {spec.name}, {role} '{agent}', {query})"
        tag = format_tag(kind, agent, value)
        task = self.world.task_of(query)
        if kind == "answer" and task is not None and task.program is not None:
            # a program the code_test tool can run: the right one exactly when the value is right
            tag = f"{program_fence(task, value == self.correct_value(query, kind), value)}\n{tag}"
        room = int(tokens * self.world.chars_per_token) - len(head) - len(tag) - 2
        pad = filler(uniform(*key, "filler"), room)
        return f"{head}\n{pad}\n{tag}" if pad else f"{head}\n{tag}"

    def _fault(self, request: CallRequest, spec: ModelSpec, key: tuple, attempt: int, ok: CallResult) -> CallResult:
        """Replace `ok` by an injected transport fault, if one is drawn."""
        f = self.world.faults
        if f.total <= 0:
            return ok
        u = uniform(*key, content_hash(request), "fault", attempt)
        noise = lognormal_factor(self.world.latency_noise_sd, normal(*key, "fault-latency", attempt))
        if u < f.rate_limit:
            return CallResult(latency_s=0.05 * noise, error="rate_limit")
        u -= f.rate_limit
        if u < f.server_error:
            return CallResult(latency_s=spec.ttft_s * noise, error="server_error")
        u -= f.server_error
        if u < f.timeout:
            return CallResult(latency_s=f.timeout_s, error="timeout")
        u -= f.timeout
        if u < f.malformed:
            garbage = '{"choices": [{"message": {"content": "' + filler(uniform(*key, "garbage"), 40) + "\ufffd"
            return CallResult(
                text=garbage,
                latency_s=ok.latency_s,
                tokens_in=ok.tokens_in,
                tokens_out=ok.tokens_out,
                reasoning_tokens=ok.reasoning_tokens,
                cost=ok.cost,
                error="malformed",
            )
        return ok


def _plurality(tags: list[Tag]) -> Tag:
    """The first tag (in input order) whose value is the most common one."""
    counts = Counter(t.value for t in tags)
    return max(tags, key=lambda t: counts[t.value])  # max keeps the first of equals


# -- datasets ----------------------------------------------------------------------


def generate_dataset(
    world: World | SimWorld | str | Path | None, n: int, seed: int = 0, task: str | None = None
) -> list[dict[str, str]]:
    """`n` simulated queries: {"id", "input", "reference"}; seeds give disjoint id sets.

    With `task` (a name in the world's `tasks`), the queries are that task's
    (`<task>-00042`), shaped like its benchmark's."""
    sim = world if isinstance(world, SimWorld) else SimWorld(world)
    if task is not None:
        return _task_dataset(sim, n, seed, task)
    rows = []
    for i in range(n):
        qid = f"q{i:05d}" if seed == 0 else f"q{seed}-{i:05d}"
        stub = _STUBS[int(uniform(sim.world.seed, qid, "stub") * len(_STUBS))]
        rows.append({"id": qid, "input": f"[sim-query {qid}] {stub}", "reference": sim.correct_value(qid, "answer")})
    return rows


def _task_dataset(sim: SimWorld, n: int, seed: int, task: str) -> list[dict[str, str]]:
    spec = sim.world.tasks.get(task)
    if spec is None:
        known = ", ".join(sorted(sim.world.tasks)) or "none"
        raise ValueError(f"the world {sim.world.name!r} has no task {task!r} (tasks: {known})")
    rows = []
    for i in range(n):
        qid = f"{task}-{i:05d}" if seed == 0 else f"{task}-{seed}-{i:05d}"
        rows.append({"id": qid, "input": task_input(sim.world.seed, qid, spec), "reference": sim.correct_value(qid, "answer")})
    return rows


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> Path:
    """Write `rows` one JSON object per line; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, sort_keys=True) + "\n")
    return path


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read rows written by `write_jsonl`."""
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
