"""`flowcompile bench-latency`: the sim server's streaming, the fit, the command."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowcompile.latency import Timing, fit, load
from flowcompile.latency_bench import shown_endpoint
from flowcompile.sim.server import SimHTTPServer, start_server
from flowcompile.tools.cli import run_cli


@pytest.fixture(scope="module")
def instant() -> Iterator[str]:
    server, thread, url = start_server(time_scale=0.0)
    yield url
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _post(url: str, body: dict) -> bytes:
    request = urllib.request.Request(url + "/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def _events(raw: bytes) -> list[dict]:
    lines = [line for line in raw.decode().split("\n\n") if line.strip()]
    assert lines[-1] == "data: [DONE]"
    return [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]


BODY = {"model": "qwen3-8b", "messages": [{"role": "user", "content": "[sim-query q00001] Solve it."}],
        "thinking": {"type": "enabled", "budget_tokens": 256}}


def test_a_streamed_reply_is_the_reply_in_events(instant: str) -> None:
    whole = json.loads(_post(instant, BODY))
    events = _events(_post(instant, {**BODY, "stream": True, "stream_options": {"include_usage": True}}))
    deltas = [e["choices"][0]["delta"] for e in events if e["choices"]]
    kinds = [next(iter(k for k in d if k != "role"), None) for d in deltas]
    # thinking first, then the answer, then the finish (an empty delta)
    assert kinds[0] == "reasoning_content" and kinds[-2] == "content" and kinds[-1] is None
    assert kinds.index("content") > kinds.count("reasoning_content") - 1
    assert deltas[0]["role"] == "assistant"
    assert "".join(d.get("content", "") for d in deltas) == whole["choices"][0]["message"]["content"]
    assert events[-2]["choices"][0]["finish_reason"] == whole["choices"][0]["finish_reason"]
    assert events[-1]["choices"] == [] and events[-1]["usage"] == whole["usage"]
    assert all(e["object"] == "chat.completion.chunk" for e in events)


def test_without_include_usage_no_usage_chunk(instant: str) -> None:
    events = _events(_post(instant, {**BODY, "stream": True}))
    assert all("usage" not in e for e in events) and events[-1]["choices"][0]["finish_reason"]


def test_litellm_streams_from_the_sim_server(instant: str) -> None:
    import asyncio

    from flowcompile.backends.litellm_backend import load_litellm

    async def stream() -> tuple[str, object]:
        response = await load_litellm().acompletion(
            model="hosted_vllm/Qwen/Qwen3-0.6B", api_base=instant, api_key="none", messages=BODY["messages"],
            stream=True, stream_options={"include_usage": True}, max_tokens=40,
        )
        text, usage = "", None
        async for chunk in response:
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
            usage = getattr(chunk, "usage", None) or usage
        return text, usage

    text, usage = asyncio.run(stream())
    assert text and usage.completion_tokens == 40  # truncated at max_tokens  # pyright: ignore


def test_fit_recovers_the_law_from_exact_timings() -> None:
    ttft, prefill, decode, overhead = 0.05, 4000.0, 80.0, 0.02
    timings = [
        Timing(p, c, ttft + p / prefill, ttft + p / prefill + overhead + (c - 1) / decode)
        for p in (30, 2000) for c in (16, 256)
    ]
    got = fit(timings)
    assert got[0] == pytest.approx(ttft) and got[1] == pytest.approx(prefill) and got[2] == pytest.approx(decode)


def test_fit_without_a_prompt_slope_has_no_prefill_rate() -> None:
    timings = [Timing(30, c, 0.1, 0.1 + (c - 1) / 50) for c in (16, 256)] * 2
    assert fit(timings) == pytest.approx((0.1, None, 50.0))
    with pytest.raises(ValueError, match="no decode rate"):
        fit([Timing(30, c, 0.1, 0.2) for c in (16, 256)])


def test_the_endpoint_recorded_has_no_credentials() -> None:
    assert shown_endpoint("http://user:sk-abcdef123456@host:8000/v1?api_key=sk-x") == "http://host:8000/v1"
    assert shown_endpoint(None) == ""


SPEC = """workflow: tiny
models:
  qwen3-0.6b: {{litellm: hosted_vllm/Qwen/Qwen3-0.6B, api_base: "{url}", api_key_env: BENCH_TEST_KEY}}
agents:
  solve: {{role: solver, prompt: "Solve: {{query}}", models: [qwen3-0.6b], budgets: [0]}}
steps: [solve]
"""


@pytest.fixture()
def real_time() -> Iterator[tuple[SimHTTPServer, str]]:
    server, thread, url = start_server(time_scale=1.0)
    yield server, url
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_bench_latency_writes_a_versioned_table_without_the_key(tmp_path, real_time, monkeypatch, capsys) -> None:
    server, url = real_time
    secret = "sk-bench-secret-0123456789"
    monkeypatch.setenv("BENCH_TEST_KEY", secret)
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC.format(url=url), encoding="utf-8")
    out = tmp_path / "speeds.json"
    code = run_cli(["bench-latency", str(spec), "--backend", "litellm", "--requests", "4", "--concurrency", "2",
                    "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    text = out.read_text(encoding="utf-8")
    assert secret not in text and secret not in err
    table, _digest = load(out)
    assert table.concurrency == 2 and table.backend == "litellm" and not table.simulated
    speed = table.models["qwen3-0.6b"]
    assert speed.endpoint == url and speed.provider == "hosted_vllm/Qwen/Qwen3-0.6B" and speed.requests == 4
    assert speed.decode_tok_per_s > 0
    # the warm-up and the 4 timed requests, each with a prompt of its own (cold cache)
    stats = json.loads(urllib.request.urlopen(url.removesuffix("/v1") + "/stats", timeout=10).read())
    assert stats["by_status"] == {"200": 5} and len(stats["by_content"]) == 5


def test_bench_latency_on_a_model_the_endpoint_lacks_is_one_diagnostic(tmp_path, capsys) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC.format(url="http://127.0.0.1:1/v1").replace("Qwen3-0.6B", "Nope-1B")
                    .replace("qwen3-0.6b", "nope-1b"), encoding="utf-8")
    code = run_cli(["bench-latency", str(spec), "--backend", "sim", "--requests", "4"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.splitlines()[-1].startswith(f"{spec}: error: bench-latency: "), err
    assert "nope-1b" in err and "Traceback" not in err
