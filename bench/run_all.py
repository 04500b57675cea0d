"""Run every benchmark in bench/ (`make bench`).

A benchmark is a script `bench/<name>.py` other than this one and the opt-in
ones (`OPT_IN`); files whose name starts with `_` are helpers. Each runs in its own interpreter with the
arguments given here (e.g. `--quick`), one after the other (the machine is
small: benchmarks must not compete for its cores). Exits 1 if any failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

OPT_IN = frozenset({"real.py"})
"""Run by hand only: real.py needs the llama.cpp build of `make real-smoke` and tens of minutes."""


def benchmarks() -> list[Path]:
    return sorted(
        p for p in HERE.glob("*.py")
        if not p.name.startswith("_") and p.name != Path(__file__).name and p.name not in OPT_IN
    )


def main(argv: list[str]) -> int:
    failed = []
    for script in benchmarks():
        print(f"== {script.name} {' '.join(argv)}".rstrip(), flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *argv])
        print(f"== {script.name}: exit {code} after {time.perf_counter() - start:.0f} s\n", flush=True)
        if code != 0:
            failed.append(script.name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
