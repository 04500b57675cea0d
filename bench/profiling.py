"""Adaptive against uniform profiling: held-out quality per profiling call.

    .venv/bin/python bench/profiling.py              # every example, both sim worlds
    .venv/bin/python bench/profiling.py --only chain --worlds default
    .venv/bin/python bench/profiling.py --quick     # self_consistency, default world, 32/64 queries

For every example and SIMULATED world (the spaces and held-out set of
`peers.py`: 150 held-out queries, seed 1000), `flowcompile compile` without
validation, so the compiled set is the proxy's alone:

* uniform: every candidate on the first N profiling queries, N = 32 .. 512
  (`--max-samples 0 --samples N`);
* adaptive: a uniform first round of 32, then rounds for the candidates on the
  proxy's plausible frontiers, up to M queries (`--max-samples M`).

Each compiled set is measured on held-out (hypervolume over the oracle's, best
accuracy, Spearman and mean absolute error of the estimated accuracy) and on a
confirmation split of 8000 more queries (1000 with --quick, `--confirm N` to
choose; hypervolume over the oracle's there), beside the backend calls the
compile made. Held-out's 150 queries move a hypervolume by a few hundredths
from run to run; the confirmation split tells apart what they cannot. The summaries:

* adaptive profiling up to M queries beside uniform profiling on M;
* per uniform run, the cheapest adaptive run whose confirmation hypervolume is
  within TOLERANCE of it, and how many times fewer calls that run made.

Writes bench/results/profiling{,-quick,-only}.{json,md}.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _measure import fidelity, summarise  # noqa: E402
from _setting import (  # noqa: E402
    EXAMPLES,
    WORLDS,
    arguments,
    compile_counted,
    confirmation,
    confirmation_queries,
    prepare,
)

UNIFORM = (32, 64, 128, 256, 512)
ADAPTIVE = (64, 128, 256, 512)


QUICK = ((32, 64), (64,))
"""--quick: uniform and adaptive query counts."""
TOLERANCE = 0.005
"""How far below a uniform run's confirmation hypervolume (over the
oracle's) an adaptive run may be and still count as reaching it."""


def variants(uniform: tuple[int, ...], adaptive: tuple[int, ...]) -> list[tuple[str, int, list[str]]]:
    out = [("uniform", n, ["--max-samples", "0", "--samples", str(n)]) for n in uniform]
    out += [("adaptive", m, ["--max-samples", str(m)]) for m in adaptive]
    return out


def run_one(example: str, world: str, uniform: tuple[int, ...], adaptive: tuple[int, ...], confirm: int) -> list[dict]:
    from flowcompile.passes.profile import recorded_ids

    setting = prepare(example, world, heldout=150)
    runs = [(mode, queries, compile_counted(setting, f"{mode}-{queries}", [*extra, "--no-validate"]))
            for mode, queries, extra in variants(uniform, adaptive)]
    seen = {i for *_, compiled in runs for i in recorded_ids(compiled.workflow, "profiled")}
    split = confirmation(setting, confirm, sorted(seen))
    rows = []
    for mode, queries, compiled in runs:
        points = setting.held.points(compiled.configs)
        spearman, mae = fidelity(compiled.estimates[:, 0], points[:, 0])
        confirmed = summarise(split.table.points(compiled.configs), split.ref)
        rows.append({
            "workflow": example, "world": world, "space": setting.space_name, "mode": mode,
            "max_queries": queries, "calls": compiled.calls, "spearman_acc": spearman, "mae_acc": mae,
            "confirm": confirm, "confirm_hv_ratio": confirmed["hv_ratio"], "confirm_best_acc": confirmed["best_acc"],
            **summarise(points, setting.ref),
        })
    return rows


def _fmt(value, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def summary(rows: list[dict]) -> list[dict]:
    """Per workflow, world and query count M: adaptive profiling up to M
    against uniform profiling on M (hypervolume, calls)."""
    out = []
    for key in dict.fromkeys((r["world"], r["workflow"]) for r in rows):
        mine = {(r["mode"], r["max_queries"]): r for r in rows if (r["world"], r["workflow"]) == key}
        for m in sorted({q for mode, q in mine if mode == "adaptive"}):
            uniform, adaptive = mine.get(("uniform", m)), mine.get(("adaptive", m))
            if uniform and adaptive:
                out.append({
                    "world": key[0], "workflow": key[1], "queries": m,
                    "uniform_hv": uniform["hv_ratio"], "adaptive_hv": adaptive["hv_ratio"],
                    "uniform_confirm_hv": uniform["confirm_hv_ratio"], "adaptive_confirm_hv": adaptive["confirm_hv_ratio"],
                    "uniform_calls": uniform["calls"], "adaptive_calls": adaptive["calls"],
                    "fewer_calls": uniform["calls"] / adaptive["calls"],
                })
    return out


def matched(rows: list[dict]) -> list[dict]:
    """Per uniform run: the cheapest adaptive run (of the same workflow and
    world) whose confirmation hypervolume is at least the uniform run's less
    TOLERANCE, and how many times fewer calls it made (None: no adaptive run
    reached it)."""
    out = []
    for u in (r for r in rows if r["mode"] == "uniform"):
        reached = [
            r for r in rows
            if (r["world"], r["workflow"], r["mode"]) == (u["world"], u["workflow"], "adaptive")
            and r["confirm_hv_ratio"] >= u["confirm_hv_ratio"] - TOLERANCE
        ]
        best = min(reached, key=lambda r: r["calls"], default=None)
        out.append({
            "world": u["world"], "workflow": u["workflow"], "queries": u["max_queries"],
            "uniform_confirm_hv": u["confirm_hv_ratio"], "uniform_calls": u["calls"],
            "adaptive_queries": best and best["max_queries"], "adaptive_confirm_hv": best and best["confirm_hv_ratio"],
            "adaptive_calls": best and best["calls"], "fewer_calls": best and u["calls"] / best["calls"],
        })
    return out


def markdown(rows: list[dict], seconds: float, command: str) -> str:
    lines = [
        "# Adaptive against uniform profiling (SIMULATED worlds)", "",
        f"`{command}`: compile without validation, 150 held-out queries; {seconds:.0f} s in all.", "",
        "hv: held-out hypervolume over the oracle's (as in peers.md); confirmed hv: the same on the "
        f"confirmation split ({rows[0]['confirm'] if rows else 0} queries, disjoint from every other set); "
        "calls: backend calls of the compile; Spearman and MAE: estimated against held-out accuracy over the "
        "compiled points.", "",
        "## The same hypervolume for fewer calls", "",
        f"Per uniform run on N queries: the cheapest adaptive run whose confirmed hv is at least the uniform "
        f"run's less {TOLERANCE}, and how many times fewer calls it made (none: no adaptive run reached it).", "",
        "| world | workflow | uniform N | confirmed hv: uniform / adaptive | calls: uniform / adaptive (up to M) "
        "| fewer calls |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for m in matched(rows):
        lines.append(
            f"| {m['world']} | {m['workflow']} | {m['queries']} | {_fmt(m['uniform_confirm_hv'])} / "
            f"{_fmt(m['adaptive_confirm_hv'])} | {m['uniform_calls']} / "
            + (f"{m['adaptive_calls']} ({m['adaptive_queries']}) | {_fmt(m['fewer_calls'], 2)}x |"
               if m["adaptive_calls"] else "none | none |")
        )
    lines += [
        "", "## Up to the same query count", "",
        "Adaptive profiling up to M queries against uniform profiling on M.", "",
        "| world | workflow | M | hv: uniform / adaptive | confirmed hv: uniform / adaptive | calls: uniform / adaptive "
        "| fewer calls |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for s in summary(rows):
        lines.append(
            f"| {s['world']} | {s['workflow']} | {s['queries']} | {_fmt(s['uniform_hv'])} / {_fmt(s['adaptive_hv'])} | "
            f"{_fmt(s['uniform_confirm_hv'])} / {_fmt(s['adaptive_confirm_hv'])} | "
            f"{s['uniform_calls']} / {s['adaptive_calls']} | {_fmt(s['fewer_calls'], 2)}x |"
        )
    lines += ["", "## Every run", "",
              "| world | workflow | mode | queries (max) | calls | hv | confirmed hv | best acc | Spearman acc | MAE acc |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(
            f"| {r['world']} | {r['workflow']} | {r['mode']} | {r['max_queries']} | {r['calls']} | "
            f"{_fmt(r['hv_ratio'])} | {_fmt(r['confirm_hv_ratio'])} | {_fmt(r['best_acc'])} | "
            f"{_fmt(r['spearman_acc'], 2)} | {_fmt(r['mae_acc'])} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    args = arguments(__doc__, "self_consistency, default world, 32/64 queries").parse_args(argv)
    examples = args.only or (["self_consistency"] if args.quick else list(EXAMPLES))
    worlds = args.worlds or (["default"] if args.quick else list(WORLDS))
    counts = (*(QUICK if args.quick else (UNIFORM, ADAPTIVE)), confirmation_queries(args))
    suffix = "-only" if args.only or args.worlds else ("-quick" if args.quick else "")
    start = time.perf_counter()
    jobs = [(e, w) for w in worlds for e in examples]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_one, *job, *counts) for job in jobs]
        rows = [row for f in futures for row in f.result()]
    seconds = time.perf_counter() - start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"profiling{suffix}.json").write_text(json.dumps(rows, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    text = markdown(rows, seconds, "bench/profiling.py" + (" " + " ".join(argv) if argv else ""))
    (out / f"profiling{suffix}.md").write_text(text, encoding="utf-8")
    print(text.split("## Every run")[0])
    print(f"wrote {out}/profiling{suffix}.{{json,md}} in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
