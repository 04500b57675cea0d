"""Every user error of every tool is status 1 with one `error:` line, usage
errors included (argparse and click exit 2 on their own); `--help` is 0."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from flowcompile.tools.cli import cli

SCRIPTS = {
    "flowcompile-opt": "flowcompile.tools.opt_cli",  # the console script's module (pyproject.toml)
    "flowcompile-translate": "flowcompile.tools.translate",
    "flowcompile": "flowcompile.tools.cli",
}

USAGE_ERRORS = [
    ("flowcompile-opt", ["--bogus"], "flowcompile-opt: error: unrecognized arguments: --bogus"),
    ("flowcompile-opt", ["a.mlir", "b.mlir"], "flowcompile-opt: error: unrecognized arguments: b.mlir"),
    ("flowcompile-opt", ["-p"], "flowcompile-opt: error: argument -p/--passes: expected one argument"),
    ("flowcompile-opt", ["missing.mlir"], "flowcompile-opt: error: missing.mlir: No such file or directory"),
    ("flowcompile-translate", [], "flowcompile-translate: error: one of the arguments --import-yaml --export-json"),
    ("flowcompile-translate", ["--import-yaml", "--bogus"], "flowcompile-translate: error: unrecognized arguments"),
    ("flowcompile-translate", ["--import-yaml", "--export-json"],
     "flowcompile-translate: error: argument --export-json: not allowed with argument --import-yaml"),
    ("flowcompile-translate", ["--import-yaml", "missing.yaml"], "flowcompile-translate: error: missing.yaml: No such file"),
    ("flowcompile", ["--bogus"], "error: no such option '--bogus'"),
    ("flowcompile", ["compile", "missing.yaml"], "error: invalid value for 'SPEC': File 'missing.yaml' does not exist"),
    ("flowcompile", ["run"], "error: missing argument 'COMPILED'"),
    ("flowcompile", ["nonsense"], "error: no such command 'nonsense'"),
]


@pytest.mark.parametrize("tool, args, expected", USAGE_ERRORS, ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_a_usage_error_is_status_1_with_one_error_line(tool: str, args: list[str], expected: str, tmp_path) -> None:
    """Through the console script's main(), in a fresh interpreter, as a user runs it."""
    out = subprocess.run(
        [sys.executable, "-c", f"from {SCRIPTS[tool]} import main; main()", *args],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert out.returncode == 1, out.stderr
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert lines[0].startswith(expected), out.stderr
    assert sum("error:" in line for line in lines) == 1, out.stderr
    assert "Traceback" not in out.stderr
    if "No such file" not in expected:  # a usage error says where the options are listed
        assert "--help" in out.stderr, out.stderr


@pytest.mark.parametrize("tool", SCRIPTS)
def test_help_is_status_0(tool: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", f"from {SCRIPTS[tool]} import main; main()", "--help"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0 and "usage" in out.stdout.lower() and out.stderr == ""


@pytest.mark.parametrize("args", [["--bogus"], ["compile", "missing.yaml"], ["select"]])
def test_click_standalone_mode_is_status_1_too(args: list[str]) -> None:
    """`CliRunner` and a plain `cli()` call run click's standalone mode, which exits 2 on usage errors."""
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: ") and "Usage:" not in result.stderr
    assert CliRunner().invoke(cli, ["--help"]).exit_code == 0
