"""Benchmark: the exact Pareto search (compose + enumerate + pareto) vs brute force.

    python bench/search.py [--quick] [--repeat N] [--emit-ir DIR]

For every workload (synthetic profiled flow IR, fixed seed; see
`bench/_workloads.py`) this runs the real pass pipeline
`compose,enumerate,pareto{k=8}` in-process on a freshly parsed module and
reports the space size, the frontier size, the median wall time of the three
passes over `--repeat` runs (`time.perf_counter`; parsing is not timed) and the
peak memory. Where the space has at most 2e5 configurations it also runs
`compose,enumerate{exhaustive=true},pareto{k=8}` (every configuration
evaluated: the baseline), checks that both frontiers hold the same (acc, lat)
points, and gives the speed-up. A mismatch is a bug: the script exits 1.

Each (workload, method) is measured in a fresh subprocess, so peak memory is
the growth of the process's peak RSS (`ru_maxrss`) over the timed runs, from a
baseline taken after imports, a warm-up on a tiny workload and parsing.

Writes `bench/results/search.json` and `bench/results/search.md` (only the
timings and memory figures change between runs on one machine; `--quick`
writes `search-quick.*` and `--only` `search-only.*` instead, both
git-ignored) and prints the markdown table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _workloads as W  # noqa: E402

BRUTE_FORCE_MAX = 200_000
"""Largest space brute force is run on."""

PIPELINE = "compose,enumerate,pareto{k=8}"
BASELINE = "compose,enumerate{exhaustive=true},pareto{k=8}"


@dataclass(frozen=True)
class Workload:
    name: str
    group: str
    """"scaling" (the 24-config workloads), "large" (issue 14's sizes) or
    "check" (small, brute-forced)."""
    shape: str
    build: Callable[[], tuple[str, int]]
    pool: W.Pool
    quick: bool = False


def workloads() -> list[Workload]:
    full = W.Pool()
    wide = W.Pool.small(6, 3)
    small = W.Pool.small(2, 1)
    mid = W.Pool.small(3, 2)
    rows = [
        Workload(f"chain-{n}", "scaling", f"chain of {n}", lambda n=n: W.chain(n, full), full, quick=n <= 6)
        for n in (2, 4, 6, 8, 10, 12)
    ]
    rows += [
        Workload("mixed-routed", "scaling", "switch, fork+aggregate, loop, samples+vote, optional",
                 lambda: W.mixed_routed(full), full),
        Workload("mixed-pipeline", "scaling", "planner, fork+aggregate, switch, loop, samples+vote, optional",
                 lambda: W.mixed_pipeline(full), full),
        Workload("chain-64", "large", "chain of 64", lambda: W.chain(64, full), full),
        Workload("mixed-20", "large",
                 "planner, researcher, fork of 4 + aggregate, switch, checker, fork of 2 + merge, loop, "
                 "samples+vote, optional, 2 editors; redundant inputs", lambda: W.mixed_wide(wide), wide),
        Workload("chain-3", "check", "chain of 3", lambda: W.chain(3, full), full),
        Workload("chain-6/6cfg", "check", "chain of 6", lambda: W.chain(6, mid), mid),
        Workload("chain-12/2cfg", "check", "chain of 12", lambda: W.chain(12, small), small),
        Workload("mixed-routed/2cfg", "check", "as mixed-routed", lambda: W.mixed_routed(small), small),
        Workload("mixed-pipeline/2cfg", "check", "as mixed-pipeline", lambda: W.mixed_pipeline(small), small),
    ]
    return rows


# The worker: one (workload, pipeline) in a fresh process ----------------------


def _context():
    from xdsl.context import Context
    from xdsl.dialects.builtin import Builtin

    from flowcompile.dialects.flow import Flow

    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(Flow)
    return ctx


def _run_once(ctx, text: str, spec: str) -> tuple[float, dict[str, float], dict]:
    from xdsl.dialects.builtin import ArrayAttr
    from xdsl.passes import PassPipeline

    from flowcompile.diagnostics import parse_located
    from flowcompile.dialects.flow import ConfigSetOp, PointAttr, WorkflowOp
    from flowcompile.passes.registry import available_passes

    passes = PassPipeline.parse_spec(available_passes(), spec).passes
    module = parse_located(ctx, text, "<bench>")
    per_pass = {}
    for p in passes:
        start = time.perf_counter()
        p.apply(ctx, module)
        per_pass[p.name] = time.perf_counter() - start
    elapsed = sum(per_pass.values())
    workflow = next(op for op in module.walk() if isinstance(op, WorkflowOp))
    frontier = workflow.attributes["frontier"]
    assert isinstance(frontier, ArrayAttr)
    points = sorted(
        (float(p.get("acc")), float(p.get("lat")))  # pyright: ignore[reportArgumentType]
        for p in frontier.data
        if isinstance(p, PointAttr)
    )
    config_set = next(op for op in module.ops if isinstance(op, ConfigSetOp))
    return elapsed, per_pass, {
        "space": workflow.attributes["space"].value.data,  # pyright: ignore[reportAttributeAccessIssue]
        "points": points,
        "config_set": len(config_set.points.data),  # pyright: ignore[reportAttributeAccessIssue]
    }


def worker(name: str, spec: str, repeat: int) -> dict:
    from flowcompile.diagnostics import FlowError

    workload = next(w for w in workloads() if w.name == name)
    text, _ = workload.build()
    ctx = _context()
    _run_once(ctx, W.chain(1, W.Pool.small(2, 1))[0], spec)  # warm-up: lazy imports
    baseline_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times, passes, result = [], [], None
    try:
        for _ in range(repeat):
            elapsed, per_pass, this = _run_once(ctx, text, spec)
            if result is not None and this != result:
                raise SystemExit(f"{name}: runs of {spec!r} disagree")
            times.append(elapsed)
            passes.append(per_pass)
            result = this
    except FlowError as e:
        return {"error": e.message}
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert result is not None
    return {"times": times, "passes": passes, "peak_mib": (peak_kib - baseline_kib) / 1024, **result}


def measure(name: str, spec: str, repeat: int) -> dict:
    """Run `worker` in a fresh interpreter; its JSON is the last stdout line."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, spec, str(repeat)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout.strip():
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"search benchmark: the worker for {name} ({spec}) failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# The benchmark ----------------------------------------------------------------


def structure(text: str) -> dict:
    """What the search faces (untimed): the space, the agents it conditions
    on (shared by two inputs of one join) and the values it pins."""
    from flowcompile.diagnostics import parse_located
    from flowcompile.dialects.flow import WorkflowOp
    from flowcompile.passes.compose import ComposePass
    from flowcompile.passes.proxy_model import build_model
    from flowcompile.proxy.scopes import Scopes
    from flowcompile.proxy.search import space_size

    ctx = _context()
    module = parse_located(ctx, text, "<bench>")
    ComposePass().apply(ctx, module)
    root = build_model(next(op for op in module.walk() if isinstance(op, WorkflowOp)))
    scopes = Scopes(root)
    return {
        "space": space_size(root),
        "shared": [v.key for v in scopes.shared],
        "pinned_values": len(scopes.pins),
    }


def digest(points: list[list[float]] | list[tuple[float, float]]) -> str:
    text = ";".join(f"{a:.6f},{t:.6f}" for a, t in points)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def bench_one(workload: Workload, repeat: int) -> dict:
    text, agents = workload.build()
    row: dict = {
        "name": workload.name,
        "group": workload.group,
        "shape": workload.shape,
        "agents": agents,
        "configs_per_agent": workload.pool.configs,
    }
    row.update(structure(text))
    search = measure(workload.name, PIPELINE, repeat)
    if "error" in search:
        row.update(status="limit", error=search["error"], frontier=None, search=None, brute_force=None)
        return row
    assert search["space"] == row["space"]
    row.update(status="ok", frontier=len(search["points"]))
    row["frontier_digest"] = digest(search["points"])
    row["config_set"] = search["config_set"]
    row["search"] = _timing(search)
    if search["space"] > BRUTE_FORCE_MAX:
        row["brute_force"] = None
        return row
    brute = measure(workload.name, BASELINE, repeat)
    if "error" in brute:
        raise SystemExit(f"{workload.name}: brute force failed: {brute['error']}")
    row["brute_force"] = _timing(brute)
    row["identical"] = [tuple(p) for p in search["points"]] == [tuple(p) for p in brute["points"]]
    row["speedup"] = round(row["brute_force"]["median_s"] / row["search"]["median_s"], 1)
    enum_s, enum_b = row["search"]["pass_median_s"]["enumerate"], row["brute_force"]["pass_median_s"]["enumerate"]
    row["speedup_enumerate"] = round(enum_b / enum_s, 1)
    if not row["identical"]:
        only_search = sorted(set(map(tuple, search["points"])) - set(map(tuple, brute["points"])))
        only_brute = sorted(set(map(tuple, brute["points"])) - set(map(tuple, search["points"])))
        row["mismatch"] = {"only_search": only_search[:20], "only_brute_force": only_brute[:20],
                           "brute_force_frontier": len(brute["points"])}
    return row


def _timing(result: dict) -> dict:
    return {
        "median_s": round(statistics.median(result["times"]), 4),
        "runs_s": [round(t, 4) for t in result["times"]],
        "pass_median_s": {
            name: round(statistics.median(run[name] for run in result["passes"]), 4)
            for name in result["passes"][0]
        },
        "peak_mib": round(result["peak_mib"], 1),
    }


def _space(n: int) -> str:
    return f"{n:,}" if n < 10**7 else re.sub(r"e\+0*", "e", f"{n:.2e}")


def _seconds(s: float) -> str:
    return f"{s:.3f}" if s < 10 else f"{s:.1f}"


COLUMNS = (
    "| workload | agents | configs/agent | space | conditioned on | frontier | search (s) "
    "| of which enumerate (s) | peak (MiB) | brute force (s) | of which enumerate (s) | speed-up "
    "| enumerate speed-up | identical |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|\n"
)

GROUPS = (
    ("scaling", "Scaling: 24 candidate configurations per agent (6 models x 4 budgets)"),
    ("large", "Large workflows: a 64-agent chain (24 configurations per agent), a 20-agent mixed "
              "workflow (18: 6 models x 3 budgets)"),
    ("check", "Checks against brute force: smaller spaces (fewer agents or candidates)"),
)


def _row(r: dict) -> str:
    head = (
        f"| {r['name']} | {r['agents']} | {r['configs_per_agent']} | {_space(r['space'])} "
        f"| {_conditioned(r)} "
    )
    if r["status"] == "limit":
        return head + "| — | over the search limit (see below) | — | — | — | — | — | — | — |"
    s, b = r["search"], r["brute_force"]
    if b is None:
        brute = f"infeasible ({_space(r['space'])} configs)"
        brute_enum = speedup = speedup_enum = identical = "—"
    else:
        brute = _seconds(b["median_s"])
        brute_enum = _seconds(b["pass_median_s"]["enumerate"])
        speedup = f"{r['speedup']:g}x"
        speedup_enum = f"{r['speedup_enumerate']:g}x"
        identical = "yes" if r["identical"] else "**NO**"
    return head + (
        f"| {r['frontier']} | {_seconds(s['median_s'])} | {_seconds(s['pass_median_s']['enumerate'])} "
        f"| {s['peak_mib']:.1f} | {brute} | {brute_enum} | {speedup} | {speedup_enum} | {identical} |"
    )


def _conditioned(r: dict) -> str:
    counts = ((len(r["shared"]), "agent"), (r["pinned_values"], "value"))
    parts = [f"{n} {what}{'s' if n > 1 else ''}" for n, what in counts if n]
    return ", ".join(parts) or "—"


def markdown(rows: list[dict], repeat: int) -> str:
    parts = []
    for group, title in GROUPS:
        chosen = [r for r in rows if r["group"] == group]
        if chosen:
            parts.append(f"### {title}\n\n" + COLUMNS + "\n".join(_row(r) for r in chosen) + "\n")
    notes = [
        f"Times: median of {repeat} run(s) of `{PIPELINE}` in process, parsing excluded; brute force "
        f"is `{BASELINE}`, run where the space is at most {BRUTE_FORCE_MAX:,} configurations; "
        "speed-ups are ratios of medians of the same run. Conditioned on: the agents whose "
        "choices the search fixes one by one (shared by two inputs of one join) and the values it "
        "pins to each point of their fronts (a value with several users, everything behind it "
        "read only through it), each from where it is set up to the node where every path from it "
        "meets, where the fronts found are united. Peak: growth of the worker process's peak RSS "
        "over the timed runs."
    ]
    for r in rows:
        if r["status"] == "limit":
            notes.append(
                f"{r['name']}: `enumerate` stops: \"{r['error']}\". It conditions on "
                f"{len(r['shared'])} agents ({', '.join(r['shared'])})."
            )
    return "\n".join(parts) + "\n" + "\n\n".join(notes) + "\n"


def machine() -> dict:
    import numpy
    import xdsl

    return {
        "cpus": __import__("os").cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "xdsl": str(getattr(xdsl, "__version__", "?")),
        "platform": platform.machine(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="chains of up to 6 agents only (smoke test)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement (median)")
    parser.add_argument("--out", default=str(HERE / "results"), help="folder for search.json and search.md")
    parser.add_argument("--emit-ir", metavar="DIR", help="also write each workload's IR here")
    parser.add_argument("--only", action="append", help="run only this workload (repeatable)")
    parser.add_argument("--worker", nargs=3, metavar=("NAME", "SPEC", "REPEAT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        name, spec, repeat = args.worker
        print(json.dumps(worker(name, spec, int(repeat))))
        return 0

    selected = [w for w in workloads() if (w.quick or not args.quick) and (not args.only or w.name in args.only)]
    if args.emit_ir:
        Path(args.emit_ir).mkdir(parents=True, exist_ok=True)
        for w in selected:
            (Path(args.emit_ir) / f"{w.name.replace('/', '_')}.mlir").write_text(w.build()[0])

    rows = []
    for w in selected:
        sys.stderr.write(f"search benchmark: {w.name} ...\n")
        sys.stderr.flush()
        start = time.perf_counter()
        rows.append(bench_one(w, args.repeat))
        sys.stderr.write(f"search benchmark: {w.name} done in {time.perf_counter() - start:.1f} s\n")

    table = markdown(rows, args.repeat)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "search",
        "pipeline": PIPELINE,
        "baseline": BASELINE,
        "brute_force_max": BRUTE_FORCE_MAX,
        "repeat": args.repeat,
        "quick": args.quick,
        "seed": W.SEED,
        "machine": machine(),
        "rows": rows,
    }
    # a smoke or partial run never overwrites the full results
    stem = "search-quick" if args.quick else "search-only" if args.only else "search"
    (out / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / f"{stem}.md").write_text("# Search benchmark\n\n" + table)
    sys.stdout.write(table)

    wrong = [r["name"] for r in rows if r.get("identical") is False]
    if wrong:
        sys.stderr.write(f"search benchmark: FRONTIERS DIFFER from brute force on {', '.join(wrong)}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
