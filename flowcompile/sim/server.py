"""An OpenAI-compatible HTTP server for the SIMULATED world (loopback only by default).

Endpoints: ``POST /v1/chat/completions``, ``GET /v1/models``, ``GET /stats``
(request counters), ``POST /stats/reset``, ``GET /health``. Stdlib only.
The model list names the reader of the replies (``"flowcompile_reader":
"sim"``, see `flowcompile.backends.reader`), so a litellm client reads the
simulated replies exactly as the in-process sim backend does.

Request fields: ``model`` is a pool name or any provider string whose last path
segment is one ("hosted_vllm/Qwen/Qwen3-8B"); ``messages``; optional ``seed``,
``max_tokens`` / ``max_completion_tokens``; ``temperature`` is ignored; ``n``
must be 1. The reasoning budget comes from either
``thinking: {"type": "enabled", "budget_tokens": N}`` (exact; "disabled" = 0) or
``reasoning_effort`` (see `EFFORT_BUDGETS`), else DashScope-style
``thinking_budget``, else 0. The sample index comes from the
``x-flowcompile-sample`` header or a ``sample`` body field. A reply's
``usage.cost`` is the simulated price of the call (world prices), as some
OpenAI-compatible services report it; litellm's `completion_cost` reads it.

Injected faults become HTTP 429 (rate_limit, with ``retry-after-ms``), 500
(server_error), 504 after an optional sleep (timeout) and a 200 whose body is
truncated JSON (malformed). The k-th repeat of an identical request draws its
fault as attempt k, so client retries can succeed.

``stream: true`` answers with server-sent events (chunked): the first
generated token arrives after the simulated prefill (ttft + prompt / prefill
rate + one decode step), the rest at the decode rate, reasoning tokens
(``delta.reasoning_content``, placeholder text) before the content; the pauses
add up to the simulated latency, so a streaming client measures the world's
speeds. ``stream_options: {"include_usage": true}`` adds the usage chunk.

A client that hangs up while its reply is being "generated" (the sleep below)
stops the generation, as a real server frees a slot: the request is counted
under status 499 (nginx's "client closed request") and nothing is sent.

``time_scale`` is a simulation-only knob: 0 replies at once, 1.0 sleeps the
simulated latency, 0.01 runs 100x faster than the simulated clock.
"""

from __future__ import annotations

import ipaddress
import json
import select
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from flowcompile.backends.base import CallRequest, as_message
from flowcompile.backends.reader import READER_FIELD
from flowcompile.sim.backend import RATE_LIMIT_RETRY_AFTER
from flowcompile.sim.engine import SimTrace, SimWorld, content_hash
from flowcompile.sim.protocol import SIM_READER
from flowcompile.sim.world import World

#: reasoning_effort -> thinking budget (tokens). low/medium/high follow litellm's
#: mapping of reasoning_effort to Anthropic thinking budgets (1024/2048/4096).
EFFORT_BUDGETS: dict[str, int] = {"none": 0, "minimal": 512, "low": 1024, "medium": 2048, "high": 4096}
SAMPLE_HEADER = "x-flowcompile-sample"
FINGERPRINT = "flowcompile-sim"
_STATUS_OF_FAULT = {"rate_limit": 429, "server_error": 500, "timeout": 504}
CLIENT_CLOSED = 499
"""The status counted for a request whose client hung up before the reply."""
STREAM_CHUNKS = 8
"""Events per streamed part (reasoning, content): few, so pacing costs little CPU."""
POLL_S = 0.01
"""How often a generating request checks that its client is still there."""


class RequestError(Exception):
    """A request the server rejects, with its HTTP status."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.code = status, message, kind, code


def resolve_model(name: str, world: World) -> str:
    """The pool name that `name` (pool name or provider string) refers to."""
    names = world.model_names()
    low = name.strip().lower()
    for candidate in (low, low.rsplit("/", 1)[-1]):
        if candidate in names:
            return candidate
    for m in world.models:
        if m.provider_model and m.provider_model.lower() == low:
            return m.name
    raise RequestError(404, f"model {name!r} is not in the simulated pool ({', '.join(names)})", code="model_not_found")


def reasoning_budget(body: Mapping[str, Any]) -> int:
    """The thinking budget a request asks for (see module docstring)."""
    thinking = body.get("thinking")
    if thinking is not None:
        if not isinstance(thinking, Mapping) or thinking.get("type") not in ("enabled", "disabled"):
            raise RequestError(400, "thinking must be {'type': 'enabled', 'budget_tokens': N} or {'type': 'disabled'}")
        if thinking["type"] == "disabled":
            return 0
        return _non_negative_int(thinking.get("budget_tokens"), "thinking.budget_tokens")
    effort = body.get("reasoning_effort")
    if effort is not None:
        if effort not in EFFORT_BUDGETS:
            raise RequestError(400, f"reasoning_effort must be one of {sorted(EFFORT_BUDGETS)}, got {effort!r}")
        return EFFORT_BUDGETS[effort]
    kwargs = body.get("chat_template_kwargs") or {}
    if body.get("enable_thinking") is False or (isinstance(kwargs, Mapping) and kwargs.get("enable_thinking") is False):
        return 0
    if body.get("thinking_budget") is not None:
        return _non_negative_int(body.get("thinking_budget"), "thinking_budget")
    return 0


def parse_chat_request(body: Any, world: World, headers: Mapping[str, str] | None = None) -> CallRequest:
    """Turn an OpenAI chat.completions body into a `CallRequest`."""
    if not isinstance(body, Mapping):
        raise RequestError(400, "request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError(400, "missing 'model'")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, "'messages' must be a non-empty list")
    try:
        msgs = tuple(as_message(m) for m in messages)
    except (KeyError, TypeError, ValueError) as exc:
        raise RequestError(400, f"bad message: {exc}") from None
    if body.get("n", 1) != 1:
        raise RequestError(400, f"n must be 1 (use the {SAMPLE_HEADER} header for more samples)")
    header_sample = (headers or {}).get(SAMPLE_HEADER)
    sample = _non_negative_int(header_sample if header_sample is not None else body.get("sample", 0), "sample")
    seed = body.get("seed")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    try:
        return CallRequest(
            model=resolve_model(model, world),
            provider_model=model,
            budget=reasoning_budget(body),
            messages=msgs,
            temperature=float(body.get("temperature") or 0.0),
            max_tokens=None if max_tokens is None else _non_negative_int(max_tokens, "max_tokens"),
            sample=sample,
            seed=0 if seed is None else int(seed),
        )
    except (TypeError, ValueError) as exc:
        raise RequestError(400, str(exc)) from None


def _non_negative_int(value: Any, field: str) -> int:
    try:
        out = int(value)
    except (TypeError, ValueError):
        raise RequestError(400, f"{field} must be an integer, got {value!r}") from None
    if out < 0 or (isinstance(value, float) and value != out):
        raise RequestError(400, f"{field} must be a non-negative integer, got {value!r}")
    return out


class _State:
    """What the handler threads share: the world, options and counters."""

    def __init__(self, sim: SimWorld, time_scale: float, timeout_sleep_s: float, log: bool) -> None:
        self.sim, self.time_scale, self.timeout_sleep_s, self.log = sim, time_scale, timeout_sleep_s, log
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.total = 0
            self.by_content: Counter[str] = Counter()
            self.by_status: Counter[str] = Counter()
            self.by_model: Counter[str] = Counter()

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "simulated": True,
                "total": self.total,
                "by_content": dict(self.by_content),
                "by_status": dict(self.by_status),
                "by_model": dict(self.by_model),
            }


class SimHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying the simulation state."""

    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that vanished mid-request is normal (time-outs, a killed
        # profiler); anything else is a bug worth the stdlib's report.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def __init__(self, address: tuple[str, int], state: _State) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.state = state
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SimHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        if self.server.state.log:
            print(f"[flowcompile-sim] {self.address_string()} {format % args}", file=sys.stderr)

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        path = self.path.split("?", 1)[0].rstrip("/")
        if path in ("/v1/models", "/models"):
            self._json(200, self._models())
        elif path == "/stats":
            self._json(200, self.server.state.stats())
        elif path == "/health":
            self._json(200, {"status": "ok", "simulated": True})
        else:
            self._error(RequestError(404, f"no route {self.path}", code="not_found"))

    def do_POST(self) -> None:  # noqa: N802 (stdlib name)
        path = self.path.split("?", 1)[0].rstrip("/")
        try:
            body = self._read_json()
        except RequestError as exc:
            self._error(exc)
            return
        if path == "/stats/reset":
            self.server.state.reset()
            self._json(200, {"reset": True})
        elif path in ("/v1/chat/completions", "/chat/completions"):
            self._chat(body)
        else:
            self._error(RequestError(404, f"no route {self.path}", code="not_found"))

    # -- chat ------------------------------------------------------------------

    def _chat(self, body: Any) -> None:
        state = self.server.state
        with state.lock:
            state.total += 1
        try:
            request = parse_chat_request(body, state.sim.world, {k.lower(): v for k, v in self.headers.items()})
        except RequestError as exc:
            self._count(exc.status)
            self._error(exc)
            return
        key = content_hash(request)
        with state.lock:
            attempt = state.by_content[key]
            state.by_content[key] += 1
            state.by_model[request.model] += 1
        trace = state.sim.trace(request, attempt=attempt)
        result = trace.result
        if result.error == "timeout":
            if not self._wait(state.timeout_sleep_s):
                self._hung_up()
                return
            self._count(504)
            self._error(RequestError(504, "simulated upstream timeout", "timeout", "timeout"))
            return
        if body.get("stream") and result.error not in _STATUS_OF_FAULT:
            options = body.get("stream_options")
            usage = isinstance(options, Mapping) and bool(options.get("include_usage"))
            self._stream(request, trace, self._reply(request, trace, key, attempt), usage)
            return
        if not self._wait(result.latency_s * state.time_scale):
            self._hung_up()
            return
        if result.error in _STATUS_OF_FAULT:
            status = _STATUS_OF_FAULT[result.error]
            self._count(status)
            extra = {"retry-after-ms": f"{RATE_LIMIT_RETRY_AFTER * 1000:g}"} if status == 429 else {}
            self._error(RequestError(status, f"simulated {result.error}", result.error, result.error), extra)
            return
        reply = self._reply(request, trace, key, attempt)
        self._count(200)
        if result.error == "malformed":
            text = json.dumps(reply)
            self._send(200, text[: len(text) // 2].encode("utf-8"), "application/json")
        else:
            self._json(200, reply)

    @staticmethod
    def _reply(request: CallRequest, trace: SimTrace, key: str, attempt: int) -> dict[str, Any]:
        result = trace.result
        return {
            "id": f"chatcmpl-sim-{key}-{attempt}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.provider_model,
            "system_fingerprint": FINGERPRINT,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": result.text},
                    "finish_reason": "length" if trace.truncated else "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": result.tokens_in,
                "completion_tokens": result.tokens_out + result.reasoning_tokens,
                "total_tokens": result.tokens_in + result.tokens_out + result.reasoning_tokens,
                "completion_tokens_details": {"reasoning_tokens": result.reasoning_tokens},
                # the simulated price, where OpenAI-compatible upstreams state theirs
                # (litellm bills from usage.cost), so clients see what SimBackend reports
                "cost": result.cost,
            },
            "flowcompile": {
                "simulated": True,
                "latency_s": result.latency_s,
                "cost": result.cost,
                "attempt": attempt,
                "content_hash": key,
            },
        }

    def _stream(self, request: CallRequest, trace: SimTrace, reply: dict[str, Any], usage: bool) -> None:
        """Send `reply` as server-sent events, paced like the simulated generation."""
        state, result = self.server.state, trace.result
        spec = state.sim.world.model(request.model)
        first = spec.ttft_s + result.tokens_in / spec.prefill_tok_per_s + 1 / spec.decode_tok_per_s
        generated = result.reasoning_tokens + result.tokens_out
        # the engine's law before its noise factor: pauses scaled by `pace` add up to the latency
        pace = result.latency_s * state.time_scale / (first + (generated - 1) / spec.decode_tok_per_s)
        head = {k: reply[k] for k in ("id", "created", "model", "system_fingerprint")}
        events: list[tuple[float, dict[str, Any]]] = []
        text = result.text
        for kind, total in (("reasoning_content", result.reasoning_tokens), ("content", result.tokens_out)):
            done = 0
            for n in _token_chunks(total, first_alone=not events):
                piece = text[done * len(text) // total : (done + n) * len(text) // total]
                delta = {kind: "(simulated reasoning)" if kind == "reasoning_content" else piece}
                wait = first + (n - 1) / spec.decode_tok_per_s if not events else n / spec.decode_tok_per_s
                events.append((wait * pace, {**delta, "role": "assistant"} if not events else delta))
                done += n
        last = {"index": 0, "delta": {}, "finish_reason": reply["choices"][0]["finish_reason"]}
        self.send_response(200)
        for name, value in (("Content-Type", "text/event-stream"), ("Transfer-Encoding", "chunked"),
                            ("Cache-Control", "no-cache"), ("x-flowcompile-simulated", "true")):
            self.send_header(name, value)
        self.end_headers()
        for wait, delta in events:
            if not self._wait(wait) or not self._event({**head, "choices": [{"index": 0, "delta": delta}]}):
                self._hung_up()
                return
        tail = [{**head, "choices": [last]}]
        if usage:
            tail.append({**head, "choices": [], "usage": reply["usage"], "flowcompile": reply["flowcompile"]})
        if all(self._event(event) for event in tail) and self._chunk(b"data: [DONE]\n\n") and self._chunk(b""):
            self._count(200)
        else:
            self._hung_up()

    def _event(self, payload: dict[str, Any]) -> bool:
        return self._chunk(b"data: " + json.dumps({"object": "chat.completion.chunk", **payload}).encode() + b"\n\n")

    def _chunk(self, data: bytes) -> bool:
        """One piece of a chunked body (b"" ends it); False when the client is gone."""
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def _wait(self, seconds: float) -> bool:
        """Sleep `seconds` (the generation); False as soon as the client hangs up."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self._client_gone():
                return False
            time.sleep(min(POLL_S, left))
        return True

    def _client_gone(self) -> bool:
        # A readable socket with nothing to read is a closed one; an HTTP/1.1
        # client sends nothing else on a connection before its reply comes.
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _hung_up(self) -> None:
        self._count(CLIENT_CLOSED)
        self.close_connection = True

    def _count(self, status: int) -> None:
        with self.server.state.lock:
            self.server.state.by_status[str(status)] += 1

    def _models(self) -> dict[str, Any]:
        world = self.server.state.sim.world
        return {
            "object": "list",
            "simulated": True,
            READER_FIELD: SIM_READER.name,
            "description": f"FlowCompile simulation: simulated models of world {world.name!r}, not real LLMs",
            "data": [
                {
                    "id": m.name,
                    "object": "model",
                    "created": 0,
                    "owned_by": "flowcompile-sim (simulation)",
                    "description": f"simulated {m.name} (capability {m.capability:g})",
                }
                for m in world.models
            ],
        }

    # -- plumbing --------------------------------------------------------------

    def _read_json(self) -> Any:
        length = self.headers.get("Content-Length")
        if length is None:
            raise RequestError(411, "Content-Length required")
        raw = self.rfile.read(int(length)) if int(length) > 0 else b""
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RequestError(400, f"invalid JSON body: {exc}") from None

    def _error(self, exc: RequestError, headers: Mapping[str, str] | None = None) -> None:
        body = {"error": {"message": exc.message, "type": exc.kind, "code": exc.code or exc.status, "param": None}}
        self._send(exc.status, json.dumps(body).encode("utf-8"), "application/json", headers)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"), "application/json")

    def _send(self, status: int, data: bytes, ctype: str, headers: Mapping[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-flowcompile-simulated", "true")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. after its own time-out)


def _token_chunks(total: int, first_alone: bool) -> list[int]:
    """`total` tokens in at most STREAM_CHUNKS pieces (the first one token alone,
    when it is the first token of the reply)."""
    if total <= 0:
        return []
    head = [1] if first_alone else []
    rest = total - len(head)
    parts = min(rest, STREAM_CHUNKS)
    return head + [rest // parts + (i < rest % parts) for i in range(parts)]


def is_loopback(host: str) -> bool:
    """Whether `host` names a loopback interface."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def make_server(
    world: World | SimWorld | str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    time_scale: float = 0.0,
    *,
    allow_remote: bool = False,
    timeout_sleep_s: float = 0.0,
    log: bool = False,
) -> SimHTTPServer:
    """Bind (but do not start) a simulated server; non-loopback hosts need allow_remote."""
    if not allow_remote and not is_loopback(host):
        raise ValueError(f"refusing to bind the simulated server to non-loopback host {host!r} (allow_remote=False)")
    if time_scale < 0:
        raise ValueError("time_scale must be >= 0")
    sim = world if isinstance(world, SimWorld) else SimWorld(world)
    return SimHTTPServer((host.strip("[]"), port), _State(sim, time_scale, timeout_sleep_s, log))


def server_url(server: SimHTTPServer) -> str:
    """The base URL (ending in /v1) of a bound server."""
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in str(host) else str(host)
    return f"http://{shown}:{port}/v1"


def start_server(
    world: World | SimWorld | str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    time_scale: float = 0.0,
    *,
    allow_remote: bool = False,
    timeout_sleep_s: float = 0.0,
    log: bool = False,
) -> tuple[SimHTTPServer, threading.Thread, str]:
    """Start a simulated server in a daemon thread; returns (server, thread, base_url).

    Stop it with `server.shutdown(); server.server_close()`."""
    server = make_server(
        world, host, port, time_scale, allow_remote=allow_remote, timeout_sleep_s=timeout_sleep_s, log=log
    )
    # a short poll interval keeps shutdown() quick for tests that start many servers
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="flowcompile-sim-server", daemon=True
    )
    thread.start()
    return server, thread, server_url(server)


def serve_forever(
    world: World | SimWorld | str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    time_scale: float = 0.0,
    *,
    allow_remote: bool = False,
    timeout_sleep_s: float = 0.0,
    log: bool = True,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve in the calling thread until interrupted (for a CLI); `on_ready(url)` once bound."""
    server = make_server(
        world, host, port, time_scale, allow_remote=allow_remote, timeout_sleep_s=timeout_sleep_s, log=log
    )
    try:
        if on_ready is not None:
            on_ready(server_url(server))
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
