"""Composable backend wrappers: caching, retrying, counting; and bounded concurrency.

Each wrapper is itself a `Backend` holding `inner` and a `counters` Counter, so
a stack such as ``CachedBackend(RetryingBackend(LiteLLMBackend()), store)``
can be summarised in one line by `summary_line`. The cache sits outside the
retries: a hit never reaches the service, and only the final, successful
attempt is stored.
"""

from __future__ import annotations

import asyncio
import inspect
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

from flowcompile.backends.base import Backend, CallRequest, CallResult
from flowcompile.backends.reader import TEXT_READER, Endpoints, LazyReader, Reader, get_reader, known_readers, reader_of
from flowcompile.backends.store import ProfileStore, request_key

T = TypeVar("T")


class CountingBackend:
    """Counts calls, successes and failures (by kind) passing through to `inner`."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name
        self.counters: Counter[str] = Counter()

    async def call(self, request: CallRequest) -> CallResult:
        """Forward `request` and count its outcome."""
        self.counters["calls"] += 1
        result = await self.inner.call(request)
        if result.ok:
            self.counters["ok"] += 1
        else:
            self.counters["failures"] += 1
            self.counters[f"error:{result.error}"] += 1
        return result


class CachedBackend:
    """Answers from a `ProfileStore` when it can, else calls `inner` and stores success.

    Identical requests in flight at the same time share one inner call."""

    def __init__(self, inner: Backend, store: ProfileStore) -> None:
        self.inner = inner
        self.store = store
        self.name = inner.name
        self.counters: Counter[str] = Counter()
        self._in_flight: dict[str, asyncio.Future[CallResult]] = {}

    def reader_for(self, endpoints: Endpoints) -> Reader:
        """`inner`'s reader, which the store remembers for these endpoints: a
        rerun answered from the store reads its replies as the first run did,
        with the endpoints unreachable (whose replies would read as free text)."""
        inner = reader_of(self.inner, endpoints)
        key = " ".join(sorted({base or "-" for base in endpoints}))

        def choose() -> Reader:
            if inner.name != TEXT_READER.name:
                self.store.remember_reader(key, inner.name)
                return inner
            remembered = self.store.remembered_reader(key)
            return get_reader(remembered) if remembered is not None and remembered in known_readers() else inner

        return LazyReader(choose)

    async def call(self, request: CallRequest) -> CallResult:
        """The stored result (marked cached=True) or a fresh one."""
        hit = self.store.get(self.name, request)
        if hit is not None:
            self.counters["cache_hits"] += 1
            return replace(hit, cached=True)
        key = request_key(self.name, request)
        pending = self._in_flight.get(key)
        if pending is not None:
            self.counters["shared"] += 1
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                if not pending.cancelled():
                    raise  # this caller was cancelled
                return await self.call(request)  # the caller that owned the call was
        future: asyncio.Future[CallResult] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            self.counters["calls"] += 1
            result = await self.inner.call(request)
            if result.ok:
                # Another process may have stored this call first: use its result, so
                # this run measures what the cache holds and a rerun reproduces it.
                result = self.store.record(self.name, request, result)
            else:
                self.counters["failures"] += 1
            future.set_result(result)
            return result
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            # nobody else may be waiting; keep asyncio from warning about it
            future.exception()
            raise
        finally:
            del self._in_flight[key]


class RetryingBackend:
    """Retries transient failures (`CallResult.retryable`) with capped exponential backoff.

    The wait before retry k (k = 1, 2, ...) is ``min(max_delay, base_delay * 2**(k-1))``
    shortened by a random fraction of at most `jitter`, so it never exceeds the cap
    and concurrent callers spread out; when the service said how long to wait
    (`CallResult.retry_after`, its Retry-After header), exactly that, since
    retrying sooner only earns another refusal. After `max_attempts` the last
    failure is returned.
    """

    def __init__(
        self,
        inner: Backend,
        max_attempts: int = 6,
        base_delay: float = 0.5,
        max_delay: float = 20.0,
        jitter: float = 0.5,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        if base_delay < 0 or max_delay < 0:
            raise ValueError("delays must be >= 0")
        if not 0.0 <= jitter <= 1.0:
            raise ValueError(f"jitter must be in [0, 1], got {jitter}")
        self.inner = inner
        self.name = inner.name
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.jitter = jitter
        self.sleep = sleep
        self.rng = rng if rng is not None else random.Random(0)
        self.counters: Counter[str] = Counter()

    def delay(self, retry: int) -> float:
        """The wait before retry number `retry` (1-based)."""
        base = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return base * (1.0 - self.jitter * self.rng.random())

    async def call(self, request: CallRequest) -> CallResult:
        """Call `inner` until success, a permanent failure or `max_attempts`."""
        for attempt in range(1, self.max_attempts + 1):
            self.counters["calls"] += 1
            result = await self.inner.call(request)
            if result.ok:
                return result
            if not result.retryable:
                self.counters["failures"] += 1
                return result
            if attempt == self.max_attempts:
                self.counters["gave_up"] += 1
                self.counters["failures"] += 1
                return result
            self.counters["retries"] += 1
            self.counters[f"retry:{result.error}"] += 1
            wait = self.delay(attempt)  # drawn even when unused: the jitter sequence stays the same
            await self.sleep(result.retry_after if result.retry_after is not None else wait)
        raise AssertionError("unreachable")  # the loop always returns


def layers(backend: Backend) -> list[Backend]:
    """`backend` and every backend it wraps, outermost first."""
    out: list[Backend] = []
    current: Any = backend
    while current is not None and current not in out:
        out.append(current)
        current = getattr(current, "inner", None)
    return out


def summary_line(backend: Backend) -> str:
    """One line of the counters of a wrapper stack, e.g.
    ``cache: 80 hits, 40 calls | retry: 46 calls, 6 retries, 0 failures``."""
    parts = []
    for layer in layers(backend):
        counters = getattr(layer, "counters", None)
        if not isinstance(counters, Counter) or not counters:
            continue
        label = type(layer).__name__.removesuffix("Backend").lower() or layer.name
        shown = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(counters.items()) if ":" not in k)
        parts.append(f"{label}: {shown}")
    return " | ".join(parts) if parts else "no calls"


async def bounded_gather(
    aws: Iterable[Awaitable[T]], limit: int, *, return_exceptions: bool = False
) -> list[T]:
    """Await all of `aws` with at most `limit` running at once; results in input order.

    Without `return_exceptions` the first exception cancels the rest and is raised;
    awaitables that never started are closed, so nothing is left un-awaited."""
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    sem = asyncio.Semaphore(limit)

    async def run(aw: Awaitable[T]) -> T:
        try:
            async with sem:
                return await aw
        finally:
            if inspect.iscoroutine(aw) and inspect.getcoroutinestate(aw) == inspect.CORO_CREATED:
                aw.close()

    tasks = [asyncio.ensure_future(run(aw)) for aw in aws]
    if return_exceptions:
        return list(await asyncio.gather(*tasks, return_exceptions=True))  # type: ignore[arg-type]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
