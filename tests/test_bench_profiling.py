"""Smoke test of the profiling benchmark: `bench/profiling.py --quick` runs and
sets adaptive profiling beside uniform profiling on the same query count."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_profiling_benchmark_quick(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "profiling.py"), "--quick", "--jobs", "1", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads((tmp_path / "profiling-quick.json").read_text())
    runs = {(r["mode"], r["max_queries"]): r for r in rows}
    assert set(runs) == {("uniform", 32), ("uniform", 64), ("adaptive", 64)}
    for r in rows:  # the oracle is chosen on its own split: a compiled set may beat it on held-out
        assert 0 < r["hv_ratio"] and r["calls"] > 0
    # adaptive profiling's first round is uniform on 32; it spends less than uniform on 64
    assert runs["uniform", 32]["calls"] < runs["adaptive", 64]["calls"] <= runs["uniform", 64]["calls"]
    assert "| default | self_consistency | 64 |" in (tmp_path / "profiling-quick.md").read_text()
