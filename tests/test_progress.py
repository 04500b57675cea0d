"""`compile` and `evaluate` show progress on stderr (a bar on a terminal, a few
lines otherwise) and leave stdout to their results."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest

from flowcompile.tools.cli import run_cli
from flowcompile.tools.progress import Bar, Stages

ROOT = Path(__file__).resolve().parent.parent


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    out = tmp_path_factory.mktemp("progress")
    capture = pytest.MonkeyPatch()
    stdout, stderr = io.StringIO(), io.StringIO()
    capture.setattr("sys.stdout", stdout)
    capture.setattr("sys.stderr", stderr)
    try:
        code = run_cli(["compile", str(ROOT / "examples" / "chain.yaml"), "-o", str(out), "--samples", "4",
                        "--max-samples", "0", "--validation-samples", "8", "-k", "3", "--cache", str(out / "c.sqlite")])
    finally:
        capture.undo()
    assert code == 0, stderr.getvalue()
    return out / "chain.compiled.mlir", stdout.getvalue(), stderr.getvalue()


def test_compile_names_each_long_step_on_stderr(compiled: tuple[Path, str, str]) -> None:
    _, stdout, stderr = compiled
    lines = stderr.splitlines()
    profiling = lines.index("compile @chain: profiling every agent's candidates (sim backend)")
    search = lines.index("compile @chain: composing, searching the frontier, validating its candidates end to end")
    assert profiling < search < next(i for i, line in enumerate(lines) if line.startswith("wrote "))
    assert stdout.startswith("| # | est. acc") and "compile @chain" not in stdout


def test_evaluate_counts_its_runs_on_stderr_only(compiled: tuple[Path, str, str], capsys) -> None:
    path, _, _ = compiled
    assert run_cli(["evaluate", str(path), "--points", "ends", "--samples", "5"]) == 0
    out, err = capsys.readouterr()
    counts = [(int(d), int(t)) for d, t in re.findall(r"^evaluate @chain: (\d+)/(\d+) runs$", err, re.MULTILINE)]
    assert counts and counts[-1] == (20, 20), err  # 2 points + 2 baselines, 5 queries each
    assert len(counts) <= 5, "a line per quarter, not per run"
    assert "@chain: " not in out and out.startswith("Evaluation of @chain on 5 held-out queries")


def test_the_bar_draws_on_the_terminal_never_on_stdout(capsys) -> None:
    terminal = Terminal()
    with Bar("evaluate @w", stream=terminal) as bar:
        for done in range(1, 11):
            bar.update(done, 10)
    assert "evaluate @w" in terminal.getvalue()
    assert capsys.readouterr().out == ""


def test_without_a_terminal_the_bar_writes_quarter_lines() -> None:
    log = io.StringIO()
    with Bar("evaluate @w", stream=log) as bar:
        for done in range(1, 101):
            bar.update(done, 100)
    assert log.getvalue().splitlines() == [f"evaluate @w: {d}/100 runs" for d in (1, 25, 50, 75, 100)]


def test_a_long_step_says_it_is_still_running() -> None:
    log = io.StringIO()
    with Stages("compile @w", stream=log, interval=0.01) as stages:
        stages.start("validating")
        deadline = time.monotonic() + 30
        while "still running" not in log.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
    lines = log.getvalue().splitlines()
    assert lines[0] == "compile @w: validating"
    assert re.fullmatch(r"compile @w: validating \(still running, 0m\d\ds\)", lines[1])
