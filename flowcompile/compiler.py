"""The compiler as a library: read flow IR, run a pass pipeline, write IR.

The `flowcompile` commands use this instead of shelling out to
`flowcompile-opt`; failures become `CompileError`s carrying located
diagnostics, the same text the driver prints.
"""

from __future__ import annotations

from pathlib import Path

from xdsl.context import Context
from xdsl.dialects.builtin import Builtin, ModuleOp
from xdsl.utils.exceptions import ParseError

from flowcompile.diagnostics import (
    Diagnostic,
    apply_located,
    from_parse_error,
    parse_located,
    verify_located,
)
from flowcompile.dialects.flow import Flow, WorkflowOp
from flowcompile.passes.registry import PipelineError, parse_pipeline
from flowcompile.irtext import print_module
from flowcompile.frontend.load import SpecError, load_spec
from flowcompile.frontend.lower import lower_spec


class CompileError(Exception):
    """A located diagnostic from parsing, verifying or a pass."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


def context() -> Context:
    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(Flow)
    return ctx


def parse(text: str, name: str) -> ModuleOp:
    """Parse and verify flow IR."""
    try:
        module = parse_located(context(), text, name)
    except ParseError as e:
        raise CompileError(from_parse_error(e)) from None
    if (problem := verify_located(module)) is not None:
        raise CompileError(problem)
    return module


def load(path: str | Path) -> ModuleOp:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise CompileError(Diagnostic(f"{path}: {e.strerror or e}")) from None
    return parse(text, str(path))


def import_spec(path: str | Path) -> ModuleOp:
    """Lower a YAML workflow spec into verified flow IR."""
    try:
        spec, locator = load_spec(path)
        module = lower_spec(spec, locator, str(path))
    except SpecError as e:
        first = e.problems[0]  # the same location flowcompile-translate prints
        message = "\n".join(p.format(e.file) for p in e.problems).split(": error: ", 1)[1]
        raise CompileError(Diagnostic(message, e.file if first.line else None, first.line, first.col)) from None
    return module


def run_passes(module: ModuleOp, pipeline: str) -> ModuleOp:
    """Apply a pass pipeline (the `-p` syntax) in place, verifying after each pass."""
    try:
        passes = parse_pipeline(pipeline)
    except PipelineError as e:
        raise CompileError(Diagnostic(f"invalid pass pipeline: {e}")) from None
    ctx = context()
    for pass_ in passes:
        if (problem := apply_located(pass_, ctx, module)) is not None:
            raise CompileError(problem)
    return module


def write(module: ModuleOp, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(print_module(module), encoding="utf-8")
    return path


def the_workflow(module: ModuleOp) -> WorkflowOp:
    workflows = [op for op in module.ops if isinstance(op, WorkflowOp)]
    if len(workflows) != 1:
        raise CompileError(Diagnostic(f"expected one flow.workflow, found {len(workflows)}"))
    return workflows[0]
