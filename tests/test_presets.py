"""Presets: what the built-in ones pick over a Pareto set, a spec's own carried
through the IR into the artifact, and one selection rule for `run`, `select`
and `flowcompile.api`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowcompile import api
from flowcompile.artifact import dumps, load, workflow_hash
from flowcompile.selection import (
    BUILTIN_PRESETS,
    Preference,
    SelectionError,
    Selector,
    choose,
    select,
)
from flowcompile.tools.cli import run_cli
from helpers.specs import TWO_MODELS

SPEC = """\
workflow: qa
""" + TWO_MODELS + """defaults: {budgets: [0, 1024]}
agents:
  planner: {role: planner}
  solver: {role: solver, inputs: [query, planner]}
steps: [planner, solver]
presets:
  snappy: {max_latency: 4.0}
  sure: {min_acc: 0.4, weight: 0.9}
"""

# A convex-ish frontier: (acc, lat), fastest first.
FRONT = [(0.30, 1.0), (0.60, 2.0), (0.70, 4.0), (0.75, 8.0), (0.78, 16.0)]


def test_the_built_in_presets_on_a_frontier() -> None:
    picks = {name: choose(FRONT, pref) for name, pref in BUILTIN_PRESETS.items()}
    assert picks["accurate"] == 4  # the most accurate
    # rescaled (acc', lat'): (0, 0), (0.625, 0.067), (0.833, 0.2), (0.938, 0.467), (1, 1);
    # the knee is the point farthest above the chord acc' = lat'
    assert picks["balanced"] == 2
    # 0.30 -> 0.60 gains 0.625 of accuracy for 0.067 of latency (> 3x); 0.60 -> 0.70, 0.208 for 0.133
    assert picks["fast"] == 1
    steep = [(0.30, 1.0), (0.40, 2.0), (0.78, 3.0)]  # the first step gains too little for fast
    assert (choose(steep, BUILTIN_PRESETS["fast"]), choose(steep, BUILTIN_PRESETS["accurate"])) == (0, 2)


def test_no_selector_is_the_most_accurate_point_and_ties_go_to_the_faster() -> None:
    assert choose(FRONT, None) == 4
    assert choose([(0.5, 3.0), (0.5, 1.0), (0.2, 0.5)], None) == 1
    assert choose([(0.5, 2.0), (0.5, 2.0)], Preference(weight=0.5)) == 0


def test_constraints_and_weights() -> None:
    assert choose(FRONT, Preference(max_latency=5.0)) == 2
    assert choose(FRONT, Preference(min_acc=0.65)) == 2
    assert choose(FRONT, Preference(max_latency=10.0, min_acc=0.65)) == 3
    assert choose(FRONT, Preference(weight=0.0)) == 0
    assert choose(FRONT, Preference(min_acc=0.7, weight=0.0)) == 2  # the weight ranks what the target leaves
    with pytest.raises(SelectionError, match=r"no point meets the request .*latency 1\.\.16 s"):
        choose(FRONT, Preference(max_latency=0.5))


fronts = st.lists(
    st.tuples(st.floats(0.0, 1.0), st.floats(0.01, 100.0)), min_size=1, max_size=12
).map(lambda pts: sorted(pts, key=lambda p: (p[1], p[0])))


def _pareto(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The non-dominated points, fastest first (what a config set holds)."""
    kept: list[tuple[float, float]] = []
    for acc, lat in points:
        if all(acc > a for a, _ in kept) and (acc, lat) not in kept:
            kept.append((acc, lat))
    return kept


@settings(max_examples=300, deadline=None)
@given(fronts)
def test_fast_balanced_accurate_are_ordered_on_every_pareto_set(points: list[tuple[float, float]]) -> None:
    front = _pareto(points)
    fast, balanced, accurate = (choose(front, BUILTIN_PRESETS[n]) for n in ("fast", "balanced", "accurate"))
    assert front[accurate][0] == max(a for a, _ in front)
    for lower, upper in ((fast, balanced), (balanced, accurate)):
        assert front[lower][0] <= front[upper][0] and front[lower][1] <= front[upper][1]


def test_selectors_conflict_and_presets_are_named() -> None:
    with pytest.raises(SelectionError, match="^preset and weight both choose a point: give one of them$"):
        select(FRONT, Selector(preset="fast", weight=0.5))
    with pytest.raises(SelectionError, match="^point and max-latency both choose a point"):
        select(FRONT, Selector(point=1, max_latency=3.0))
    with pytest.raises(SelectionError, match=r"unknown preset 'balnced'; did you mean 'balanced'\? \(presets: fast, "
                                             r"balanced, accurate, mine\)"):
        select(FRONT, Selector(preset="balnced"), {"mine": Preference(weight=0.1)})
    with pytest.raises(SelectionError, match="preset 'fast' is built in"):
        select(FRONT, Selector(preset="fast"), {"fast": Preference(weight=0.1)})
    with pytest.raises(SelectionError, match=r"^weight=1\.5: input should be less than or equal to 1$"):
        select(FRONT, Selector(weight=1.5))
    with pytest.raises(SelectionError, match=r"^no point 5: the config set has 5 points \(0\.\.4\)$"):
        select(FRONT, Selector(point=5))
    assert select(FRONT, Selector(preset="mine"), {"mine": Preference(max_latency=2.0)}) == 1
    assert select(FRONT, Selector(point=3)) == 3


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, api.Workflow]:
    folder = tmp_path_factory.mktemp("presets")
    spec = folder / "qa.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    code = run_cli(["compile", str(spec), "-o", str(folder), "--cache", "none", "--samples", "12",
                    "--max-samples", "0", "--no-validate"])
    assert code == 0
    return folder, api.load_ir(folder / "qa.compiled.mlir")


def test_a_specs_presets_reach_the_ir_and_the_artifact(compiled: tuple[Path, api.Workflow]) -> None:
    folder, workflow = compiled
    assert "presets = {snappy = {max_latency = 4.0}, sure = {min_acc = 0.4, weight = 0.9}}" in workflow.ir()
    artifact = load(folder / "qa.artifact.json")
    assert artifact.presets == {"snappy": Preference(max_latency=4.0), "sure": Preference(min_acc=0.4, weight=0.9)}
    assert workflow.presets == artifact.presets


def test_presets_are_not_part_of_the_workflow_hash(compiled: tuple[Path, api.Workflow]) -> None:
    _, workflow = compiled
    other = api.parse_ir(workflow.ir().replace("max_latency = 4.0", "max_latency = 9.0"))
    assert other.presets["snappy"].max_latency == 9.0
    assert workflow_hash(other.op) == workflow_hash(workflow.op)


def test_an_artifact_without_presets_has_no_presets_key(compiled: tuple[Path, api.Workflow]) -> None:
    _, workflow = compiled
    bare = workflow.artifact().model_copy(update={"presets": {}})
    assert "presets" not in json.loads(dumps(bare))
    assert "presets" in json.loads(dumps(workflow.artifact()))


@pytest.mark.parametrize("preset", ["fast", "balanced", "accurate", "snappy", "sure"])
def test_run_select_and_the_api_pick_the_same_point(
    compiled: tuple[Path, api.Workflow], preset: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, workflow = compiled
    expected = api.select(workflow, preset=preset).index
    assert expected == select([(p.acc, p.lat) for p in workflow.points], Selector(preset=preset), workflow.presets)
    assert run_cli(["select", str(folder / "qa.artifact.json"), "--preset", preset]) == 0
    assert json.loads(capsys.readouterr().out)["index"] == expected
    assert run_cli(["run", str(folder / "qa.compiled.mlir"), "--preset", preset, "--samples", "1"]) == 0
    err = capsys.readouterr().err
    assert int(re.search(r"^point (\d+):", err, re.MULTILINE).group(1)) == expected  # pyright: ignore
    assert f"(preset {preset})" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--preset", "nope"], "error: unknown preset 'nope' (presets: fast, balanced, accurate, snappy, sure)"),
        (["--preset", "fast", "--max-latency", "3"], "error: preset and max-latency both choose a point"),
        (["--point", "0", "--preset", "fast"], "error: point and preset both choose a point"),
    ],
)
def test_a_bad_preset_is_one_diagnostic_and_status_1(
    compiled: tuple[Path, api.Workflow], args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = compiled
    for command, path in (("run", "qa.compiled.mlir"), ("select", "qa.artifact.json")):
        if command == "select" and "--point" in args:
            continue
        assert run_cli([command, str(folder / path), *args]) == 1
        err = capsys.readouterr().err
        assert err.startswith(message) and "Traceback" not in err, (command, err)


def test_a_preset_out_of_range_in_the_ir_is_a_located_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mlir"
    bad.write_text(
        'flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {presets = {x = {weight = 2.0}}} {\n'
        '  %0 = flow.agent @s(%q) {role = "solver", models = ["m"], budgets = [0]}\n'
        '  flow.return %0\n}\n', encoding="utf-8")
    with pytest.raises(api.FlowCompileError, match=r"bad\.mlir:1:1: error: preset 'x': weight must be a float in \[0, 1\]"):
        api.load_ir(bad)
    bad.write_text(bad.read_text().replace("weight = 2.0", "speed = 1.0"))
    with pytest.raises(api.FlowCompileError, match="preset 'x': unknown field 'speed'"):
        api.load_ir(bad)
