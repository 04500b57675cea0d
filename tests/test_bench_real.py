"""bench/real.py's pieces that need no server: disjoint question sets, the rank
correlation and the speed-up at matched accuracy read from an evaluation."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "real.py"


@pytest.fixture(scope="module")
def real() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_real", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_real"] = module
    spec.loader.exec_module(module)
    return module


def test_held_out_questions_share_no_id_or_text_with_profiling(real: ModuleType) -> None:
    smoke = real.load_smoke()
    seen: set[str] = set()
    prof = real.disjoint_questions(smoke, 60, 3, "p", seen)
    held = real.disjoint_questions(smoke, 60, 4, "h", seen)
    assert len(prof) == len(held) == 60
    assert not {r["input"] for r in prof} & {r["input"] for r in held}
    assert len({r["id"] for r in prof + held}) == 120


def test_spearman(real: ModuleType) -> None:
    assert real.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert real.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert real.spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486832980505138)
    assert math.isnan(real.spearman([1, 2], [1, 2])) and math.isnan(real.spearman([1, 1, 1], [1, 2, 3]))


def row(label: str, est_acc: float, acc: float, est_lat: float, lat: float) -> dict:
    return {"label": label, "est_acc": est_acc, "acc": acc, "acc_lo": acc - 0.1, "acc_hi": acc + 0.1,
            "est_lat": est_lat, "lat": lat, "assign": {"a": label}}


def test_speedup_is_the_fastest_point_within_the_match_of_all_strongest(real: ModuleType) -> None:
    evaluation = {
        "points": [row("point 0", 0.5, 0.5, 1.0, 1.0), row("point 1", 0.8, 0.79, 2.0, 2.5),
                   row("point 2", 0.9, 0.82, 4.0, 4.0)],
        "baselines": [row("all-strongest", 0.9, 0.80, 5.0, 5.0), row("all-cheapest", 0.4, 0.3, 0.8, 0.9)],
    }
    m = real.metrics(evaluation)
    assert m["matched_point"] == "point 1" and m["speedup_at_matched_acc"] == pytest.approx(2.0)
    assert m["mae_acc"] == pytest.approx((0 + 0.01 + 0.08 + 0.1 + 0.1) / 5)
    assert m["spearman_acc"] == pytest.approx(real.spearman([0.5, 0.8, 0.9, 0.9, 0.4], [0.5, 0.79, 0.82, 0.8, 0.3]))
    # the all-strongest configuration, measured again: no speed-up, whatever the two latencies
    evaluation["points"].append({**row("point 3", 0.9, 0.8, 3.0, 1.5), "assign": {"a": "strong"}})
    evaluation["baselines"][0]["assign"] = {"a": "strong"}
    evaluation["points"][1]["acc"] = 0.7
    m = real.metrics(evaluation)
    assert m["matched_point"] == "point 3" and m["matched_is_strongest"] and m["speedup_at_matched_acc"] == 1.0
    evaluation["points"] = evaluation["points"][:1]
    assert real.metrics(evaluation)["speedup_at_matched_acc"] is None
    assert "no compiled point matched" in real.markdown({
        "pool": ["a", "b"], "profile": 1, "validation": 1, "held_out": 1, "compile_s": 1.0, "evaluate_s": 1.0,
        "server_calls": 3, "load": [1.0, 2.0], "evaluation": evaluation, "metrics": real.metrics(evaluation),
    })
