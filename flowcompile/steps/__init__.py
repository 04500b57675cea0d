"""Tool steps: deterministic, non-LLM steps a workflow calls like an agent.

A tool is any object with a `name`, a `check(params)` that lists what is wrong
with its params, and a `run(inputs, params)` returning a `ToolResult`. The
built-ins are tabled here; other packages register theirs under the
`flowcompile.tools` entry-point group (`name = "package.module:ToolClass"`,
a class taking no arguments or an instance), as passes register under
`flowcompile.passes`. Tools know strings and params, never the IR.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Protocol, runtime_checkable

ENTRY_POINT_GROUP = "flowcompile.tools"

BUILTIN_TOOLS: dict[str, str] = {
    "extract_answer": "flowcompile.steps.extract_answer:ExtractAnswer",
    "code_test": "flowcompile.steps.code_test:CodeTest",
}
"""The tools shipped with FlowCompile, by name."""

Params = Mapping[str, object]


@dataclass(frozen=True)
class ToolResult:
    """What one tool call produced: a text, or (ok False) why it could not run.

    A verdict or answer the tool reaches is `ok`, however bad it is (a failing
    test rejects); `ok` False is a broken call, which fails the run."""

    text: str
    ok: bool = True
    error: str | None = None


@runtime_checkable
class Tool(Protocol):
    """A tool step, called with its inputs' texts in order and its params."""

    name: str

    def check(self, params: Params) -> list[str]:
        """What is wrong with `params` (one line each); empty when they do."""
        ...

    def run(self, inputs: Sequence[str], params: Params) -> ToolResult: ...


class UnknownToolError(ValueError):
    """A tool name that no built-in and no installed package registers."""


def _load(target: str) -> object:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _instance(found: object, name: str) -> Tool:
    tool = found() if isinstance(found, type) else found
    if not isinstance(tool, Tool):
        raise UnknownToolError(f"tool '{name}' is registered, but {found!r} has no name, check and run")
    return tool


@functools.cache
def registered_tools() -> dict[str, Tool]:
    """Every tool by name: the built-ins, then the `flowcompile.tools` entry
    points (a plugin cannot replace a built-in). Loaded once per process."""
    tools = {name: _instance(_load(target), name) for name, target in BUILTIN_TOOLS.items()}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in tools:
            tools[ep.name] = _instance(ep.load(), ep.name)
    return tools


def tool_named(name: str) -> Tool:
    """The tool registered as `name`; UnknownToolError naming the known ones otherwise."""
    tools = registered_tools()
    if name not in tools:
        raise UnknownToolError(f"unknown tool '{name}' (known tools: {', '.join(sorted(tools))})")
    return tools[name]


def param_problems(name: str, params: Params) -> list[str]:
    """What is wrong with a step using tool `name` with `params`: an unknown
    tool, or what the tool's `check` finds."""
    try:
        tool = tool_named(name)
    except UnknownToolError as e:
        return [str(e)]
    return tool.check(params)


def unknown_params(params: Params, known: Sequence[str], tool: str) -> list[str]:
    """One line per param that `tool` does not take."""
    return [
        f"tool {tool}: unknown param '{key}' (params: {', '.join(known)})" for key in params if key not in known
    ]
