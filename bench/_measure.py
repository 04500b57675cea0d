"""End-to-end measurement for the peer benchmark, and the metrics it reports.

Every configuration is run by the real runtime (`flowcompile.runtime.run_many`)
against the in-process SIMULATED backend. `Memo` shares identical calls
between runs (the sim is deterministic, so a repeated request has the same
reply, exactly as with the project's content-addressed cache) and counts the
distinct calls each method spent. `Table` keeps per-query outcomes (correct,
latency) per configuration, so a router's or a prefix's results are read
without running anything again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from flowcompile.backends.base import CallRequest, CallResult
from flowcompile.backends.reader import Endpoints, Reader, reader_of
from flowcompile.dialects.flow import WorkflowOp
from flowcompile.profiling.dataset import Query
from flowcompile.proxy import hypervolume_2d, pareto_indices, spearman
from flowcompile.runtime import run_many, score
from flowcompile.sim.backend import SimBackend
from flowcompile.sim.engine import content_hash

from _space import Config, Space


class Memo:
    """A backend view over shared replies that records the requests it is sent.

    `shared` maps a request's content hash to its reply; while `recording` is a
    set, every request's hash goes into it (what a configuration's runs cost)."""

    name = "sim"

    def __init__(self, sim: SimBackend, shared: dict[str, CallResult]) -> None:
        self.sim = sim
        self.shared = shared
        self.recording: set[str] | None = None

    def reader_for(self, endpoints: Endpoints) -> Reader:
        return reader_of(self.sim, endpoints)  # the replies are the sim's

    async def call(self, request: CallRequest) -> CallResult:
        key = content_hash(request)
        if self.recording is not None:
            self.recording.add(key)
        hit = self.shared.get(key)
        if hit is None:
            hit = self.shared[key] = await self.sim.call(request)
        return hit


@dataclass(frozen=True)
class Outcome:
    """A configuration measured on a query set: per-query correctness and latency."""

    correct: np.ndarray
    latency: np.ndarray
    errors: int

    @property
    def acc(self) -> float:
        return float(self.correct.mean())

    @property
    def lat(self) -> float:
        return float(self.latency.mean())


@dataclass
class Table:
    """Outcomes of configurations of one workflow on one query set."""

    workflow: WorkflowOp
    space: Space
    queries: Sequence[Query]
    backend: Memo
    outcomes: dict[Config, Outcome] = field(default_factory=dict)
    calls: dict[Config, frozenset[str]] = field(default_factory=dict)
    """The distinct requests each configuration's runs made (what running it costs)."""

    def measure(self, configs: Iterable[Config]) -> list[Outcome]:
        """Outcomes of `configs`, running those not measured yet."""
        configs = list(configs)
        todo = list(dict.fromkeys(c for c in configs if c not in self.outcomes))
        if todo:
            asyncio.run(self._run(todo))
        return [self.outcomes[c] for c in configs]

    async def _run(self, configs: Sequence[Config]) -> None:
        for config in configs:
            assign = self.space.assignment(config)
            self.backend.recording = set()
            results = await run_many(
                self.workflow, assign, self.backend, self.queries, concurrency=len(self.queries)
            )
            correct = np.array(
                [bool(not r.error and score(r, q)) for r, q in zip(results, self.queries, strict=True)]
            )
            latency = np.array([r.latency for r in results])
            self.outcomes[config] = Outcome(correct, latency, sum(1 for r in results if r.error))
            self.calls[config] = frozenset(self.backend.recording)
            self.backend.recording = None

    def points(self, configs: Iterable[Config]) -> np.ndarray:
        """(acc, lat) rows of `configs`."""
        return points_of(self.measure(configs))


def points_of(outcomes: Sequence[Outcome]) -> np.ndarray:
    """(acc, lat) rows of `outcomes`."""
    return np.array([(o.acc, o.lat) for o in outcomes]).reshape(-1, 2)


# Metrics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """What every method of one (workflow, world, space) is judged against."""

    ref_acc: float
    ref_lat: float
    strongest: tuple[float, float]
    oracle_hv: float


def nondominated(points: np.ndarray) -> np.ndarray:
    """Indices of the points no other point dominates (acc up, latency down)."""
    if len(points) == 0:
        return np.zeros(0, dtype=int)
    return np.asarray(pareto_indices(points[:, 0], points[:, 1]), dtype=int)


def hv(points: np.ndarray, ref: Reference) -> float:
    if len(points) == 0:
        return 0.0
    return hypervolume_2d(points[:, 0], points[:, 1], ref.ref_acc, ref.ref_lat)


def speedup(points: np.ndarray, ref: Reference, share: float = 1.0) -> float | None:
    """All-strongest's latency over the fastest point with accuracy at least
    `share` x all-strongest's; None when no point reaches it."""
    acc, lat = ref.strongest
    ok = [p for p in points if p[0] >= share * acc - 1e-12]
    if not ok:
        return None
    return lat / min(p[1] for p in ok)


def fidelity(estimated: Sequence[float], measured: Sequence[float]) -> tuple[float | None, float | None]:
    """(Spearman, mean absolute error) of estimates against measurements."""
    if len(estimated) == 0:
        return None, None
    est, got = np.asarray(estimated, dtype=float), np.asarray(measured, dtype=float)
    mae = float(np.mean(np.abs(est - got)))
    if len(est) < 3 or np.ptp(est) == 0 or np.ptp(got) == 0:
        return None, mae
    return float(spearman(est, got)), mae


def paired_gap(a: Outcome, b: Outcome) -> tuple[float, float]:
    """a's accuracy less b's, and that difference's standard error, both
    measured on the same queries (their shared difficulty cancels)."""
    diff = a.correct.astype(float) - b.correct.astype(float)
    error = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
    return float(diff.mean()), error


def summarise(points: np.ndarray, ref: Reference) -> dict[str, object]:
    """The metrics of one method's held-out-measured points."""
    best = float(points[:, 0].max()) if len(points) else None
    return {
        "hv_ratio": hv(points, ref) / ref.oracle_hv if ref.oracle_hv > 0 else None,
        "speedup_at_acc": speedup(points, ref),
        "speedup_at_95": speedup(points, ref, 0.95),
        "best_acc": best,
        "points": len(points),
    }


def as_rows(points: np.ndarray, labels: Sequence[Mapping[str, str]]) -> list[dict[str, object]]:
    return [
        {"acc": round(float(p[0]), 4), "lat": round(float(p[1]), 4), "assign": dict(label)}
        for p, label in zip(points, labels, strict=True)
    ]
