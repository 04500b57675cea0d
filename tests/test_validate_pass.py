"""The validate pass: candidates measured end to end on a disjoint split, within budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from flowcompile.compiler import CompileError, import_spec, run_passes, the_workflow
from flowcompile.dialects.flow import PointAttr
from flowcompile.passes.profile import recorded_ids
from flowcompile.sim.world import default_world_path
from flowcompile.irtext import print_module
from flowcompile.validation import Candidate, Combination, adjust, fitted_combination

ROOT = Path(__file__).resolve().parent.parent
PROFILED = "profile{samples=12 max-samples=0 cache=none},compose,enumerate"


def _validated(example: str, options: str = "samples=16 cache=none"):
    module = import_spec(ROOT / "examples" / f"{example}.yaml")
    run_passes(module, f"{PROFILED},validate{{{options}}}")
    return module, the_workflow(module)


def _record(workflow, key: str) -> dict:
    return {k: v for k, v in workflow.attributes[key].data.items()}


def test_validation_split_is_disjoint_and_recorded() -> None:
    _, workflow = _validated("chain")
    profiled, validated = recorded_ids(workflow, "profiled"), recorded_ids(workflow, "validated")
    assert len(profiled) == 12 and validated
    assert not set(profiled) & set(validated)


def test_points_carry_proxy_and_validation_values() -> None:
    _, workflow = _validated("chain")
    points = [p for p in workflow.attributes["frontier"].data if isinstance(p, PointAttr)]
    assert points
    measured = [p for p in points if p.get("val_n")]
    assert measured, "validation measured nothing it kept"
    for p in points:
        assert p.get("proxy_acc") is not None and p.get("proxy_lat") is not None
    # The proxy's weight, fitted to its error against the validation rates.
    s = _record(workflow, "validated")["prior_strength"].value.data
    assert 2 <= s <= 256
    offset = _record(workflow, "validated")["offset"].value.data
    shift = _record(workflow, "validated")["shift"].value.data
    assert abs(shift) <= abs(offset) + 1e-9 and shift * offset >= 0
    for p in measured:
        # The combined estimate is the proxy's, moved by the shift, then by the
        # candidate's own gap beyond the offset, from a (difficulty-adjusted)
        # rate in [0, 1], against a prior worth s queries (rounded in the record).
        n, prior = p.get("val_n"), p.get("proxy_acc")
        lowest = prior + shift + n * (0.0 - prior - offset) / (s - 0.5 + n)
        highest = prior + shift + n * (1.0 - prior - offset) / (s - 0.5 + n)
        assert max(0.0, lowest) - 1e-3 <= p.get("acc") <= min(1.0, highest) + 1e-3
    # Nothing kept is confidently dominated: beaten by more than a standard
    # error of the difference (Beta spread, prior s + val_n queries).
    def var(p):
        return p.get("acc") * (1 - p.get("acc")) / (s - 0.5 + (p.get("val_n") or 0) + 1)

    for a in points:
        for b in points:
            gap = b.get("acc") - a.get("acc")
            assert not (b.get("lat") <= a.get("lat") and gap > (var(a) + var(b)) ** 0.5 + 1e-6)


def test_budget_is_respected() -> None:
    _, workflow = _validated("chain", "samples=32 budget=150 cache=none")
    calls = _record(workflow, "validated")["calls"].value.data
    assert 0 < calls <= 150


def test_same_input_same_ir() -> None:
    first, _ = _validated("self_consistency")
    second, _ = _validated("self_consistency")
    assert print_module(first) == print_module(second)


def test_a_split_inside_the_profiling_set_is_refused(tmp_path: Path) -> None:
    from flowcompile.sim import SimWorld, generate_dataset, write_jsonl

    dataset = write_jsonl(tmp_path / "same.jsonl", generate_dataset(SimWorld(), 12, 0))
    module = import_spec(ROOT / "examples" / "chain.yaml")
    with pytest.raises(CompileError, match="no validation query left: every one is in the profiling set"):
        run_passes(module, f'{PROFILED},validate{{dataset="{dataset}" cache=none}}')


def test_failed_calls_are_an_error_not_a_measurement(tmp_path: Path) -> None:
    world = yaml.safe_load(default_world_path().read_text())
    world["faults"]["server_error"] = 1.0
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(world))
    module = import_spec(ROOT / "examples" / "chain.yaml")
    run_passes(module, PROFILED)
    with pytest.raises(CompileError, match="validation call failed after 2 attempts: .*server_error"):
        run_passes(module, f'validate{{world="{broken}" retries=2 cache=none}}')
    assert "validated" not in the_workflow(module).attributes


def test_a_lucky_batch_does_not_evict_a_tied_point() -> None:
    from flowcompile.validation import validated_front

    top = Candidate({}, 0.88, 100.0, 0.0, 1)  # the proxy's most accurate point, unmeasured
    lucky = Candidate({}, 0.86, 30.0, 0.0, 1, outcomes={f"q{i}": i % 16 != 0 for i in range(32)})
    clearly_worse = Candidate({}, 0.30, 120.0, 0.0, 1)
    kept = validated_front([top, lucky, clearly_worse], Combination(8.0))
    assert lucky.acc(Combination(8.0)) > top.acc(Combination(8.0))  # plainly, `lucky` dominates `top`
    assert kept == [lucky, top]


def test_adjust_compares_candidates_on_common_footing() -> None:
    # Both candidates are equally good on the queries both ran; the second also
    # ran an easy batch that everyone it met got right.
    a = Candidate({}, 0.5, 1.0, 0.0, 1, outcomes={"q1": True, "q2": False})
    b = Candidate({}, 0.5, 1.0, 0.0, 1, outcomes={"q1": True, "q2": False, "q3": True, "q4": True})
    c = Candidate({}, 0.5, 1.0, 0.0, 1, outcomes={"q3": True, "q4": True})
    assert b.successes / b.n > a.successes / a.n  # raw rates flatter b
    adjust([a, b, c])
    assert a.adjusted == pytest.approx(b.adjusted, abs=1e-6)


def test_compile_validates_by_default(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from flowcompile.tools.cli import cli

    result = CliRunner().invoke(
        cli,
        ["compile", str(ROOT / "examples" / "self_consistency.yaml"), "-o", str(tmp_path), "--samples", "12",
         "--cache", str(tmp_path / "c.sqlite"), "--validation-samples", "16"],
    )
    assert result.exit_code == 0, result.output
    artifact = json.loads((tmp_path / "self_consistency.artifact.json").read_text())
    assert artifact["points"]
    ir = (tmp_path / "self_consistency.compiled.mlir").read_text()
    assert "validated = {" in ir and "val_n = " in ir


def test_evaluate_refuses_a_held_out_set_the_compile_saw(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from flowcompile.tools.cli import cli

    runner = CliRunner()
    spec = ROOT / "examples" / "self_consistency.yaml"
    compiled = tmp_path / "self_consistency.compiled.mlir"
    args = ["--samples", "12", "--cache", str(tmp_path / "c.sqlite")]
    assert runner.invoke(cli, ["compile", str(spec), "-o", str(tmp_path), *args, "--validation-samples", "8"]).exit_code == 0
    # evaluate draws held-out queries from seed + 1000: -1000 is the profiling seed, -500 validation's.
    for seed, what in (("-1000", "profiling"), ("-500", "validation")):
        result = runner.invoke(cli, ["evaluate", str(compiled), "--seed", seed, "--samples", "4"])
        assert result.exit_code == 1
        assert f"shares 4 of its 4 queries with the {what} set" in result.output
    assert runner.invoke(cli, ["evaluate", str(compiled), "--samples", "4", "--no-baselines"]).exit_code == 0


def _measured(proxy: float, rate: float, n: int) -> Candidate:
    candidate = Candidate({}, proxy, 1.0, 0.0, 1)
    right = round(rate * n)
    candidate.outcomes = {f"q{i}": i < right for i in range(n)}
    return candidate


def test_the_proxy_weighs_by_how_well_it_predicted_validation() -> None:
    # Proxies that match the validation rates are worth many queries; proxies
    # 0.2 off are worth few; too few measured candidates give the default.
    close = [_measured(p, p, 64) for p in (0.25, 0.5, 0.75, 0.5)]
    far = [_measured(p, min(1.0, p + 0.2), 64) for p in (0.25, 0.5, 0.7, 0.4)]
    scattered = [_measured(p, min(1.0, p + d), 64) for p, d in ((0.25, 0.2), (0.5, -0.2), (0.7, 0.2), (0.4, -0.2))]
    assert fitted_combination(close, 8.0, 256).prior_strength == 256.0
    assert fitted_combination(scattered, 8.0, 256).prior_strength < 8.0
    assert fitted_combination(far[:2], 8.0, 256).prior_strength == 8.0
    # a shared gap is the batch's, not the candidates' own: they keep their weight
    assert fitted_combination(far, 8.0, 256).prior_strength == 256.0


def test_a_shared_gap_is_kept_in_the_share_luck_does_not_explain() -> None:
    # Four candidates 0.05 above the proxy on one 64-query batch: within what
    # the luck of 64 (and 256 profiling) queries explains, so little is kept.
    slightly = [_measured(p, p + 0.05, 64) for p in (0.25, 0.5, 0.7, 0.4)]
    how = fitted_combination(slightly, 8.0, 256)
    assert how.offset == pytest.approx(0.05, abs=0.01)
    assert 0.0 <= how.shift < 0.5 * how.offset
    # 0.25 above on every one: far beyond luck, the proxy is biased, most is kept
    biased = [_measured(p, p + 0.25, 64) for p in (0.25, 0.5, 0.6, 0.4)]
    how = fitted_combination(biased, 8.0, 256)
    assert how.shift > 0.8 * how.offset > 0.18
    # a candidate's estimate: the proxy's, the shift, then its own gap beyond the offset
    top = biased[0]
    assert top.acc(how) == pytest.approx(top.proxy_acc + how.shift + 64 * (top.rate - top.proxy_acc - how.offset) / (how.prior_strength + 64))
    unmeasured = Candidate({}, 0.5, 1.0, 0.0, 1)
    assert unmeasured.acc(how) == pytest.approx(0.5 + how.shift)
