"""Measuring compiled configurations end to end, against their estimates.

`evaluate_points` runs chosen points of a `flow.config_set` (and the heuristic
baselines: every agent at its strongest and at its cheapest configuration) on
held-out queries with a backend, and reports for each the proxy's estimate
beside the measured accuracy, latency and cost, with the Spearman rank
correlation between estimates and measurements. Nothing is claimed beyond
what was measured: the number of queries is part of every row.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from xdsl.dialects.builtin import ArrayAttr, DictionaryAttr, ModuleOp
from xdsl.ir import Attribute

from flowcompile.backends.base import Backend
from flowcompile.dialects.flow import ConfigSetOp, PointAttr, WorkflowOp
from flowcompile.profiling.dataset import Query
from flowcompile.proxy.model import evaluate
from flowcompile.proxy.stats import acc_interval, spearman
from flowcompile.runtime import cheapest_assignment, reference_assignment, run_many, score
from flowcompile.passes.proxy_model import assignment_of, build_model


@dataclass(frozen=True)
class Row:
    """One configuration: its estimate and what was measured on `n` queries."""

    label: str
    est_acc: float
    est_lat: float
    est_cost: float
    acc: float
    acc_lo: float
    acc_hi: float
    lat: float
    lat_p95: float
    cost: float
    n: int
    errors: int
    assign: dict[str, str] = field(default_factory=dict)
    error: str = ""
    """The first failed run ("q00012: agent @solver failed: ..."); empty when none failed."""


@dataclass(frozen=True)
class Evaluation:
    workflow: str
    queries: int
    points: list[Row]
    baselines: list[Row]
    spearman_acc: float
    spearman_lat: float

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @staticmethod
    def from_json(data: Mapping[str, object]) -> Evaluation:
        return Evaluation(
            workflow=data["workflow"],  # pyright: ignore[reportArgumentType]
            queries=data["queries"],  # pyright: ignore[reportArgumentType]
            points=[Row(**r) for r in data["points"]],  # pyright: ignore
            baselines=[Row(**r) for r in data["baselines"]],  # pyright: ignore
            spearman_acc=data["spearman_acc"],  # pyright: ignore[reportArgumentType]
            spearman_lat=data["spearman_lat"],  # pyright: ignore[reportArgumentType]
        )


def config_set_of(module: ModuleOp, workflow: WorkflowOp) -> ConfigSetOp:
    for op in module.ops:
        if isinstance(op, ConfigSetOp) and op.workflow.root_reference.data == workflow.sym_name.data:
            return op
    raise ValueError(f"no flow.config_set for @{workflow.sym_name.data}: compile it first")


def pick(points: Sequence[PointAttr], which: str) -> list[int]:
    """Point indices from `all`, `ends` (fastest and most accurate) or `0,3,5`."""
    if which == "all":
        return list(range(len(points)))
    if which == "ends":
        return sorted({0, len(points) - 1})
    try:
        chosen = [int(x) for x in which.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--points takes all, ends or indices like 0,3 (got {which!r})") from None
    bad = [i for i in chosen if not 0 <= i < len(points)]
    if bad:
        raise ValueError(f"no point {bad[0]}: the config set has {len(points)} points (0..{len(points) - 1})")
    return chosen


def proxy_estimate(workflow: WorkflowOp, assignment: Mapping[str, Attribute]) -> tuple[float, float, float]:
    """The proxy's (acc, lat, cost) for any assignment of a composed workflow."""
    root = build_model(workflow)
    point = PointAttr.build(acc=0.0, lat=0.0, assign=_dict_attr(assignment))
    estimate = evaluate(root, assignment_of(root, point))
    return estimate.acc, estimate.t, estimate.cost


def _dict_attr(assignment: Mapping[str, Attribute]):
    return DictionaryAttr(dict(assignment))


def _describe(assignment: Mapping[str, Attribute]) -> dict[str, str]:
    out = {}
    for key, value in sorted(assignment.items()):
        text = getattr(value, "key", None) or getattr(getattr(value, "value", None), "data", None)
        out[key] = str(text if text is not None else getattr(value, "data", value))
    return out


async def _measure(
    workflow: WorkflowOp,
    label: str,
    assignment: Mapping[str, Attribute],
    estimate: tuple[float, float, float],
    backend: Backend,
    queries: Sequence[Query],
    seed: int,
    concurrency: int,
    on_done: Callable[[object], None] | None = None,
) -> Row:
    results = await run_many(
        workflow, assignment, backend, queries, concurrency=concurrency, seed=seed, on_done=on_done
    )
    ok = [r for r in results if not r.error]
    successes = sum(score(r, q) for r, q in zip(results, queries, strict=True) if not r.error)
    n = len(queries)
    lo, hi = acc_interval(successes, n)
    lats = np.array([r.latency for r in ok]) if ok else np.zeros(1)
    return Row(
        label=label,
        est_acc=round(estimate[0], 6),
        est_lat=round(estimate[1], 6),
        est_cost=round(estimate[2], 8),
        acc=round(successes / n, 6) if n else 0.0,
        acc_lo=round(float(lo), 6),
        acc_hi=round(float(hi), 6),
        lat=round(float(lats.mean()), 6),
        lat_p95=round(float(np.percentile(lats, 95)), 6),
        cost=round(float(np.mean([r.cost for r in ok])) if ok else 0.0, 8),
        n=n,
        errors=n - len(ok),
        assign=_describe(assignment),
        error=next((f"{q.id}: {r.error}" for r, q in zip(results, queries, strict=True) if r.error), ""),
    )


def evaluate_points(
    module: ModuleOp,
    workflow: WorkflowOp,
    backend: Backend,
    queries: Sequence[Query],
    *,
    which: str = "all",
    baselines: bool = True,
    seed: int = 0,
    concurrency: int = 8,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Measure the chosen points (and baselines) and compare with estimates;
    `progress(done, total)` hears each finished run (for a progress bar)."""
    points = list(config_set_of(module, workflow).points)
    chosen = pick(points, which)
    jobs = [
        (
            f"point {i}",
            dict(points[i].assign),
            (points[i].get("acc"), points[i].get("lat"), points[i].get("cost") or 0.0),
        )
        for i in chosen
    ]
    base_jobs = []
    if baselines:
        for label, assign in (
            ("all-strongest", reference_assignment(workflow)),
            ("all-cheapest", cheapest_assignment(workflow)),
        ):
            base_jobs.append((label, assign, proxy_estimate(workflow, assign)))

    total, done = (len(jobs) + len(base_jobs)) * len(queries), [0]

    def finished(_result: object) -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total)

    async def measure_all() -> list[Row]:
        return [
            await _measure(workflow, label, assign, est, backend, queries, seed, concurrency, finished)  # pyright: ignore
            for label, assign, est in [*jobs, *base_jobs]
        ]

    rows = asyncio.run(measure_all())
    point_rows, base_rows = rows[: len(jobs)], rows[len(jobs) :]
    ranked = point_rows + base_rows
    return Evaluation(
        workflow=workflow.sym_name.data,
        queries=len(queries),
        points=point_rows,
        baselines=base_rows,
        spearman_acc=_rank(ranked, "est_acc", "acc"),
        spearman_lat=_rank(ranked, "est_lat", "lat"),
    )


def _rank(rows: Sequence[Row], est: str, measured: str) -> float:
    if len(rows) < 2:
        return float("nan")
    value = spearman([getattr(r, est) for r in rows], [getattr(r, measured) for r in rows])
    return round(float(value), 6)


def record_measurements(module: ModuleOp, workflow: WorkflowOp, evaluation: Evaluation) -> None:
    """Write measured_acc / measured_lat onto the evaluated points of the config set."""
    config_set = config_set_of(module, workflow)
    points = list(config_set.points)
    for row in evaluation.points:
        index = int(row.label.split()[-1])
        params = {name: points[index].get(name) for name in PointAttr.fields()}
        params.update(measured_acc=row.acc, measured_lat=row.lat)
        points[index] = PointAttr.build(**params)
    config_set.properties["points"] = ArrayAttr(points)
