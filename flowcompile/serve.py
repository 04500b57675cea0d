"""A compiled workflow behind an OpenAI-compatible endpoint (`flowcompile serve`).

``POST /v1/chat/completions`` runs the workflow on the last user message under
one point of its config set, chosen per request by `flowcompile.selection`:
from the headers ``X-FlowCompile-Point``, ``X-FlowCompile-Preset``,
``X-FlowCompile-Max-Latency``, ``X-FlowCompile-Min-Acc``, ``X-FlowCompile-Weight``,
or from a body object ``"flowcompile": {"point" | "preset" | "max_latency" |
"min_acc" | "weight": ...}`` (with the openai client: ``extra_body``), not both;
a request that names none gets the server's default. ``X-FlowCompile-Router: knn``
(``"router": "knn"``) has the artifact's trained router pick the point for
this request's text, under the preference the other fields name
(`flowcompile.router`). The reply is a
``chat.completion`` whose ``flowcompile`` field and ``X-FlowCompile-Point`` header
name the point that produced it, with its estimates, the run's latency (the
workflow's critical path in call latencies), wall time, cost and calls.
``GET /v1/models`` lists the workflow with its points and presets; ``GET /health``.

Runs share one event loop in a thread of their own, at most `concurrency` at
once; a request beyond that waits for a slot. Every completion request writes
one log line (status, point, latency, cost), never its text or headers (an
``Authorization`` header may hold a key). Bad requests get 4xx JSON errors in
OpenAI's shape, a run whose calls failed after their retries a 502, and nothing
gets a traceback.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flowcompile.backends.base import Backend
from flowcompile.dialects.flow import PointAttr, WorkflowOp
from flowcompile.profiling.dataset import Query
from flowcompile.runtime import RunResult, run_workflow
from flowcompile.router import KnnRouter, RouterError
from flowcompile.selection import ROUTERS, Preference, SelectionError, Selector, preference_of, select
from flowcompile.artifact import workflow_presets
from flowcompile.sim.server import is_loopback

MAX_BODY = 1 << 20
"""Bytes a request body may have."""
IDLE_S = 300.0
"""Seconds a connection may send nothing (between requests, or within one) before it is closed."""
HEADER_PREFIX = "x-flowcompile-"
SELECTOR_FIELDS: Mapping[str, type] = {
    "point": int, "preset": str, "max_latency": float, "min_acc": float, "weight": float, "router": str,
}
"""The selector fields a request may give, and their types."""


class RequestError(Exception):
    """A request the server rejects, with its HTTP status and OpenAI error type."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", param: str | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.param = status, message, kind, param


@dataclass(frozen=True)
class Served:
    """What the server runs: a compiled workflow, its points and presets."""

    workflow: WorkflowOp
    assignments: list[dict[str, Any]]
    estimates: list[tuple[float, float]]
    """(acc, lat) per point, as the selection reads them."""
    presets: Mapping[str, Preference]
    default: Selector = Selector()
    """The selection of a request that names none."""
    router: KnnRouter | None = None
    """The artifact's trained router, for requests that ask for one (`X-FlowCompile-Router: knn`)."""

    def choose(self, selector: Selector, text: str = "") -> int:
        """The point `selector` (or, when it names nothing, the default) picks
        for the query `text` (which only a router reads)."""
        if selector == Selector():
            selector = self.default
        try:
            if selector.router is None:
                return select(self.estimates, selector, self.presets)
            preference_of(selector, self.presets)  # a conflict or an unknown preset, before the router
            if selector.router not in ROUTERS:
                raise RequestError(400, f"unknown router {selector.router!r} (routers: {', '.join(ROUTERS)})",
                                   param=_header("router"))
            if self.router is None:
                raise RequestError(400, "this server has no router: start `flowcompile serve` with --artifact "
                                   "(an artifact `flowcompile train-router` trained a router into)",
                                   param=_header("router"))
            return self.router.route([text], selector)[0]
        except RouterError as e:  # the embedding model the router was trained with failed
            raise RequestError(502, str(e), kind="upstream_error") from None
        except SelectionError as e:
            raise RequestError(400, str(e), param="flowcompile") from None


class _Runner:
    """One event loop in a thread of its own for every run, at most `concurrency` at once."""

    def __init__(self, served: Served, backend: Backend, concurrency: int, seed: int):
        self.served, self.backend, self.seed = served, backend, seed
        self.loop = asyncio.new_event_loop()
        self.slots = asyncio.Semaphore(concurrency)
        self.thread = threading.Thread(target=self.loop.run_forever, name="flowcompile-serve-runs", daemon=True)
        self.thread.start()

    def run(self, point: int, query: Query) -> RunResult:
        """Run the workflow on `query` under `point`, blocking the calling (request) thread."""
        return asyncio.run_coroutine_threadsafe(self._run(point, query), self.loop).result()

    async def _run(self, point: int, query: Query) -> RunResult:
        async with self.slots:
            return await run_workflow(
                self.served.workflow, self.served.assignments[point], self.backend, query, seed=self.seed
            )

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


class ServeHTTPServer(ThreadingHTTPServer):
    """A thread per connection; the runs themselves on the `_Runner`'s loop."""

    daemon_threads = True
    request_queue_size = 512  # a burst of clients connecting at once is not refused

    def __init__(self, address: tuple[str, int], served: Served, runner: _Runner, log: Callable[[str], None]):
        super().__init__(address, _Handler)
        self.served, self.runner = served, runner
        self._log, self._log_lock = log, threading.Lock()
        self.ids = itertools.count()

    def log(self, line: str) -> None:
        with self._log_lock:  # whole lines from concurrent request threads
            self._log(line)

    def server_close(self) -> None:
        super().server_close()
        self.runner.close()


def request_selector(headers: Mapping[str, str], body: Mapping[str, Any]) -> Selector:
    """The selector of a request, from its `X-FlowCompile-*` headers or its
    `flowcompile` body object (not both); RequestError naming a bad one."""
    from_headers: dict[str, Any] = {}
    for key, value in headers.items():
        if not key.lower().startswith(HEADER_PREFIX):
            continue
        name = key.lower().removeprefix(HEADER_PREFIX).replace("-", "_")
        header = _header(name)
        if name not in SELECTOR_FIELDS:
            raise RequestError(400, f"unknown header {header} (selectors: {', '.join(map(_header, SELECTOR_FIELDS))})",
                               param=header)
        kind = SELECTOR_FIELDS[name]
        try:
            from_headers[name] = kind(value.strip())
        except ValueError:
            raise RequestError(400, f"{header}: {value!r} is not {'an integer' if kind is int else 'a number'}",
                               param=header) from None
    given = body.get("flowcompile")
    if given is None:
        return Selector(**from_headers)
    if from_headers:
        raise RequestError(400, "choose the point by X-FlowCompile-* headers or by the flowcompile field, not both",
                           param="flowcompile")
    if not isinstance(given, dict):
        raise RequestError(400, "flowcompile must be an object of point, preset, max_latency, min_acc, weight, router",
                           param="flowcompile")
    for name, value in given.items():
        kind = SELECTOR_FIELDS.get(name)
        if kind is None:
            raise RequestError(400, f"flowcompile.{name}: unknown field (fields: {', '.join(SELECTOR_FIELDS)})",
                               param=f"flowcompile.{name}")
        if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else kind):
            noun = {int: "an integer", str: "a string", float: "a number"}[kind]
            raise RequestError(400, f"flowcompile.{name} must be {noun}", param=f"flowcompile.{name}")
    return Selector(**given)


def _header(field: str) -> str:
    """The header of a selector field, however the client spelled it: `X-FlowCompile-Max-Latency`."""
    return "X-FlowCompile-" + "-".join(w.title() for w in field.split("_"))


def request_text(body: Mapping[str, Any]) -> str:
    """The query: the text of the last user message (RequestError when there is none)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, "messages must be a non-empty list of {role, content}", param="messages")
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") == "text" for p in content):
            return "".join(str(p.get("text", "")) for p in content)
        raise RequestError(400, f"messages[{index}].content must be text", param=f"messages[{index}].content")
    raise RequestError(400, "messages has no user message: the workflow runs on the last one", param="messages")


class _Handler(BaseHTTPRequestHandler):
    server: ServeHTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections
    timeout = IDLE_S  # a connection silent this long is closed, so idle clients do not hold threads

    def do_POST(self) -> None:
        self._answer(self._post)

    def do_GET(self) -> None:
        self._answer(self._get)

    def _answer(self, handle: Callable[[], None]) -> None:
        try:
            handle()
        except RequestError as e:
            self._error(e)
        except Exception as e:  # a bug: one log line and a JSON 500, never a traceback
            self.server.log(f"serve: {self.command} {self.path} 500 internal error: {type(e).__name__}: {e}")
            self._error(RequestError(500, f"internal error: {type(e).__name__}", kind="server_error"))

    def _get(self) -> None:
        if self.path == "/health":
            return self._json(200, {"status": "ok"})
        if self.path == "/v1/models":
            return self._json(200, self._models())
        raise RequestError(404, f"no route GET {self.path} (GET /v1/models, GET /health, POST /v1/chat/completions)")

    def _post(self) -> None:
        if self.path != "/v1/chat/completions":
            raise RequestError(404, f"no route POST {self.path} (POST /v1/chat/completions)")
        served = self.server.served
        try:
            body = self._body()
            if body.get("stream"):
                raise RequestError(400, "stream is not supported: the workflow answers once it has run", param="stream")
            if body.get("n", 1) != 1:
                raise RequestError(400, "n must be 1", param="n")
            name = served.workflow.sym_name.data
            if body.get("model") not in (None, name):
                raise RequestError(404, f"model {body.get('model')!r} is not served (this server serves {name!r})",
                                   param="model")
            text = request_text(body)
            selector = request_selector(self.headers, body)
            point = served.choose(selector, text)
        except RequestError as e:
            self.server.log(f"serve: POST {self.path} {e.status} {e.message}")
            raise
        self._complete(point, selector, text)

    def _complete(self, point: int, selector: Selector, text: str) -> None:
        served = self.server.served
        request_id = next(self.server.ids)
        chosen_by = (selector if selector != Selector() else served.default).describe()
        started = time.perf_counter()
        result = self.server.runner.run(point, Query(f"req-{request_id}", text, ""))
        wall = time.perf_counter() - started
        status = 200 if result.ok else 502
        self.server.log(
            f"serve: POST {self.path} {status} point={point} ({chosen_by}) latency={result.latency:.3f}s "
            f"wall={wall:.3f}s cost=${result.cost:.6f} calls={len(result.calls)}"
        )
        acc, lat = served.estimates[point]
        about = {
            "point": point, "selected_by": chosen_by, "est_acc": acc, "est_lat": lat,
            "latency_s": result.latency, "wall_s": wall, "cost": result.cost, "calls": len(result.calls),
        }
        headers = {"X-FlowCompile-Point": str(point)}
        if not result.ok:
            error = RequestError(502, f"the workflow run failed under point {point}: {result.error}", kind="upstream_error")
            return self._error(error, headers, about)
        tokens_in = sum(c.result.tokens_in for c in result.calls)
        tokens_out = sum(c.result.tokens_out + c.result.reasoning_tokens for c in result.calls)
        self._json(200, {
            "id": f"chatcmpl-{uuid.uuid4().hex}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": served.workflow.sym_name.data,
            "choices": [{
                "index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": result.output or ""},
            }],
            "usage": {"prompt_tokens": tokens_in, "completion_tokens": tokens_out,
                      "total_tokens": tokens_in + tokens_out},
            "flowcompile": about,
        }, headers)

    def _models(self) -> dict[str, Any]:
        served = self.server.served
        return {"object": "list", "data": [{
            "id": served.workflow.sym_name.data, "object": "model", "created": 0, "owned_by": "flowcompile",
            "flowcompile": {
                "points": [{"point": i, "est_acc": a, "est_lat": lat} for i, (a, lat) in enumerate(served.estimates)],
                "presets": {name: p.model_dump(exclude_none=True) for name, p in served.presets.items()},
                "default": served.default.describe(),
                "router": None if served.router is None else {
                    "kind": served.router.section.kind, "k": served.router.section.k,
                    "queries": len(served.router.section.queries),
                },
            },
        }]}

    # -- plumbing --------------------------------------------------------------

    def _body(self) -> dict[str, Any]:
        length = self.headers.get("Content-Length")
        if length is None or not length.strip().isdigit():
            raise RequestError(411, "Content-Length required")
        if int(length) > MAX_BODY:
            raise RequestError(413, f"request body over {MAX_BODY} bytes")
        raw = self.rfile.read(int(length))
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise RequestError(400, f"invalid JSON body: {e}") from None
        if not isinstance(body, dict):
            raise RequestError(400, "the body must be a JSON object")
        return body

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (a malformed request line, an unsupported method) as JSON too."""
        if self.request_version == "HTTP/0.9":  # what http.server assumes of an unparseable request line,
            self.request_version = self.protocol_version  # and answers with no status line
        if code == 501:  # http.server's answer to a method with no do_ handler: the client's error
            code, message = 405, f"method {self.command} not allowed (GET, POST)"
        self._error(RequestError(code, message or explain or "bad request"))

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: `_complete` writes the one line a request gets, without its headers."""

    def _error(self, error: RequestError, headers: Mapping[str, str] | None = None,
               about: Mapping[str, Any] | None = None) -> None:
        # a request refused before its body was read leaves that body on the
        # connection, where it would be read as the next request
        self.close_connection = True
        body: dict[str, Any] = {"error": {"message": error.message, "type": error.kind, "param": error.param,
                                          "code": error.status}}
        if about is not None:
            body["flowcompile"] = dict(about)
        self._json(error.status, body, headers)

    def _json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up


def make_server(
    served: Served,
    backend: Backend,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    concurrency: int = 8,
    seed: int = 0,
    allow_remote: bool = False,
    log: Callable[[str], None] = lambda line: None,
) -> ServeHTTPServer:
    """Bind (but do not start) the server; a non-loopback host needs `allow_remote`.
    Start it with `serve_forever()`; `server_close()` stops its runs' loop too."""
    if not allow_remote and not is_loopback(host):
        raise ValueError(f"refusing to serve on non-loopback host {host!r} without --allow-remote")
    if concurrency < 1:
        raise ValueError(f"option concurrency={concurrency}: must be >= 1")
    runner = _Runner(served, backend, concurrency, seed)
    try:
        return ServeHTTPServer((host.strip("[]"), port), served, runner, log)
    except BaseException:
        runner.close()
        raise


def served_workflow(
    workflow: WorkflowOp, points: Sequence[PointAttr], default: Selector = Selector(), router: KnnRouter | None = None
) -> Served:
    """What `make_server` serves of a compiled workflow and its config set's points
    (and the artifact's router); SelectionError when `default` picks no point."""
    served = Served(
        workflow,
        [dict(p.assign) for p in points],
        [(p.get("acc"), p.get("lat")) for p in points],
        workflow_presets(workflow),
        router=router,
    )
    if default.router is not None and router is None:
        raise SelectionError("a default router needs the artifact's router (--artifact)")
    select(served.estimates, replace(default, router=None), served.presets)  # a default that picks nothing fails at start
    return replace(served, default=default)
