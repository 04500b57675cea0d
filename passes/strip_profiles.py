"""Remove every measurement and proxy annotation written into the IR.

Profiling and the proxy passes record their results as discardable attributes
(`profiles` on agents, `probs` on switches, loop statistics, estimates,
frontiers, provenance records). This pass drops them all: every attribute
named in `flowcompile.passes.invalidation.TABLE`, on whichever op it is, so a
workflow can be re-profiled from scratch or two workflows diffed by structure
alone. Inherent properties (choice spaces, roles, prompts) and
`flow.config_set` artifacts are kept.

Invalidates everything derived, by erasing all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import builtin
from xdsl.passes import ModulePass

from flowcompile.passes.invalidation import TABLE

MEASUREMENT_ATTRS = frozenset(entry.name for entry in TABLE)
"""The names of the discardable attributes that profiling and the proxy passes write."""


@dataclass(frozen=True)
class StripProfilesPass(ModulePass):
    """Drop every measurement and proxy annotation.

    Profiles, branch probabilities, loop statistics, estimates, frontiers."""

    name = "strip-profiles"

    def apply(self, ctx: Context, op: builtin.ModuleOp) -> None:
        for nested in op.walk():
            for key in MEASUREMENT_ATTRS & nested.attributes.keys():
                del nested.attributes[key]
