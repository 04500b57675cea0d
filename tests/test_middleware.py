"""Middleware: retries with capped exponential backoff, caching, counting, bounded_gather."""

from __future__ import annotations

import asyncio
import inspect
import random
from collections.abc import Iterable
from pathlib import Path

import pytest

from flowcompile.backends import CallRequest, CallResult
from flowcompile.backends.middleware import (
    CachedBackend,
    CountingBackend,
    RetryingBackend,
    bounded_gather,
    layers,
    summary_line,
)
from flowcompile.backends.store import ProfileStore

REQ = CallRequest(model="m", messages=[("user", "hello")])
OK = CallResult(text="fine", latency_s=4.5, tokens_in=3, tokens_out=9, reasoning_tokens=100, cost=0.01)


class Scripted:
    """A backend answering from a script of results (the last one repeats)."""

    name = "fake"

    def __init__(self, results: Iterable[CallResult], delay: float = 0.0) -> None:
        self.results = list(results)
        self.calls: list[CallRequest] = []
        self.delay = delay

    async def call(self, request: CallRequest) -> CallResult:
        self.calls.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        return self.results[min(len(self.calls) - 1, len(self.results) - 1)]


class FakeSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def fail(kind: str) -> CallResult:
    return CallResult(error=kind, latency_s=0.05)


def test_backoff_grows_exponentially_then_gives_up() -> None:
    inner, sleep = Scripted([fail("rate_limit")]), FakeSleep()
    backend = RetryingBackend(inner, max_attempts=6, base_delay=0.5, max_delay=20.0, jitter=0.0, sleep=sleep)
    result = asyncio.run(backend.call(REQ))
    assert result.error == "rate_limit"
    assert len(inner.calls) == 6
    assert sleep.delays == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert backend.counters["retries"] == 5 and backend.counters["gave_up"] == 1


def test_backoff_is_capped() -> None:
    inner, sleep = Scripted([fail("server_error")]), FakeSleep()
    backend = RetryingBackend(inner, max_attempts=8, base_delay=1.0, max_delay=5.0, jitter=0.0, sleep=sleep)
    asyncio.run(backend.call(REQ))
    assert sleep.delays == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0]


def test_jitter_shortens_within_bounds_and_is_seeded() -> None:
    def delays(seed: int) -> list[float]:
        sleep = FakeSleep()
        backend = RetryingBackend(
            Scripted([fail("timeout")]), max_attempts=7, base_delay=0.5, max_delay=10.0, jitter=0.5,
            sleep=sleep, rng=random.Random(seed),
        )
        asyncio.run(backend.call(REQ))
        return sleep.delays

    nominal = [0.5, 1.0, 2.0, 4.0, 8.0, 10.0]
    got = delays(1)
    assert all(0.5 * n <= d <= n for d, n in zip(got, nominal, strict=True))
    assert got != nominal  # jitter did something
    assert got == delays(1) and got != delays(2)


@pytest.mark.parametrize("kind", ["rate_limit", "server_error", "timeout", "malformed"])
def test_retryable_errors_are_retried_until_success(kind: str) -> None:
    inner, sleep = Scripted([fail(kind), fail(kind), OK]), FakeSleep()
    backend = RetryingBackend(inner, sleep=sleep)
    assert asyncio.run(backend.call(REQ)) == OK
    assert len(inner.calls) == 3 and len(sleep.delays) == 2


@pytest.mark.parametrize("kind", ["auth", "bad_request", "not_found", "error", "no recorded reply"])
def test_permanent_errors_are_not_retried(kind: str) -> None:
    inner, sleep = Scripted([fail(kind), OK]), FakeSleep()
    backend = RetryingBackend(inner, sleep=sleep)
    assert asyncio.run(backend.call(REQ)).error == kind
    assert len(inner.calls) == 1 and sleep.delays == []
    assert backend.counters["failures"] == 1


def test_retry_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        RetryingBackend(Scripted([OK]), max_attempts=0)
    with pytest.raises(ValueError):
        RetryingBackend(Scripted([OK]), jitter=1.5)


def test_cache_hit_skips_inner_and_keeps_measured_latency(tmp_path: Path) -> None:
    inner = Scripted([OK])
    with ProfileStore(tmp_path / "p.db") as store:
        backend = CachedBackend(inner, store)
        first = asyncio.run(backend.call(REQ))
        second = asyncio.run(backend.call(REQ))
    assert len(inner.calls) == 1
    assert not first.cached and second.cached
    assert second.latency_s == 4.5 and second == OK  # the original measurement, not ~0
    assert backend.counters["cache_hits"] == 1 and backend.counters["calls"] == 1
    # a new process (new store object) resumes from the file
    inner2 = Scripted([CallResult(text="other")])
    with ProfileStore(tmp_path / "p.db") as store:
        again = asyncio.run(CachedBackend(inner2, store).call(REQ))
    assert inner2.calls == [] and again.text == "fine" and again.cached


def test_cache_does_not_keep_failures(tmp_path: Path) -> None:
    inner = Scripted([fail("auth"), OK])
    with ProfileStore(tmp_path / "p.db") as store:
        backend = CachedBackend(inner, store)
        assert asyncio.run(backend.call(REQ)).error == "auth"
        assert asyncio.run(backend.call(REQ)) == OK
        assert len(inner.calls) == 2 and len(store) == 1


def test_identical_requests_in_flight_share_one_call(tmp_path: Path) -> None:
    inner = Scripted([OK], delay=0.01)

    async def main(backend: CachedBackend) -> list[CallResult]:
        other = CallRequest(model="m", messages=[("user", "other")])
        return await asyncio.gather(backend.call(REQ), backend.call(REQ), backend.call(other))

    with ProfileStore(tmp_path / "p.db") as store:
        backend = CachedBackend(inner, store)
        results = asyncio.run(main(backend))
    assert results[0] == results[1] == OK
    assert len(inner.calls) == 2 and backend.counters["shared"] == 1


def test_stack_counts_and_summary(tmp_path: Path) -> None:
    inner = Scripted([fail("rate_limit"), OK])
    counting = CountingBackend(inner)
    with ProfileStore(tmp_path / "p.db") as store:
        stack = CachedBackend(RetryingBackend(counting, sleep=FakeSleep()), store)
        for _ in range(3):
            asyncio.run(stack.call(REQ))
    names = [type(b).__name__ for b in layers(stack)]
    assert names == ["CachedBackend", "RetryingBackend", "CountingBackend", "Scripted"]
    assert counting.counters["calls"] == 2 and counting.counters["error:rate_limit"] == 1
    line = summary_line(stack)
    assert line == "cached: 2 cache hits, 1 calls | retrying: 2 calls, 1 retries | counting: 2 calls, 1 failures, 1 ok"
    assert stack.name == "fake"


def test_bounded_gather_never_exceeds_limit_and_keeps_order() -> None:
    running = peak = 0

    async def job(i: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        for _ in range(3):
            await asyncio.sleep(0)
        running -= 1
        return i * i

    results = asyncio.run(bounded_gather((job(i) for i in range(50)), limit=4))
    assert results == [i * i for i in range(50)]
    assert peak == 4


def test_bounded_gather_cancels_the_rest_on_error() -> None:
    started: list[int] = []

    async def job(i: int) -> int:
        started.append(i)
        await asyncio.sleep(0)
        if i == 1:
            raise RuntimeError("boom")
        await asyncio.sleep(0.05)
        return i

    coros = [job(i) for i in range(10)]
    with pytest.raises(RuntimeError, match="boom"):
        asyncio.run(bounded_gather(coros, limit=2))
    assert started[:2] == [0, 1] and len(started) < 10
    # the rest were cancelled or closed, none left un-awaited
    assert all(inspect.getcoroutinestate(c) == inspect.CORO_CLOSED for c in coros)
    out = asyncio.run(bounded_gather([job(i) for i in range(3)], limit=2, return_exceptions=True))
    assert out[0] == 0 and isinstance(out[1], RuntimeError) and out[2] == 2
    with pytest.raises(ValueError):
        asyncio.run(bounded_gather([], limit=0))
