"""`flowcompile.api` gives what the `flowcompile` commands give for the same
configuration (the artifact, the IR, the selected point, the evaluation), its
errors are the commands' diagnostics, and examples/api_example.py runs."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flowcompile import api
from flowcompile.artifact import dumps
from flowcompile.tools.cli import cli, run_cli

ROOT = Path(__file__).resolve().parent.parent
CHAIN = ROOT / "examples" / "chain.yaml"
SMALL = {"samples": 8, "max_samples": 0, "validation_samples": 16, "k": 5}
"""A quick configuration, validation included; the CLI spells it below."""
SMALL_FLAGS = ["--samples", "8", "--max-samples", "0", "--validation-samples", "16", "-k", "5"]


def cli_run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run_cli(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, api.Workflow]:
    """The chain compiled by `flowcompile compile` and by `api.compile`, each on a fresh cache."""
    folder = tmp_path_factory.mktemp("agree")
    code = run_cli(["compile", str(CHAIN), "-o", str(folder / "cli"), "--cache", str(folder / "cli.sqlite"),
                    *SMALL_FLAGS])
    assert code == 0
    compiled = api.compile(api.load_yaml(CHAIN), api.CompileOptions(cache=str(folder / "api.sqlite"), **SMALL))
    return folder / "cli", compiled


def test_compile_gives_the_cli_artifact_and_ir(both: tuple[Path, api.Workflow]) -> None:
    cli_folder, compiled = both
    assert dumps(compiled.artifact()) == (cli_folder / "chain.artifact.json").read_text(encoding="utf-8")
    assert compiled.ir() == (cli_folder / "chain.compiled.mlir").read_text(encoding="utf-8")
    assert len(compiled.points) >= 2 and compiled.compiled


def test_load_ir_reads_the_cli_output(both: tuple[Path, api.Workflow]) -> None:
    cli_folder, compiled = both
    loaded = api.load_ir(cli_folder / "chain.compiled.mlir")
    assert loaded.points == compiled.points and loaded.name == "chain"


def test_compile_options_have_the_commands_defaults() -> None:
    params = cli.commands["compile"].make_context("compile", [str(CHAIN)]).params  # what compile() receives
    for option in dataclasses.fields(api.CompileOptions):
        assert params[option.name] == option.default, option.name


def test_select_picks_the_point_run_picks(both: tuple[Path, api.Workflow], capsys) -> None:
    cli_folder, compiled = both
    lats = [p.lat for p in compiled.points]
    middle = (lats[0] + lats[-1]) / 2
    for flags, selector in (
        ([], {}),
        (["--max-latency", f"{middle}"], {"max_latency": middle}),
        (["--min-acc", f"{compiled.points[1].acc}"], {"min_acc": compiled.points[1].acc}),
        (["--weight", "0.3"], {"weight": 0.3}),
    ):
        code, _, err = cli_run(capsys, "run", str(cli_folder / "chain.compiled.mlir"), "--samples", "1", *flags)
        assert code == 0, err
        shown = int(re.search(r"^point (\d+):", err, re.MULTILINE).group(1))
        assert api.select(compiled, **selector).index == shown, flags
    assert api.select(compiled).index == max(range(len(lats)), key=lambda i: compiled.points[i].acc)


def test_select_agrees_with_the_select_command(both: tuple[Path, api.Workflow], capsys) -> None:
    cli_folder, compiled = both
    acc = compiled.points[-2].acc
    code, out, err = cli_run(capsys, "select", str(cli_folder / "chain.artifact.json"), "--min-acc", f"{acc}")
    assert code == 0, err
    assert json.loads(out)["index"] == api.select(compiled, min_acc=acc).index


def test_evaluate_gives_the_cli_evaluation(both: tuple[Path, api.Workflow], tmp_path: Path, capsys) -> None:
    cli_folder, compiled = both
    written = tmp_path / "eval.json"
    code, _, err = cli_run(capsys, "evaluate", str(cli_folder / "chain.compiled.mlir"), "--points", "ends",
                           "--samples", "6", "-o", str(written))
    assert code == 0, err
    seen: list[tuple[int, int]] = []
    evaluation = api.evaluate(compiled, which="ends", samples=6, progress=lambda d, t: seen.append((d, t)))
    assert evaluation.to_json() == json.loads(written.read_text(encoding="utf-8"))
    assert seen[-1] == (4 * 6, 4 * 6) and len(seen) == 4 * 6  # 2 points and 2 baselines, 6 queries each


def test_run_answers_each_query(both: tuple[Path, api.Workflow]) -> None:
    _, compiled = both
    results = api.run(compiled, compiled.points[0], ["first?", "second?"])
    assert [r.query_id for r in results] == ["q0", "q1"] and all(r.ok and r.output for r in results)
    with pytest.raises(api.FlowCompileError, match="no point 99"):
        api.run(compiled, 99, "q?")


def test_compile_leaves_its_input_as_it_was(both: tuple[Path, api.Workflow]) -> None:
    workflow = api.load_yaml(CHAIN)
    before = workflow.ir()
    api.compile(workflow, api.CompileOptions(cache="none", samples=2, max_samples=0, validate=False,
                                             recovery=False))
    assert workflow.ir() == before and not workflow.compiled


def test_errors_are_the_commands_diagnostics(tmp_path: Path) -> None:
    from flowcompile.tools.translate import import_yaml

    spec = "workflow: w\nmodels: [a, b]\nagents: {}\nsteps: []\n"
    with pytest.raises(api.FlowCompileError) as bad_yaml:
        api.parse_yaml(spec, "w.yaml")
    assert str(bad_yaml.value) == import_yaml(spec, "w.yaml")[1]  # what flowcompile-translate prints
    assert str(bad_yaml.value).startswith("w.yaml:2:1: error: models: expected a mapping")
    with pytest.raises(api.FlowCompileError) as bad_ir:
        api.parse_ir("flow.workflow @w() {\n  %x = flow.bogus\n}\n", "w.mlir")
    assert re.match(r"w\.mlir:\d+:\d+: error: Operation flow.bogus is not registered", str(bad_ir.value))
    uncompiled = api.load_yaml(CHAIN)
    with pytest.raises(api.FlowCompileError, match=r"^.*chain\.yaml: error: no flow.config_set for @chain"):
        api.select(uncompiled)
    with pytest.raises(api.FlowCompileError, match="cannot|No such file"):
        api.load_yaml(tmp_path / "missing.yaml")


def test_an_unknown_sim_model_stops_compile_at_its_line() -> None:
    text = CHAIN.read_text(encoding="utf-8").replace("qwen3-8b:", "big:", 1).replace("qwen3-8b,", "big,")
    assert "big:" in text
    workflow = api.parse_yaml(text, "chain.yaml")
    with pytest.raises(api.FlowCompileError, match=r"^chain\.yaml:\d+:\d+: error: models\.big: 'big' is not a model"):
        api.compile(workflow, api.CompileOptions(cache="none"))


def test_selection_that_nothing_meets_is_an_error(both: tuple[Path, api.Workflow]) -> None:
    _, compiled = both
    with pytest.raises(api.FlowCompileError, match="^error: no point meets the request"):
        api.select(compiled, max_latency=0.0, min_acc=1.0)


def test_the_example_runs(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "api_example.py"), "--quick", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    assert re.search(r"^== @qa: 2 agents", out.stdout, re.MULTILINE), out.stdout
    assert re.search(r"^== @chain: \d+ Pareto-optimal configurations", out.stdout, re.MULTILINE)
    assert re.search(r"^  all-strongest +acc [\d.]+ -> [\d.]+", out.stdout, re.MULTILINE), out.stdout
    assert (tmp_path / "out" / "chain" / "chain.compiled.mlir").is_file()


def test_compile_passes_its_call_options_to_profiling_and_validation(capsys) -> None:
    options = api.CompileOptions(timeout=5.0, retries=2)
    assert "timeout=5.0" in options.profile_pipeline() and "retries=2" in options.profile_pipeline()
    validate = options.search_pipeline().split("validate{", 1)[1].split("}", 1)[0]
    assert "timeout=5.0" in validate and "retries=2" in validate
    # the defaults leave the pipelines as they were
    assert "timeout" not in api.CompileOptions().profile_pipeline() + api.CompileOptions().search_pipeline()
    code, _, err = cli_run(capsys, "compile", str(CHAIN), "--retries", "0")
    assert code == 1 and "retries" in err
