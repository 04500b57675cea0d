"""`flowcompile serve`: a compiled workflow behind an OpenAI-compatible endpoint,
the point chosen per request, over real HTTP on loopback.

The last test is the deployment check: the simulated server and `flowcompile
serve --backend litellm` on free ports, 200 concurrent requests from the
`openai` client, every answer labelled with the point that produced it. Every
wait is bounded and everything started is stopped however a test ends."""

from __future__ import annotations

import asyncio
import json
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowcompile import api
from flowcompile.backends.base import CallRequest, CallResult
from flowcompile.selection import Selector, select
from flowcompile.serve import ServeHTTPServer, make_server, served_workflow
from flowcompile.sim.server import start_server
from flowcompile.tools.cli import run_cli
from helpers.processes import stop

SPEC = """\
workflow: qa
models:
  qwen3-1.7b: {{litellm: hosted_vllm/Qwen/Qwen3-1.7B, api_base: "{url}", api_key_env: none}}
  qwen3-8b: {{litellm: hosted_vllm/Qwen/Qwen3-8B, api_base: "{url}", api_key_env: none}}
defaults: {{budgets: [0, 1024]}}
agents:
  planner: {{role: planner, prompt: "Break the problem into steps.\\n{{query}}"}}
  solver: {{role: solver, inputs: [query, planner], prompt: "Problem: {{query}}\\nPlan: {{planner}}"}}
steps: [planner, solver]
presets:
  snappy: {{max_latency: 4.0}}
"""
KEY = "sk-test-serve-0123456789abcdef"
"""What a client sends as its API key: it must reach no log line or reply."""
WAIT_S = 120.0


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    server, thread, url = start_server(port=0)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory, sim_url: str) -> Path:
    folder = tmp_path_factory.mktemp("serve")
    spec = folder / "qa.yaml"
    spec.write_text(SPEC.format(url=sim_url), encoding="utf-8")
    code = run_cli(["compile", str(spec), "-o", str(folder), "--cache", "none", "--samples", "12",
                    "--max-samples", "0", "--no-validate"])
    assert code == 0
    return folder / "qa.compiled.mlir"


def _serve(compiled: Path, backend: Any, lines: list[str], **options: Any) -> tuple[ServeHTTPServer, str]:
    workflow = api.load_ir(compiled)
    served = served_workflow(workflow.op, workflow.config_points(), **options)
    server = make_server(served, backend, port=0, concurrency=4, log=lines.append)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def local(compiled: Path) -> Iterator[tuple[str, list[str], api.Workflow]]:
    """`serve` in this process on the sim backend: its base URL, its log lines, the workflow."""
    lines: list[str] = []
    server, url = _serve(compiled, api.make_backend("sim"), lines)
    try:
        yield url, lines, api.load_ir(compiled)
    finally:
        server.shutdown()
        server.server_close()


def _post(url: str, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None
          ) -> tuple[int, dict[str, str], dict[str, Any]]:
    data = raw if raw is not None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=WAIT_S) as reply:
            return reply.status, dict(reply.headers), json.loads(reply.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


ASK = {"model": "qa", "messages": [{"role": "system", "content": "be brief"},
                                   {"role": "user", "content": "What is 17 * 23?"}]}


def test_a_request_names_its_point_by_header_or_body(local: tuple[str, list[str], api.Workflow]) -> None:
    url, lines, workflow = local
    estimates = [(p.acc, p.lat) for p in workflow.points]
    for headers, field, selector in (
        ({"X-FlowCompile-Preset": "fast"}, None, Selector(preset="fast")),
        ({"x-flowcompile-max-latency": "4.0"}, None, Selector(max_latency=4.0)),
        ({}, {"preset": "snappy"}, Selector(preset="snappy")),
        ({}, {"point": 1}, Selector(point=1)),
        ({}, {"min_acc": 0.4, "weight": 0.2}, Selector(min_acc=0.4, weight=0.2)),
        ({}, None, Selector()),
    ):
        body = {**ASK, **({"flowcompile": field} if field is not None else {})}
        status, reply_headers, reply = _post(f"{url}/v1/chat/completions", body, {**headers, "Authorization": f"Bearer {KEY}"})
        expected = select(estimates, selector, workflow.presets)
        assert status == 200, reply
        assert reply["flowcompile"]["point"] == expected == int(reply_headers["X-FlowCompile-Point"]), (selector, reply)
        assert reply["object"] == "chat.completion" and reply["model"] == "qa"
        assert reply["choices"][0]["message"]["content"] and reply["usage"]["total_tokens"] > 0
        assert reply["flowcompile"]["est_acc"] == estimates[expected][0] and reply["flowcompile"]["calls"] == 2
    assert expected == select(estimates, Selector(preset="accurate"))  # no selector: the most accurate
    completions = [line for line in lines if " 200 point=" in line]
    assert len(completions) >= 6 and all("latency=" in line and "cost=$" in line for line in completions)
    assert not any(KEY in line or "17 * 23" in line for line in lines)


def test_the_default_preset_serves_requests_that_name_none(compiled: Path) -> None:
    lines: list[str] = []
    server, url = _serve(compiled, api.make_backend("sim"), lines, default=Selector(preset="fast"))
    try:
        workflow = api.load_ir(compiled)
        status, _, reply = _post(f"{url}/v1/chat/completions", ASK)
        assert status == 200 and reply["flowcompile"]["point"] == api.select(workflow, preset="fast").index
        assert reply["flowcompile"]["selected_by"] == "preset fast"
    finally:
        server.shutdown()
        server.server_close()


USER = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        (b"{nope", {}, 400, "invalid JSON body"),
        ([1, 2], {}, 400, "the body must be a JSON object"),
        ({"model": "qa"}, {}, 400, "messages must be a non-empty list"),
        ({"messages": [{"role": "assistant", "content": "x"}]}, {}, 400, "messages has no user message"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, {}, 400, "messages[0].content must be text"),
        ({"messages": USER, "stream": True}, {}, 400, "stream is not supported"),
        ({"messages": USER, "n": 2}, {}, 400, "n must be 1"),
        ({"messages": USER, "model": "gpt-4o"}, {}, 404, "model 'gpt-4o' is not served (this server serves 'qa')"),
        ({"messages": USER}, {"X-FlowCompile-Preset": "fats"}, 400, "unknown preset 'fats'; did you mean 'fast'?"),
        ({"messages": USER}, {"X-FlowCompile-Point": "two"}, 400, "X-FlowCompile-Point: 'two' is not an integer"),
        ({"messages": USER}, {"X-FlowCompile-Speed": "1"}, 400, "unknown header X-FlowCompile-Speed"),
        ({"messages": USER}, {"X-FlowCompile-Point": "99"}, 400, "no point 99: the config set has"),
        ({"messages": USER}, {"X-FlowCompile-Weight": "nan"}, 400, "weight=nan"),
        ({"messages": USER, "flowcompile": {"preset": "fast"}}, {"X-FlowCompile-Point": "0"}, 400, "not both"),
        ({"messages": USER, "flowcompile": {"point": "1"}}, {}, 400, "flowcompile.point must be an integer"),
        ({"messages": USER, "flowcompile": {"point": True}}, {}, 400, "flowcompile.point must be an integer"),
        ({"messages": USER, "flowcompile": {"speed": 1}}, {}, 400, "flowcompile.speed: unknown field"),
        ({"messages": USER, "flowcompile": [1]}, {}, 400, "flowcompile must be an object"),
        ({"messages": USER, "flowcompile": {"preset": "fast", "weight": 0.5}}, {}, 400, "preset and weight both"),
        ({"messages": USER, "flowcompile": {"max_latency": -1}}, {}, 400, "max-latency=-1: input should be greater"),
    ],
)
def test_a_bad_request_is_a_4xx_json_error(
    local: tuple[str, list[str], api.Workflow], body: Any, headers: dict[str, str], status: int, message: str
) -> None:
    url, lines, _ = local
    raw = body if isinstance(body, bytes) else None
    got, _, reply = _post(f"{url}/v1/chat/completions", body, headers, raw)
    assert got == status, reply
    assert message in reply["error"]["message"] and reply["error"]["type"] == "invalid_request_error", reply
    assert any(f" {status} " in line and message in line for line in lines)


def _raw(url: str, data: bytes) -> tuple[int, dict[str, Any]]:
    """Send `data` as it is on one connection; the status and JSON body of the reply."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=WAIT_S) as conn:
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"GET /v1/nothing HTTP/1.1\r\nHost: x\r\n\r\n", 404, "no route GET /v1/nothing"),
        (b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 404, "no route POST"),
        (b"DELETE /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method DELETE not allowed"),
        (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n", 411, "Content-Length required"),
        (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n", 413, "over"),
        (b"NONSENSE\r\n\r\n", 400, "Bad request"),
    ],
)
def test_http_level_errors_are_json_too(local: tuple[str, list[str], api.Workflow], data: bytes, status: int,
                                        message: str) -> None:
    url, _, _ = local
    got, reply = _raw(url, data)
    assert got == status and message.lower() in reply["error"]["message"].lower(), reply


def test_models_and_health(local: tuple[str, list[str], api.Workflow]) -> None:
    url, _, workflow = local
    with urllib.request.urlopen(f"{url}/v1/models", timeout=WAIT_S) as reply:
        (model,) = json.loads(reply.read())["data"]
    assert model["id"] == "qa" and model["flowcompile"]["presets"] == {"snappy": {"max_latency": 4.0}}
    assert [p["est_acc"] for p in model["flowcompile"]["points"]] == [p.acc for p in workflow.points]
    with urllib.request.urlopen(f"{url}/health", timeout=WAIT_S) as reply:
        assert json.loads(reply.read()) == {"status": "ok"}


class _Failing:
    name = "failing"

    async def call(self, request: CallRequest) -> CallResult:
        return CallResult(error="server_error")


def test_a_run_whose_calls_fail_is_a_502_naming_the_point(compiled: Path) -> None:
    lines: list[str] = []
    server, url = _serve(compiled, _Failing(), lines)
    try:
        status, headers, reply = _post(f"{url}/v1/chat/completions", {**ASK, "flowcompile": {"point": 0}})
    finally:
        server.shutdown()
        server.server_close()
    assert status == 502 and reply["error"]["type"] == "upstream_error", reply
    assert "the workflow run failed under point 0" in reply["error"]["message"]
    assert reply["flowcompile"]["point"] == 0 and headers["X-FlowCompile-Point"] == "0"
    assert any(" 502 point=0 " in line for line in lines)


def test_serve_refuses_a_remote_host_and_a_default_that_picks_nothing(
    compiled: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(["serve", str(compiled), "--host", "0.0.0.0"]) == 1
    assert "refusing to serve on non-loopback host '0.0.0.0'" in capsys.readouterr().err
    assert run_cli(["serve", str(compiled), "--preset", "nope"]) == 1
    assert capsys.readouterr().err.startswith("error: unknown preset 'nope'")
    artifact = compiled.with_name("qa.artifact.json")
    assert run_cli(["serve", str(artifact)]) == 1
    assert "`flowcompile serve` takes the compiled IR the artifact came from" in capsys.readouterr().err


def _stderr_lines(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """The process's stderr, line by line, read by a thread (so its pipe never fills)."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def test_200_concurrent_requests_over_http_through_litellm_and_the_sim_server(compiled: Path) -> None:
    openai = pytest.importorskip("openai")
    workflow = api.load_ir(compiled)
    estimates = [(p.acc, p.lat) for p in workflow.points]
    serve = subprocess.Popen(
        [str(Path(sys.executable).with_name("flowcompile")), "serve", str(compiled), "--port", "0", "--backend", "litellm",
         "--concurrency", "16"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines = _stderr_lines(serve)
        banner = lines.get(timeout=WAIT_S)
        assert "serving @qa" in banner, banner
        base = banner.split(" at ")[1].split()[0]

        def request(i: int) -> tuple[dict[str, str], dict[str, Any], Selector]:
            kind = i % 4
            if kind == 0:
                return {"X-FlowCompile-Preset": ("fast", "balanced", "accurate", "snappy")[i // 4 % 4]}, {}, \
                    Selector(preset=("fast", "balanced", "accurate", "snappy")[i // 4 % 4])
            if kind == 1:
                return {}, {"flowcompile": {"point": i % len(estimates)}}, Selector(point=i % len(estimates))
            if kind == 2:
                return {"X-FlowCompile-Max-Latency": "5"}, {}, Selector(max_latency=5.0)
            return {}, {}, Selector()

        async def ask_all() -> list[Any]:
            client = openai.AsyncOpenAI(api_key=KEY, base_url=base, max_retries=0, timeout=WAIT_S * 2)
            try:
                async def one(i: int) -> Any:
                    headers, body, _ = request(i)
                    raw = await client.chat.completions.with_raw_response.create(
                        model="qa", messages=[{"role": "user", "content": f"What is {i} + {i}?"}],
                        extra_headers=headers, extra_body=body,
                    )
                    return raw.headers.get("x-flowcompile-point"), raw.http_response.json()

                return await asyncio.wait_for(
                    asyncio.gather(*(one(i) for i in range(200)), return_exceptions=True), WAIT_S * 4
                )
            finally:
                await client.close()

        started = time.perf_counter()
        replies = asyncio.run(ask_all())
        wall = time.perf_counter() - started
        errors = [r for r in replies if isinstance(r, BaseException)]
        assert not errors, errors[:3]
        for i, (header, reply) in enumerate(replies):
            expected = select(estimates, request(i)[2], workflow.presets)
            assert reply["flowcompile"]["point"] == expected == int(header), (i, reply)
            assert reply["choices"][0]["message"]["content"], reply
        print(f"\n200 concurrent requests through `flowcompile serve` (litellm -> sim server): 0 errors, {wall:.1f} s wall")
    finally:
        stop(serve)
    logged: list[str] = []
    while not lines.empty():
        logged.append(lines.get())
    completions = [line for line in logged if "serve: POST /v1/chat/completions 200 point=" in line]
    assert len(completions) == 200, logged[-5:]
    assert not any(KEY in line for line in logged)
