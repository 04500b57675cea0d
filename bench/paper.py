"""The paper's three workflows (examples/paper/) compiled on the SIMULATED world.

For each of math, HotpotQA and code: `flowcompile compile` with its defaults
on the example's committed sim dataset (a fresh cache), then the Pareto set's
size, its distinct structures (active agents and structure choices), its
accuracy and latency range, and the compile's wall time.

    .venv/bin/python bench/paper.py [--out bench/results]

writes `paper.json` and `paper.md`. Every number but the wall time is
deterministic (the sim is seeded).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLES = ("math", "hotpotqa", "code")


def structure(point: dict) -> str:
    """A point's structure: its structure choices (ints, skips) and active agents."""
    choices = [f"{k}={v}" for k, v in sorted(point["assign"].items()) if not isinstance(v, dict)]
    return ", ".join(choices) or "-"


def compile_one(name: str, work: Path) -> dict:
    """Compile examples/paper/<name>.yaml into `work` and summarise its Pareto set."""
    spec = ROOT / "examples" / "paper" / f"{name}.yaml"
    dataset = ROOT / "examples" / "paper" / "data" / f"{name}.jsonl"
    out = work / name
    command = [str(Path(sys.executable).parent / "flowcompile"), "compile", str(spec), "--dataset", str(dataset),
               "-o", str(out), "--cache", str(work / f"{name}.sqlite")]
    start = time.monotonic()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - start
    points = json.loads(next(out.glob("*.artifact.json")).read_text())["points"]
    shapes = sorted({structure(p) for p in points})
    return {
        "example": name,
        "points": len(points),
        "structures": len(shapes),
        "structure_list": shapes,
        "acc": [min(p["acc"] for p in points), max(p["acc"] for p in points)],
        "lat": [min(p["lat"] for p in points), max(p["lat"] for p in points)],
        "compile_s": round(wall, 1),
    }


def table(rows: list[dict]) -> str:
    lines = [
        "`bench/paper.py`: `flowcompile compile examples/paper/<name>.yaml --dataset "
        "examples/paper/data/<name>.jsonl` (defaults: adaptive profiling up to 256 queries, 64 validation "
        "queries), SIMULATED world.",
        "",
        "| example | points | structures | est. acc | est. latency (s) | compile (s) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['example']} | {r['points']} | {r['structures']} | {r['acc'][0]:.3f} - {r['acc'][1]:.3f} "
                     f"| {r['lat'][0]:.2f} - {r['lat'][1]:.2f} | {r['compile_s']} |")
    for r in rows:
        lines += ["", f"{r['example']}: structures on the Pareto set", ""]
        lines += [f"- {s}" for s in r["structure_list"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowcompile-paper-") as tmp:
        rows = [compile_one(name, Path(tmp)) for name in EXAMPLES]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "paper.json").write_text(json.dumps(rows, indent=1) + "\n")
    (args.out / "paper.md").write_text(table(rows))
    sys.stdout.write(table(rows))


if __name__ == "__main__":
    main()
