"""Smoke test of the profiling benchmark: `bench/profiling.py --quick` runs and
sets adaptive profiling beside uniform profiling, on held-out and on a
confirmation split."""

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
        assert 0 < r["hv_ratio"] and 0 < r["confirm_hv_ratio"] and r["calls"] > 0 and r["confirm"] == 1000
    # adaptive profiling's first round is uniform on 32; it spends at most what uniform on 64 does
    assert runs["uniform", 32]["calls"] <= runs["adaptive", 64]["calls"] <= runs["uniform", 64]["calls"]
    text = (tmp_path / "profiling-quick.md").read_text()
    assert "| default | self_consistency | 64 |" in text
    assert "## The same hypervolume for fewer calls" in text


def test_the_cheapest_adaptive_run_reaching_a_uniform_run_is_matched() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from profiling import TOLERANCE, matched

    def row(mode, m, calls, confirm_hv):
        return {"world": "w", "workflow": "f", "mode": mode, "max_queries": m, "calls": calls, "confirm_hv_ratio": confirm_hv}

    rows = [
        row("uniform", 256, 9000, 1.0), row("uniform", 512, 18000, 1.02),
        row("adaptive", 128, 2000, 1.0 - TOLERANCE / 2), row("adaptive", 256, 4000, 1.018), row("adaptive", 512, 5000, 1.03),
    ]
    found = {m["queries"]: m for m in matched(rows)}
    assert found[256]["adaptive_calls"] == 2000 and found[256]["fewer_calls"] == 4.5  # within the tolerance
    assert found[512]["adaptive_calls"] == 4000 and found[512]["fewer_calls"] == 4.5
    assert matched([row("uniform", 64, 100, 1.0), row("adaptive", 64, 90, 0.9)])[0]["fewer_calls"] is None
