"""The proxy on real models: estimates against held-out measurements (opt-in).

    python3 bench/real.py [--profile N] [--validation N] [--held-out N] [--out DIR]

The pool, venv, weights and servers of `make real-smoke` (scripts/real_smoke.py:
SmolLM2-135M and Qwen2.5-Coder-0.5B on llama.cpp, loopback), the same solver ->
checker spec, and generated sums with exact answers: `compile --backend litellm`
on the profiling (+ validation) questions, then `evaluate` of every compiled
point and the two baselines on held-out questions, disjoint from them (ids and
question texts, checked). Reported: the Spearman correlation and mean absolute
error of the estimates (accuracy and latency) against the held-out
measurements, and the speed-up at matched accuracy: the all-strongest
baseline's measured latency over the fastest compiled point's whose measured
accuracy is at least the baseline's less MATCH (1.0 when that point is the
all-strongest configuration itself: one configuration measured twice differs
only by the machine's noise). Writes DIR/real.json and DIR/real.md, with the
load average before and after (latencies on a busy machine are inflated).

Not part of `make test`, `make bench` or CI: it needs the llama.cpp build (some
20 min here) and runs for tens of minutes on 2 cores. Like the smoke it starts
from the system Python (standard library only), so it is not run from `.venv`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent

MATCH = 0.02
"""How much lower a point's measured accuracy may be and still match the baseline's."""


def load_smoke() -> ModuleType:
    """scripts/real_smoke.py as a module (scripts/ is no package)."""
    spec = importlib.util.spec_from_file_location("real_smoke", ROOT / "scripts" / "real_smoke.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["real_smoke"] = module  # its dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def disjoint_questions(smoke: ModuleType, n: int, seed: int, prefix: str, avoid: set[str]) -> list[dict[str, str]]:
    """`n` generated questions whose texts are none of `avoid` (a sum may come up twice)."""
    rows: list[dict[str, str]] = []
    draw = seed
    while len(rows) < n:
        for row in smoke.questions(n, seed=draw, prefix=prefix):
            if row["input"] not in avoid and len(rows) < n:
                avoid.add(row["input"])
                rows.append({**row, "id": f"{prefix}-{len(rows):03d}"})
        draw += 1000
    return rows


def spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman's rank correlation (average ranks for ties); nan below 3 pairs or with no spread."""

    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(len(values)), key=lambda i: values[i])
        out = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
                j += 1
            for k in range(i, j + 1):
                out[order[k]] = (i + j) / 2
            i = j + 1
        return out

    if len(xs) < 3:
        return float("nan")
    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sx = sum((a - mx) ** 2 for a in rx) ** 0.5
    sy = sum((b - my) ** 2 for b in ry) ** 0.5
    return cov / (sx * sy) if sx and sy else float("nan")


def metrics(evaluation: dict) -> dict[str, object]:
    """Spearman and MAE of the estimates, and the speed-up at matched accuracy."""
    rows = [*evaluation["points"], *evaluation["baselines"]]
    est_acc, acc = [r["est_acc"] for r in rows], [r["acc"] for r in rows]
    est_lat, lat = [r["est_lat"] for r in rows], [r["lat"] for r in rows]
    strongest = next(r for r in evaluation["baselines"] if r["label"] == "all-strongest")
    matched = [p for p in evaluation["points"] if p["acc"] >= strongest["acc"] - MATCH and p["lat"] > 0]
    fastest = min(matched, key=lambda p: p["lat"]) if matched else None
    itself = fastest is not None and fastest["assign"] == strongest["assign"]
    return {
        "spearman_acc": spearman(est_acc, acc),
        "spearman_lat": spearman(est_lat, lat),
        "mae_acc": sum(abs(e - m) for e, m in zip(est_acc, acc)) / len(rows),
        "mae_lat": sum(abs(e - m) for e, m in zip(est_lat, lat)) / len(rows),
        "strongest": {k: strongest[k] for k in ("acc", "acc_lo", "acc_hi", "lat")},
        "matched_point": None if fastest is None else fastest["label"],
        "matched_is_strongest": itself,
        "speedup_at_matched_acc": None if fastest is None else 1.0 if itself else strongest["lat"] / fastest["lat"],
    }


def markdown(report: dict) -> str:
    m = report["metrics"]
    lines = [
        "# bench/real.py: the proxy on two real models (llama.cpp, CPU)",
        "",
        f"Pool: {', '.join(report['pool'])}. Profiling {report['profile']} + validation {report['validation']} "
        f"questions, held-out {report['held_out']} (disjoint: ids and texts). Compile {report['compile_s']:.0f} s, "
        f"evaluate {report['evaluate_s']:.0f} s, {report['server_calls']} server calls. Load average "
        f"{report['load'][0]:.1f} before, {report['load'][1]:.1f} after (2 cores).",
        "",
        "| configuration | est. acc | measured acc (95% CI) | est. latency (s) | measured latency (s) | assignment |",
        "|---|---|---|---|---|---|",
    ]
    for r in [*report["evaluation"]["points"], *report["evaluation"]["baselines"]]:
        assign = ", ".join(f"{k}={v}" for k, v in r["assign"].items())
        lines.append(
            f"| {r['label']} | {r['est_acc']:.2f} | {r['acc']:.2f} [{r['acc_lo']:.2f}, {r['acc_hi']:.2f}] | "
            f"{r['est_lat']:.2f} | {r['lat']:.2f} | {assign} |"
        )
    speedup = m["speedup_at_matched_acc"]
    lines += [
        "",
        f"Spearman (estimate vs held-out): accuracy {m['spearman_acc']:.2f}, latency {m['spearman_lat']:.2f}. "
        f"MAE: accuracy {m['mae_acc']:.3f}, latency {m['mae_lat']:.2f} s.",
        "Speed-up at matched accuracy (within "
        f"{MATCH:.2f} of all-strongest's {m['strongest']['acc']:.2f}): "
        + (f"{speedup:.2f}x ({m['matched_point']}" + (", the all-strongest configuration itself)." if
           m["matched_is_strongest"] else ").") if speedup is not None else "no compiled point matched."),
        "",
    ]
    return "\n".join(lines)


def bench(args: argparse.Namespace, smoke: ModuleType) -> dict:
    load_before = os.getloadavg()[0]
    venv = Path(args.venv).resolve()
    smoke.ensure_venv(venv)
    python, bin_dir = venv / "bin" / "python", venv / "bin"
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    for stale in work.glob("*"):  # measured afresh: no cache or output from before
        if stale.is_file():
            stale.unlink()
    files = smoke.package_files(python, [p for m in smoke.POOL for p in m.packages])
    weights = {m.alias: smoke.join_parts(smoke.model_parts(m, files), work / "models" / m.filename, m.sha256)
               for m in smoke.POOL}
    seen: set[str] = set()
    prof = disjoint_questions(smoke, args.profile + args.validation, 3, "bench-prof", seen)
    held = disjoint_questions(smoke, args.held_out, 4, "bench-held", seen)
    if {r["id"] for r in prof} & {r["id"] for r in held} or {r["input"] for r in prof} & {r["input"] for r in held}:
        raise smoke.SmokeError("profiling and held-out questions overlap")
    smoke.write_jsonl(work / "profile.jsonl", prof)
    smoke.write_jsonl(work / "held-out.jsonl", held)
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    with smoke.serving(python, weights, work, args.threads) as servers:
        spec = work / "smoke.yaml"
        spec.write_text(smoke.spec_text({a: s.api_base for a, s in servers.items()}, [0]))
        start = time.monotonic()
        smoke.cli(bin_dir, [
            "compile", str(spec), "--backend", "litellm", "--dataset", str(work / "profile.jsonl"),
            "--samples", str(args.profile), "--max-samples", "0", "--no-recovery",
            "--validation-samples", str(args.validation), "--cache", str(work / "cache.sqlite"),
            "-o", str(work / "out"), "-k", "4", "--concurrency", "4",
        ], work, env, "compile")
        compile_s = time.monotonic() - start
        start = time.monotonic()
        smoke.cli(bin_dir, [
            "evaluate", str(work / "out" / "smoke.compiled.mlir"), "--backend", "litellm",
            "--dataset", str(work / "held-out.jsonl"), "--samples", "0", "-o", str(work / "evaluation.json"),
        ], work, env, "evaluate")
        evaluate_s = time.monotonic() - start
        calls = sum(s.completions() for s in servers.values())
    evaluation = json.loads((work / "evaluation.json").read_text())
    return {
        "pool": [m.alias for m in smoke.POOL],
        "profile": args.profile,
        "validation": args.validation,
        "held_out": args.held_out,
        "compile_s": compile_s,
        "evaluate_s": evaluate_s,
        "server_calls": calls,
        "load": [load_before, os.getloadavg()[0]],
        "evaluation": evaluation,
        "metrics": metrics(evaluation),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", default=str(ROOT / ".venv-real"))
    parser.add_argument("--work", default=str(ROOT / "build" / "real-bench"))
    parser.add_argument("--profile", type=int, default=40, help="profiling questions")
    parser.add_argument("--validation", type=int, default=12, help="validation questions (compile)")
    parser.add_argument("--held-out", type=int, default=50, help="held-out questions (evaluate)")
    parser.add_argument("--threads", type=int, default=1, help="threads per server")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args(argv)
    smoke = load_smoke()

    def run() -> None:
        report = bench(args, smoke)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "real.json").write_text(json.dumps(report, indent=2) + "\n")
        (out / "real.md").write_text(markdown(report))
        print(markdown(report))

    return smoke.guarded(run)

if __name__ == "__main__":
    sys.exit(main())
