"""Time-outs that cancel, and retries that wait as long as the service asks.

* a litellm call that times out closes its connection, and the simulated server,
  seeing the hang-up, stops generating (counted under status 499, no reply sent);
* `RetryingBackend` waits exactly the Retry-After a failure carries (else its own
  back-off), and the litellm backend reads that header (`retry-after-ms`,
  `retry-after` in seconds or as an HTTP date) from the real HTTP reply.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from email.utils import formatdate
from types import SimpleNamespace

import pytest

from flowcompile.backends import CallRequest, CallResult
from flowcompile.backends.litellm_backend import MAX_RETRY_AFTER, LiteLLMBackend, retry_after
from flowcompile.backends.middleware import RetryingBackend
from flowcompile.sim import build_messages
from flowcompile.sim.server import CLIENT_CLOSED, SimHTTPServer
from flowcompile.sim.world import FaultSpec
from helpers.profiling import serving, stats

pytestmark = pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning", "ignore:coroutine.*never awaited")

MESSAGES = build_messages("solver", "solve", "[sim-query q00007] Solve it.")


@pytest.fixture()
def slow_server() -> Iterator[tuple[SimHTTPServer, str]]:
    """A server in real simulated time: a 32B model thinking 4096 tokens takes many seconds."""
    with serving(time_scale=1.0) as served:
        yield served


def request(url: str, budget: int = 4096) -> CallRequest:
    return CallRequest(model="qwen3-32b", provider_model="hosted_vllm/Qwen/Qwen3-32B", api_base=url,
                       budget=budget, messages=MESSAGES)


def wait_for(predicate, limit: float = 20.0) -> bool:
    """Poll `predicate` until true or `limit` seconds (a bound on waiting, not a timing claim)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_a_timed_out_call_hangs_up_and_the_server_stops_generating(slow_server) -> None:
    srv, url = slow_server
    result = asyncio.run(LiteLLMBackend(timeout=0.5).call(request(url)))
    assert result.error == "timeout" and result.retryable
    # The server noticed the closed connection and gave up the generation: no reply was sent.
    assert wait_for(lambda: stats(url)["by_status"].get(str(CLIENT_CLOSED), 0) == 1), stats(url)
    assert "200" not in stats(url)["by_status"]


def test_the_server_stops_a_timeout_fault_sleep_on_hang_up() -> None:
    with serving(time_scale=0.0, timeout_sleep_s=30.0) as (srv, url):
        srv.state.sim.world = srv.state.sim.world.model_copy(update={"faults": FaultSpec(timeout=1.0)})
        result = asyncio.run(LiteLLMBackend(timeout=0.5).call(request(url, 0)))
        assert result.error == "timeout"
        assert wait_for(lambda: stats(url)["by_status"].get(str(CLIENT_CLOSED), 0) == 1), stats(url)
        assert "504" not in stats(url)["by_status"]  # the 30 s sleep did not run to its end


class Scripted:
    """A backend answering from a list of results, in order."""

    name = "scripted"

    def __init__(self, *results: CallResult) -> None:
        self.results = list(results)

    async def call(self, request: CallRequest) -> CallResult:
        return self.results.pop(0)


def test_retries_wait_the_retry_after_the_service_gave() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    backend = RetryingBackend(
        Scripted(
            CallResult(error="rate_limit", retry_after=1.25),
            CallResult(error="server_error"),  # no header: the back-off's own wait
            CallResult(error="rate_limit", retry_after=0.0),
            CallResult(text="ok"),
        ),
        base_delay=0.5, jitter=0.0, sleep=sleep,
    )
    result = asyncio.run(backend.call(request("http://unused/v1")))
    assert result.ok and result.text == "ok"
    assert slept == [1.25, 1.0, 0.0]


def test_retry_after_headers_are_read() -> None:
    def exc(**headers: str) -> Exception:
        e = Exception("x")
        e.litellm_response_headers = headers  # type: ignore[attr-defined]
        return e

    assert retry_after(exc(**{"retry-after-ms": "50"})) == pytest.approx(0.05)
    assert retry_after(exc(**{"Retry-After": "3"})) == 3.0
    date = retry_after(exc(**{"retry-after": formatdate(time.time() + 120, usegmt=True)}))
    assert date is not None and 100 < date <= 121
    assert retry_after(exc(**{"retry-after": "soon"})) is None
    assert retry_after(exc(**{"retry-after": "-4"})) == 0.0
    assert retry_after(exc(**{"retry-after": "99999"})) == MAX_RETRY_AFTER
    assert retry_after(exc()) is None
    plain = Exception("no headers")
    plain.response = SimpleNamespace(headers={"retry-after": "2"})  # type: ignore[attr-defined]
    assert retry_after(plain) == 2.0


def test_the_servers_retry_after_reaches_the_result() -> None:
    with serving(time_scale=0.0) as (srv, url):
        srv.state.sim.world = srv.state.sim.world.model_copy(update={"faults": FaultSpec(rate_limit=1.0)})
        result = asyncio.run(LiteLLMBackend(timeout=10).call(request(url, 0)))
        assert result.error == "rate_limit"
        assert result.retry_after == pytest.approx(0.05)  # the sim's retry-after-ms: 50
