"""The peer benchmark on its smallest example: every method measured, and the
invariants its metrics rest on.

`bench/peers.py --only self_consistency --worlds default --quick` compiles the
example, runs every peer and the oracle on held-out queries and writes its
rows. Nothing here pins a number that only copies the simulator: the checks
are relations that must hold whatever the world (the oracle's front on its
own split, budgets are respected, the sets are disjoint).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "peers.py"
TIMEOUT_S = 900


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    out = tmp_path_factory.mktemp("peers")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--only", "self_consistency", "--worlds", "default",
         "--jobs", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=TIMEOUT_S, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "peers-only.md").read_text().count("| flowcompile |") == 1
    assert (out / "peers-only-self_consistency.png").stat().st_size > 0
    return json.loads((out / "peers-only.json").read_text())


def test_every_method_is_measured(rows: list[dict]) -> None:
    methods = {r["method"] for r in rows}
    assert {"flowcompile", "oracle", "routellm", "all-strongest", "all-cheapest", "uniform-middle",
            "strongest-last", "heuristics"} <= methods
    for name in ("random", "optuna-nsga2", "optuna-tpe", "pymoo-nsga2"):
        assert {f"{name}@1x", f"{name}@3x"} <= methods
    for r in rows:
        assert r["heldout"] >= 100 and r["points"] == len(r["measured"]) >= 1


def test_oracle_is_chosen_on_its_own_split(rows: list[dict]) -> None:
    """The oracle keeps the configurations non-dominated on its selection
    split (every configuration measured there), and is scored on held-out."""
    oracle = next(r for r in rows if r["method"] == "oracle")
    assert oracle["hv_ratio"] == pytest.approx(1.0)
    assert oracle["configs_measured"] == oracle["space_size"]
    chosen = sorted(oracle["measured"], key=lambda p: p["sel_lat"])
    assert all(a["sel_acc"] < b["sel_acc"] for a, b in zip(chosen, chosen[1:]))
    # scored on other queries: not, in general, the same numbers
    assert any((p["acc"], p["lat"]) != (p["sel_acc"], p["sel_lat"]) for p in chosen)


def test_all_strongest_is_the_speedup_baseline(rows: list[dict]) -> None:
    strongest = next(r for r in rows if r["method"] == "all-strongest")
    assert strongest["speedup_at_acc"] == pytest.approx(1.0)


def test_black_box_methods_stay_within_their_budget(rows: list[dict]) -> None:
    fc = next(r for r in rows if r["method"] == "flowcompile")
    assert fc["calls"] > 0 and fc["compile_s"] > 0
    for r in rows:
        if "@" in r["method"]:
            multiple = int(r["method"].split("@")[1].rstrip("x"))
            assert r["budget"] == multiple * fc["calls"]
            assert 0 < r["calls"] <= r["budget"]


def test_flowcompile_fidelity_is_reported(rows: list[dict]) -> None:
    fc = next(r for r in rows if r["method"] == "flowcompile")
    for key in ("spearman_acc", "mae_acc", "spearman_lat", "mae_lat", "mae_acc_space"):
        assert fc[key] is not None, key
    assert all("est_acc" in p and "est_lat" in p for p in fc["measured"])
    assert 0 <= fc["mae_acc"] <= 1


def test_the_confirmation_split_measures_every_method_again(rows: list[dict]) -> None:
    """Every row is measured again on the confirmation split (disjointness is
    asserted by the benchmark itself); all-strongest is its own speed-up
    baseline there too, and no method's best can exceed the best of all."""
    best = max(r["confirm_best_acc"] for r in rows)
    for r in rows:
        assert r["confirm"] >= 200 and 1 <= len(r["confirmed"]) <= max(r["points"], 11)
        assert r["confirm_best_acc"] == pytest.approx(max(p["acc"] for p in r["confirmed"]), abs=1e-4)
        assert r["confirm_best_acc"] <= best
    strongest = next(r for r in rows if r["method"] == "all-strongest")
    assert strongest["confirm_speedup_at_acc"] == pytest.approx(1.0)
    fc = next(r for r in rows if r["method"] == "flowcompile")
    assert len(fc["confirmed"]) == fc["points"]
    assert fc["confirm_spearman_acc"] is not None and 0 <= fc["confirm_mae_acc"] <= 1
    oracle = next(r for r in rows if r["method"] == "oracle")
    assert oracle["confirm_hv_ratio"] == pytest.approx(1.0)


def test_the_gap_to_the_best_point_has_a_paired_error(rows: list[dict]) -> None:
    """FlowCompile's gap is to the most accurate confirmed point of any
    method, and its error is that of a paired difference: the share d of
    queries the two points disagree on is at least the gap and at most what
    their accuracies allow, and the error is sqrt((d - gap^2) / (n - 1))."""
    fc = next(r for r in rows if r["method"] == "flowcompile")
    leader = next(r for r in rows if r["method"] == fc["confirm_leader"])
    assert leader["confirm_best_acc"] == max(r["confirm_best_acc"] for r in rows)
    gap, se, n = fc["confirm_gap"], fc["confirm_gap_se"], fc["confirm"]
    a, b = leader["confirm_best_acc"], fc["confirm_best_acc"]
    assert gap == pytest.approx(a - b, abs=1e-9) and gap >= 0
    most = min(a + b, 2 - a - b)
    assert ((gap - gap**2) / (n - 1)) ** 0.5 - 1e-9 <= se <= ((most - gap**2) / (n - 1)) ** 0.5 + 1e-9
    if fc["confirm_leader"] == "flowcompile":
        assert fc["confirm_gap"] == 0 and fc["confirm_gap_se"] == 0


@pytest.mark.parametrize("count", ["0", "-3", "many"])
def test_a_confirmation_size_must_be_a_positive_count(count: str) -> None:
    """`--confirm` is refused before anything runs, not read as the default."""
    proc = subprocess.run([sys.executable, str(SCRIPT), "--confirm", count], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert proc.returncode != 0 and "expected a positive count of queries" in proc.stderr, proc.stderr
