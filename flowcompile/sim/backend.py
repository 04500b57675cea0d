"""`SimBackend`: the SIMULATED world behind the `Backend` interface, in process.

Time is simulated: `call` returns at once and reports the latency the call
would have taken. Retries of an identical request are counted, so a transient
fault drawn for attempt k is redrawn for attempt k+1 (as with a real service).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from dataclasses import replace
from pathlib import Path

from flowcompile.backends.base import CallRequest, CallResult
from flowcompile.backends.reader import Endpoints, Reader
from flowcompile.sim.engine import SimWorld, content_hash
from flowcompile.sim.protocol import SIM_READER
from flowcompile.sim.world import World


RATE_LIMIT_RETRY_AFTER = 0.05
"""Seconds a simulated 429 asks the client to wait (the HTTP server's `retry-after-ms`)."""


class SimBackend:
    """In-process simulated backend (registered as "sim")."""

    name = "sim"

    def __init__(self, world: World | SimWorld | str | Path | None = None) -> None:
        self.sim: SimWorld = world if isinstance(world, SimWorld) else SimWorld(world)
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    @property
    def world(self) -> World:
        """The loaded world."""
        return self.sim.world

    def provenance(self) -> dict[str, str]:
        """A simulation, named, with a digest of every parameter of its world:
        two artifacts measured on worlds that differ in any number differ here."""
        canonical = json.dumps(self.world.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return {"simulation": self.world.name, "world_digest": hashlib.sha256(canonical.encode()).hexdigest()[:16]}

    def reader_for(self, endpoints: Endpoints) -> Reader:
        """`SIM_READER`: every reply carries its decision as a tag."""
        return SIM_READER

    async def call(self, request: CallRequest) -> CallResult:
        """Answer `request` immediately with its simulated result."""
        key = content_hash(request)
        with self._lock:
            attempt = self.calls[key]
            self.calls[key] += 1
        result = self.sim.respond(request, attempt=attempt)
        if result.error == "rate_limit":  # as the simulated server says it, in its header
            result = replace(result, retry_after=RATE_LIMIT_RETRY_AFTER)
        return result

    @property
    def total_calls(self) -> int:
        """Calls answered so far."""
        return sum(self.calls.values())
