"""The options every pass that calls a backend shares (profile, validate).

Not a pass: an abstract `ModulePass` whose fields the calling passes inherit,
so `-p 'profile{backend=litellm retries=3}'` and `-p 'validate{...}'` take the
same spelling, defaults and documentation, and one place resolves the cache.
"""

from __future__ import annotations

import os
from abc import ABC
from dataclasses import dataclass
from pathlib import Path

from xdsl.passes import ModulePass
from flowcompile.backends.store import StoreError, check_store_path

DEFAULT_CACHE = ".flowcompile/profile-cache.sqlite"
"""Relative to the working directory; FLOWCOMPILE_CACHE overrides it."""


@dataclass(frozen=True)
class BackendPassOptions(ModulePass, ABC):
    """Where calls go, how they are cached and retried."""

    backend: str = "sim"
    """sim, litellm or replay."""

    concurrency: int = 8
    """Calls in flight at once."""

    cache: str = ""
    """SQLite profile store; empty: $FLOWCOMPILE_CACHE or .flowcompile/profile-cache.sqlite; none: no cache."""

    world: str = ""
    """The sim world file (default: the bundled Qwen3 world)."""

    trace: str = ""
    """With backend=replay: the recorded JSONL trace."""

    retries: int = 6
    """Attempts per call on 429, 5xx, time-outs and malformed replies."""

    timeout: float | int = 0.0
    """Seconds per litellm call; 0: each call's own, from its reasoning budget and the model's measured pace."""

    def cache_path(self) -> Path | None:
        """The store the options name (its folder created), or None for cache=none.

        A path that cannot hold a store (a folder, a file that is not SQLite,
        a folder that cannot be created) is a ValueError naming the option."""
        if self.cache == "none":
            return None
        path = Path(self.cache or os.environ.get("FLOWCOMPILE_CACHE") or DEFAULT_CACHE)
        try:
            check_store_path(path)
        except StoreError as e:
            named_by = "option cache" if self.cache or not os.environ.get("FLOWCOMPILE_CACHE") else "$FLOWCOMPILE_CACHE"
            raise ValueError(f"{named_by}: {e}") from None
        return path
