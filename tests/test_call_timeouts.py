"""Per-call time-outs derived from the call's tokens and the model's pace
(`flowcompile.backends.timeouts`), and the litellm backend using them."""

from __future__ import annotations

import asyncio

import pytest

from flowcompile.backends import CallRequest, CallResult
from flowcompile.backends.litellm_backend import LiteLLMBackend
from flowcompile.backends.timeouts import MIN_TIMEOUT_S, SLACK, UNMEASURED_TIMEOUT_S, WARM_CALLS, CallTimeouts
from flowcompile.sim import build_messages
from flowcompile.sim.world import FaultSpec
from helpers.profiling import serving

pytestmark = pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning", "ignore:coroutine.*never awaited")

MESSAGES = build_messages("solver", "solve", "[sim-query q00007] Solve it.")


def call(budget: int = 0, max_tokens: int | None = None, model: str = "m") -> CallRequest:
    return CallRequest(model=model, budget=budget, max_tokens=max_tokens)


def done(latency: float, out: int, reasoning: int = 0) -> CallResult:
    return CallResult(text="x", latency_s=latency, tokens_out=out, reasoning_tokens=reasoning)


def test_a_fixed_time_out_wins() -> None:
    assert CallTimeouts(12.5).for_request(call(4096)) == 12.5
    with pytest.raises(ValueError, match="timeout must be >= 0"):
        CallTimeouts(-1)


def test_time_outs_follow_the_budget_at_the_models_pace() -> None:
    timeouts = CallTimeouts()
    assert timeouts.for_request(call()) == UNMEASURED_TIMEOUT_S
    for _ in range(WARM_CALLS):
        timeouts.observe(call(), done(latency=2.0, out=200))  # 10 ms per token
        timeouts.observe(call(), done(latency=0.0, out=0, reasoning=0))  # nothing generated: ignored
        timeouts.observe(call(), CallResult(text="", error="timeout", latency_s=99.0))  # failures teach nothing
    assert timeouts.for_request(call(budget=16384)) == pytest.approx(SLACK * 0.01 * (16384 + 200))
    assert timeouts.for_request(call(budget=0)) == MIN_TIMEOUT_S  # short calls keep the floor
    assert timeouts.for_request(call(budget=0, max_tokens=50_000)) == pytest.approx(SLACK * 0.01 * 50_000)
    assert timeouts.for_request(call(model="other")) == UNMEASURED_TIMEOUT_S  # each model its own pace


def _request(url: str, budget: int) -> CallRequest:
    return CallRequest(model="qwen3-32b", provider_model="hosted_vllm/Qwen/Qwen3-32B", api_base=url,
                       budget=budget, messages=MESSAGES)


def test_the_litellm_backend_learns_the_pace_and_cuts_a_hung_call_at_it() -> None:
    with serving(time_scale=0.01, timeout_sleep_s=30.0) as (srv, url):
        backend = LiteLLMBackend(num_retries=0)
        backend.timeouts.floor_s = 0.05
        for _ in range(WARM_CALLS):
            assert asyncio.run(backend.call(_request(url, 0))).ok
        long = asyncio.run(backend.call(_request(url, 4096)))
        assert long.ok  # a reasoning call gets a time-out its tokens need
        assert backend.timeouts.for_request(_request(url, 4096)) > backend.timeouts.for_request(_request(url, 0))
        assert backend.timeouts.for_request(_request(url, 4096)) >= long.latency_s
        # the server now hangs: the short call is cut at its own time-out, far below the hang
        srv.state.sim.world = srv.state.sim.world.model_copy(update={"faults": FaultSpec(timeout=1.0)})
        limit = backend.timeouts.for_request(_request(url, 0))
        assert limit < 30.0
        hung = asyncio.run(backend.call(_request(url, 0)))
        assert hung.error == "timeout"
