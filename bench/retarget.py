"""Retargeting latencies to other serving hardware, measured on held-out queries.

    .venv/bin/python bench/retarget.py                  # chain, both "hardware" cases
    .venv/bin/python bench/retarget.py --example router --concurrency 1
    .venv/bin/python bench/retarget.py --quick          # 16 requests a model, 50 held-out: retarget-quick.*

In the SIMULATED world (bundled `default_world.yaml`, "hardware A"):
1. compile the example (profile, compose, pareto; no validation), in process;
2. `flowcompile bench-latency` against a sim server on loopback in real time,
   through litellm and HTTP (streaming): speed table A;
3. `retarget{speeds=A},compose,pareto` with every backend disabled (a call
   would raise): zero profiling calls;
4. every point of the retargeted set measured end to end on held-out queries
   (disjoint from the profiling ids recorded in the IR, checked).

Then "hardware B": the same world with every model's speeds changed (a bench
fixture written to a temp file; the compiler never reads it): speed table B
measured on a server of world B, the A-profiled IR retargeted with it, its
points measured in world B, beside the un-retargeted A estimates of the same
configurations. Writes bench/results/retarget.{json,md}.

The in-process sim's latencies carry no client or HTTP time; the speed table,
measured through both, does (a few tens of ms per call on this loaded 2-core
machine): the fastest points' estimates run a little high.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SPEED_CHANGE = {  # hardware B, per model: (ttft x, prefill x, decode x): an older, slower GPU
    "qwen3-0.6b": (2.0, 0.4, 0.70),
    "qwen3-1.7b": (2.0, 0.4, 0.65),
    "qwen3-4b": (1.8, 0.35, 0.55),
    "qwen3-8b": (1.6, 0.3, 0.50),
    "qwen3-14b": (1.5, 0.3, 0.45),
    "qwen3-32b": (1.5, 0.25, 0.40),
}


def world_b(path: Path) -> Path:
    """The bundled world with SPEED_CHANGE applied, written to `path`."""
    from flowcompile.sim.world import default_world_path

    doc = yaml.safe_load(Path(default_world_path()).read_text(encoding="utf-8"))
    doc["name"] += "-hardware-b"
    for model in doc["models"]:
        ttft, prefill, decode = SPEED_CHANGE[model["name"]]
        model["ttft_s"] *= ttft
        model["prefill_tok_per_s"] *= prefill
        model["decode_tok_per_s"] *= decode
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def world_speeds(changed: bool) -> dict[str, tuple[float, float, float]]:
    """Per model (ttft_s with one decode step, prefill, decode) of world A, or B."""
    from flowcompile.sim.world import default_world_path

    doc = yaml.safe_load(Path(default_world_path()).read_text(encoding="utf-8"))
    out = {}
    for m in doc["models"]:
        ttft, prefill, decode = SPEED_CHANGE[m["name"]] if changed else (1.0, 1.0, 1.0)
        rate = m["decode_tok_per_s"] * decode
        out[m["name"]] = (m["ttft_s"] * ttft + 1 / rate, m["prefill_tok_per_s"] * prefill, rate)
    return out


def bench_latency(spec: Path, world: Path | None, concurrency: int, requests: int, out: Path) -> dict:
    """Speed table through the command (litellm + HTTP to a sim server)."""
    from flowcompile.tools.cli import run_cli

    args = ["bench-latency", str(spec), "--backend", "sim", "--concurrency", str(concurrency),
            "--requests", str(requests), "-o", str(out)]
    if world is not None:
        args += ["--world", str(world)]
    assert run_cli(args) == 0, "bench-latency failed"
    return json.loads(out.read_text(encoding="utf-8"))


def retargeted(profiled, speeds: Path):
    """The profiled module retargeted and re-searched, with every backend disabled."""
    import flowcompile.backends as backends
    from flowcompile.api import Workflow
    from flowcompile.compiler import run_passes

    def no_calls(*args, **kwargs):
        raise AssertionError("retarget made a backend call")

    saved, backends.get_backend = backends.get_backend, no_calls
    try:
        module = run_passes(profiled.clone(), f'retarget{{speeds="{speeds}"}},compose,pareto')
    finally:
        backends.get_backend = saved
    return Workflow(module, str(speeds))


def measured(workflow, world: Path | None, held: int, concurrency: int = 8) -> list:
    """Each point measured on the held-out queries (their ids checked disjoint from profiling's)."""
    from flowcompile import api
    from flowcompile.passes.profile import recorded_ids

    held_out = api.queries(None, held, api.HELD_OUT_SEED_OFFSET, "sim", str(world) if world else None)
    shared = {q.id for q in held_out} & set(recorded_ids(workflow.op, "profiled"))
    assert not shared, f"held-out overlaps profiling: {sorted(shared)[:3]}"
    evaluation = api.evaluate(workflow, samples=held, world=str(world) if world else None,
                              baselines=False, concurrency=concurrency)
    return evaluation.points


def rows(points, before: list[float] | None = None) -> list[dict]:
    """Per point: its estimate, measured latency and relative error (and the
    un-retargeted estimate `before[i]` of the same configuration)."""
    out = []
    for i, p in enumerate(points):
        row = {"point": i, "assign": p.assign, "est_lat": round(p.est_lat, 4), "lat": round(p.lat, 4),
               "error": round(p.est_lat / p.lat - 1, 4), "acc": round(p.acc, 4), "n": p.n}
        if before is not None:
            row["before_lat"] = round(before[i], 4)
            row["before_error"] = round(before[i] / p.lat - 1, 4)
        out.append(row)
    return out


def summary(table: list[dict], key: str = "error") -> dict:
    errors = [abs(r[key]) for r in table]
    return {"points": len(errors), "max_abs": round(max(errors), 4), "median_abs": round(statistics.median(errors), 4),
            "within_10pct": sum(e <= 0.10 for e in errors)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--example", default="chain")
    parser.add_argument("--concurrency", type=int, default=4, help="bench-latency requests in flight per model")
    parser.add_argument("--requests", type=int, default=64, help="bench-latency timed requests per model")
    parser.add_argument("--quick", action="store_true", help="16 requests a model, 50 held-out queries")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    held, name = (50, "retarget-quick") if args.quick else (150, "retarget")
    if args.quick:
        args.requests = 16
    from flowcompile import api
    from flowcompile.evaluation import proxy_estimate

    spec = ROOT / "examples" / f"{args.example}.yaml"
    tmp = Path(tempfile.mkdtemp(prefix="bench-retarget-"))
    started = time.perf_counter()
    compiled = api.compile(api.load_yaml(spec), validate=False, cache=str(tmp / "cache.sqlite"))
    print(f"compiled {args.example}: {len(compiled.points)} points", file=sys.stderr)
    original = measured(compiled, None, held)

    speeds_a = bench_latency(spec, None, args.concurrency, args.requests, tmp / "speeds-a.json")
    on_a = retargeted(compiled.module, tmp / "speeds-a.json")
    same = measured(on_a, None, held)

    hardware_b = world_b(tmp / "world-b.yaml")
    speeds_b = bench_latency(spec, hardware_b, args.concurrency, args.requests, tmp / "speeds-b.json")
    on_b = retargeted(compiled.module, tmp / "speeds-b.json")
    moved = measured(on_b, hardware_b, held)

    # the A-profiled proxy's estimate of each B point's configuration (points and rows share their order)
    before = [proxy_estimate(compiled.op, dict(p.assign))[1] for p in on_b.config_points()]

    result = {
        "example": args.example,
        "command": " ".join([".venv/bin/python", "bench/retarget.py", *sys.argv[1:]]),
        "held_out": held,
        "bench_latency": {"concurrency": args.concurrency, "requests": args.requests},
        "profiled_on_a": {"rows": rows(original), "summary": summary(rows(original))},
        "retarget_a_to_a": {"speeds": speeds_a, "rows": rows(same), "summary": summary(rows(same))},
        "retarget_a_to_b": {"speed_change": SPEED_CHANGE, "speeds": speeds_b, "rows": (b := rows(moved, before)),
                            "summary": summary(b), "summary_before": summary(b, "before_error")},
        "seconds": round(time.perf_counter() - started, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (args.out / f"{name}.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 0


def markdown(result: dict) -> str:
    lines = [
        f"# retarget: `{result['example']}`, {result['held_out']} held-out queries per point (SIMULATED world)",
        "",
        f"`{result['command']}` "
        f"(bench-latency --concurrency {result['bench_latency']['concurrency']} "
        f"--requests {result['bench_latency']['requests']}; {result['seconds']} s).",
        "Error = estimated / measured latency - 1, per point of the compiled set.",
        "",
        "| case | points | within 10% | median abs error | max abs error |",
        "| --- | --- | --- | --- | --- |",
    ]
    cases = [
        ("profiled on A, measured on A (the proxy alone)", result["profiled_on_a"]["summary"]),
        ("retargeted A -> A (speed table from bench-latency)", result["retarget_a_to_a"]["summary"]),
        ("retargeted A -> B, measured on B", result["retarget_a_to_b"]["summary"]),
        ("not retargeted (A estimates), measured on B", result["retarget_a_to_b"]["summary_before"]),
    ]
    for name, s in cases:
        lines.append(f"| {name} | {s['points']} | {s['within_10pct']} | {s['median_abs']:.1%} | {s['max_abs']:.1%} |")
    lines += ["", "## bench-latency against the worlds' own speeds (read here by the bench only)", "",
              "| model | hardware | ttft_s measured / world | decode tok/s measured / world | prefill tok/s measured / world |",
              "| --- | --- | --- | --- | --- |"]
    for case, hardware in (("retarget_a_to_a", "A"), ("retarget_a_to_b", "B")):
        for name, (ttft, prefill, decode) in world_speeds(hardware == "B").items():
            got = result[case]["speeds"]["models"][name]
            lines.append(f"| {name} | {hardware} | {got['ttft_s']:.3f} / {ttft:.3f} | "
                         f"{got['decode_tok_per_s']:.1f} / {decode:.1f} | {got['prefill_tok_per_s'] or 0:.0f} / {prefill:.0f} |")
    lines += ["", "The world's ttft_s here includes its first decode step, as the law's does. The measured",
              "ttft_s also holds the client's and HTTP's time (litellm on this loaded 2-core machine), which",
              "the in-process sim's measured latencies do not: the fastest points' estimates run high."]
    lines += ["", "## A -> B per point", "", "| point | A estimate (s) | retargeted (s) | measured on B (s) | error |",
              "| --- | --- | --- | --- | --- |"]
    for r in result["retarget_a_to_b"]["rows"]:
        lines.append(f"| {r['point']} | {r['before_lat']:.3f} | {r['est_lat']:.3f} | {r['lat']:.3f} | {r['error']:+.1%} |")
    lines += ["", "## A -> A per point", "", "| point | retargeted (s) | measured (s) | error |", "| --- | --- | --- | --- |"]
    for r in result["retarget_a_to_a"]["rows"]:
        lines.append(f"| {r['point']} | {r['est_lat']:.3f} | {r['lat']:.3f} | {r['error']:+.1%} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
