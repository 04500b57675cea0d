"""`flowcompile run`, `evaluate` and `compile` exit 1 when calls fail, naming the
failed query and the provider's message; a failed evaluation writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowcompile.tools.cli import run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEFAULT_WORLD = Path(__file__).resolve().parent.parent / "flowcompile" / "sim" / "default_world.yaml"


def faulty_world(folder: Path, rate: float) -> Path:
    text = DEFAULT_WORLD.read_text()
    assert "  rate_limit: 0.0\n" in text
    path = folder / f"faulty-{rate}.yaml"
    path.write_text(text.replace("  rate_limit: 0.0\n", f"  rate_limit: {rate}\n"))
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = run_cli(list(args))
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("chain")
    rc = run_cli(["compile", str(EXAMPLES / "chain.yaml"), "-o", str(out), "--samples", "8", "--max-samples", "0",
                  "--no-recovery", "--no-validate", "--cache", str(out / "cache.sqlite")])
    assert rc == 0
    return out / "chain.compiled.mlir"


def test_run_with_every_call_failing_exits_1(compiled, tmp_path, capsys) -> None:
    rc, out, err = cli(capsys, "run", str(compiled), "--samples", "2", "--world", str(faulty_world(tmp_path, 1.0)))
    assert rc == 1
    assert "error: 2 of 2 queries failed (first: q7919-00000: agent @" in err and "rate_limit" in err
    assert "Traceback" not in err


def test_evaluate_with_failed_runs_exits_1_and_writes_nothing(compiled, tmp_path, capsys) -> None:
    result = tmp_path / "evaluation.json"
    rc, out, err = cli(capsys, "evaluate", str(compiled), "--samples", "3", "--points", "ends", "--no-baselines",
                       "--world", str(faulty_world(tmp_path, 1.0)), "-o", str(result))
    assert rc == 1
    assert "runs failed, so nothing was written (first: point " in err and "rate_limit" in err
    assert not result.exists()


def test_evaluate_without_failures_still_exits_0(compiled, tmp_path, capsys) -> None:
    result = tmp_path / "evaluation.json"
    rc, out, err = cli(capsys, "evaluate", str(compiled), "--samples", "3", "--points", "ends", "--no-baselines",
                       "-o", str(result))
    assert rc == 0, err
    assert result.exists()


def test_compile_against_a_failing_world_exits_1_with_the_reason(tmp_path, capsys) -> None:
    rc, out, err = cli(capsys, "compile", str(EXAMPLES / "chain.yaml"), "-o", str(tmp_path / "out"),
                       "--samples", "8", "--max-samples", "0", "--no-validate",
                       "--cache", str(tmp_path / "c.sqlite"), "--world", str(faulty_world(tmp_path, 1.0)))
    assert rc == 1
    assert "profiling stopped" in err and "rate_limit" in err
    assert not (tmp_path / "out" / "chain.artifact.json").exists()
