"""Emit the workflow's Pareto-optimal configurations as a `flow.config_set`.

Reads: the `frontier` that `enumerate` wrote on each workflow, or, when there
is none, runs the enumeration itself (so `--profile --compose --pareto` works
as written). Writes: `flow.config_set @<workflow>_pareto for @<workflow>
{points = [...]}` after the workflow (replacing an earlier one), holding the
points that meet the constraints `max-latency`, `min-acc` and `max-cost`,
thinned to the `k` points that maximise the dominated hypervolume (exact, by
dynamic programming; the reference point is accuracy 0 and the slowest
candidate's latency), sorted by latency.

Invalidates nothing (`flowcompile.passes.invalidation`): no attribute is
derived from the space size it writes when it enumerates, and the config set
it replaces is its own output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from xdsl.context import Context
from xdsl.dialects import builtin
from xdsl.dialects.builtin import ArrayAttr
from xdsl.passes import ModulePass

from flowcompile.diagnostics import FlowError
from flowcompile.dialects.flow import ConfigSetOp, PointAttr, WorkflowOp
from flowcompile.passes.enumerate import enumerate_workflow
from flowcompile.passes.invalidation import invalidate
from flowcompile.proxy.hypervolume import select_k
from flowcompile.proxy.search import DEFAULT_LIMIT


@dataclass(frozen=True)
class ParetoPass(ModulePass):
    """Emit the Pareto-optimal configurations as a flow.config_set.

    Constrained by max-latency, min-acc, max-cost; thinned to k diverse points."""

    name = "pareto"

    max_latency: float | int | None = None
    """Keep points whose estimated latency (s) is at most this."""

    min_acc: float | int | None = None
    """Keep points whose estimated accuracy is at least this."""

    max_cost: float | int | None = None
    """Keep points whose estimated cost ($ per query) is at most this."""

    k: int | None = None
    """Keep the k points of largest joint hypervolume."""

    limit: int = DEFAULT_LIMIT
    """Passed to the enumeration when the IR holds no frontier yet."""

    def apply(self, ctx: Context, op: builtin.ModuleOp) -> None:
        if self.k is not None and self.k < 1:
            raise ValueError("k must be >= 1")
        for workflow in [w for w in op.ops if isinstance(w, WorkflowOp)]:
            invalidate(workflow, self.name)
            points = self._frontier(workflow)
            kept = [p for p in points if self._meets(p)]
            if not kept:
                raise FlowError(
                    workflow,
                    f"no configuration of @{workflow.sym_name.data} meets the constraints "
                    f"({self._constraints()}); {len(points)} Pareto points, the most "
                    f"accurate at acc {max(p.get('acc') for p in points):g}, the fastest at "  # pyright: ignore
                    f"{min(p.get('lat') for p in points):g} s",  # pyright: ignore
                )
            if self.k is not None and self.k < len(kept):
                kept = self._thin(kept, points)
            self._emit(op, workflow, kept)

    def _frontier(self, workflow: WorkflowOp) -> list[PointAttr]:
        stored = workflow.attributes.get("frontier")
        if isinstance(stored, ArrayAttr):
            return [p for p in stored.data if isinstance(p, PointAttr)]
        return enumerate_workflow(workflow, self.limit, exhaustive=False)

    def _meets(self, point: PointAttr) -> bool:
        acc, lat, cost = point.get("acc"), point.get("lat"), point.get("cost") or 0.0
        return (
            (self.max_latency is None or lat <= self.max_latency)  # pyright: ignore
            and (self.min_acc is None or acc >= self.min_acc)  # pyright: ignore
            and (self.max_cost is None or cost <= self.max_cost)  # pyright: ignore
        )

    def _constraints(self) -> str:
        parts = [
            f"{name} {value:g}"
            for name, value in (
                ("max-latency", self.max_latency),
                ("min-acc", self.min_acc),
                ("max-cost", self.max_cost),
            )
            if value is not None
        ]
        return ", ".join(parts)

    def _thin(self, kept: list[PointAttr], frontier: list[PointAttr]) -> list[PointAttr]:
        acc = np.array([p.get("acc") for p in kept], dtype=float)
        lat = np.array([p.get("lat") for p in kept], dtype=float)
        ref_lat = max(float(p.get("lat")) for p in frontier) * 1.05 + 1e-9  # pyright: ignore
        chosen = select_k(acc, lat, self.k, ref_acc=0.0, ref_lat=ref_lat)  # pyright: ignore
        return [kept[i] for i in sorted(chosen, key=lambda i: (lat[i], -acc[i]))]

    def _emit(self, module: builtin.ModuleOp, workflow: WorkflowOp, points: list[PointAttr]) -> None:
        name = f"{workflow.sym_name.data}_pareto"
        config_set = ConfigSetOp(name, workflow.sym_name.data, points)
        config_set.location = workflow.location
        for existing in list(module.ops):
            if isinstance(existing, ConfigSetOp) and existing.sym_name.data == name:
                existing.detach()
                existing.erase()
        module.body.block.insert_op_after(config_set, workflow)
