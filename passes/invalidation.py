"""The derived attributes of flow IR: who writes each, from what, and what a
pass must erase when it rewrites them.

Passes annotate the IR with discardable attributes, each computed from others:
estimates from profiles, the frontier from estimates, the validation record
from the frontier. Passes talk only through the IR, so a pass that rewrites an
attribute erases, before it writes, every attribute derived from it, directly
or not: otherwise a later pass reads a stale result, as `pareto` read the
frontier `enumerate` had written before `compose` estimated again. This is
MLIR's analysis invalidation, done in the IR. `TABLE` is the one statement of
the dependencies; every pass invalidates through `invalidate`, and
`strip-profiles` erases every attribute `TABLE` names.

Measured attributes come from the IR's structure and a backend, never from
other attributes. `flow.config_set` ops are the pipeline's output, not derived
attributes: `pareto` replaces its own and no pass reads one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from xdsl.ir import Operation

from flowcompile.dialects.flow import AgentOp, LoopOp, SwitchOp, ToolOp, VoteOp, WorkflowOp


@dataclass(frozen=True)
class Derived:
    """A discardable attribute that a pass writes, and what it is computed from."""

    name: str
    """The attribute's key in an op's attribute dictionary."""

    ops: tuple[type[Operation], ...]
    """The ops that carry it; () for any op."""

    writers: tuple[str, ...]
    """The passes that write it."""

    inputs: tuple[Derived, ...] = ()
    """The attributes it is computed from; () when measured, or computed from
    the structure alone."""

    def carried_by(self, op: Operation) -> bool:
        return not self.ops or isinstance(op, self.ops)


# Measured by `profile` (from the structure and a backend, no other attribute).
PROFILES = Derived("profiles", (AgentOp, ToolOp), ("profile", "retarget"))
"""Measured by `profile`; `retarget` recomputes their latencies from their tokens."""
AGENT_WRONG_AGREE = Derived("wrong_agree", (AgentOp, ToolOp), ("profile",))
AGENT_WRONG_AGREE_N = Derived("wrong_agree_n", (AgentOp, ToolOp), ("profile",))
PROBS = Derived("probs", (SwitchOp,), ("profile",))
ITERS = Derived("iters", (LoopOp,), ("profile",))
PASS_RATE = Derived("pass_rate", (LoopOp,), ("profile",))
REVISED = Derived("revised", (LoopOp,), ("profile",))
FIXED = Derived("fixed", (LoopOp,), ("profile",))
PROFILED = Derived("profiled", (WorkflowOp,), ("profile",))
FAILED = Derived("failed", (AgentOp, ToolOp), ("profile",))
"""The candidates whose calls failed: no profile, left out of the search."""
JUDGED = Derived("judged", (AgentOp, ToolOp), ("profile",))
"""How the profiles' `acc` was judged, when not by the reference answers
(`flow.JUDGED_BY_REFERENCE_OUTPUT`: a plan, by agreement with the reference run's)."""

RETARGETED = Derived("retargeted", (WorkflowOp,), ("retarget",), (PROFILES,))
"""Which speed table the profiles' latencies were recomputed from: a fresh
profile measures them again."""

# The proxy, by `compose`.
ESTIMATES = Derived("estimates", (AgentOp, ToolOp), ("compose",), (PROFILES, FAILED, JUDGED))
PROXY = Derived("proxy", (), ("compose",), (PROFILES, FAILED))
"""Each op's rule: from the structure, and from the profiles whether it
composes query by query."""
VOTE_WRONG_AGREE = Derived(
    "wrong_agree", (VoteOp,), ("compose",), (AGENT_WRONG_AGREE, AGENT_WRONG_AGREE_N)
)
"""A vote's rule parameter, pooled from its agents' measured rates."""
ESTIMATE = Derived("estimate", (), (), (PROFILES,))
"""A single `#flow.estimate`, which no pass writes any more; older IR may hold one."""

PROXY_MODEL = (ESTIMATES, PROXY, PROBS, VOTE_WRONG_AGREE, REVISED, FIXED)
"""What the proxy model reads (`passes.proxy_model.build_model`)."""

# The search and its validation.
FRONTIER = Derived(
    "frontier", (WorkflowOp,), ("enumerate", "validate"), (*PROXY_MODEL, PROFILES, PROFILED)
)
"""The proxy's Pareto set (`enumerate`), or the measured one (`validate`, which
also reads the profiles' sample counts and the profiling query ids)."""
SPACE = Derived("space", (WorkflowOp,), ("enumerate", "pareto"), PROXY_MODEL)
"""The size of the space the search ran on (`pareto` writes it when it enumerates)."""
VALIDATED = Derived("validated", (WorkflowOp,), ("validate",), (FRONTIER, PROFILED))
"""What validation measured: it describes the frontier it wrote."""

TABLE: tuple[Derived, ...] = (
    PROFILES,
    AGENT_WRONG_AGREE,
    AGENT_WRONG_AGREE_N,
    PROBS,
    ITERS,
    PASS_RATE,
    REVISED,
    FIXED,
    PROFILED,
    FAILED,
    JUDGED,
    RETARGETED,
    ESTIMATES,
    PROXY,
    VOTE_WRONG_AGREE,
    ESTIMATE,
    FRONTIER,
    SPACE,
    VALIDATED,
)
"""Every derived attribute of flow IR, each after the attributes it is derived from."""


def dependents(changed: Iterable[Derived]) -> list[Derived]:
    """The attributes derived from `changed`, directly or through others."""
    stale = set(changed)
    found: list[Derived] = []
    for entry in TABLE:  # in dependency order: one sweep reaches every dependent
        if stale.intersection(entry.inputs):
            found.append(entry)
            stale.add(entry)
    return found


def written_by(pass_name: str) -> list[Derived]:
    """The attributes `pass_name` writes."""
    return [entry for entry in TABLE if pass_name in entry.writers]


def invalidated_by(pass_name: str) -> list[Derived]:
    """What `pass_name` invalidates: the attributes derived from what it
    writes, but for those it writes itself."""
    own = written_by(pass_name)
    return [entry for entry in dependents(own) if entry not in own]


def erase(op: Operation, entries: Iterable[Derived]) -> None:
    """Erase `entries` from `op` and every op nested in it."""
    entries = tuple(entries)
    for nested in op.walk():
        for entry in entries:
            if entry.carried_by(nested):
                nested.attributes.pop(entry.name, None)


def invalidate(op: Operation, pass_name: str) -> None:
    """Erase, in `op` and the ops nested in it, what `pass_name` invalidates.

    A pass calls this before it writes, on the ops whose attributes it rewrites
    (the module, or one workflow)."""
    erase(op, invalidated_by(pass_name))
