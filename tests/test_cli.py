"""The `flowcompile` commands, end to end on the simulated world."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowcompile.artifact import load
from flowcompile.tools.cli import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PNG = b"\x89PNG\r\n\x1a\n"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("chain")
    code, stdout, stderr = invoke(
        "compile", str(EXAMPLES / "chain.yaml"), "-o", str(out), "--samples", "12",
        "--cache", str(out / "cache.sqlite"), "-k", "5",
    )
    assert code == 0, stderr
    return out


def test_compile_writes_every_artifact(compiled: Path) -> None:
    names = sorted(p.name for p in compiled.iterdir())
    for suffix in (".mlir", ".profiled.mlir", ".compiled.mlir", ".artifact.json", ".report.md", ".pareto.png"):
        assert f"chain{suffix}" in names
    assert (compiled / "chain.pareto.png").read_bytes().startswith(PNG)
    artifact = load(compiled / "chain.artifact.json")
    assert artifact.workflow == "chain" and 1 <= len(artifact.points) <= 5
    lats = [p.lat for p in artifact.points]
    assert lats == sorted(lats)
    assert "flow.config_set @chain_pareto for @chain" in (compiled / "chain.compiled.mlir").read_text()


@pytest.mark.parametrize("name", ["self_consistency", "router", "refine", "mixture"])
def test_compile_works_on_every_example(name: str, tmp_path: Path) -> None:
    code, stdout, stderr = invoke(
        "compile", str(EXAMPLES / f"{name}.yaml"), "-o", str(tmp_path), "--samples", "6",
        "--cache", str(tmp_path / "cache.sqlite"),
    )
    assert code == 0, stderr
    assert stdout.startswith("| # | est. acc")
    assert f"wrote {tmp_path / f'{name}.artifact.json'}" in stderr
    assert load(tmp_path / f"{name}.artifact.json").points


def test_run_the_fastest_and_the_most_accurate_point(compiled: Path) -> None:
    path = str(compiled / "chain.compiled.mlir")
    code, stdout, stderr = invoke("run", path, "--point", "0", "--samples", "2")
    assert code == 0 and "point 0:" in stderr and stdout.count("answer '") == 2
    assert "accuracy " in stdout
    code, _, stderr = invoke("run", path, "--weight", "1.0", "--samples", "1")
    last = len(load(compiled / "chain.artifact.json").points) - 1
    assert code == 0 and f"point {last}:" in stderr
    code, _, stderr = invoke("run", path, "--point", "99", "--samples", "1")
    assert code == 1 and "no point 99" in stderr


def test_evaluate_and_report(compiled: Path) -> None:
    path = str(compiled / "chain.compiled.mlir")
    evaluation = compiled / "evaluation.json"
    measured_ir = compiled / "chain.evaluated.mlir"
    code, stdout, stderr = invoke(
        "evaluate", path, "--points", "ends", "--samples", "10", "-o", str(evaluation), "--write-ir", str(measured_ir)
    )
    assert code == 0, stderr
    assert "| all-strongest |" in stdout and "| all-cheapest |" in stdout
    assert "Spearman rank correlation" in stdout
    data = json.loads(evaluation.read_text())
    assert data["queries"] == 10 and len(data["points"]) == 2
    assert "measured_acc = " in measured_ir.read_text()
    png = compiled / "plot.png"
    code, stdout, stderr = invoke("report", str(measured_ir), "--evaluation", str(evaluation), "-o", str(png))
    assert code == 0 and png.read_bytes().startswith(PNG)
    assert "| 0 |" in stdout and "Spearman" in stdout


def test_select_prints_the_chosen_point(compiled: Path) -> None:
    artifact = str(compiled / "chain.artifact.json")
    code, stdout, _ = invoke("select", artifact, "--weight", "0")
    assert code == 0 and json.loads(stdout)["index"] == 0
    code, _, stderr = invoke("select", artifact, "--max-latency", "0.001")
    assert code == 1 and "no point meets the request" in stderr


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("workflow: w\nmodels: {}\nagents: {}\nsteps: []\n")
    for args in (["compile", str(bad)], ["run", str(tmp_path / "missing.mlir")], ["serve-sim", "--host", "0.0.0.0"]):
        out = subprocess.run(
            [sys.executable, "-c", "from flowcompile.tools.cli import main; main()", *args],
            capture_output=True, text=True, timeout=60,
        )
        assert out.returncode != 0, args
        assert "Traceback" not in out.stderr, out.stderr
    out = subprocess.run(
        [sys.executable, "-c", "from flowcompile.tools.cli import main; main()", "compile", str(bad)],
        capture_output=True, text=True, timeout=60,
    )
    assert "models: Dictionary should have at least 1 item" in out.stderr


def test_sim_dataset_writes_a_loadable_profiling_set(tmp_path: Path) -> None:
    from flowcompile.profiling.dataset import load_dataset

    path = tmp_path / "profiling.jsonl"
    code, _, stderr = invoke("sim-dataset", "--samples", "5", "--seed", "3", "-o", str(path))
    assert code == 0 and "wrote 5 simulated queries" in stderr
    queries = load_dataset(path)
    assert [q.id for q in queries] == [f"q3-{i:05d}" for i in range(5)]
    assert all("[sim-query" in q.input and q.reference for q in queries)


@pytest.mark.parametrize("name", ["chain", "self_consistency", "router", "refine", "mixture"])
def test_the_cards_command_works_on_every_example(name: str, tmp_path: Path) -> None:
    from flowcompile.tools.opt import run as opt

    out = tmp_path / "out.mlir"
    code = opt([str(EXAMPLES / f"{name}.mlir"), "-p", f'profile{{samples=4 max-samples=0 cache="{tmp_path / "c.sqlite"}"}}',
                "--compose", "--pareto", "-o", str(out)])
    assert code == 0
    assert f"flow.config_set @{name}_pareto for @{name} {{points = [#flow.point<" in out.read_text()
