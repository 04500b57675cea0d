"""What the command-line tools share: input reading and the last-resort guard."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from flowcompile.irtext import print_module

__all__ = ["UserError", "guard_main", "print_module", "read_input", "user_errors_exit_1", "write_output"]


class UserError(Exception):
    """A problem with the user's input or environment, reported in one line."""


def read_input(path: str | None) -> tuple[str, str]:
    """(name for diagnostics, text) of a file, or of stdin for None or '-'."""
    if path is None or path == "-":
        return "<stdin>", sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as stream:
            return path, stream.read()
    except OSError as e:
        raise UserError(f"{path}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def user_errors_exit_1(parser: argparse.ArgumentParser, prog: str) -> argparse.ArgumentParser:
    """Make `parser`'s usage errors (an unknown flag, a missing argument) a
    UserError: one `prog: error: ...` line and status 1, as every other user
    error of the tools, where argparse prints its usage and exits 2."""

    def error(message: str) -> NoReturn:
        raise UserError(f"{message}\n('{prog} --help' lists the options)")

    parser.prog = prog
    parser.error = error  # pyright: ignore[reportAttributeAccessIssue]
    return parser


def guard_main(tool: str, body: Callable[[], int]) -> int:
    """Run a tool's body; user errors become one line, anything else a short
    internal-error report (the traceback only with FLOWCOMPILE_TRACEBACK=1)."""
    try:
        return body()
    except UserError as e:
        sys.stderr.write(f"{tool}: error: {e}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write(f"{tool}: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # noqa: BLE001 - the last resort: never a traceback
        if os.environ.get("FLOWCOMPILE_TRACEBACK"):
            raise
        sys.stderr.write(
            f"{tool}: internal error: {type(e).__name__}: {e}\n"
            f"(set FLOWCOMPILE_TRACEBACK=1 to see where; please report it)\n"
        )
        return 2


def write_output(path: str | None, text: str) -> None:
    """Write to a file, or to stdout for None or '-'."""
    if path is None or path == "-":
        sys.stdout.write(text)
        return
    try:
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(text)
    except OSError as e:
        raise UserError(f"{path}: {e.strerror or e}") from None
