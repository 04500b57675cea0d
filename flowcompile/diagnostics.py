"""Diagnostics in mlir-opt's form: `file:line:col: error: message`.

xDSL reports verifier failures without a location and lets parse errors escape
as tracebacks. The tools instead stamp every parsed op with its source location
(`LocatingParser`), verify op by op innermost first, and turn every failure
into a `Diagnostic` that names the location.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import FileLineColLoc, IntAttr, ModuleOp, StringAttr
from xdsl.ir import AttributeInvT, Operation, SSAValue
from xdsl.parser import Parser, UnresolvedOperand
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import DiagnosticException, ParseError, VerifyException
from xdsl.utils.lexer import Span
from xdsl.utils.mlir_lexer import MLIRLexer, MLIRTokenKind
from flowcompile.nesting import check_nesting
from flowcompile.passes.registry import check_options

# xDSL 0.74 lexes a string literal with `"(?:[^"...]+|\\...)*"`: on a string
# with no closing quote (one missing `"` in a long prompt) the nested repeat
# tries every split of the characters before the line's end, twice the time
# per character (22 characters: 0.8 s; a prompt of 60 never ends). One
# character per repeat matches the same strings and fails in linear time.
MLIRLexer._unescaped_characters_regex = re.compile(  # pyright: ignore[reportPrivateUsage]
    r'"(?:[^"\\\n\v\f]|\\(?:["nt\\]|[0-9A-Fa-f]{2}))*"'
)


@dataclass(frozen=True)
class Diagnostic:
    """One error, warning or note, located in a source file when known."""

    message: str
    file: str | None = None
    line: int | None = None
    col: int | None = None
    severity: str = "error"
    context: str = ""
    """Source lines with a caret under the culprit, printed after the message."""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}: " if self.file else ""
        text = f"{where}{self.severity}: {self.message}"
        return text + ("\n" + self.context if self.context else "")


class FlowError(DiagnosticException):
    """An error about one op, raised by a pass; reported at the op's location."""

    def __init__(self, op: Operation, message: str):
        super().__init__(message)
        self.op = op
        self.message = message


def location_of(op: Operation | None) -> FileLineColLoc | None:
    """The source location of `op`, or of its closest located ancestor (for
    the implicit module around a file's ops, the location of its first op)."""
    target = op
    while op is not None:
        if isinstance(op.location, FileLineColLoc):
            return op.location
        op = op.parent_op()
    if isinstance(target, ModuleOp) and target.ops.first is not None:
        return location_of(target.ops.first)
    return None


def at_op(op: Operation | None, message: str) -> Diagnostic:
    loc = location_of(op)
    if loc is None:
        return Diagnostic(message)
    return Diagnostic(
        message, loc.filename.data, loc.line.data, loc.column.data
    )


def from_parse_error(error: ParseError) -> Diagnostic:
    location = error.span.get_location()
    context = error.span.print_with_context().split("\n", 1)[1].rstrip("\n")
    message = error.msg.strip().splitlines()[0] if error.msg.strip() else "parse error"
    # xDSL 0.74's lexer leaves this placeholder unformatted; it means the culprit's first character.
    message = message.replace("{first_char}", f"'{error.span.text[:1]}'")
    if message == "End of file reached before closing string literal.":  # it stops at the line's end
        message = "unterminated string: no closing '\"' on this line (a string may not span lines; write \\n)"
    return Diagnostic(message, location.file, location.line, location.col, context=context)


class LocatingParser(Parser):
    """A parser that records each op's `file:line:col` as its location."""

    def __init__(self, ctx: Context, input: str, name: str = "<unknown>") -> None:
        super().__init__(ctx, input, name)
        self.first_uses: dict[str, Span] = {}
        """Where each value was first used, to report one that is never defined."""

    def resolve_operand(
        self, operand: UnresolvedOperand, type: AttributeInvT
    ) -> SSAValue[AttributeInvT]:
        if operand.operand_name not in self.ssa_values:
            self.first_uses.setdefault(operand.operand_name, operand.span)
        return super().resolve_operand(operand, type)

    def parse_module(self, allow_implicit_module: bool = True) -> ModuleOp:
        if self._current_token.kind == MLIRTokenKind.EOF:
            return ModuleOp([])  # blank or comments only: an empty module, as in mlir-opt
        try:
            return super().parse_module(allow_implicit_module)
        except ParseError as e:
            undefined = next(iter(self.forward_ssa_references), None)
            if undefined is None or not e.msg.startswith("values used but not defined"):
                raise
            raise ParseError(
                self.first_uses[undefined], f"use of undefined value %{undefined}"
            ) from None

    def parse_operation(self) -> Operation:
        start = self._current_token.span
        try:
            op = super().parse_operation()
        except VerifyException as e:  # a constraint a declarative format checks while parsing
            raise ParseError(start, _first_line(e)) from None
        if not isinstance(op.location, FileLineColLoc):
            where = start.get_location()
            op.location = FileLineColLoc(
                StringAttr(where.file), IntAttr(where.line), IntAttr(where.col)
            )
        return op


def parse_located(ctx: Context, text: str, name: str) -> ModuleOp:
    """Parse a module, every op located; attribute verifier failures (and the
    ValueErrors xDSL raises for malformed attributes) become parse errors at
    the position where parsing stopped."""
    check_nesting(text, name)  # deep valid IR: a located error, never a RecursionError
    parser = LocatingParser(ctx, text, name)
    try:
        return parser.parse_module()
    except (VerifyException, ValueError) as e:
        span = parser._current_token.span  # pyright: ignore[reportPrivateUsage]
        raise ParseError(span, _first_line(e)) from None


def verify_located(module: ModuleOp) -> Diagnostic | None:
    """Verify innermost ops first; the first failure, at its op's location."""
    for op in module.walk(region_first=True):
        try:
            op.verify(verify_nested_ops=False)
        except VerifyException as e:
            return at_op(op, _first_line(e))
    return None


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    if not lines:
        return type(error).__name__
    if lines[0].endswith(":") and len(lines) > 1:  # IRDL: "operand ... does not verify:"
        return f"{lines[0]} {lines[1].strip()}"
    return lines[0]


def apply_located(pass_: ModulePass, ctx: Context, module: ModuleOp) -> Diagnostic | None:
    """Check the pass's options, apply it, then verify; a failure becomes a
    diagnostic located at the op it concerns (a pass raises FlowError for that)."""
    # lazy: `flowcompile-opt --help` imports no numpy (tests/test_pass_docs.py)
    from flowcompile.proxy.frontier import FrontierLimitError

    try:
        check_options(pass_)
        pass_.apply(ctx, module)
    except FlowError as e:
        return at_op(e.op, f"{pass_.name}: {e.message}")
    except (DiagnosticException, VerifyException) as e:
        return Diagnostic(f"{pass_.name}: {_first_line(e)}")
    except ValueError as e:  # our own option and input errors: every line counts
        return Diagnostic(f"{pass_.name}: {str(e).strip()}")
    except FrontierLimitError as e:  # a search over the `limit` the user set
        return at_op(module, f"{pass_.name}: {_first_line(e)}; raise it with {pass_.name}{{limit=N}}")
    if (problem := verify_located(module)) is not None:
        return Diagnostic(
            f"IR after {pass_.name} does not verify: {problem.message}",
            problem.file,
            problem.line,
            problem.col,
        )
    return None
