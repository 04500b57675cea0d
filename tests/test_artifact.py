"""The JSON artifact: export from a config set, schema, hash, selection."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flowcompile.artifact import Artifact, ArtifactError, Point, load, select
from flowcompile.tools.translate import export_json

ROOT = Path(__file__).resolve().parent.parent
PARETO = ROOT / "lit_tests" / "proxy" / "pareto.mlir"


def compiled(source: Path = PARETO, extra: str = "") -> str:
    out = subprocess.run(
        [sys.executable, "-c", "from flowcompile.tools.opt import main; main()",
         str(source), "-p", f"compose,pareto{extra}"],
        capture_output=True, text=True, check=True,
    )
    return out.stdout


@pytest.fixture(scope="module")
def artifact() -> Artifact:
    text, errors = export_json(compiled(), "chain.mlir", None)
    assert errors == "" and text is not None
    return Artifact.model_validate(json.loads(text))


def test_export_carries_points_pool_and_hash(artifact: Artifact) -> None:
    assert artifact.workflow == "chain" and artifact.name == "chain_pareto"
    assert [p.lat for p in artifact.points] == [1.1, 2.6, 5.0, 8.0]
    assert artifact.points[2].assign["solve"].model == "m"  # pyright: ignore
    assert artifact.workflow_hash.startswith("sha256:")


def test_export_is_deterministic() -> None:
    first, _ = export_json(compiled(), "a", None)
    second, _ = export_json(compiled(), "a", None)
    assert first == second


def test_hash_ignores_measurements_but_not_structure(tmp_path: Path) -> None:
    text = PARETO.read_text()
    changed_profile = tmp_path / "p.mlir"
    changed_profile.write_text(text.replace("acc = 0.6, acc_n = 40", "acc = 0.65, acc_n = 40"))
    changed_space = tmp_path / "s.mlir"
    changed_space.write_text(text.replace('@plan(%q) {role = "planner"', '@plan(%q) {role = "analyst"'))
    base = json.loads(export_json(compiled(), "a", None)[0])["workflow_hash"]  # pyright: ignore
    assert json.loads(export_json(compiled(changed_profile), "a", None)[0])["workflow_hash"] == base  # pyright: ignore
    assert json.loads(export_json(compiled(changed_space), "a", None)[0])["workflow_hash"] != base  # pyright: ignore


def test_select_by_latency_accuracy_and_weight(artifact: Artifact) -> None:
    points = artifact.points
    assert select(points, max_latency=5.0).lat == 5.0
    assert select(points, max_latency=4.9).lat == 2.6
    assert select(points, min_acc=0.5).lat == 5.0
    assert select(points, weight=1.0).lat == 8.0
    assert select(points, weight=0.0).lat == 1.1
    assert select(points, max_latency=6.0, min_acc=0.4).acc == pytest.approx(0.625709)
    with pytest.raises(ArtifactError, match="no point meets the request"):
        select(points, max_latency=0.5)


def test_export_without_config_set_is_an_error() -> None:
    output, errors = export_json(PARETO.read_text(), "chain.mlir", None)
    assert output is None and "no flow.config_set in the input: run the pareto pass first" in errors


def test_load_rejects_a_bad_artifact(tmp_path: Path, artifact: Artifact) -> None:
    data = artifact.model_dump(mode="json")
    data["points"][0]["acc"] = 1.5
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ArtifactError, match=r"bad.json: points.0.acc: Input should be less than or equal to 1"):
        load(path)
    path.write_text("{")
    with pytest.raises(ArtifactError, match=r"bad.json:1:2: invalid JSON"):
        load(path)


def test_point_assign_keeps_knobs_and_skips() -> None:
    point = Point(index=0, acc=0.5, lat=1.0, assign={"a": "skip", "f.samples": 3, "b": {"model": "m", "budget": 0}})
    assert point.assign["a"] == "skip" and point.assign["f.samples"] == 3
