"""`bench/router.py --quick`: the router benchmark on chain, and the relations
its report rests on (whatever the world's numbers): one row per preset, the
single point is what `run --preset` runs, a router with every routing query as
neighbour is that point exactly, nothing beats hindsight, and the held-out set
is disjoint from the others (the script asserts it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_S = 900


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    out = tmp_path_factory.mktemp("router-bench")
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "router.py"), "--quick", "--jobs", "1", "--out", str(out)],
                          capture_output=True, text=True, timeout=TIMEOUT_S, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    text = (out / "router-quick.md").read_text()
    assert "## What this shows" in text and "| chain |" in text
    return json.loads((out / "router-quick.json").read_text())


def test_one_row_per_preset_with_every_method(rows: list[dict]) -> None:
    assert [r["preset"] for r in rows] == ["fast", "balanced", "accurate"]
    for r in rows:
        for method in ("single", "router", "router_forced", "routellm", "hindsight"):
            assert 0.0 <= r[method]["acc"] <= 1.0 and r[method]["lat"] > 0, method
        assert r["verdict"] in ("dominates", "matches", "trades", "worse")
        assert r["heldout"] == 64 and r["routing"] == 48


def test_single_is_what_run_preset_picks_and_presets_are_ordered(rows: list[dict]) -> None:
    fast, balanced, accurate = (r["single"] for r in rows)
    assert fast["est_lat"] <= balanced["est_lat"] <= accurate["est_lat"]
    assert fast["est_acc"] <= balanced["est_acc"] <= accurate["est_acc"]


def test_a_router_that_kept_no_k_is_the_single_point(rows: list[dict]) -> None:
    for r in rows:
        if r["k"] == r["routing"]:
            assert (r["router"]["acc"], r["router"]["lat"]) == (r["single"]["acc"], r["single"]["lat"])
            assert r["router"]["points_used"] == 1 and r["verdict"] == "matches"
            assert r["router"]["gain"] == [0.0, 0.0]


def test_nothing_beats_hindsight(rows: list[dict]) -> None:
    for r in rows:
        for method in ("single", "router", "router_forced"):  # routellm's two points may be outside the set
            assert r["hindsight"]["objective"] >= r[method]["objective"] - 1e-9, method
