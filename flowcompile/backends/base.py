"""The backend interface: what the profiler and the runtime ask of an LLM service.

A backend knows messages, models and reasoning budgets, never the workflow IR.
One call is a `CallRequest` (frozen, hashable, so it can key caches) answered
by a `CallResult`. Transport failures are values (`CallResult.error`), not
exceptions, so a profiler can count them; configuration mistakes (an unknown
model) raise.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

#: Error kinds a backend may report; all are transient, so a retry may succeed.
ERROR_KINDS: tuple[str, ...] = ("rate_limit", "server_error", "timeout", "malformed")
RETRYABLE_ERRORS: frozenset[str] = frozenset(ERROR_KINDS)


@dataclass(frozen=True)
class Message:
    """One chat message."""

    role: str
    content: str


MessageLike = Message | tuple[str, str] | Mapping[str, Any]


def introduction(role: str, agent: str, workflow: str, case: str | None = None) -> str:
    """The system sentence that tells a model which agent it plays:
    ``You are the <role> agent '<agent>' of workflow '<workflow>'.``, then
    ``You handle the '<case>' case.`` for an agent of a switch case. The runtime
    sends it to every model; a backend may read it (the sim learns from it who
    is speaking)."""
    text = f"You are the {role} agent '{agent}' of workflow '{workflow}'."
    return text if case is None else f"{text} You handle the '{case}' case."


def as_message(item: MessageLike) -> Message:
    """Coerce a `Message`, a `(role, content)` pair or an OpenAI-style dict."""
    if isinstance(item, Message):
        return item
    if isinstance(item, Mapping):
        return Message(str(item["role"]), _content_text(item.get("content", "")))
    role, content = item
    return Message(str(role), str(content))


def _content_text(content: Any) -> str:
    # OpenAI allows a list of typed parts; only text parts carry text.
    if isinstance(content, list):
        return "".join(
            str(p.get("text", "")) for p in content if isinstance(p, Mapping) and p.get("type", "text") == "text"
        )
    return "" if content is None else str(content)


@dataclass(frozen=True)
class CallRequest:
    """One chat completion request for one sample of one agent.

    `model` is the pool name ("qwen3-8b"); `provider_model` the litellm string
    ("hosted_vllm/Qwen/Qwen3-8B"), empty when the backend needs none.
    `budget` is the reasoning-token budget, 0 = thinking off. `sample`
    distinguishes repeated samples of the same prompt; `seed` is the sampling
    seed (a service sampling at temperature > 0 gets `seed + sample`, see
    `service_seed`). `temperature`, `top_p`, `max_tokens` and `stop` are the
    agent's sampling parameters (None, (): the service's default). `api_key_env` names the environment
    variable holding the service's key ("none": it needs none; None: the
    backend's default); the key itself is read only when the call is made.
    """

    model: str
    provider_model: str = ""
    api_base: str | None = None
    #: Not part of the cache key: which variable holds a key does not change the answer.
    api_key_env: str | None = None
    budget: int = 0
    messages: tuple[Message, ...] = field(default=())
    temperature: float = 0.0
    max_tokens: int | None = None
    sample: int = 0
    seed: int = 0
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    #: Fallback prices (USD per token) for a backend that cannot price the model
    #: itself; not part of the cache key (a price is not what the service sees).
    price_in: float | None = None
    price_out: float | None = None

    def __post_init__(self) -> None:
        # Accept lists of pairs/dicts but store a hashable tuple of Messages.
        msgs = self.messages
        if not (isinstance(msgs, tuple) and all(isinstance(m, Message) for m in msgs)):
            object.__setattr__(self, "messages", tuple(as_message(m) for m in _iter_messages(msgs)))
        if self.budget < 0:
            raise ValueError(f"budget must be >= 0, got {self.budget}")
        if self.sample < 0:
            raise ValueError(f"sample must be >= 0, got {self.sample}")
        if self.max_tokens is not None and self.max_tokens <= 0:
            raise ValueError(f"max_tokens must be positive, got {self.max_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        object.__setattr__(self, "stop", tuple(self.stop))

    def service_seed(self) -> int | None:
        """The seed to send: when sampling (temperature > 0), `seed + sample`, so
        that the samples of one prompt differ and each is reproducible; at
        temperature 0 decoding is greedy and `seed` goes as given (None: 0, say nothing)."""
        if self.temperature > 0:
            return self.seed + self.sample
        return self.seed or None

    def to_openai_messages(self) -> list[dict[str, str]]:
        """The messages as OpenAI chat dicts."""
        return [{"role": m.role, "content": m.content} for m in self.messages]


def _iter_messages(msgs: Any) -> Iterable[MessageLike]:
    if isinstance(msgs, (str, bytes)) or isinstance(msgs, Mapping):
        raise TypeError("messages must be a sequence of messages, not a single message")
    return msgs


@dataclass(frozen=True)
class CallResult:
    """The outcome of one call. `error` is None on success, else one of ERROR_KINDS
    (or another backend-specific kind, which is not retryable)."""

    text: str = ""
    latency_s: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    reasoning_tokens: int = 0
    cost: float = 0.0
    error: str | None = None
    #: True when answered from a profile store; the other fields are still the
    #: values measured when the call was really made.
    cached: bool = field(default=False, compare=False)
    #: Where `reasoning_tokens` came from ("usage", "estimate", "none"; "" = not said).
    reasoning_source: str = ""
    #: Seconds the service asked the client to wait before retrying (its
    #: Retry-After / retry-after-ms header on a failure); None when it said nothing.
    retry_after: float | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        """True when the call succeeded."""
        return self.error is None

    @property
    def retryable(self) -> bool:
        """True when the failure is transient and the same request may be retried."""
        return self.error in RETRYABLE_ERRORS

    def failure_text(self) -> str:
        """A failed call's one-line message: the provider's (as the backend gave
        it, "kind: ...") or else the error kind; anything key-like masked."""
        said = self.text if self.text and self.text.startswith(f"{self.error}:") else ""
        return scrub(said or str(self.error))


@runtime_checkable
class Backend(Protocol):
    """An LLM service reachable by `call`. A backend may also say what it is
    (`provenance() -> dict[str, str]`, read by `backend_provenance`): the IR
    and the artifact record it beside the measurements."""

    name: str

    async def call(self, request: CallRequest) -> CallResult:
        """Answer one request."""
        ...


def backend_provenance(backend: object) -> dict[str, str]:
    """What `backend` says it is (a simulation names its world and the digest of
    its parameters); {} for a backend that says nothing."""
    describe = getattr(backend, "provenance", None)
    return dict(describe()) if callable(describe) else {}


# -- masking keys in messages ----------------------------------------------------------

_SK = re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_\-]{6,}")
_BEARER = re.compile(r"(?i)\b(bearer|x-api-key|api[_-]?key)([\"'=:\s]+)[A-Za-z0-9._\-]{8,}")
_SECRET_ENV = re.compile(r"(API_KEY|_TOKEN|_SECRET)$")


#: Variables a spec named as `api_key_env`: their values are masked like *_API_KEY's,
#: whatever they are called.
_KEY_VARS: set[str] = set()


def scrub(text: str, limit: int = 300) -> str:
    """`text` on one line, at most `limit` chars, with API keys and secret env values masked."""
    for name, value in os.environ.items():
        if (_SECRET_ENV.search(name) or name in _KEY_VARS) and len(value) >= 8:
            text = text.replace(value, "***")
    text = _SK.sub(lambda m: f"{m.group(1)}-***", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
