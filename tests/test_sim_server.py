"""The simulated OpenAI-compatible server, exercised with urllib over 127.0.0.1."""

from __future__ import annotations

import copy
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from flowcompile.backends import CallRequest
from flowcompile.sim import DEFAULT_WORLD, SimWorld, build_messages, content_hash, parse_world
from flowcompile.sim.server import EFFORT_BUDGETS, SimHTTPServer, start_server


def _world(faults: dict[str, float]) -> SimWorld:
    data = yaml.safe_load(DEFAULT_WORLD.read_text())
    data = copy.deepcopy(data)
    data["faults"].update(faults)
    return SimWorld(parse_world(data))


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[SimHTTPServer, str]]:
    srv, thread, url = start_server()
    yield srv, url
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


def post(url: str, body: Any, headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, bytes]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        url + "/chat/completions", data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.load(resp)


def body_for(qid: str, model: str = "qwen3-8b", agent: str = "solve", **extra: Any) -> dict[str, Any]:
    msgs = build_messages("solver", agent, f"[sim-query {qid}] Solve it.")
    return {"model": model, "messages": [{"role": m.role, "content": m.content} for m in msgs], **extra}


def in_process(sim: SimWorld, body: dict[str, Any], budget: int, sample: int = 0) -> CallRequest:
    return CallRequest(
        model=body["model"].rsplit("/", 1)[-1].lower(),
        budget=budget,
        messages=[(m["role"], m["content"]) for m in body["messages"]],
        seed=body.get("seed", 0),
        sample=sample,
    )


def check_same(reply: dict[str, Any], expected: Any) -> None:
    assert reply["object"] == "chat.completion"
    assert reply["system_fingerprint"] == "flowcompile-sim"
    assert reply["choices"][0]["message"]["content"] == expected.text
    usage = reply["usage"]
    assert usage["prompt_tokens"] == expected.tokens_in
    assert usage["completion_tokens"] == expected.tokens_out + expected.reasoning_tokens
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] == expected.reasoning_tokens
    assert reply["flowcompile"]["latency_s"] == pytest.approx(expected.latency_s)


def test_round_trip_with_exact_thinking_budget(server: tuple[SimHTTPServer, str]) -> None:
    srv, url = server
    sim = SimWorld()
    for i, model in enumerate(["hosted_vllm/Qwen/Qwen3-8B", "hosted_vllm/qwen3-0.6b", "qwen3-32b"]):
        body = body_for(f"q{i:05d}", model=model, seed=7, thinking={"type": "enabled", "budget_tokens": 3000})
        status, raw = post(url, body, headers={"x-flowcompile-sample": "2"})
        assert status == 200
        reply = json.loads(raw)
        assert reply["model"] == model
        expected = sim.respond(in_process(sim, body, budget=3000, sample=2))
        assert expected.reasoning_tokens > 0
        check_same(reply, expected)


def test_round_trip_with_reasoning_effort_and_body_sample(server: tuple[SimHTTPServer, str]) -> None:
    _, url = server
    sim = SimWorld()
    for effort in ("low", "medium", "high"):
        body = body_for("q00042", reasoning_effort=effort, sample=1)
        status, raw = post(url, body)
        assert status == 200
        check_same(json.loads(raw), sim.respond(in_process(sim, body, EFFORT_BUDGETS[effort], sample=1)))
    status, raw = post(url, body_for("q00042", thinking={"type": "disabled"}))
    check_same(json.loads(raw), sim.respond(in_process(sim, body_for("q00042"), 0)))


def test_stats_count_calls_per_content(server: tuple[SimHTTPServer, str]) -> None:
    _, url = server
    root = url.removesuffix("/v1")
    before = get(root + "/stats")
    body = body_for("q00777", agent="counted", thinking={"type": "enabled", "budget_tokens": 512})
    for _ in range(3):
        assert post(url, body)[0] == 200
    stats = get(root + "/stats")
    key = content_hash(in_process(SimWorld(), body, 512))
    assert stats["by_content"][key] == 3
    assert stats["total"] == before["total"] + 3
    assert stats["by_model"]["qwen3-8b"] >= 3 and stats["simulated"] is True


def test_models_health_and_bad_requests(server: tuple[SimHTTPServer, str]) -> None:
    _, url = server
    models = get(url + "/models")
    assert [m["id"] for m in models["data"]][:2] == ["qwen3-0.6b", "qwen3-1.7b"]
    assert "simulation" in models["description"] and "simulation" in models["data"][0]["owned_by"]
    assert get(url.removesuffix("/v1") + "/health")["simulated"] is True
    status, raw = post(url, body_for("q1", model="gpt-4o"))
    assert status == 404 and json.loads(raw)["error"]["code"] == "model_not_found"
    assert post(url, b"{not json")[0] == 400
    assert post(url, body_for("q1", n=2))[0] == 400
    assert post(url, body_for("q1", reasoning_effort="extreme"))[0] == 400
    assert post(url, body_for("q1", thinking={"type": "enabled"}))[0] == 400


def _statuses(url: str, n: int, prefix: str) -> list[int]:
    return [post(url, body_for(f"q{i:05d}", agent=prefix))[0] for i in range(n)]


def test_faults_become_http_errors() -> None:
    srv, thread, url = start_server(_world({"rate_limit": 0.5, "server_error": 0.5}))
    try:
        statuses = _statuses(url, 40, "f")
        assert set(statuses) == {429, 500}
        status, raw = post(url, body_for("q00001", agent="f"))
        assert json.loads(raw)["error"]["type"] in ("rate_limit", "server_error")
    finally:
        srv.shutdown()
        srv.server_close()


def test_retries_eventually_succeed_and_timeouts_and_garbage() -> None:
    srv, thread, url = start_server(_world({"rate_limit": 0.3, "timeout": 0.2, "malformed": 0.2}))
    try:
        # the k-th repeat of an identical request draws a fresh fault, so retries get through
        body = body_for("q00009", agent="r")
        replies = [post(url, body) for _ in range(15)]
        seen = [status for status, _ in replies]
        assert 504 in seen and 429 in seen
        clean = [raw for status, raw in replies if status == 200 and raw.endswith(b"}")]
        assert clean and len({json.loads(raw)["choices"][0]["message"]["content"] for raw in clean}) == 1
        malformed = 0
        for i in range(30):
            status, raw = post(url, body_for(f"q{i:05d}", agent="m"))
            if status == 200:
                try:
                    json.loads(raw)
                except json.JSONDecodeError:
                    malformed += 1
        assert malformed > 0
        stats = get(url.removesuffix("/v1") + "/stats")
        assert stats["by_status"]["504"] >= 1
    finally:
        srv.shutdown()
        srv.server_close()


def test_time_scale_sleeps_the_scaled_latency() -> None:
    srv, thread, url = start_server(time_scale=0.01)
    try:
        body = body_for("q00005", model="qwen3-8b", thinking={"type": "enabled", "budget_tokens": 2048})
        start = time.perf_counter()
        status, raw = post(url, body)
        elapsed = time.perf_counter() - start
        latency = json.loads(raw)["flowcompile"]["latency_s"]
        assert status == 200 and latency > 5
        assert elapsed >= 0.01 * latency
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.mark.parametrize("host", ["0.0.0.0", "8.8.8.8", "example.com"])
def test_refuses_non_loopback_hosts(host: str) -> None:
    with pytest.raises(ValueError, match="non-loopback"):
        start_server(host=host)


def test_localhost_is_allowed() -> None:
    srv, thread, url = start_server(host="localhost")
    try:
        assert url.startswith("http://127.0.0.1:") or url.startswith("http://localhost:")
        assert get(url + "/models")["object"] == "list"
    finally:
        srv.shutdown()
        srv.server_close()
