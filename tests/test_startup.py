"""`flowcompile-opt --help` and `--version` are answered by flowcompile/tools/opt_cli.py
without importing xDSL (issue 13: start no slower than `xdsl-opt --help`), and
say exactly what the xDSL driver's own parser says; every other run reaches the driver."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flowcompile.tools import opt_cli
from flowcompile.tools.opt import run

SCRIPT = Path(sys.executable).parent / "flowcompile-opt"
ENV = {**os.environ, "COLUMNS": "100"}  # argparse wraps to the terminal's width


def console(*args: str, stdin: str | None = None, importtime: bool = False) -> subprocess.CompletedProcess[str]:
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run([sys.executable, *flags, str(SCRIPT), *args], input=stdin, capture_output=True,
                          text=True, timeout=120, env=ENV)


def imported(stderr: str) -> set[str]:
    return {line.rsplit("|", 1)[-1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


def test_the_console_script_starts_in_the_light_module() -> None:
    assert shutil.which("flowcompile-opt", path=str(SCRIPT.parent)) == str(SCRIPT)
    assert "from flowcompile.tools.opt_cli import main" in SCRIPT.read_text()


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_no_xdsl(flag: str) -> None:
    out = console(flag, importtime=True)
    assert out.returncode == 0, out.stderr
    modules = imported(out.stderr)
    assert "flowcompile.tools.opt_cli" in modules  # the probe sees what was imported
    assert not {m for m in modules if m == "xdsl" or m.startswith("xdsl.")}
    assert "flowcompile.tools.opt" not in modules and "numpy" not in modules


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_the_light_answer_is_the_drivers(flag: str, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    with pytest.raises(SystemExit) as exit_:
        run([flag])  # the xDSL driver: FlowOptMain parses with its own ArgumentParser
    assert exit_.value.code == 0
    assert console(flag).stdout == capsys.readouterr().out


def test_help_lists_pass_options_as_typed() -> None:
    out = console("--help").stdout
    assert "dry-run=bool" in out and "max-samples=int" in out and "dry_run" not in out


@pytest.mark.parametrize("args, expected", [
    (["--help"], True), (["-p", "cse", "-h"], True), (["-v"], True),
    (["in.mlir"], False), (["--", "-h"], False), ([], False),
])
def test_early_exit(args: list[str], expected: bool) -> None:
    assert opt_cli.early_exit(args) is expected


def test_other_runs_reach_the_driver() -> None:
    out = console("-p", "cse", stdin="builtin.module {}\n")
    assert out.returncode == 0 and out.stdout == "builtin.module {\n}\n", out.stderr
    bad = console("-p", "-h")  # looks like help, is a usage error: the same one the driver gives
    assert bad.returncode == 1 and bad.stderr.startswith("flowcompile-opt: error: argument -p/--passes")
    assert bad.stdout == ""


def test_the_readme_quotes_the_measured_ratio() -> None:
    """The README's start-up ratio is bench/results/startup.json's (rerun the bench, then the README)."""
    import json
    import re

    root = Path(__file__).resolve().parent.parent
    measured = json.loads((root / "bench" / "results" / "startup.json").read_text())
    assert measured["ratio"] <= 1.0 and measured["heavy_imports"] == []  # issue 13's done-when
    quoted = re.search(r"(\d\.\d\d)x its median", (root / "README.md").read_text())
    assert quoted and float(quoted.group(1)) == round(measured["ratio"], 2)
