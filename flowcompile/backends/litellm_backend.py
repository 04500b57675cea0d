"""`LiteLLMBackend`: any provider litellm reaches, behind the `Backend` interface.

litellm takes seconds to import, so it is imported inside the first call, after
``LITELLM_LOCAL_MODEL_COST_MAP=True`` (no cost-map download at import). Latency is
the profiler's own `perf_counter` around the call (litellm's `_response_ms` may
include its retries; we ask litellm for none and retry in `RetryingBackend`).

Failures become `CallResult.error` kinds: rate_limit, server_error, timeout,
malformed (retryable) or auth, bad_request, not_found, error (not); the failed
result's `text` holds a one-line message with anything key-like scrubbed.

Replies are read as free text unless an endpoint's model list names another
reader (the simulated server names "sim") or the backend is given one.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import warnings
import weakref
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from urllib.parse import urlparse

from flowcompile import installed_version
from flowcompile.backends.base import _KEY_VARS, CallRequest, CallResult, scrub
from flowcompile.backends.reader import TEXT_READER, Endpoints, LazyReader, Reader, endpoint_reader, get_reader
from flowcompile.backends.timeouts import CallTimeouts

#: Header carrying the sample index (read by the sim server, ignored by real services).
SAMPLE_HEADER = "x-flowcompile-sample"
#: Characters per token when reasoning tokens are estimated from reasoning text.
CHARS_PER_TOKEN = 4.0
#: The cheapest budget Anthropic accepts for extended thinking.
ANTHROPIC_MIN_BUDGET = 1024


# -- how a reasoning budget travels -------------------------------------------------


def _effort(n: int) -> dict[str, Any]:
    # Thresholds are litellm's DEFAULT_REASONING_EFFORT_{LOW,MEDIUM,HIGH}_THINKING_BUDGET
    # (1024/2048/4096), read backwards; below 2048 is "low" because "minimal" is not
    # accepted by every reasoning model.
    return {"reasoning_effort": "high" if n >= 4096 else "medium" if n >= 2048 else "low"}


def _exact_extra_body(n: int) -> dict[str, Any]:
    return {"extra_body": {"thinking": {"type": "enabled", "budget_tokens": n}}}


@dataclass(frozen=True)
class BudgetRule:
    """How one provider family receives a budget N > 0 (`on`) and budget 0 (`off`)."""

    prefixes: tuple[str, ...]
    api_base: bool | None  # True: only with an api_base; False: only without; None: either
    on: Callable[[int], dict[str, Any]]
    off: dict[str, Any]
    why: str


#: THE budget table: first matching row wins; unknown prefixes use `FALLBACK_RULE`.
#: "verified" = checked against litellm 1.110.2 (source and, where noted, the exact
#: HTTP body it sent to a loopback capture server).
BUDGET_TABLE: tuple[BudgetRule, ...] = (
    BudgetRule(
        ("hosted_vllm",),
        None,
        _exact_extra_body,
        {"extra_body": {"chat_template_kwargs": {"enable_thinking": False}}},
        "verified (source llms/hosted_vllm/chat/transformation.py + wire): a top-level `thinking` is "
        "turned into a coarse reasoning_effort (1024 -> 'low'), so the exact budget rides in extra_body, "
        "which arrives as a top-level `thinking` field. Qwen3-style models think by default, so budget 0 "
        "sends vLLM's explicit off switch chat_template_kwargs.enable_thinking=false.",
    ),
    BudgetRule(
        ("openai",),
        True,
        _exact_extra_body,
        {},
        "verified (wire): an OpenAI-compatible server; litellm rejects `thinking` for openai/ "
        "(UnsupportedParamsError) unless params are dropped, extra_body arrives verbatim. Budget 0 sends "
        "nothing: the server is unknown, so no server-specific off switch (use hosted_vllm/ for vLLM).",
    ),
    BudgetRule(
        ("openai",),
        False,
        _effort,
        {},
        "verified (source llms/openai/chat/o_series_transformation.py): OpenAI reasoning models take "
        "reasoning_effort only. Budget 0 sends nothing (non-reasoning models reject the parameter; "
        "reasoning models cannot turn thinking fully off). Not exercised on the wire (no network).",
    ),
    BudgetRule(
        ("anthropic",),
        None,
        lambda n: {"thinking": {"type": "enabled", "budget_tokens": max(n, ANTHROPIC_MIN_BUDGET)}},
        {},
        "verified (wire): `thinking` reaches /v1/messages unchanged; Anthropic's minimum budget is "
        "1024 and max_tokens must exceed it (litellm raises max_tokens only when none is given). "
        "Budget 0 sends nothing: thinking is off by default.",
    ),
    BudgetRule(
        ("gemini", "vertex_ai"),
        None,
        lambda n: {"thinking": {"type": "enabled", "budget_tokens": n}},
        {"thinking": {"type": "enabled", "budget_tokens": 0}},
        "verified (wire for gemini/, source for vertex_ai/: both use VertexGeminiConfig._map_thinking_param): "
        "becomes generationConfig.thinkingConfig.thinkingBudget=N. 2.5 Flash thinks by default, so budget 0 "
        "sends thinkingBudget=0, Gemini's off switch (models that cannot turn it off reject it). Gemini 3 "
        "models get a thinkingLevel from litellm instead.",
    ),
    BudgetRule(
        ("ollama", "ollama_chat"),
        None,
        lambda n: {"extra_body": {"think": True}},
        {"extra_body": {"think": False}},
        "verified (wire): extra_body.think arrives as Ollama's top-level `think`. Ollama has no token "
        "budget, only on/off; thinking models think by default, so budget 0 sends think=false.",
    ),
)

FALLBACK_RULE = BudgetRule(
    (),
    None,
    _effort,
    {},
    "unknown provider: reasoning_effort is the one reasoning parameter litellm maps for most providers; "
    "a provider that lacks it fails loudly (bad_request) rather than silently thinking at its default.",
)


def budget_rule(provider_model: str, api_base: str | None) -> BudgetRule:
    """The row of `BUDGET_TABLE` for a provider model string."""
    prefix = provider_model.split("/", 1)[0].lower() if "/" in provider_model else ""
    has_base = bool(api_base) and (urlparse(api_base or "").hostname or "") != "api.openai.com"
    for rule in BUDGET_TABLE:
        if prefix in rule.prefixes and (rule.api_base is None or rule.api_base == has_base):
            return rule
    return FALLBACK_RULE


def budget_params(provider_model: str, api_base: str | None, budget: int) -> dict[str, Any]:
    """The litellm keyword arguments that carry `budget` reasoning tokens (0 = off)."""
    if budget < 0:
        raise ValueError(f"budget must be >= 0, got {budget}")
    rule = budget_rule(provider_model, api_base)
    return json.loads(json.dumps(rule.on(budget) if budget > 0 else rule.off))  # a fresh copy


# -- errors ---------------------------------------------------------------------------

_AUTH_HINTS = ("missing credentials", "api_key client option must be set", "no api key provided")
_JSON_HINTS = ("unable to get json response", "jsondecodeerror", "expecting value", "unterminated string",
               "invalid json", "json decode")

# (litellm exception class names, error kind); the first class the exception is an
# instance of decides. Timeout must precede APIConnectionError (it is a subclass).
_ERROR_MAP: tuple[tuple[tuple[str, ...], str], ...] = (
    (("Timeout",), "timeout"),
    (("RateLimitError",), "rate_limit"),
    (("InternalServerError", "ServiceUnavailableError", "BadGatewayError", "APIConnectionError"), "server_error"),
    (("AuthenticationError", "PermissionDeniedError"), "auth"),
    (("NotFoundError",), "not_found"),
    (("BadRequestError", "UnprocessableEntityError", "UnsupportedParamsError"), "bad_request"),
    (("APIResponseValidationError",), "malformed"),
)
_STATUS_KIND = {408: "timeout", 429: "rate_limit", 401: "auth", 403: "auth", 404: "not_found", 400: "bad_request"}


def error_kind(exc: BaseException, litellm: ModuleType | None = None) -> str:
    """The `CallResult.error` kind of an exception raised by a litellm call."""
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    if any(isinstance(e, json.JSONDecodeError) for e in chain):
        return "malformed"
    if isinstance(exc, TimeoutError):
        return "timeout"
    # litellm reports a missing key as an InternalServerError; retrying cannot help
    if any(h in str(exc).lower() for h in _AUTH_HINTS):
        return "auth"
    if litellm is not None:
        for names, kind in _ERROR_MAP:
            classes = tuple(c for c in (getattr(litellm, n, None) for n in names) if isinstance(c, type))
            if classes and isinstance(exc, classes):
                return kind
    # litellm reports an unparsable 200 body as a generic APIError quoting the decoder;
    # checked after the classes so that a 400 "invalid JSON body" stays a bad_request.
    if any(h in str(exc).lower() for h in _JSON_HINTS):
        return "malformed"
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        if status in _STATUS_KIND:
            return _STATUS_KIND[status]
        if status >= 500:
            return "server_error"
    return "error"


def failure(kind: str, exc: BaseException | str, latency_s: float = 0.0) -> CallResult:
    """A failed result whose `text` is a scrubbed one-line message."""
    detail = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    wait = None if isinstance(exc, str) else retry_after(exc)
    return CallResult(error=kind, text=scrub(f"{kind}: {detail}"), latency_s=latency_s, retry_after=wait)


#: The longest Retry-After taken as said; a longer one is read as this (a bad
#: header must not park a profiler for hours).
MAX_RETRY_AFTER = 300.0


def retry_after(exc: BaseException) -> float | None:
    """Seconds a failed call's response asks to wait: `retry-after-ms`, else
    `retry-after` (seconds or an HTTP date); None when it says nothing."""
    headers: Any = getattr(exc, "litellm_response_headers", None)
    if not headers:
        headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    try:
        found = {str(k).lower(): str(v) for k, v in dict(headers).items()}
    except (TypeError, ValueError):
        return None
    seconds: float | None = None
    try:
        if "retry-after-ms" in found:
            seconds = float(found["retry-after-ms"]) / 1000.0
        elif "retry-after" in found:
            seconds = float(found["retry-after"])
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            seconds = parsedate_to_datetime(found["retry-after"]).timestamp() - time.time()
        except (KeyError, TypeError, ValueError):
            return None
    if seconds is None or seconds != seconds:  # absent or NaN
        return None
    return min(MAX_RETRY_AFTER, max(0.0, seconds))


# -- keys ----------------------------------------------------------------------------

#: `api_key_env: none`: the server needs no key.
NO_KEY = "none"
#: Sent for `api_key_env: none`: litellm's OpenAI client refuses to call without some
#: key, and a local server ignores it. Only ever in this process's call arguments.
PLACEHOLDER_KEY = "no-key-needed"


class MissingKeyError(ValueError):
    """The variable a model's `api_key_env` names is not set (or empty)."""


def api_key(request: CallRequest) -> str | None:
    """The key to send for `request`: the value of its `api_key_env` variable, a
    placeholder for `none`, or None (litellm reads the provider's own variable)."""
    env = request.api_key_env
    if not env:
        return None
    if env == NO_KEY:
        return PLACEHOLDER_KEY
    _KEY_VARS.add(env)
    value = os.environ.get(env, "")
    if not value:
        raise MissingKeyError(f"model {request.model!r}: environment variable {env} (its api_key_env) is not set")
    return value


# -- the backend -------------------------------------------------------------------------

_litellm: ModuleType | None = None


def load_litellm() -> ModuleType:
    """Import litellm once, quietly and without network access."""
    global _litellm
    if _litellm is None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        # lazy: litellm takes seconds to import; only a call needs it
        import litellm

        litellm.suppress_debug_info = True
        # A call cancelled mid-way (a profiler stopping a stage, a time-out) leaves
        # litellm's inner coroutine unawaited; its warning at exit is noise, not ours.
        warnings.filterwarnings("ignore", message=r"coroutine .* was never awaited", category=RuntimeWarning)
        # litellm 1.110 has no telemetry flag any more (verified); older versions read this one.
        litellm.telemetry = False
        _litellm = litellm
    return _litellm


# -- clean shutdown ------------------------------------------------------------------------
# litellm caches its async HTTP clients per event loop and never closes them, so
# each `asyncio.run` (profile, validate, evaluate) leaves open sockets that warn
# (ResourceWarning) when collected at exit. They are closed while their loop
# still runs: `asyncio.run` ends with `loop.shutdown_asyncgens()`, which
# finalizes the suspended generator below, whose `finally` closes them.

#: The loops that close their litellm clients at shutdown, each with its hook.
_closers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncGenerator[None, None]] = (
    weakref.WeakKeyDictionary()
)


async def _close_at_shutdown() -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        await close_loop_clients()


async def close_clients_at_loop_shutdown() -> None:
    """Have the running loop close litellm's clients for it when it shuts down (once per loop)."""
    loop = asyncio.get_running_loop()
    if loop not in _closers:
        _closers[loop] = hook = _close_at_shutdown()
        await anext(hook)


async def close_loop_clients() -> None:
    """Close and forget the async clients litellm cached for the running loop
    (its cache keys end in the loop's token); clients of other loops, which may
    be in use on other threads, are left alone."""
    # lazy: litellm takes seconds to import; only a call needs it
    from litellm.caching.evicted_client_closer import running_loop_token

    cache = load_litellm().in_memory_llm_clients_cache
    suffix = f"-{running_loop_token()}"
    for key in [k for k in cache.cache_dict if str(k).endswith(suffix)]:
        client = cache.cache_dict.pop(key)
        cache.ttl_dict.pop(key, None)
        close = getattr(client, "close", None) or getattr(client, "aclose", None)
        if close is None:
            continue
        try:
            closed = close()
            if asyncio.iscoroutine(closed):
                await closed
        except Exception:  # noqa: BLE001 (a client that fails to close is no reason to fail a run)
            pass


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def reasoning_tokens(usage: Any, message: Any) -> tuple[int, str]:
    """Reasoning tokens and their source: "usage" (completion_tokens_details),
    "estimate" (reasoning_content length / CHARS_PER_TOKEN) or "none"."""
    reported = _count(_get(_get(usage, "completion_tokens_details"), "reasoning_tokens"))
    if reported:
        return reported, "usage"
    text = _get(message, "reasoning_content")
    if isinstance(text, str) and text.strip():
        return max(1, round(len(text) / CHARS_PER_TOKEN)), "estimate"
    if reported == 0:
        return 0, "usage"
    return 0, "none"


class LiteLLMBackend:
    """Calls `litellm.acompletion` (registered as "litellm")."""

    name = "litellm"

    def __init__(self, timeout: float = 0.0, num_retries: int = 0, reader: Reader | str | None = None) -> None:
        self.timeouts = CallTimeouts(timeout)
        """Seconds per call: `timeout`, or (0) derived from the call's tokens and the model's pace."""
        self.num_retries = num_retries
        self.reader: Reader | None = get_reader(reader) if isinstance(reader, str) else reader
        """The reader of every reply; None: the one the endpoints name (`reader_for`)."""
        self._named: dict[str, str | None] = {}

    def reader_for(self, endpoints: Endpoints) -> Reader:
        """The given reader, else the one the endpoints' model lists name (asked
        once per endpoint, when a reply is first read): free text when none
        names one. Endpoints naming different readers are a ValueError."""
        if self.reader is not None:
            return self.reader
        bases = sorted({base for base in endpoints if base})
        return LazyReader(lambda: self._named_reader(bases)) if bases else TEXT_READER

    def _named_reader(self, bases: list[str]) -> Reader:
        for base in bases:
            if base not in self._named:
                self._named[base] = endpoint_reader(base)
        named = {self._named[base] for base in bases} - {None}
        if len(named) > 1:
            raise ValueError(f"the endpoints name different readers ({', '.join(sorted(map(str, named)))})")
        return get_reader(named.pop()) if named else TEXT_READER

    def provenance(self) -> dict[str, str]:
        """The client that reached the providers (the models and endpoints are the pool's, in the IR)."""
        return {"client": f"litellm {installed_version('litellm')}"}

    def kwargs(self, request: CallRequest) -> dict[str, Any]:
        """The keyword arguments of `litellm.acompletion` for `request`."""
        if not request.provider_model:
            raise ValueError(f"model {request.model!r} has no provider_model; litellm needs one")
        kwargs: dict[str, Any] = {
            "model": request.provider_model,
            "messages": request.to_openai_messages(),
            "temperature": request.temperature,
            "timeout": self.timeouts.for_request(request),
            "num_retries": self.num_retries,
        }
        if request.api_base:
            kwargs["api_base"] = request.api_base
        if (key := api_key(request)) is not None:
            kwargs["api_key"] = key
        if request.max_tokens is not None:
            kwargs["max_tokens"] = request.max_tokens
        if request.top_p is not None:
            kwargs["top_p"] = request.top_p
        if request.stop:
            kwargs["stop"] = list(request.stop)
        if (seed := request.service_seed()) is not None:
            kwargs["seed"] = seed
        if request.sample:
            kwargs["extra_headers"] = {SAMPLE_HEADER: str(request.sample)}
        kwargs.update(budget_params(request.provider_model, request.api_base, request.budget))
        return kwargs

    async def call(self, request: CallRequest) -> CallResult:
        """One completion; transport failures (and a missing key) come back as `CallResult.error`."""
        try:
            kwargs = self.kwargs(request)
        except MissingKeyError as exc:
            return failure("auth", str(exc))
        litellm = load_litellm()
        await close_clients_at_loop_shutdown()
        start = time.perf_counter()
        try:
            response = await litellm.acompletion(**kwargs)
        except Exception as exc:  # noqa: BLE001 (every failure becomes a value)
            return failure(error_kind(exc, litellm), exc, time.perf_counter() - start)
        latency = time.perf_counter() - start
        try:
            result = self._result(litellm, request, response, latency)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
            return failure("malformed", exc, latency)
        self.timeouts.observe(request, result)
        return result

    @staticmethod
    def _result(litellm: ModuleType, request: CallRequest, response: Any, latency: float) -> CallResult:
        choices = _get(response, "choices")
        if not choices:
            return failure("malformed", "reply has no choices", latency)
        message = _get(choices[0], "message")
        content = _get(message, "content")
        if content is not None and not isinstance(content, str):
            return failure("malformed", f"reply content is {type(content).__name__}, not text", latency)
        usage = _get(response, "usage")
        tokens_in = _count(_get(usage, "prompt_tokens")) or 0
        completion = _count(_get(usage, "completion_tokens")) or 0
        reasoning, source = reasoning_tokens(usage, message)
        # completion_tokens counts thinking too (OpenAI convention, vLLM, litellm's Anthropic usage)
        reasoning = min(reasoning, completion) if completion else reasoning
        tokens_out = max(0, completion - reasoning)
        return CallResult(
            text=content or "",
            latency_s=latency,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            reasoning_tokens=reasoning,
            reasoning_source=source,
            cost=_cost(litellm, request, response, tokens_in, tokens_out + reasoning),
        )


def _cost(litellm: ModuleType, request: CallRequest, response: Any, tokens_in: int, tokens_out: int) -> float:
    """litellm's price when it knows the model, else the request's prices, else 0."""
    try:
        cost = litellm.completion_cost(completion_response=response)
        if isinstance(cost, (int, float)) and cost > 0:
            return float(cost)
    except Exception:  # noqa: BLE001 (an unpriced model is normal, not an error)
        pass
    if request.price_in is not None or request.price_out is not None:
        return tokens_in * (request.price_in or 0.0) + tokens_out * (request.price_out or 0.0)
    return 0.0
