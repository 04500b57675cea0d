"""Smoke test of the search benchmark: `bench/search.py --quick` runs, writes its
JSON and markdown, and the search agrees with brute force where both ran.

No wall-clock assertion: the machine is small and noisy; the timeout is only a
guard against a hang.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "search.py"
TIMEOUT_S = 900


def test_search_benchmark_quick(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--repeat", "1", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "search-quick.json").read_text())
    rows = {r["name"]: r for r in report["rows"]}
    assert list(rows) == ["chain-2", "chain-4", "chain-6"]
    for n, row in zip((2, 4, 6), rows.values()):
        assert row["status"] == "ok"
        assert row["agents"] == n
        assert row["space"] == 24**n
        assert row["frontier"] > 1
        assert row["config_set"] == 8
        assert row["search"]["median_s"] > 0
    brute_forced = [r for r in rows.values() if r["brute_force"] is not None]
    assert [r["name"] for r in brute_forced] == ["chain-2"]
    for row in brute_forced:
        assert row["identical"] is True
    for row in rows.values():
        if row["brute_force"] is None:
            assert row["space"] > report["brute_force_max"]
    table = (tmp_path / "search-quick.md").read_text()
    assert "| chain-2 |" in table and "infeasible (331,776 configs)" in table
    assert "| chain-2 |" in proc.stdout
