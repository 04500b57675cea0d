"""Tool steps at run time: a tool call is a request like an agent's, answered in process.

A `flow.tool` call is a `CallRequest` whose model is `tool:<name>` and whose
messages are a system message holding the tool and its params (JSON) then one
user message per input, so the run's trace, the profiler's recorded inputs and
its candidate calls treat it as any agent call. `ToolSteps` wraps a backend:
it answers tool requests itself, timing the tool with a monotonic clock, and
passes every other request on. A tool's latency is rounded up to the
millisecond: a fast tool then measures the same on every run, so profiling
IR stays reproducible; tokens and cost are zero.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Mapping, Sequence

from flowcompile.backends.base import Backend, CallRequest, CallResult, Message, backend_provenance
from flowcompile.dialects.flow import TOOL_MODEL_PREFIX
from flowcompile.steps import ToolResult, UnknownToolError, tool_named

TOOL_FAILED = "tool"
"""The error kind of a tool call that could not run (not retryable)."""


def tool_messages(tool: str, params: Mapping[str, object], texts: Sequence[str]) -> tuple[Message, ...]:
    """The messages of a call of `tool`: what it is, then its inputs in order."""
    header = json.dumps({"tool": tool, "params": dict(params)}, sort_keys=True)
    return (Message("system", header), *(Message("user", text) for text in texts))


def tool_request(tool: str, params: Mapping[str, object], texts: Sequence[str], sample: int = 0) -> CallRequest:
    return CallRequest(
        model=TOOL_MODEL_PREFIX + tool, provider_model=TOOL_MODEL_PREFIX + tool,
        messages=tool_messages(tool, params, texts), sample=sample,
    )


def run_tool(request: CallRequest) -> CallResult:
    """Answer a tool request: the tool's text, or a failure of kind TOOL_FAILED."""
    system, *inputs = request.messages
    try:
        header = json.loads(system.content)
        tool = tool_named(header["tool"])
    except UnknownToolError as e:
        return _failed(str(e))
    except (ValueError, KeyError, TypeError):
        return _failed(f"malformed tool request for {request.model}")
    start = time.monotonic()
    try:
        result: ToolResult = tool.run([m.content for m in inputs], header.get("params", {}))
    except Exception as e:  # a plugin's bug is a failed call, not a crash of the run
        return _failed(f"tool {tool.name} raised {type(e).__name__}: {e}")
    latency = math.ceil((time.monotonic() - start) * 1000) / 1000
    if not result.ok:
        return _failed(result.error or f"tool {tool.name} failed", latency)
    return CallResult(text=result.text, latency_s=max(latency, 0.001))


def _failed(message: str, latency: float = 0.0) -> CallResult:
    return CallResult(text=f"{TOOL_FAILED}: {message}", latency_s=latency, error=TOOL_FAILED)


def is_tool_request(request: CallRequest) -> bool:
    return request.model.startswith(TOOL_MODEL_PREFIX)


class ToolSteps:
    """A backend that runs tool requests itself (in a worker thread: `code_test`
    waits for a subprocess) and sends the others to `inner`."""

    def __init__(self, inner: Backend):
        self.inner = inner
        self.name = inner.name

    async def call(self, request: CallRequest) -> CallResult:
        if is_tool_request(request):
            return await asyncio.to_thread(run_tool, request)
        return await self.inner.call(request)

    def provenance(self) -> dict[str, str]:
        return backend_provenance(self.inner)


def with_tools(backend: Backend) -> Backend:
    """`backend`, answering tool requests too (wrapped once)."""
    return backend if isinstance(backend, ToolSteps) else ToolSteps(backend)
