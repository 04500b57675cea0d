"""flowcompile-opt in process: exit codes, diagnostics, chunks, -verify-diagnostics."""

from __future__ import annotations

import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from xdsl.context import Context
from xdsl.dialects import builtin
from xdsl.passes import ModulePass

from flowcompile.diagnostics import Diagnostic, FlowError
from flowcompile.dialects.flow import AgentOp
from flowcompile.tools import opt
from flowcompile.tools.opt import check_expected, expectations, run, split_chunks

GOOD = """\
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0]}
  flow.return %0
}
"""

DUPLICATE = """\
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.agent @a(%q) {role = "s", models = ["m", "m"], budgets = [0]}
  flow.return %0
}
"""


def write(tmp_path: Path, source: str, name: str = "in.mlir") -> str:
    path = tmp_path / name
    path.write_text(source)
    return str(path)


def run_opt(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# Exit codes and diagnostics ---------------------------------------------------


def test_valid_input_prints_the_module(tmp_path, capsys):
    code, out, err = run_opt(capsys, write(tmp_path, GOOD))
    assert (code, err) == (0, "")
    assert out.startswith("builtin.module {\n  flow.workflow @w(%q: !flow.msg) -> !flow.msg {")


def test_verifier_error_is_located_and_exits_1(tmp_path, capsys):
    path = write(tmp_path, DUPLICATE)
    code, out, err = run_opt(capsys, path)
    assert code == 1
    assert out == ""
    assert err == f"{path}:2:3: error: agent @a: models: duplicate choices\n"


def test_parse_error_is_located_with_source_and_caret(tmp_path, capsys):
    path = write(tmp_path, GOOD.replace("budgets = [0]}", "budgets = [0]"))
    code, _, err = run_opt(capsys, path)
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == f"{path}:3:3: error: '}}' expected"
    assert lines[1] == "  flow.return %0"
    assert lines[2] == "  ^^^^^^^^^^^"
    assert "Traceback" not in err


def test_undefined_value_is_reported_at_its_use(tmp_path, capsys):
    path = write(tmp_path, GOOD.replace("flow.return %0", "flow.return %9"))
    code, _, err = run_opt(capsys, path)
    assert code == 1
    assert err.startswith(f"{path}:3:15: error: use of undefined value %9\n")


def test_malformed_type_is_a_diagnostic_not_an_internal_error(tmp_path, capsys):
    path = write(tmp_path, GOOD.replace("(%q: !flow.msg)", "(%q: !flow.msg<3>)"))
    code, _, err = run_opt(capsys, path)
    assert code == 1
    assert err.startswith(f"{path}:1:")
    assert "internal error" not in err and "Traceback" not in err


def test_type_mismatch_names_the_reason(tmp_path, capsys):
    source = GOOD.replace(
        "  %0 = flow.agent @a(%q)",
        '  %x = "test.op"() : () -> i32\n  %0 = flow.agent @a(%x)',
    )
    path = write(tmp_path, source)
    code, _, err = run_opt(capsys, path, "--allow-unregistered-dialect")
    assert code == 1
    assert err.startswith(
        f"{path}:3:22: error: operand is used with type !flow.msg, but has been "
        "previously used or defined with type i32\n"
    )


def test_unregistered_op_needs_the_flag(tmp_path, capsys):
    path = write(tmp_path, '"test.op"() : () -> ()\n')
    assert run_opt(capsys, path)[0] == 1
    assert run_opt(capsys, path, "--allow-unregistered-dialect")[0] == 0


def test_stdin_is_named_stdin(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(DUPLICATE))
    code, _, err = run_opt(capsys)
    assert code == 1
    assert err.startswith("<stdin>:2:3: error:")


def test_missing_input_is_one_line(tmp_path, monkeypatch, capsys):
    missing = str(tmp_path / "nope.mlir")
    monkeypatch.setattr(sys, "argv", ["flowcompile-opt", missing])
    with pytest.raises(SystemExit) as exit_info:
        opt.main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err == f"flowcompile-opt: error: {missing}: No such file or directory\n"


@pytest.mark.parametrize(
    "pipeline", ["bogus", "strip-profiles,bogus", "strip-profiles{x=1}", "builtin.module(cse)"]
)
def test_invalid_pipeline(tmp_path, capsys, pipeline):
    code, out, err = run_opt(capsys, write(tmp_path, GOOD), "-p", pipeline)
    assert code == 1 and out == ""
    assert err.startswith("error: invalid pass pipeline: ")
    assert len(err.splitlines()) == 1


def test_output_file(tmp_path, capsys):
    target = tmp_path / "out.mlir"
    code, out, _ = run_opt(capsys, write(tmp_path, GOOD), "-o", str(target))
    assert (code, out) == (0, "")
    assert target.read_text().startswith("builtin.module {")


def test_pass_flag_and_pipeline_are_equivalent(tmp_path, capsys):
    path = write(tmp_path, GOOD.replace("budgets = [0]}", 'budgets = [0], probs = "x", profiles = {}}'))
    _, by_flag, _ = run_opt(capsys, path, "--strip-profiles")
    _, by_pipeline, _ = run_opt(capsys, path, "-p", "strip-profiles")
    assert by_flag == by_pipeline
    assert "profiles" not in by_flag and "probs" not in by_flag


def test_print_ir_after_all_goes_to_stderr_in_order(tmp_path, capsys):
    code, out, err = run_opt(
        capsys, write(tmp_path, GOOD), "--strip-profiles", "-p", "cse", "--print-ir-after-all"
    )
    assert code == 0
    dumps = re.findall(r"IR Dump After (\S+)", err)
    assert dumps == ["strip-profiles", "cse"]
    assert "IR Dump" not in out


# Passes that fail -------------------------------------------------------------


@dataclass(frozen=True)
class FailingPass(ModulePass):
    name = "fail-at-agent"

    def apply(self, ctx: Context, op: builtin.ModuleOp) -> None:
        agent = next(o for o in op.walk() if isinstance(o, AgentOp))
        raise FlowError(agent, "cannot profile this agent")


@dataclass(frozen=True)
class BreakingPass(ModulePass):
    name = "break-ir"

    def apply(self, ctx: Context, op: builtin.ModuleOp) -> None:
        agent = next(o for o in op.walk() if isinstance(o, AgentOp))
        agent.attributes["profiles"] = builtin.StringAttr("oops")


@pytest.fixture
def extra_passes(monkeypatch):
    passes = dict(opt.available_passes())
    passes.update({"fail-at-agent": lambda: FailingPass, "break-ir": lambda: BreakingPass})
    monkeypatch.setattr(opt, "available_passes", lambda: passes)


def test_pass_error_is_located_at_the_op(tmp_path, capsys, extra_passes):
    path = write(tmp_path, GOOD)
    code, out, err = run_opt(capsys, path, "-p", "fail-at-agent")
    assert (code, out) == (1, "")
    assert err == f"{path}:2:3: error: fail-at-agent: cannot profile this agent\n"


def test_ir_broken_by_a_pass_is_reported(tmp_path, capsys, extra_passes):
    path = write(tmp_path, GOOD)
    code, _, err = run_opt(capsys, path, "-p", "break-ir")
    assert code == 1
    assert err == (
        f"{path}:2:3: error: IR after break-ir does not verify: profiles must be a dictionary\n"
    )


# Split input ----------------------------------------------------------------


def test_split_chunks_keep_file_line_numbers():
    source = "a\n// -----\nb\nc\n// -----\nd\n"
    chunks = split_chunks(source)
    assert len(chunks) == 3
    for chunk, (line, word) in zip(chunks, [(1, "a"), (3, "b"), (6, "d")], strict=True):
        assert chunk.split("\n")[line - 1] == word


def test_split_errors_carry_the_file_line(tmp_path, capsys):
    source = GOOD + "\n// -----\n\n" + DUPLICATE + "// -----\n" + GOOD
    path = write(tmp_path, source)
    code, out, err = run_opt(capsys, path, "--split-input-file")
    assert code == 1
    duplicate_line = source.split("\n").index(DUPLICATE.split("\n")[1]) + 1
    assert err == f"{path}:{duplicate_line}:3: error: agent @a: models: duplicate choices\n"
    # The valid chunks are still printed, separated by the marker.
    assert out.count("builtin.module {") == 2
    assert "\n// -----\nbuiltin.module {" in out


def test_empty_and_comment_only_chunks_are_empty_modules(tmp_path, capsys):
    path = write(tmp_path, "// nothing here\n// -----\n" + GOOD + "// -----\n")
    code, out, err = run_opt(capsys, path, "--split-input-file")
    assert (code, err) == (0, "")
    chunks = out.split("// -----\n")
    assert chunks[0] == chunks[2] == "builtin.module {\n}\n"
    assert "flow.workflow @w" in chunks[1]


def test_without_split_the_marker_is_a_comment(tmp_path, capsys):
    path = write(tmp_path, GOOD + "// -----\n")
    code, out, _ = run_opt(capsys, path)
    assert code == 0 and "// -----" not in out


# --verify-diagnostics -------------------------------------------------------


def annotated(annotation: str) -> str:
    lines = DUPLICATE.split("\n")
    return "\n".join(lines[:1] + [f"  // {annotation}"] + lines[1:])


def test_verify_diagnostics_accepts_a_matching_annotation(tmp_path, capsys):
    path = write(tmp_path, annotated("expected-error @+1 {{duplicate choices}}"))
    code, _, err = run_opt(capsys, path, "--verify-diagnostics")
    assert (code, err) == (0, "")


def test_verify_diagnostics_fails_when_the_error_is_missing(tmp_path, capsys):
    source = annotated("expected-error @+1 {{duplicate choices}}").replace('"m", "m"', '"m"')
    path = write(tmp_path, source)
    code, _, err = run_opt(capsys, path, "--verify-diagnostics")
    assert code == 1
    assert err == f'{path}:2:1: error: expected error "duplicate choices" was not produced\n'


def test_verify_diagnostics_fails_on_an_unexpected_error(tmp_path, capsys):
    path = write(tmp_path, DUPLICATE)
    code, _, err = run_opt(capsys, path, "--verify-diagnostics")
    assert code == 1
    assert err == f"{path}:2:3: error: unexpected error: agent @a: models: duplicate choices\n"


def test_verify_diagnostics_fails_on_the_wrong_line(tmp_path, capsys):
    path = write(tmp_path, annotated("expected-error @+2 {{duplicate choices}}"))
    code, _, err = run_opt(capsys, path, "--verify-diagnostics")
    assert code == 1
    assert "was not produced (got at line 3:" in err
    assert "unexpected error" in err


def test_verify_diagnostics_fails_when_one_chunk_fails(tmp_path, capsys):
    good = annotated("expected-error @+1 {{duplicate choices}}")
    path = write(tmp_path, good + "\n// -----\n" + DUPLICATE)
    code, _, err = run_opt(capsys, path, "--verify-diagnostics", "--split-input-file")
    assert code == 1
    assert err == f"{path}:9:3: error: unexpected error: agent @a: models: duplicate choices\n"


def diag(line: int | None, message: str = "boom", severity: str = "error") -> Diagnostic:
    return Diagnostic(message, "f.mlir" if line else None, line, 1 if line else None, severity)


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("x // expected-error {{boom}}", 1),
        ("x\n// expected-error @-1 {{boom}}", 1),
        ("x\n// expected-error @above {{boom}}", 1),
        ("// expected-error @below {{boom}}\nx", 2),
        ("// expected-error @+2 {{boom}}\n\nx", 3),
        ("\n\n\n// expected-error@-3{{boom}}", 1),
    ],
)
def test_annotation_forms(source, line):
    (want,) = expectations(source)
    assert (want.severity, want.line, want.text) == ("error", line, "boom")
    assert check_expected(source, "f.mlir", [diag(line)]) == []
    assert len(check_expected(source, "f.mlir", [diag(line + 1)])) == 2


def test_check_expected_matches_text_as_substring_once():
    source = "// expected-error @+1 {{dup}}\nx"
    assert check_expected(source, "f.mlir", [diag(2, "a dup here")]) == []
    problems = check_expected(source, "f.mlir", [diag(2, "dup"), diag(2, "dup")])
    assert [p.message for p in problems] == ["unexpected error: dup"]
    problems = check_expected(source, "f.mlir", [diag(2, "other")])
    assert problems[0].message.startswith('expected error "dup" was not produced')
    assert (problems[0].file, problems[0].line) == ("f.mlir", 1)


def test_check_expected_severity_must_match():
    source = "// expected-warning @+1 {{boom}}\nx"
    problems = check_expected(source, "f.mlir", [diag(2)])
    assert {p.message.split(" ")[0] for p in problems} == {"expected", "unexpected"}


def test_check_expected_two_annotations_for_one_line():
    source = "x // expected-error {{a}} expected-error {{b}}"
    assert len(expectations(source)) == 2
    assert check_expected(source, "f.mlir", [diag(1, "a"), diag(1, "b")]) == []
    assert len(check_expected(source, "f.mlir", [diag(1, "a b")])) == 1


def test_check_expected_unlocated_diagnostic_matches_any_line():
    source = "// expected-error @+5 {{boom}}"
    assert check_expected(source, "f.mlir", [diag(None)]) == []


def test_no_annotations_no_diagnostics_is_success():
    assert check_expected("x\n", "f.mlir", []) == []
