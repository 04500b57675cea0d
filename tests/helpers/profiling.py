"""Utilities for the `profile` pass tests: reading profiled IR and summary lines,
pointing an example at a simulated server, talking to that server, a sim that
records its requests, and a loopback HTTP server of a test's own."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from xdsl.context import Context
from xdsl.dialects.builtin import Builtin, FloatAttr, ModuleOp

from flowcompile.backends.base import CallRequest, CallResult
from flowcompile.diagnostics import parse_located
from flowcompile.dialects.flow import AgentOp, Flow, LoopOp, ProfileAttr, SwitchOp, ToolOp, WorkflowOp
from flowcompile.sim.backend import SimBackend

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
PROFILE_FIELDS = ("acc", "acc_n", "lat", "lat_p95", "tok_in", "tok_out", "cost", "rec", "rec_n")

SUMMARY = re.compile(
    r"^profile @(?P<workflow>[\w.-]+): (?P<calls>\d+) calls \((?P<reference>\d+) reference on "
    r"(?P<queries>\d+) queries, (?P<accepted>\d+) accepted; (?P<candidate>\d+) candidate calls for "
    r"(?P<agents>\d+) agents(?:; answers and verdicts judged by the reference answers)?\); "
    r"(?P<made>\d+) made, (?P<hits>\d+) cache hits, (?P<retries>\d+) retries, "
    r"(?P<failures>\d+) failures, (?P<seconds>[0-9.]+) s(?:; no input known right for [\w, ]+: profiled on the inputs it had)?$",
    re.MULTILINE,
)


def context() -> Context:
    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(Flow)
    return ctx


def parse_module(text: str, name: str = "<test>") -> ModuleOp:
    module = parse_located(context(), text, name)
    module.verify()
    return module


def workflow_of(text: str) -> WorkflowOp:
    return next(op for op in parse_module(text).walk() if isinstance(op, WorkflowOp))


def profiles(ir: str) -> dict[str, dict[str, dict[str, Any]]]:
    """agent -> "model@budget" -> {field: value} of every `#flow.profile` in `ir`."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for op in parse_module(ir).walk():
        if isinstance(op, AgentOp | ToolOp) and "profiles" in op.attributes:
            table = op.attributes["profiles"]
            out[op.agent_name] = {
                key: {f: attr.get(f) for f in PROFILE_FIELDS}
                for key, attr in table.data.items()  # pyright: ignore[reportAttributeAccessIssue]
                if isinstance(attr, ProfileAttr)
            }
    return out


def structure(ir: str) -> dict[str, Any]:
    """What profiling wrote on switches (probs) and loops (iters, pass_rate), by position."""
    out: dict[str, Any] = {"probs": [], "loops": []}
    for op in parse_module(ir).walk():
        if isinstance(op, SwitchOp) and op.branch_probs() is not None:
            out["probs"].append(list(op.branch_probs() or []))
        if isinstance(op, LoopOp):
            values = {k: op.attributes[k] for k in ("iters", "pass_rate") if k in op.attributes}
            out["loops"].append({k: v.value.data for k, v in values.items() if isinstance(v, FloatAttr)})
    return out


def summaries(stderr: str) -> list[dict[str, Any]]:
    """Every summary line on `stderr`, numbers as ints (seconds as float)."""
    found = []
    for m in SUMMARY.finditer(stderr):
        row: dict[str, Any] = {k: (v if k == "workflow" else float(v) if k == "seconds" else int(v))
                               for k, v in m.groupdict().items()}
        found.append(row)
    return found


def one_summary(stderr: str) -> dict[str, Any]:
    found = summaries(stderr)
    assert len(found) == 1, f"expected one summary line on stderr, got {len(found)}:\n{stderr}"
    return found[0]


_POOL_ENTRY = re.compile(r'"(?P<name>[\w.-]+)" = #flow.model<provider = "(?P<provider>[^"]+)", api_base = "[^"]*">')


def pointed_at(example_text: str, url: str) -> str:
    """The example's IR with every pool `api_base` set to `url` (providers unchanged)."""
    text, n = _POOL_ENTRY.subn(
        lambda m: f'"{m["name"]}" = #flow.model<provider = "{m["provider"]}", api_base = "{url}">', example_text
    )
    assert n > 0, "no pool entry rewritten"
    return text


def stats(url: str) -> dict[str, Any]:
    """GET /stats of a simulated server whose base URL (ending in /v1) is `url`."""
    with urllib.request.urlopen(url.removesuffix("/v1") + "/stats", timeout=10) as resp:
        return json.load(resp)


def reset_stats(url: str) -> None:
    request = urllib.request.Request(url.removesuffix("/v1") + "/stats/reset", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        resp.read()


@contextlib.contextmanager
def serving(**options: Any) -> Iterator[tuple[Any, str]]:
    """A sim HTTP server (`start_server(**options)`) and its URL, shut down after."""
    from flowcompile.sim.server import start_server

    srv, thread, url = start_server(**options)
    try:
        yield srv, url
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threading HTTP server on a free 127.0.0.1 port answering with `handler`;
    its base URL (`http://127.0.0.1:PORT`), shut down after."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class RecordingSim(SimBackend):
    """The in-process sim, keeping every request that reached it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requests: list[CallRequest] = []

    async def call(self, request: CallRequest) -> CallResult:
        self.requests.append(request)
        return await super().call(request)


def cache_rows(cache: Path) -> int:
    """How many calls a profiling cache holds."""
    db = sqlite3.connect(str(cache))
    try:
        return int(db.execute("SELECT COUNT(*) FROM calls").fetchone()[0])
    finally:
        db.close()


def profiled_candidates(spec: Path, pipeline: str) -> tuple[WorkflowOp, list[tuple[AgentOp, ProfileAttr]]]:
    """`spec` imported and run through `pipeline` (in process), and every
    agent's profile of each of its candidates (each must have one)."""
    from flowcompile.compiler import import_spec, run_passes, the_workflow

    module = import_spec(spec)
    run_passes(module, pipeline)
    workflow = the_workflow(module)
    found = []
    for agent in workflow.agents:
        for profile in agent.per_candidate("profiles", ProfileAttr):
            assert profile is not None, f"agent @{agent.agent_name}: a candidate has no profile"
            found.append((agent, profile))
    return workflow, found
