"""LLM backends behind one interface, and a registry to pick one by name.

Factories are registered as callables or as lazy "module:attribute" strings, so
importing this package never imports a backend's dependencies. Built in:
"sim", the simulated world backend (`flowcompile.sim.backend.SimBackend`);
"litellm", any provider litellm reaches
(`flowcompile.backends.litellm_backend.LiteLLMBackend`); "replay", answers
from a recorded trace (`flowcompile.backends.replay.ReplayBackend`, option
``trace=PATH``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowcompile.backends.base import (
    ERROR_KINDS,
    RETRYABLE_ERRORS,
    Backend,
    CallRequest,
    CallResult,
    Message,
    as_message,
)
from flowcompile.backends.lazy import check_entry, lookup

__all__ = [
    "ERROR_KINDS",
    "RETRYABLE_ERRORS",
    "Backend",
    "CallRequest",
    "CallResult",
    "Message",
    "as_message",
    "generated_queries",
    "get_backend",
    "known_backends",
    "open_backend",
    "register_backend",
]

BackendFactory = Callable[..., Backend]

_FACTORIES: dict[str, BackendFactory | str] = {
    "sim": "flowcompile.sim.backend:SimBackend",
    "litellm": "flowcompile.backends.litellm_backend:LiteLLMBackend",
    "replay": "flowcompile.backends.replay:ReplayBackend",
}


def register_backend(name: str, factory: BackendFactory | str) -> None:
    """Register `factory` (a callable, or a lazy "module:attr" path) under `name`.

    Registering an existing name replaces it (so tests can swap in fakes)."""
    if not name:
        raise ValueError("backend name must be non-empty")
    check_entry(factory, "factory")
    _FACTORIES[name] = factory


def known_backends() -> list[str]:
    """The registered backend names, sorted."""
    return sorted(_FACTORIES)


def get_backend(name: str, **options: Any) -> Backend:
    """Build the backend registered as `name`, passing `options` to its factory."""
    return lookup(_FACTORIES, name, "backend")(**options)


def open_backend(name: str, *, world: str | None = None, trace: str | None = None, timeout: float = 0.0) -> Backend:
    """The backend every command and pass calls by name, with the options its
    factory takes: `world` for sim, `timeout` seconds per call for litellm (0:
    each call's own), `trace` for replay (required); any other registered name
    with none. ValueError for replay without a trace."""
    if name == "sim":
        return get_backend("sim", world=world or None)
    if name == "litellm":
        return get_backend("litellm", timeout=float(timeout))
    if name == "replay":
        if not trace:
            raise ValueError("backend=replay needs trace=PATH (a recorded JSONL trace)")
        return get_backend("replay", trace=trace)
    return get_backend(name)


def generated_queries(name: str, count: int, seed: int, *, world: str | None = None) -> list[dict[str, Any]] | None:
    """`count` fresh query rows (id, input, reference) that the backend `name`
    makes up itself, drawn with `seed`: the sim's, from its world; None for a
    backend that makes none (it needs a dataset)."""
    if name != "sim":
        return None
    # lazy: importing the registry imports no backend (its world loads yaml and pydantic)
    from flowcompile.sim import SimWorld, generate_dataset

    return generate_dataset(SimWorld(world or None), count, seed)
