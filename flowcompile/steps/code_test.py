"""`code_test`: run a candidate Python program against tests, as a verdict.

The candidate (its last input; the first ```python fence when there is one)
and then the tests (`params.tests`, Python asserts) run in a fresh
interpreter (`-I -S`: no user site, no environment variables read), in an
empty temporary directory, with a minimal environment that holds no API key,
under a wall-clock limit (`timeout_s`, default 5) and a cap on the output it
may write. A preamble replaces `socket.socket` with a function that raises.
This is a guard against accidents, not a sandbox: the program runs with the
user's rights and can undo the preamble; run untrusted code in a container.

The verdict is free text as `backends.reader.TEXT_READER` reads verdicts (and
so every reader that falls back to it on untagged text): `approve` when the
program and every test ran, else `reject: <the first failure>`, so a
`flow.until` can end a repair loop on it.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from flowcompile.backends.reader import TEXT_READER
from flowcompile.steps import Params, ToolResult, unknown_params

DEFAULT_TIMEOUT_S = 5.0
MAX_OUTPUT_BYTES = 64 * 1024
"""What the program may write (its stdout and stderr are files: a longer write fails it)."""
MAX_FAILURE_CHARS = 200
"""The longest failure a verdict quotes."""

PARAMS = ("tests", "timeout_s")
APPROVE = "approve"

_FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)

PREAMBLE = f"""\
import resource as _resource, socket as _socket
_resource.setrlimit(_resource.RLIMIT_FSIZE, ({MAX_OUTPUT_BYTES}, {MAX_OUTPUT_BYTES}))
class _NoNetwork(_socket.socket):
    def __init__(self, *args, **kwargs):
        raise OSError("code_test: network access is disabled")
def _no_connection(*args, **kwargs):
    raise OSError("code_test: network access is disabled")
_socket.socket = _NoNetwork
_socket.create_connection = _no_connection
del _resource, _socket
"""
"""Runs before the candidate: the output cap and the network guard."""

ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
"""The program's whole environment: no key, token or proxy of the caller's."""


def program_text(candidate: str) -> str:
    """The candidate's code: its first fenced block when it has one, else all of it."""
    fenced = _FENCE.search(candidate)
    return fenced.group(1) if fenced else candidate


class CodeTest:
    """`params: {tests: "<python asserts>", timeout_s: 5}`; the last input is the program."""

    name = "code_test"

    def check(self, params: Params) -> list[str]:
        problems = unknown_params(params, PARAMS, self.name)
        tests = params.get("tests")
        if not isinstance(tests, str) or not tests.strip():
            problems.append(f"tool {self.name}: tests must be a non-empty string of Python asserts")
        else:
            try:
                compile(tests, "tests", "exec")
            except SyntaxError as e:
                problems.append(f"tool {self.name}: tests are not Python: {e.msg} (line {e.lineno})")
        timeout = params.get("timeout_s", DEFAULT_TIMEOUT_S)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 600:
            problems.append(f"tool {self.name}: timeout_s must be a number of seconds in (0, 600]")
        return problems

    def run(self, inputs: Sequence[str], params: Params) -> ToolResult:
        if problems := self.check(params):
            return ToolResult("", ok=False, error=problems[0])
        code = program_text(inputs[-1] if inputs else "")
        tests = str(params["tests"])
        timeout = float(params.get("timeout_s", DEFAULT_TIMEOUT_S))  # pyright: ignore[reportArgumentType]
        with tempfile.TemporaryDirectory(prefix="flowcompile-code-test-") as tmp:
            work = Path(tmp)
            program = work / "candidate.py"
            program.write_text(f"{PREAMBLE}\n{code}\n\n# tests\n{tests}\n", encoding="utf-8")
            out = work / "output.txt"
            try:
                with out.open("wb") as sink:
                    done = subprocess.run(
                        [sys.executable, "-I", "-S", program.name],
                        cwd=work, env=ENV, stdin=subprocess.DEVNULL, stdout=sink, stderr=sink,
                        timeout=timeout, check=False,
                    )
            except subprocess.TimeoutExpired:
                return ToolResult(f"reject: timed out after {timeout:g} s")
            except OSError as e:
                return ToolResult("", ok=False, error=f"tool {self.name}: cannot start Python: {e}")
            if done.returncode == 0:
                return ToolResult(APPROVE)
            if out.stat().st_size >= MAX_OUTPUT_BYTES:  # Python ignores SIGXFSZ: its write failed
                return ToolResult(f"reject: the program wrote more than {MAX_OUTPUT_BYTES} bytes")
            text = out.read_bytes().decode("utf-8", "replace")
            return ToolResult(verdict(failure_line(text, done.returncode)))


def failure_line(output: str, returncode: int) -> str:
    """The first failure of a run: its exception line, and the line of the
    program it was raised at (`assert f(2) == 4: AssertionError`)."""
    lines = [line for line in output.splitlines() if line.strip()]
    if not lines:
        return f"exit status {returncode}" if returncode > 0 else f"killed by signal {-returncode}"
    error = lines[-1].strip()
    located = [i for i, line in enumerate(lines) if 'candidate.py", line' in line]
    if located and located[-1] + 1 < len(lines) - 1:
        return f"{lines[located[-1] + 1].strip()}: {error}"
    return error


def verdict(failure: str) -> str:
    """`reject: <failure>`, the failure dropped if it would read as approval."""
    text = f"reject: {' '.join(failure.split())[:MAX_FAILURE_CHARS]}"
    return text if not TEXT_READER.is_approval(text) else "reject"
