"""Enumerate the non-dominated configurations of every workflow.

Reads: the proxy that `compose` wrote (`estimates` on agents, `probs` on
switches). Writes: `frontier = [#flow.point<...>]` on each `flow.workflow`: the
proxy's exact Pareto set (accuracy up, latency down), sorted by latency, each
point with its full assignment and its estimated cost.

The search is bottom-up over the region tree with exact dominance pruning
(`flowcompile.proxy.search`); shared agents are conditioned on. A step whose
cross product would exceed `limit` points is an error that names the region
and this option, never an out-of-memory. `exhaustive=true` evaluates the full
cross product instead, to check the search on small spaces.

Invalidates (erases, as `flowcompile.passes.invalidation` derives it): each
workflow's `validated`, which describes the frontier this pass replaces.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import builtin
from xdsl.dialects.builtin import ArrayAttr, IntegerAttr, IntegerType
from xdsl.passes import ModulePass

from flowcompile.diagnostics import FlowError
from flowcompile.dialects.flow import PointAttr, WorkflowOp
from flowcompile.passes.invalidation import invalidate
from flowcompile.passes.proxy_model import build_model, point_attrs
from flowcompile.proxy.search import DEFAULT_LIMIT, RegionLimitError, brute_force, frontier, space_size


def enumerate_workflow(workflow: WorkflowOp, limit: int, exhaustive: bool) -> list[PointAttr]:
    """The Pareto set of one workflow, as `#flow.point`s."""
    root = build_model(workflow)
    try:
        points = brute_force(root, limit) if exhaustive else frontier(root, limit)
    except RegionLimitError as e:
        raise FlowError(
            workflow,
            f"{e.region}: the search would build {e.size} partial configurations, over "
            f"the limit of {e.limit}; raise it with -p 'enumerate{{limit=N}}'"
            + ("" if not exhaustive else " or drop exhaustive=true"),
        ) from None
    workflow.attributes["space"] = space_attr(space_size(root))
    return point_attrs(root, points)


def space_attr(size: int) -> IntegerAttr:
    """The space size as a builtin integer of the narrowest multiple of 64 bits
    that holds it as a positive signless value: `i64`, printed bare, until
    2^63, then i128, i192, ... (any width parses, here and in upstream MLIR;
    a signless value at or above 2^(w-1) would print negative)."""
    return IntegerAttr(size, IntegerType(64 * (size.bit_length() // 64 + 1)))


@dataclass(frozen=True)
class EnumeratePass(ModulePass):
    """Find the proxy's exact Pareto frontier of every workflow."""

    name = "enumerate"

    limit: int = DEFAULT_LIMIT
    """The largest cross product one step of the search may build."""

    exhaustive: bool = False
    """Evaluate every configuration instead (for checking small spaces)."""

    def apply(self, ctx: Context, op: builtin.ModuleOp) -> None:
        if self.limit < 1:
            raise ValueError("limit must be >= 1")
        for workflow in op.walk():
            if isinstance(workflow, WorkflowOp):
                invalidate(workflow, self.name)
                points = enumerate_workflow(workflow, self.limit, self.exhaustive)
                workflow.attributes["frontier"] = ArrayAttr(points)
