"""The README walk: every command of the README's ```sh and ```bash blocks, and
every ```python block, runs as written, in the order written, in a fresh folder
holding only a copy of examples/, with the installed tools on PATH (what
`source .venv/bin/activate` gives), and exits 0. A YAML block after a
`<!-- save as NAME -->` line is written to NAME first, as the prose asks.

Only fenced blocks are run; commands inline in the prose and in the tools
table name placeholder files (`wf.yaml`, `in.mlir`) and are illustrations.
Every YAML block loads and lowers, or is a marked fragment of an example
(tests/test_spec_doc.py); the saved ones are also compiled here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

SKIPPED = {
    # This test is part of `make test`: running it here would recurse.
    "make test",
    # Builds .venv from scratch (minutes of pip) and runs examples/demo.sh for
    # minutes; tests/test_demo_script.py checks the script instead.
    "make demo",
}
"""Commands the walk does not run, each for the reason above it."""


BLOCK = re.compile(r"^```(?P<kind>sh|bash|python|yaml)\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
SAVE_AS = re.compile(r"<!-- save as (?P<name>\S+) -->\n$")


def readme_steps(text: str) -> list[tuple[int, str, str]]:
    """(line, kind, text) in order: `sh` for each shell command (one per line, a
    trailing backslash joining the next), `python` for each python block, and
    `save NAME` for each YAML block to save."""
    steps: list[tuple[int, str, str]] = []
    for block in BLOCK.finditer(text):
        first = text.count("\n", 0, block.start()) + 2
        if block["kind"] == "python":
            steps.append((first, "python", block["body"]))
            continue
        if block["kind"] == "yaml":
            if saved := SAVE_AS.search(text[: block.start()]):
                steps.append((first, f"save {saved['name']}", block["body"]))
            continue
        pending, start = "", 0
        for offset, line in enumerate(block["body"].splitlines()):
            if not pending:
                start = first + offset
            pending += line
            if pending.endswith("\\"):
                pending = pending[:-1] + " "
                continue
            if pending.strip() and not pending.lstrip().startswith("#"):
                steps.append((start, "sh", pending.strip()))
            pending = ""
    return steps


def readme_commands(text: str) -> list[tuple[int, str]]:
    """(line, command) of every shell command, in order."""
    return [(line, command) for line, kind, command in readme_steps(text) if kind == "sh"]


def _command_word(command: str) -> str:
    """The command without its trailing `# comment`."""
    return command.split("  #", 1)[0].split(" # ", 1)[0].strip()


def test_the_commands_are_found_in_order() -> None:
    commands = [_command_word(c) for _, c in readme_commands(README.read_text(encoding="utf-8"))]
    assert commands[:2] == ["make demo", "make test"]
    assert commands.index("flowcompile compile examples/chain.yaml") < next(
        i for i, c in enumerate(commands) if c.startswith("flowcompile evaluate")
    )
    assert SKIPPED <= set(commands), "every skipped command is still in the README"


def test_a_block_parser_sees_continuations_and_skips_comments() -> None:
    text = ("```sh\n# a comment\nfoo --a \\\n  --b   # why\n```\n```mlir\nnot run\n```\n```bash\nbar\n```\n"
            "<!-- save as w.yaml -->\n```yaml\nworkflow: w\n```\n```yaml\nnot saved\n```\n```python\nprint(1)\n```\n")
    assert readme_steps(text) == [
        (3, "sh", "foo --a    --b   # why"), (10, "sh", "bar"), (14, "save w.yaml", "workflow: w\n"),
        (20, "python", "print(1)\n"),
    ]


@pytest.fixture(scope="module")
def walked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[int, str, subprocess.CompletedProcess[str]]]]:
    folder = tmp_path_factory.mktemp("readme-walk")
    shutil.copytree(ROOT / "examples", folder / "examples")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWCOMPILE_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    runs = []
    for line, kind, body in readme_steps(README.read_text(encoding="utf-8")):
        if kind.startswith("save "):
            (folder / kind.removeprefix("save ")).write_text(body, encoding="utf-8")
            continue
        if kind == "sh" and _command_word(body) in SKIPPED:
            continue
        argv = ["bash", "-c", body] if kind == "sh" else [sys.executable, "-c", body]
        done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True, timeout=900)
        runs.append((line, body, done))
        if done.returncode != 0:
            break  # later commands read what this one should have written
    return folder, runs


def test_every_readme_command_runs_as_written(walked) -> None:
    folder, runs = walked
    assert len(runs) >= 8, [c for _, c, _ in runs]
    for line, command, done in runs:
        assert done.returncode == 0, f"README.md:{line}: `{command}` exited {done.returncode}:\n{done.stderr}"
        assert "Traceback" not in done.stderr, f"README.md:{line}: {done.stderr}"


def test_the_files_the_readme_names_are_written(walked) -> None:
    folder, _ = walked
    for name in ("chain.mlir", "chain.profiled.mlir", "chain.compiled.mlir", "chain.artifact.json",
                 "chain.report.md", "chain.pareto.png"):
        assert (folder / "out" / "chain" / name).is_file(), name
    assert (folder / "eval.json").is_file() and (folder / "chain.mlir").is_file()
    assert (folder / "out" / "qa" / "qa.artifact.json").is_file(), "the saved spec compiled"


def test_the_python_blocks_run(walked) -> None:
    _, runs = walked
    python = [(line, done) for line, body, done in runs if "from flowcompile import api" in body]
    assert python, "the README's Python API block ran"
    assert all(done.returncode == 0 for _, done in python)


def test_report_redraws_the_plot_compile_wrote(walked) -> None:
    """Issue 13, point 2: `evaluate -o` then `report --evaluation` work as written,
    and the report's plot is compile's `chain.pareto.png`, not a second file."""
    folder, runs = walked
    (report,) = [done for _, body, done in runs if body.startswith("flowcompile report ")]
    assert "wrote out/chain/chain.pareto.png" in report.stderr, report.stderr
    assert not list((folder / "out" / "chain").glob("*.compiled.png"))


def test_the_readme_says_how_the_commands_get_on_path() -> None:
    """Issue 13, point 1: before its first `flowcompile` command the README names
    the activate step; the walk's PATH is what that step gives."""
    text = README.read_text(encoding="utf-8")
    first = min(text.index(f"\n{word} ") for word in ("flowcompile", "flowcompile-opt", "flowcompile-translate"))
    assert "source .venv/bin/activate" in text[:first]
    assert (Path(sys.executable).parent / "activate").is_file()
    assert (Path(sys.executable).parent / "flowcompile").is_file()


def test_run_without_a_selector_says_which_point_it_ran(walked) -> None:
    """Issue 13, point 10: with no selector `run` takes the most accurate point
    (the README's rule) and names it, with its estimates, before answering."""
    folder, _ = walked
    compiled = folder / "out" / "chain" / "chain.compiled.mlir"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(["flowcompile", "run", str(compiled), "--query", "What is 17 * 23?"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    from flowcompile import api

    points = api.load_ir(compiled).points
    best = max(points, key=lambda p: (p.acc, -p.lat))
    assert done.stderr.startswith(f"point {best.index}: est. acc {best.acc:.3f}"), done.stderr
