"""LiteLLMBackend: the budget table (one test per row), real HTTP against the simulated
server on 127.0.0.1 (exact budgets, faults), key scrubbing, and the lazy import."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
import yaml

from flowcompile.backends import CallRequest, get_backend
from flowcompile.backends.litellm_backend import (
    BUDGET_TABLE,
    FALLBACK_RULE,
    PLACEHOLDER_KEY,
    LiteLLMBackend,
    MissingKeyError,
    budget_params,
    budget_rule,
    error_kind,
    load_litellm,
    reasoning_tokens,
    scrub,
)
from flowcompile.backends.store import key_fields, request_key
from flowcompile.sim import DEFAULT_WORLD, SimWorld, build_messages, parse_world
from flowcompile.sim.server import start_server
from helpers.profiling import http_server

# litellm's pydantic models warn about ReadOnly TypedDict items on first use; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning")

MESSAGES = build_messages("solver", "solve", "[sim-query q00007] Solve it.")


# -- the budget table: one test per row ------------------------------------------------

EXACT = lambda n: {"extra_body": {"thinking": {"type": "enabled", "budget_tokens": n}}}  # noqa: E731
TESTED_ROWS: set[tuple[tuple[str, ...], bool | None]] = set()


def row_test(prefixes: tuple[str, ...], api_base: bool | None):  # type: ignore[no-untyped-def]
    TESTED_ROWS.add((prefixes, api_base))
    return lambda f: f


@row_test(("hosted_vllm",), None)
def test_row_hosted_vllm_exact_budget_in_extra_body() -> None:
    for base in ("http://127.0.0.1:8000/v1", None):
        assert budget_params("hosted_vllm/Qwen/Qwen3-8B", base, 2048) == EXACT(2048)
        assert budget_params("hosted_vllm/Qwen/Qwen3-8B", base, 1) == EXACT(1)
        assert budget_params("hosted_vllm/Qwen/Qwen3-8B", base, 0) == {
            "extra_body": {"chat_template_kwargs": {"enable_thinking": False}}
        }


@row_test(("openai",), True)
def test_row_openai_compatible_server_exact_budget_in_extra_body() -> None:
    assert budget_params("openai/qwen3-8b", "http://127.0.0.1:9/v1", 3000) == EXACT(3000)
    assert budget_params("openai/qwen3-8b", "http://127.0.0.1:9/v1", 0) == {}


@row_test(("openai",), False)
def test_row_openai_reasoning_effort_thresholds() -> None:
    expected = {1: "low", 1024: "low", 2047: "low", 2048: "medium", 4095: "medium", 4096: "high", 32000: "high"}
    for n, effort in expected.items():
        assert budget_params("openai/o4-mini", None, n) == {"reasoning_effort": effort}
    assert budget_params("openai/o4-mini", None, 0) == {}
    # OpenAI's own endpoint given explicitly is still OpenAI
    assert budget_params("openai/o4-mini", "https://api.openai.com/v1", 2048) == {"reasoning_effort": "medium"}


@row_test(("anthropic",), None)
def test_row_anthropic_thinking_with_minimum() -> None:
    thinking = lambda n: {"thinking": {"type": "enabled", "budget_tokens": n}}  # noqa: E731
    assert budget_params("anthropic/claude-sonnet-4-5", None, 512) == thinking(1024)
    assert budget_params("anthropic/claude-sonnet-4-5", None, 5000) == thinking(5000)
    assert budget_params("anthropic/claude-sonnet-4-5", None, 0) == {}


@row_test(("gemini", "vertex_ai"), None)
def test_row_gemini_and_vertex_thinking_budget() -> None:
    for model in ("gemini/gemini-2.5-flash", "vertex_ai/gemini-2.5-flash"):
        assert budget_params(model, None, 777) == {"thinking": {"type": "enabled", "budget_tokens": 777}}
        assert budget_params(model, None, 0) == {"thinking": {"type": "enabled", "budget_tokens": 0}}


@row_test(("ollama", "ollama_chat"), None)
def test_row_ollama_think_switch() -> None:
    for model in ("ollama/qwen3:8b", "ollama_chat/qwen3:8b"):
        assert budget_params(model, "http://127.0.0.1:11434", 4096) == {"extra_body": {"think": True}}
        assert budget_params(model, "http://127.0.0.1:11434", 0) == {"extra_body": {"think": False}}


def test_row_fallback_reasoning_effort() -> None:
    for model in ("deepseek/deepseek-reasoner", "gpt-4o", "groq/qwen3-32b"):
        assert budget_rule(model, None) is FALLBACK_RULE
        assert budget_params(model, None, 1500) == {"reasoning_effort": "low"}
        assert budget_params(model, None, 0) == {}


def test_every_row_has_a_test() -> None:
    assert {(r.prefixes, r.api_base) for r in BUDGET_TABLE} == TESTED_ROWS


def test_budget_params_returns_fresh_dicts() -> None:
    first = budget_params("hosted_vllm/x", None, 0)
    first["extra_body"]["chat_template_kwargs"]["enable_thinking"] = True
    assert budget_params("hosted_vllm/x", None, 0)["extra_body"]["chat_template_kwargs"]["enable_thinking"] is False
    with pytest.raises(ValueError):
        budget_params("hosted_vllm/x", None, -1)


# -- what litellm puts on the wire (loopback capture server) -----------------------------


class _Capture(BaseHTTPRequestHandler):
    bodies: list[tuple[str, dict[str, Any], dict[str, str]]] = []
    reply_status = 400
    reply_body = b'{"error": {"message": "captured", "type": "invalid_request_error"}}'

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).bodies.append((self.path, json.loads(raw or b"{}"), dict(self.headers)))
        self.send_response(self.reply_status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.reply_body)))
        self.end_headers()
        self.wfile.write(self.reply_body)


@pytest.fixture(scope="module")
def litellm_mod() -> ModuleType:
    """litellm, imported once for the whole module (it takes seconds)."""
    return load_litellm()


@pytest.fixture()
def capture(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, type[_Capture]]]:
    # fake keys: the providers' clients refuse to start without one; nothing leaves 127.0.0.1
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-fake-key-for-tests")
    monkeypatch.setenv("GEMINI_API_KEY", "fake-gemini-key-for-tests")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-openai-key-for-tests")
    handler = type("Capture", (_Capture,), {"bodies": []})
    with http_server(handler) as url:
        yield url, handler


WIRE_CASES = [
    ("hosted_vllm/qwen3-8b", "/v1", 2048, {"thinking": {"type": "enabled", "budget_tokens": 2048}}),
    ("hosted_vllm/qwen3-8b", "/v1", 0, {"chat_template_kwargs": {"enable_thinking": False}}),
    ("openai/qwen3-8b", "/v1", 1500, {"thinking": {"type": "enabled", "budget_tokens": 1500}}),
    ("anthropic/claude-sonnet-4-5", "", 2048, {"thinking": {"type": "enabled", "budget_tokens": 2048}}),
    ("gemini/gemini-2.5-flash", "", 2048, {"generationConfig": {"thinkingConfig": {"thinkingBudget": 2048}}}),
    ("gemini/gemini-2.5-flash", "", 0, {"generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}}),
    ("ollama_chat/qwen3:8b", "", 1024, {"think": True}),
    ("ollama/qwen3:8b", "", 0, {"think": False}),
]


@pytest.mark.parametrize(("model", "suffix", "budget", "expected"), WIRE_CASES)
def test_litellm_sends_the_budget_as_the_table_says(
    litellm_mod: ModuleType, capture: tuple[str, type[_Capture]], model: str, suffix: str, budget: int,
    expected: dict[str, Any],
) -> None:
    url, handler = capture
    request = CallRequest(model="m", provider_model=model, api_base=url + suffix, budget=budget, messages=MESSAGES)
    result = asyncio.run(LiteLLMBackend(timeout=10).call(request))
    assert result.error == "bad_request"  # the capture server answers 400
    assert len(handler.bodies) == 1
    body = handler.bodies[0][1]
    assert _contains(body, expected), body
    assert "reasoning_effort" not in body


def _contains(body: Any, expected: Any) -> bool:
    """Whether `expected` is a sub-tree of `body` (dict keys may be missing from `expected`)."""
    if isinstance(expected, dict):
        return isinstance(body, dict) and all(k in body and _contains(body[k], v) for k, v in expected.items())
    return body == expected


# -- real HTTP against the simulated server -------------------------------------------


def _world(**faults: float) -> SimWorld:
    data = copy.deepcopy(yaml.safe_load(DEFAULT_WORLD.read_text()))
    data["faults"].update(faults)
    return SimWorld(parse_world(data))


@pytest.fixture(scope="module")
def sim_server(litellm_mod: ModuleType) -> Iterator[tuple[SimWorld, str]]:
    sim = SimWorld()
    server, thread, url = start_server(sim, host="127.0.0.1")
    yield sim, url
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url.removesuffix("/v1") + "/stats", timeout=5) as resp:
        return json.load(resp)


@pytest.mark.parametrize(("budget", "sample"), [(0, 0), (2048, 0), (1500, 1)])
def test_real_http_matches_the_in_process_world(sim_server: tuple[SimWorld, str], budget: int, sample: int) -> None:
    sim, url = sim_server
    before = _stats(url)["total"]
    spec = sim.world.model("qwen3-8b")
    request = CallRequest(
        model="qwen3-8b", provider_model="hosted_vllm/qwen3-8b", api_base=url, budget=budget, sample=sample,
        messages=MESSAGES, price_in=spec.price_in, price_out=spec.output_price(budget),
    )
    got = asyncio.run(get_backend("litellm", timeout=10).call(request))
    expected = sim.respond(CallRequest(model="qwen3-8b", budget=budget, sample=sample, messages=MESSAGES))
    assert got.error is None, got.text
    assert got.text == expected.text
    assert (got.tokens_in, got.tokens_out, got.reasoning_tokens) == (
        expected.tokens_in, expected.tokens_out, expected.reasoning_tokens,
    )
    assert (expected.reasoning_tokens > 0) == (budget > 0)  # the exact budget arrived
    assert got.reasoning_source == "usage"
    assert got.cost == pytest.approx(expected.cost)  # litellm cannot price it: the request's prices
    assert 0 < got.latency_s < 5  # the wall clock of this call, not the simulated latency
    stats = _stats(url)
    assert stats["total"] == before + 1 and stats["by_model"]["qwen3-8b"] >= 1


@pytest.mark.parametrize(
    ("fault", "status"), [("rate_limit", "429"), ("server_error", "500"), ("timeout", "504"), ("malformed", "200")]
)
def test_server_faults_map_to_error_kinds(litellm_mod: ModuleType, fault: str, status: str) -> None:
    server, thread, url = start_server(_world(**{fault: 1.0}))
    try:
        request = CallRequest(model="qwen3-8b", provider_model="hosted_vllm/qwen3-8b", api_base=url, messages=MESSAGES)
        result = asyncio.run(LiteLLMBackend(timeout=10).call(request))
        assert result.error == fault and result.retryable
        assert "\n" not in result.text and result.text.startswith(fault)
        assert _stats(url)["by_status"] == {status: 1}  # litellm did not retry on its own
    finally:
        server.shutdown()
        server.server_close()


# -- errors and keys -------------------------------------------------------------------


def test_scrub_masks_keys_and_env_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYPROVIDER_API_KEY", "zq9-very-secret-value-42")
    text = "bad key sk-proj-AbCdEf0123456789xyz\nsent zq9-very-secret-value-42 Authorization: Bearer abcdefghijklmnop"
    out = scrub(text)
    assert "AbCdEf0123456789" not in out and "zq9-very-secret" not in out and "abcdefghijklmnop" not in out
    assert "\n" not in out and "sk-***" in out
    assert len(scrub("x" * 1000)) == 300


def test_auth_failure_message_never_contains_the_key(
    litellm_mod: ModuleType, capture: tuple[str, type[_Capture]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = capture
    secret = "sk-test-THISISSECRET1234567890"
    monkeypatch.setenv("HOSTED_VLLM_API_KEY", secret)
    handler.reply_status = 401
    # a careless server that echoes the key back in its error
    handler.reply_body = json.dumps({"error": {"message": f"invalid api key {secret}\nretry", "type": "auth"}}).encode()
    request = CallRequest(model="m", provider_model="hosted_vllm/qwen3-8b", api_base=url + "/v1", messages=MESSAGES)
    result = asyncio.run(LiteLLMBackend(timeout=10).call(request))
    headers = {k.lower(): v for k, v in handler.bodies[0][2].items()}
    assert headers["authorization"] == f"Bearer {secret}"  # the key was really used
    assert result.error == "auth" and not result.retryable
    assert secret not in result.text and "THISISSECRET" not in result.text and "\n" not in result.text


OK_REPLY = json.dumps({
    "id": "x", "object": "chat.completion", "created": 0, "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "12"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
}).encode()


def test_api_key_env_none_calls_a_local_server_without_any_key_set(
    litellm_mod: ModuleType, capture: tuple[str, type[_Capture]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = capture
    monkeypatch.delenv("OPENAI_API_KEY")  # the user set no dummy variable
    handler.reply_status, handler.reply_body = 200, OK_REPLY
    request = CallRequest(model="m", provider_model="openai/m", api_base=url + "/v1", api_key_env="none",
                          messages=MESSAGES)
    result = asyncio.run(LiteLLMBackend(timeout=10).call(request))
    assert result.ok and result.text == "12", result.text
    headers = {k.lower(): v for k, v in handler.bodies[0][2].items()}
    assert headers["authorization"] == f"Bearer {PLACEHOLDER_KEY}"


def test_api_key_env_names_the_variable_the_key_is_read_from(
    litellm_mod: ModuleType, capture: tuple[str, type[_Capture]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = capture
    secret = "local-vllm-secret-98765"  # no key-like prefix, in a variable without a key-like name
    monkeypatch.setenv("MY_SERVER", secret)
    handler.reply_status = 401
    handler.reply_body = json.dumps({"error": {"message": f"bad key {secret}", "type": "auth"}}).encode()
    request = CallRequest(model="m", provider_model="openai/m", api_base=url + "/v1", api_key_env="MY_SERVER",
                          messages=MESSAGES)
    assert LiteLLMBackend().kwargs(request)["api_key"] == secret
    result = asyncio.run(LiteLLMBackend(timeout=10).call(request))
    headers = {k.lower(): v for k, v in handler.bodies[0][2].items()}
    assert headers["authorization"] == f"Bearer {secret}"  # not OPENAI_API_KEY's fake key
    assert result.error == "auth" and secret not in result.text and secret not in result.failure_text()


def test_a_missing_key_variable_fails_the_call_without_sending_it(
    capture: tuple[str, type[_Capture]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, handler = capture
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    request = CallRequest(model="m", provider_model="openai/m", api_base=url + "/v1", api_key_env="NOT_SET_ANYWHERE",
                          messages=MESSAGES)
    with pytest.raises(MissingKeyError):
        LiteLLMBackend().kwargs(request)
    result = asyncio.run(LiteLLMBackend(timeout=10).call(request))
    assert result.error == "auth" and not result.retryable and "NOT_SET_ANYWHERE" in result.text
    assert handler.bodies == []
    assert "api_key" not in LiteLLMBackend().kwargs(CallRequest(model="m", provider_model="openai/m"))


def test_the_key_variable_is_not_part_of_the_cache_key() -> None:
    plain = CallRequest(model="m", provider_model="openai/m", messages=MESSAGES)
    named = CallRequest(model="m", provider_model="openai/m", messages=MESSAGES, api_key_env="MY_SERVER")
    assert "api_key_env" not in key_fields("litellm", named)
    assert request_key("litellm", plain) == request_key("litellm", named)


def test_error_kinds(litellm_mod: ModuleType) -> None:
    lm = litellm_mod
    bad_body = lm.BadRequestError("invalid JSON body: Expecting value", model="m", llm_provider="openai")
    assert error_kind(bad_body, lm) == "bad_request"
    assert error_kind(lm.NotFoundError("no such model", model="m", llm_provider="openai"), lm) == "not_found"
    try:
        json.loads("{")
    except json.JSONDecodeError as exc:
        assert error_kind(exc, lm) == "malformed"
    no_key = lm.InternalServerError("OpenAIException - Missing credentials. Please pass an `api_key`", "openai", "m")
    assert error_kind(no_key, lm) == "auth"  # litellm calls it a server error; retrying cannot help
    assert error_kind(lm.InternalServerError("boom", "openai", "m"), lm) == "server_error"
    assert error_kind(asyncio.TimeoutError(), lm) == "timeout"
    assert error_kind(RuntimeError("???"), lm) == "error"


def test_malformed_replies(litellm_mod: ModuleType) -> None:
    request = CallRequest(model="m", provider_model="hosted_vllm/m", messages=MESSAGES)
    empty = SimpleNamespace(choices=[], usage=None)
    assert LiteLLMBackend._result(litellm_mod, request, empty, 0.1).error == "malformed"
    odd = SimpleNamespace(choices=[SimpleNamespace(message=SimpleNamespace(content=42))], usage=None)
    assert LiteLLMBackend._result(litellm_mod, request, odd, 0.1).error == "malformed"


def test_reasoning_token_sources() -> None:
    usage = {"completion_tokens": 50, "completion_tokens_details": {"reasoning_tokens": 30}}
    assert reasoning_tokens(usage, {"reasoning_content": "x" * 400}) == (30, "usage")
    no_details = {"completion_tokens": 150}
    assert reasoning_tokens(no_details, {"reasoning_content": "x" * 400}) == (100, "estimate")
    zero = {"completion_tokens": 150, "completion_tokens_details": {"reasoning_tokens": 0}}
    assert reasoning_tokens(zero, {"reasoning_content": "x" * 40}) == (10, "estimate")
    assert reasoning_tokens(zero, {"content": "hi"}) == (0, "usage")
    assert reasoning_tokens(None, SimpleNamespace(content="hi")) == (0, "none")
    bogus = {"completion_tokens_details": {"reasoning_tokens": "lots"}}
    assert reasoning_tokens(bogus, None) == (0, "none")


def test_missing_provider_model_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="provider_model"):
        asyncio.run(LiteLLMBackend().call(CallRequest(model="qwen3-8b", messages=MESSAGES)))


def test_importing_the_backend_does_not_import_litellm() -> None:
    code = (
        "import sys, flowcompile.backends.litellm_backend, flowcompile.backends.middleware, "
        "flowcompile.backends.replay, flowcompile.backends.store;"
        "from flowcompile.backends import get_backend; get_backend('litellm');"
        "print(any(m == 'litellm' or m.startswith('litellm.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
