"""Synthetic profiled flow IR for the benchmarks (deterministic: fixed seeds).

Every agent gets one `#flow.profile` per candidate `model@budget`, drawn from a
simple model of a pool of LLMs: accuracy rises with model size and reasoning
budget (a logistic curve in log-size and log-budget, with per-agent difficulty
and per-candidate noise), latency rises with both (a fixed overhead plus the
output tokens over a size-dependent decode rate, with noise), cost is tokens
times a size-dependent price. The noise makes some candidates dominated and
the frontiers non-trivial.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

MODELS: tuple[tuple[str, float], ...] = (
    ("qwen3-0.6b", 0.6),
    ("qwen3-1.7b", 1.7),
    ("qwen3-4b", 4.0),
    ("qwen3-8b", 8.0),
    ("qwen3-14b", 14.0),
    ("qwen3-32b", 32.0),
)
"""(name, billions of parameters)."""

BUDGETS: tuple[int, ...] = (0, 1024, 4096, 16384)
"""Reasoning-token budgets."""

SEED = 20250601


@dataclass(frozen=True)
class Pool:
    """The candidate grid every agent of a workload chooses from."""

    models: tuple[tuple[str, float], ...] = MODELS
    budgets: tuple[int, ...] = BUDGETS

    @property
    def configs(self) -> int:
        return len(self.models) * len(self.budgets)

    @staticmethod
    def small(n_models: int, n_budgets: int) -> Pool:
        """A sub-grid (largest-spread models and budgets), for brute-force checks."""
        pick = lambda seq, k: tuple(seq[round(i * (len(seq) - 1) / max(k - 1, 1))] for i in range(k))  # noqa: E731
        return Pool(pick(MODELS, n_models), pick(BUDGETS, n_budgets))


class IRWriter:
    """Writes one workflow's flow IR, drawing every agent's profiles from `rng`."""

    def __init__(self, pool: Pool, seed: int):
        self.pool = pool
        self.rng = random.Random(seed)
        self.lines: list[str] = []
        self.indent = 2
        self.agents = 0

    def emit(self, line: str) -> None:
        self.lines.append("  " * self.indent + line)

    def profiles(self) -> str:
        rng = self.rng
        difficulty = rng.uniform(-0.5, 1.5)
        overhead = rng.uniform(0.1, 0.4)
        out_tokens = rng.uniform(80, 400)
        entries = []
        for model, size in self.pool.models:
            for budget in self.pool.budgets:
                skill = 0.9 * math.log(size) + 0.35 * math.log1p(budget / 512) - difficulty
                acc = 1.0 / (1.0 + math.exp(-(skill + rng.gauss(0.0, 0.25))))
                acc = min(max(acc, 0.02), 0.98)
                tokens = out_tokens + 0.55 * budget
                rate = 900.0 / math.sqrt(size)  # decode tokens/s
                lat = (overhead + tokens / rate) * math.exp(rng.gauss(0.0, 0.12))
                cost = (tokens + 500) * 2e-8 * size
                entries.append(
                    f'"{model}@{budget}" = #flow.profile<acc = {acc:.4f}, acc_n = 200, '
                    f"lat = {lat:.3f}, cost = {cost:.7f}>"
                )
        return ", ".join(entries)

    def agent(self, result: str, name: str, inputs: list[str], role: str, extra: str = "") -> str:
        self.agents += 1
        models = ", ".join(f'"{m}"' for m, _ in self.pool.models)
        budgets = ", ".join(str(b) for b in self.pool.budgets)
        args = ", ".join(f"%{x}" for x in inputs)
        self.emit(
            f"%{result} = flow.agent @{name}({args}) {{role = \"{role}\", models = [{models}], "
            f"budgets = [{budgets}], profiles = {{{self.profiles()}}}{extra}}}"
        )
        return result

    def text(self, name: str, output: str) -> str:
        head = f"  flow.workflow @{name}(%q: !flow.msg) -> !flow.msg {{"
        return "\n".join(["builtin.module {", head, *self.lines, f"    flow.return %{output}", "  }", "}", ""])


def chain(n: int, pool: Pool = Pool(), seed: int = SEED) -> tuple[str, int]:
    """n agents in sequence, each reading the query and its predecessor."""
    w = IRWriter(pool, seed * 1000 + n)
    prev = None
    for i in range(n):
        inputs = ["q"] if prev is None else ["q", prev]
        recovery = w.rng.choice([0.0, 0.1, 0.2])
        extra = f", recovery = {recovery}" if prev is not None and recovery else ""
        prev = w.agent(f"s{i}", f"step{i}", inputs, "solver", extra)
    return w.text(f"chain{n}", prev), w.agents  # pyright: ignore[reportArgumentType]


def _fork(w: IRWriter, label: str, outs: list[str], agents: list[tuple[str, str]], reads: list[str], role: str) -> None:
    """A fork of one agent (result, name) a branch, all reading `reads`."""
    w.emit(f"{', '.join('%' + out for out in outs)} = flow.fork @{label} {{")
    for i, (result, name) in enumerate(agents):
        if i:
            w.emit("} {")
        w.indent += 1
        w.agent(result, name, reads, role)
        w.emit(f"flow.yield %{result}")
        w.indent -= 1
    w.emit("}")


def _fork_of_proposers(w: IRWriter, reads: list[str], branches: str = "abc") -> None:
    agents = [(f"x{b}", f"proposer_{b}") for b in branches]
    _fork(w, "proposals", [f"p{b}" for b in branches], agents, reads, "proposer")


def _switch(w: IRWriter, route: str, reads: list[str], code_reads: list[str] | None = None) -> None:
    """A router's switch between two experts (the code expert reading `code_reads` if given)."""
    w.emit(f"%sw = flow.switch @expert %{route} attributes {{probs = [0.6, 0.4]}} case \"math\" {{")
    for case, result, case_reads in (("math", "m", reads), ("code", "c", code_reads or reads)):
        if case == "code":
            w.emit('} case "code" {')
        w.indent += 1
        w.agent(result, f"{case}_expert", case_reads, "solver")
        w.emit(f"flow.yield %{result}")
        w.indent -= 1
    w.emit("}")


def _tail(w: IRWriter, init: str) -> str:
    """refine loop (critic, reviser) -> 1/3/5 samples + vote -> optional polish."""
    w.emit(f"%ref = flow.loop @refine iter(%cur = %{init}) attributes {{max_iters = [1, 2, 3]}} {{")
    w.indent += 1
    w.agent("crit", "critic", ["q", "cur"], "critic")
    w.agent("rev", "reviser", ["q", "cur", "crit"], "reviser", ", recovery = 0.3")
    w.emit("flow.until %crit, %rev")
    w.indent -= 1
    w.emit("}")
    w.emit("%fin = flow.fork @final attributes {samples = [1, 3, 5]} {")
    w.indent += 1
    w.agent("ans", "finalizer", ["q", "ref"], "solver")
    w.emit("flow.yield %ans")
    w.indent -= 1
    w.emit("}")
    w.emit('%v = flow.vote(%fin) {method = "majority"}')
    return w.agent("pol", "polish", ["v"], "editor", ', optional = "pass"')


def mixed_pipeline(pool: Pool = Pool(), seed: int = SEED) -> tuple[str, int]:
    """The mixed shape in pipeline order (12 agents):
    planner -> fork of 3 proposers -> aggregator -> router switch (2 experts,
    each reading the aggregate) -> refine loop (critic, reviser) -> 1/3/5
    samples of a finalizer + vote -> optional polish."""
    w = IRWriter(pool, seed * 1000 + 901)
    w.agent("plan", "planner", ["q"], "planner")
    _fork_of_proposers(w, ["q", "plan"])
    w.agent("agg", "aggregator", ["q", "pa", "pb", "pc"], "aggregator")
    w.agent("route", "router", ["q", "agg"], "router")
    _switch(w, "route", ["q", "agg"])
    out = _tail(w, "sw")
    return w.text("mixed_pipeline", out), w.agents


def mixed_routed(pool: Pool = Pool(), seed: int = SEED) -> tuple[str, int]:
    """The same 12 agents and structures, the switch first (router and experts
    read the query; the aggregator reads the expert's answer and the
    proposals): router switch (2 experts) + planner -> fork of 3 proposers ->
    aggregator -> refine loop -> 1/3/5 samples + vote -> optional polish.
    Only the router and the planner are shared (the search conditions on
    24 x 24 of their choices)."""
    w = IRWriter(pool, seed * 1000 + 902)
    w.agent("route", "router", ["q"], "router")
    _switch(w, "route", ["q"])
    w.agent("plan", "planner", ["q"], "planner")
    _fork_of_proposers(w, ["q", "plan"])
    w.agent("agg", "aggregator", ["q", "sw", "pa", "pb", "pc"], "aggregator")
    out = _tail(w, "agg")
    return w.text("mixed_routed", out), w.agents


def mixed_wide(pool: Pool = Pool(), seed: int = SEED) -> tuple[str, int]:
    """Every structure at once, 20 agents, several values read by more than
    one agent and inputs the proxy finds redundant (a value already inside
    another input): planner -> researcher -> fork of 4 proposers (each reading
    the plan and the notes) -> aggregator (also reading the notes) -> router
    switch (2 experts reading the aggregate; the code expert the plan too) ->
    checker (reading the expert's answer and the aggregate) -> fork of 2
    reviewers -> merger -> refine loop (critic, reviser) -> 1/3/5 samples of a
    finalizer + vote -> optional polish -> summarizer -> formatter."""
    w = IRWriter(pool, seed * 1000 + 903)
    w.agent("plan", "planner", ["q"], "planner")
    w.agent("notes", "researcher", ["q", "plan"], "researcher")
    _fork_of_proposers(w, ["q", "plan", "notes"], "abcd")
    w.agent("agg", "aggregator", ["q", "notes", "pa", "pb", "pc", "pd"], "aggregator")
    w.agent("route", "router", ["q", "agg"], "router")
    _switch(w, "route", ["q", "agg"], ["q", "agg", "plan"])
    w.agent("chk", "checker", ["q", "sw", "agg"], "critic")
    _fork(w, "review", ["ra", "rb"], [("ya", "reviewer_a"), ("yb", "reviewer_b")], ["q", "chk"], "critic")
    w.agent("merged", "merger", ["q", "chk", "ra", "rb"], "aggregator")
    pol = _tail(w, "merged")
    w.agent("summary", "summarizer", ["q", pol], "editor")
    out = w.agent("formatted", "formatter", ["q", "summary"], "editor")
    return w.text("mixed_wide", out), w.agents

