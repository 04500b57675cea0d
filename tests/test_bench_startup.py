"""`bench/startup.py --quick` runs and writes its JSON and markdown; no
wall-clock assertion (the machine is small and noisy), only what it measured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_startup_benchmark_quick(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "startup.py"), "--quick", "--runs", "2", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "startup-quick.json").read_text())
    assert set(report["median_s"]) == {"flowcompile-opt", "xdsl-opt"} and report["runs"] == 2
    assert all(len(ts) == 2 and min(ts) > 0 for ts in report["runs_s"].values())
    assert report["ratio"] > 0 and report["heavy_imports"] == []
    assert "| `xdsl-opt --help` |" in (tmp_path / "startup-quick.md").read_text()
