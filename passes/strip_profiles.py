"""Remove every measurement and proxy annotation written into the IR.

Profiling and the proxy passes record their results as discardable attributes
(`profiles` on agents, `probs` on switches, loop statistics, estimates). This
pass drops them all, so a workflow can be re-profiled from scratch or two
workflows diffed by structure alone. Inherent properties (choice spaces, roles,
prompts) and `flow.config_set` artifacts are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects import builtin
from xdsl.passes import ModulePass

MEASUREMENT_ATTRS = frozenset(
    {
        "profiles", "probs", "pass_rate", "iters", "estimate", "estimates", "proxy", "frontier", "space",
        "profiled", "validated", "wrong_agree", "wrong_agree_n",
    }
)
"""Discardable attributes that profiling and the proxy passes write."""


@dataclass(frozen=True)
class StripProfilesPass(ModulePass):
    """Drop every measurement and proxy annotation.

    Profiles, branch probabilities, loop statistics, estimates, frontiers."""

    name = "strip-profiles"

    def apply(self, ctx: Context, op: builtin.ModuleOp) -> None:
        for nested in op.walk():
            for key in MEASUREMENT_ATTRS & nested.attributes.keys():
                del nested.attributes[key]
