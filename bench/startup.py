"""Start-up time of `flowcompile-opt --help` against `xdsl-opt --help`.

Both tools run alternately, N times each, in the same run, so the ratio of
their medians compares them under the same load; the absolute times depend
on the machine and what else runs on it (the README's caveat). Also records
which heavy modules `flowcompile-opt --help` imports (none is the goal: the
pass reference is read from the passes' source, flowcompile/tools/pass_docs.py,
and the flags are declared without xDSL, flowcompile/tools/opt_cli.py).

    python bench/startup.py [--runs 21] [--quick] [--out bench/results]

writes `startup.json` and `startup.md` (`startup-quick.*` with --quick).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
HEAVY = ("numpy", "litellm", "matplotlib", "flowcompile.profiling.profiler", "flowcompile.proxy.search",
         "xdsl.xdsl_opt_main", "xdsl.dialects.builtin")
"""Modules `--help` does without: the passes' dependencies, and the xDSL driver
and dialect whose import is most of `xdsl-opt --help` (flowcompile/tools/opt_cli.py)."""


def tool(name: str) -> list[str]:
    """The console script next to this interpreter (the venv's), else on PATH."""
    path = BIN / name
    return [str(path)] if path.exists() else [name]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}")
    return elapsed


def heavy_imports() -> list[str]:
    """The HEAVY modules loaded by `flowcompile-opt --help`: the console script
    itself, run under `-X importtime`, so the probe follows the entry point."""
    script = tool("flowcompile-opt")
    done = subprocess.run([sys.executable, "-X", "importtime", *script, "--help"],
                          capture_output=True, text=True, check=True)
    loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return [m for m in HEAVY if m in loaded]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each tool (default 21; 5 with --quick)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    runs = 5 if args.quick and args.runs == 21 else args.runs
    ours, theirs = tool("flowcompile-opt") + ["--help"], tool("xdsl-opt") + ["--help"]
    timed(ours), timed(theirs)  # warm the file cache: the first run of each reads every .pyc from disk
    times: dict[str, list[float]] = {"flowcompile-opt": [], "xdsl-opt": []}
    for _ in range(runs):  # alternate, so load changes hit both alike
        times["flowcompile-opt"].append(timed(ours))
        times["xdsl-opt"].append(timed(theirs))
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    report = {
        "benchmark": "startup",
        "command": "--help",
        "runs": runs,
        "quick": args.quick,
        "median_s": {k: round(v, 4) for k, v in medians.items()},
        "runs_s": {k: [round(t, 4) for t in ts] for k, ts in times.items()},
        "ratio": round(medians["flowcompile-opt"] / medians["xdsl-opt"], 3),
        "heavy_imports": heavy_imports(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.machine(),
                    "load_1min": round(os.getloadavg()[0], 2)},
    }
    stem = "startup-quick" if args.quick else "startup"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (args.out / f"{stem}.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report), end="")
    return 0


def markdown(report: dict) -> str:
    m = report["median_s"]
    heavy = ", ".join(report["heavy_imports"]) or "none"
    return (
        "# Start-up: `flowcompile-opt --help` against `xdsl-opt --help`\n\n"
        f"Medians of {report['runs']} alternating runs each (load average {report['machine']['load_1min']} "
        f"on {report['machine']['cpus']} CPUs at the start).\n\n"
        "| tool | median (s) |\n|---|---:|\n"
        f"| `flowcompile-opt --help` | {m['flowcompile-opt']:.3f} |\n"
        f"| `xdsl-opt --help` | {m['xdsl-opt']:.3f} |\n\n"
        f"Ratio flowcompile-opt / xdsl-opt: {report['ratio']:.2f}. "
        f"Heavy modules `flowcompile-opt --help` imports ({', '.join(HEAVY)}): {heavy}.\n"
    )


if __name__ == "__main__":
    sys.exit(main())
