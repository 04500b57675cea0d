"""The SIMULATED task families: what a task's answers, wrong answers and queries look like.

A world's `tasks` (see `flowcompile.sim.world.TaskSpec`) claim query ids by
prefix (`math-00042`, `hotpotqa-00042`, `code-00042`); only the answer kind
changes: plans and verdicts draw as for any query. The shapes follow the
paper's three benchmarks (MATH500, HotpotQA, LiveCodeBench), simulated:

* number: a non-negative integer, so `extract_answer {number: true}` reads it;
  wrong answers are near misses (off by one, a dropped factor) first;
* words: a one-word entity or yes/no; wrong answers are the entities the
  question's two hops name (the ones its text shows), then others, or the
  other of yes/no;
* program: a token naming the program; the reply carries the program itself in
  a ```python fence: the task's solution when the token is right, else one of
  its bugs (picked by the token), which the workflow's tests may not all catch.

Every draw is a hash of (world seed, query, purpose), as in the engine.
"""

from __future__ import annotations

from flowcompile.sim.protocol import hex_token, uniform
from flowcompile.sim.world import TaskSpec

__all__ = ["program_fence", "task_answer", "task_distractors", "task_input"]

_SYLLABLES = ("ka", "lo", "mer", "ven", "dra", "si", "tor", "bel", "an", "ru", "quen", "fal", "or", "im", "zet")


def _name(*key: object) -> str:
    """A made-up proper name of two or three syllables."""
    n = 2 + int(uniform(*key, "syllables") * 2)
    parts = [_SYLLABLES[int(uniform(*key, "syllable", i) * len(_SYLLABLES))] for i in range(n)]
    return "".join(parts).capitalize()


def _is_yes_no(seed: int, query: str, task: TaskSpec) -> bool:
    return uniform(seed, query, "task-yes-no") < task.yes_no


def task_answer(seed: int, query: str, task: TaskSpec) -> str:
    """The right answer value of a task query (the dataset reference)."""
    if task.answer == "number":
        return str(int(uniform(seed, query, "task-number") * task.max_number))
    if task.answer == "words":
        if _is_yes_no(seed, query, task):
            return "yes" if uniform(seed, query, "task-yes") < 0.5 else "no"
        return _name(seed, query, "task-entity")
    return hex_token(seed, query, "answer", "correct")


def task_distractors(seed: int, query: str, task: TaskSpec, right: str, count: int) -> list[str]:
    """Up to `count` distinct wrong values of a task query, most plausible first."""
    if task.answer == "words" and right in ("yes", "no"):
        return ["no" if right == "yes" else "yes"]
    out: list[str] = []
    salt = 0
    while len(out) < count:
        if task.answer == "number":
            n = int(right)
            near = (n + 1, n - 1, n * 2, n + 10, n // 2)
            value = str(near[salt]) if salt < len(near) else str(int(uniform(seed, query, "task-wrong", salt) * task.max_number))
        elif task.answer == "words":
            value = _name(seed, query, "task-hop", salt)
        else:
            value = hex_token(seed, query, "answer", "distractor", len(out), salt)
        if value != right and value not in out and not value.startswith("-"):
            out.append(value)
        salt += 1
    return out


def program_fence(task: TaskSpec, right: bool, value: str) -> str:
    """The fenced program a reply with answer `value` carries."""
    assert task.program is not None
    if right:
        source = task.program.solution
    else:
        bugs = task.program.bugs
        source = bugs[int(uniform("task-bug", value) * len(bugs))]
    return f"```python\n{source.strip()}\n```"


def task_input(seed: int, query: str, task: TaskSpec) -> str:
    """The query text of a task query, shaped like its benchmark's (simulated)."""
    tag = f"[sim-query {query}]"
    if task.answer == "number":
        a, b = (int(uniform(seed, query, "task-text", i) * 90) + 10 for i in range(2))
        return (f"{tag} Problem: a simulated competition problem about {a} and {b}. "
                "Reason step by step and put the final answer, a number, last.")
    if task.answer == "words":
        first, bridge = _name(seed, query, "task-hop", 0), _name(seed, query, "task-hop", 1)
        kind = "comparison" if _is_yes_no(seed, query, task) else "bridge"
        return (f"{tag} Question ({kind}): a simulated two-hop question linking {first} and {bridge}.\n"
                f"Context:\n[{first}] A simulated paragraph naming {bridge}.\n"
                f"[{bridge}] A simulated paragraph holding the answer.\n"
                "Answer with a short phrase.")
    return (f"{tag} Write a Python function `solve` for this simulated task (LiveCodeBench-style), "
            "in one ```python block. Public tests call solve() directly.")
