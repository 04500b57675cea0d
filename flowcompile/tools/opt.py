"""`flowcompile-opt`: mlir-opt for the flow dialect, on xDSL's opt driver.

Reads flow IR, runs a pass pipeline (`-p` and the per-pass flags, in
command-line order), prints the result. Every failure is a diagnostic in
mlir-opt's form, `file:line:col: error: message`, with exit status 1.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, PassPipeline
from xdsl.utils.exceptions import ParseError
from xdsl.xdsl_opt_main import xDSLOptMain

from flowcompile.diagnostics import (
    Diagnostic,
    apply_located,
    from_parse_error,
    parse_located,
    verify_located,
)
from flowcompile.passes.registry import PipelineError, available_passes, parse_pipeline
from flowcompile.tools.common import guard_main, print_module, read_input, write_output
from flowcompile.tools.opt_cli import (  # noqa: F401 - pass_doc, pass_summary, pass_reference: re-exported
    DESCRIPTION,
    add_arguments,
    pass_doc,
    pass_reference,
    pass_summary,
)

SPLIT_MARKER = re.compile(r"^// -----", re.MULTILINE)


class FlowOptMain(xDSLOptMain):
    """xDSL's opt driver, restricted to builtin + flow and made diagnostic-clean."""

    version_format = "flowcompile-opt (xdsl {xdsl_version})"

    def __init__(self, args: Sequence[str] | None = None):
        super().__init__(DESCRIPTION, args)

    def register_all_dialects(self) -> None:
        # lazy: `flowcompile-opt --help` imports no xDSL (tests/test_startup.py)
        from xdsl.dialects.builtin import Builtin

        def flow():
            # lazy: `flowcompile-opt --help` imports no xDSL (tests/test_startup.py)
            from flowcompile.dialects.flow import Flow

            return Flow

        self.ctx.register_dialect("builtin", lambda: Builtin)
        self.ctx.register_dialect("flow", flow)

    def register_all_passes(self) -> None:
        for name, factory in available_passes().items():
            self.register_pass(name, factory)

    def register_all_targets(self) -> None:
        # lazy: `flowcompile-opt --help` imports no xDSL (tests/test_startup.py)
        from xdsl.targets.mlir import MLIRTarget

        self.available_targets["mlir"] = lambda: MLIRTarget

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser) -> None:
        add_arguments(arg_parser, self.available_passes)

    def setup_pipeline(self) -> None:
        spec = ",".join(item for item in (self.args.pipeline or []) if item)
        # Options are checked here, before any input is read.
        self.pipeline = PassPipeline(tuple(parse_pipeline(spec, self.available_passes)))

    # Running ----------------------------------------------------------------

    def run(self) -> int:  # pyright: ignore[reportIncompatibleMethodOverride]
        name, text = read_input(self.args.input_file)
        chunks = split_chunks(text) if self.args.split_input_file else [text]
        outputs: list[str] = []
        failed = False
        for chunk in chunks:
            result = self.process_chunk(chunk, name)
            if self.args.verify_diagnostics:
                problems = check_expected(chunk, name, result.diagnostics)
                failed |= bool(problems)
                report(problems)
            else:
                failed |= bool(result.diagnostics)
                report(result.diagnostics)
            if result.output is not None:
                outputs.append(result.output)
        write_output(self.args.output_file, "// -----\n".join(outputs))
        return 1 if failed else 0

    def process_chunk(self, text: str, name: str) -> ChunkResult:
        result = ChunkResult()
        if name.lower().endswith((".yaml", ".yml")):  # the commonest wrong file: a spec
            result.diagnostics.append(Diagnostic(
                f"this is a workflow spec; flowcompile-opt reads flow IR: lower it first with "
                f"`flowcompile-translate --import-yaml {name} -o {name.rsplit('.', 1)[0]}.mlir`",
                name, 1, 1,
            ))
            return result
        try:
            module = parse_located(self.ctx, text, name)
        except ParseError as e:
            result.diagnostics.append(from_parse_error(e))
            return result
        if (problem := verify_located(module)) is not None:
            result.diagnostics.append(problem)
            return result
        for pass_ in self.pipeline.passes:
            if (problem := self.apply_pass(pass_, module)) is not None:
                result.diagnostics.append(problem)
                return result
        result.output = self.print_module(module)
        return result

    def apply_pass(self, pass_: ModulePass, module: ModuleOp) -> Diagnostic | None:
        if (problem := apply_located(pass_, self.ctx, module)) is not None:
            return problem
        if self.args.print_ir_after_all:
            sys.stderr.write(f"// -----// IR Dump After {pass_.name} //----- //\n")
            sys.stderr.write(self.print_module(module))
        return None

    def print_module(self, module: ModuleOp) -> str:
        return print_module(
            module,
            generic=self.args.print_op_generic,
            debuginfo=self.args.print_debuginfo,
            properties_as_attributes=self.args.print_properties_as_attributes,
        )


@dataclass
class ChunkResult:
    output: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)


def split_chunks(text: str) -> list[str]:
    """Split at `// -----` lines; each chunk is padded with the newlines that
    precede it, so diagnostics keep the line numbers of the whole file."""
    chunks: list[str] = []
    lines_before = 0
    for piece in SPLIT_MARKER.split(text):
        chunks.append("\n" * lines_before + piece)
        lines_before += piece.count("\n")
    return chunks


EXPECTED = re.compile(
    r"expected-(?P<severity>error|warning|note|remark)"
    r"\s*(?:@(?P<offset>[+-]\d+|above|below))?\s*\{\{(?P<text>.*?)\}\}"
)


@dataclass(frozen=True)
class Expectation:
    severity: str
    line: int
    text: str
    annotation_line: int


def expectations(text: str) -> list[Expectation]:
    found: list[Expectation] = []
    for number, line in enumerate(text.split("\n"), start=1):
        for m in EXPECTED.finditer(line):
            offset = m.group("offset")
            delta = {None: 0, "above": -1, "below": 1}.get(offset)
            if delta is None:
                delta = int(offset)
            found.append(Expectation(m.group("severity"), number + delta, m.group("text"), number))
    return found


def check_expected(text: str, name: str, produced: list[Diagnostic]) -> list[Diagnostic]:
    """mlir-opt's -verify-diagnostics: the mismatches, as diagnostics."""
    problems: list[Diagnostic] = []
    remaining = list(produced)
    for want in expectations(text):
        match = next(
            (
                d
                for d in remaining
                if d.severity == want.severity
                and (d.line is None or d.line == want.line)
                and want.text in d.message
            ),
            None,
        )
        if match is None:
            problems.append(
                Diagnostic(
                    f'expected {want.severity} "{want.text}" was not produced'
                    + _nearest(want, remaining),
                    name,
                    want.annotation_line,
                    1,
                )
            )
        else:
            remaining.remove(match)
    for extra in remaining:
        problems.append(
            Diagnostic(f"unexpected {extra.severity}: {extra.message}", extra.file, extra.line, extra.col)
        )
    return problems


def _nearest(want: Expectation, produced: list[Diagnostic]) -> str:
    if not produced:
        return ""
    d = produced[0]
    where = f"line {d.line}" if d.line is not None else "no location"
    return f" (got at {where}: {d.message!r})"


def report(diagnostics: Sequence[Diagnostic], stream: IO[str] | None = None) -> None:
    stream = stream or sys.stderr
    for diagnostic in diagnostics:
        stream.write(f"{diagnostic}\n")


def run(args: Sequence[str] | None = None) -> int:
    try:
        tool = FlowOptMain(args)
    except PipelineError as e:  # unknown pass or option, bad value
        report([Diagnostic(f"invalid pass pipeline: {e}")])
        return 1
    return tool.run()


def main() -> None:
    sys.exit(guard_main("flowcompile-opt", lambda: run()))
