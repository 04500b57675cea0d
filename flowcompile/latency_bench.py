"""`flowcompile bench-latency`: measure each pool model's speeds on its endpoint.

Requests go through the real client path (`litellm.acompletion`, with the
litellm backend's own keyword arguments: endpoint, key, budget 0), streamed so
that the first token's time is seen apart from the rest. Every prompt starts
with a fresh nonce, so no request reuses another's prompt cache (nor a
previous run's). Prompt lengths alternate short and long (to separate prefill
from the fixed time to first token) and `max_tokens` alternates short and long
(decode). A first request per model warms the connection and is not used.
Models are measured one after another, `concurrency` requests at a time.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flowcompile.backends.base import CallRequest, Message
from flowcompile.backends.litellm_backend import LiteLLMBackend, load_litellm
from flowcompile.latency import ModelSpeed, SpeedTable, Timing, fit

PROMPT_TOKENS = (32, 2048)
"""Approximate prompt lengths (tokens) the requests alternate between."""
REPLY_TOKENS = (16, 256)
"""`max_tokens` the requests alternate between."""
_SYSTEM = "You are a benchmark. Write a long, detailed essay; never stop early."
_WORDS = "the quick brown fox jumps over a lazy dog while seven wizards quietly judge boxing".split()


class BenchError(RuntimeError):
    """A model whose endpoint could not be measured; the message names it."""


@dataclass(frozen=True)
class Endpoint:
    """One pool model as the client reaches it (never its key: only the variable's name)."""

    model: str
    provider: str
    api_base: str | None = None
    api_key_env: str | None = None


def shown_endpoint(api_base: str | None) -> str:
    """`api_base` without credentials or a query string, as the table records it."""
    if not api_base:
        return ""
    parts = urlsplit(api_base)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _prompt(tokens: int, nonce: str) -> str:
    # about 4 characters a token, as common tokenizers give for English
    words = (_WORDS * (tokens // len(_WORDS) + 1))[: max(1, tokens - 8)]
    return f"[{nonce}] " + " ".join(words)


async def _timed(endpoint: Endpoint, prompt_tokens: int, max_tokens: int, nonce: str) -> Timing:
    """One streamed request; RuntimeError with the endpoint's message if it fails."""
    request = CallRequest(
        model=endpoint.model,
        provider_model=endpoint.provider,
        api_base=endpoint.api_base,
        api_key_env=endpoint.api_key_env,
        messages=(Message("system", _SYSTEM), Message("user", _prompt(prompt_tokens, nonce))),
        max_tokens=max_tokens,
    )
    kwargs: dict[str, Any] = LiteLLMBackend(timeout=120.0).kwargs(request)
    kwargs.update(stream=True, stream_options={"include_usage": True})
    litellm = load_litellm()
    start = time.perf_counter()
    first: float | None = None
    usage: Any = None
    stream = await litellm.acompletion(**kwargs)
    async for chunk in stream:
        delta = chunk.choices[0].delta if chunk.choices else None
        if first is None and delta is not None and (delta.content or getattr(delta, "reasoning_content", None)):
            first = time.perf_counter() - start
        usage = getattr(chunk, "usage", None) or usage
    total = time.perf_counter() - start
    if first is None or usage is None:
        raise ValueError("the stream sent no tokens or no usage (does the endpoint stream with include_usage?)")
    return Timing(int(usage.prompt_tokens), int(usage.completion_tokens), first, total)


async def _measure_model(endpoint: Endpoint, requests: int, concurrency: int) -> ModelSpeed:
    run = secrets.token_hex(6)  # a fresh prefix per run, so no earlier run's cache helps
    await _timed(endpoint, PROMPT_TOKENS[0], REPLY_TOKENS[0], f"warm-up {run}")
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> Timing:
        async with gate:
            return await _timed(
                endpoint, PROMPT_TOKENS[i % 2], REPLY_TOKENS[(i // 2) % 2], f"bench-latency {run} {i}"
            )

    timings = await asyncio.gather(*(one(i) for i in range(requests)))
    ttft, prefill, decode = fit(timings)
    return ModelSpeed(
        ttft_s=round(ttft, 6),
        decode_tok_per_s=round(decode, 3),
        prefill_tok_per_s=None if prefill is None else round(prefill, 1),
        provider=endpoint.provider,
        endpoint=shown_endpoint(endpoint.api_base),
        requests=requests,
    )


def measure(
    endpoints: Mapping[str, Endpoint], *, requests: int, concurrency: int, backend: str, simulated: bool
) -> SpeedTable:
    """The speed table of `endpoints`, `requests` timed requests per model."""
    if requests < 4:
        raise ValueError("requests must be >= 4 (two prompt lengths x two reply lengths)")
    if concurrency < 1:
        raise ValueError("concurrency must be >= 1")

    async def all_models() -> dict[str, ModelSpeed]:
        speeds = {}
        for name, endpoint in endpoints.items():
            try:
                speeds[name] = await _measure_model(endpoint, requests, concurrency)
            except Exception as e:  # noqa: BLE001 (litellm's errors have no common base but Exception)
                shown = shown_endpoint(endpoint.api_base) or endpoint.provider
                raise BenchError(f"model {name!r} at {shown}: {type(e).__name__}: {e}") from None
        return speeds

    return SpeedTable(asyncio.run(all_models()), concurrency, backend, simulated)
