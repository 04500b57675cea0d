"""The Pareto frontier of a proxy model, bottom-up, exact.

Every value's frontier holds the non-dominated partial configurations of the
variables it depends on (maximise acc, minimise t). Each rule of
`flowcompile.proxy.model` is monotone in its children's (acc, t), so dropping
a dominated child point never loses a non-dominated parent point; frontiers
are combined with vectorised numpy cross products and pruned after every step.

An aggregator measured per level of right proposals is not a function of one
scalar of its proposals, so there the proposals' fronts are combined by cross
product (each front is still pruned: the rule is monotone in every proposal's
accuracy) and pruning follows the aggregator's own accuracy.

Parallel latency depends on more than a child's (acc, t) in two ways, and
the search follows both:
* an agent inside a replicated fork takes longer with more replicas (the
  slowest of k calls), so the fronts below a samples knob are found once per
  knob value, with the knob fixed; no pruning ever compares two knob values
  below their consumer.
* a fork of different agents is ready at the expected maximum over its
  branches, each spread by its last call's latency distribution, which
  depends on that agent's choice. The front of such an agent is pruned
  within each choice, and across choices only where one point is at least as
  accurate and no slower in every atom of its latency: both keep every point
  the expected maximum (monotone in every atom) could need. The consumer then
  takes the cross product of the branches' fronts.

Two places need more than that:
* a variable that two children of one join depend on (an agent whose output
  two paths share) would be chosen twice, inconsistently. Such shared
  variables are *conditioned on*: the search runs once per assignment of them,
  with those variables fixed, and the union of the results is pruned.
* a loop's latency is not monotone in its verdict agent's accuracy (a better
  judge can reject more often), so the variables of a loop body are
  enumerated exhaustively; only the loop's initial value is pruned.

`brute_force` evaluates every configuration, for checking.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from flowcompile.proxy.frontier import FrontierLimitError
from flowcompile.proxy.model import (
    Agent,
    Carried,
    Estimate,
    Input,
    Loop,
    Node,
    Switch,
    Var,
    Vote,
    _eval,
    agent_acc,
    all_vars,
    assignments,
    effective_inputs,
    evaluate,
    joint_proposal_acc,
    joint_refine_loop,
    joint_vote_acc,
    parallel_time,
    proposal_acc,
    refine_loop,
    supports,
    spread,
    vote_acc,
    walk,
)

ACC_TOLERANCE = 1e-12
"""Accuracies closer than this are equal for dominance (float noise, not signal)."""

DEFAULT_LIMIT = 2_000_000
"""Largest cross product (points) one step may build before giving up."""

PREFILTER_SIZE = 50_000
PREFILTER_STRIDE = 16
"""`_pareto` thins sets larger than this against the front of every
PREFILTER_STRIDE-th point before sorting them."""

SPREAD_PRUNE_LIMIT = 1500
"""Largest front whose points are compared pairwise by latency atoms (larger
ones stay whole: a superset of the front is still exact, only slower)."""


class RegionLimitError(FrontierLimitError):
    """A step of the search would exceed the limit; names the region."""

    def __init__(self, region: str, size: int, limit: int):
        super().__init__(size, limit)
        self.region = region


@dataclass(frozen=True)
class Front:
    """Non-dominated points; `assign[i, j]` is the choice of variable j (-1: unset).

    `cost` rides along, never compared (cost is reported, not optimised): each
    point's expected cost as `evaluate` gives it, so no point of the result
    needs evaluating again."""

    acc: np.ndarray
    t: np.ndarray
    cost: np.ndarray
    assign: np.ndarray

    def __len__(self) -> int:
        return int(self.acc.shape[0])

    @functools.cached_property
    def sets_any(self) -> bool:
        return bool((self.assign >= 0).any())


@dataclass(frozen=True)
class Point:
    """One configuration of the whole workflow with its proxy estimate."""

    assignment: dict[str, int]
    estimate: Estimate


def _pareto(acc: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated points, by latency; of exact ties the first.

    Float noise (1e-17) must not decide dominance: a point is kept only when it
    beats every faster point's accuracy by more than ACC_TOLERANCE. (Rounding
    accuracies instead fails on exact ties: products of six-decimal profile
    values often end on the rounding boundary, and noise then sends equal
    values to different sides.) Latencies are sums on a coarse decimal grid,
    so rounding them is safe. The same rule as `frontier.pareto_indices`
    without its cost key, which the search does not use; this runs on every
    step, so it sorts on two keys only.

    A large set (an agent's choices over a long chain's front) is first
    thinned without sorting it: a point that a point of a sample's front
    beats outright (more accurate, no slower) is never kept, and whatever it
    would have raised `best_before` to, that point raises it to as much, and
    earlier; so dropping it changes nothing."""
    lat = np.round(t, 12)
    if len(acc) > PREFILTER_SIZE:
        sample = np.arange(0, len(acc), PREFILTER_STRIDE)
        ref = sample[_sorted_front(acc[sample], lat[sample])]  # lat and acc rising
        faster = np.searchsorted(lat[ref], lat, side="right") - 1
        beaten = (faster >= 0) & (acc[ref][np.maximum(faster, 0)] > acc)
        rest = np.flatnonzero(~beaten)
        return rest[_sorted_front(acc[rest], lat[rest])]
    return _sorted_front(acc, lat)


def _sorted_front(acc: np.ndarray, lat: np.ndarray) -> np.ndarray:
    order = np.lexsort((-acc, lat))
    ranked = acc[order]
    best_before = np.maximum.accumulate(np.concatenate(([-np.inf], ranked[:-1])))
    return order[ranked > best_before + ACC_TOLERANCE]


def _all_children(node: Node) -> Sequence[Node]:
    if isinstance(node, Loop):
        return (*node.children(), node.verdict, node.next)
    return node.children()


def _read_by_choice(node: Node) -> Sequence[Node]:
    """The inputs a rule composed query by query reads choice by choice."""
    if isinstance(node, Agent) and node.joint:
        return node.proposals
    if isinstance(node, Vote) and node.joint:
        return node.inputs
    if isinstance(node, Loop) and node.joint:
        return (node.init,)
    return ()


def _useful_bodies(rho1, rho0, tpr, fpr, t_check, t_revise) -> np.ndarray:
    """Indices of loop-body rows not dominated by another with the same judge.

    With the judge's rates fixed, the loop's accuracy rises with rho1 and
    rho0 (a revision never more often right from a wrong draft than from a
    right one) and its latency rises with t_check and t_revise and falls
    with rho1 and rho0, so a row that another beats or ties on all four can
    never give a better loop; ties keep the first row. The rates may be per
    query (a last axis): then a row must be beaten on every query."""
    judges = np.concatenate([np.reshape(tpr, (len(tpr), -1)), np.reshape(fpr, (len(fpr), -1))], axis=1)
    _, judge = np.unique(judges, axis=0, return_inverse=True)
    rates = [np.reshape(rho1, (len(rho1), -1)), np.reshape(rho0, (len(rho0), -1))]
    dominated = np.zeros(len(tpr), dtype=bool)
    for group in np.unique(judge):
        rows = np.flatnonzero(judge.ravel() == group)
        better = (
            (t_check[rows, None] <= t_check[None, rows]) & (t_revise[rows, None] <= t_revise[None, rows])
        )  # better[i, j]: row i is at least as good as row j
        for r in rates:
            better &= (r[rows, None, :] >= r[None, rows, :]).all(-1)
        strictly = better & ~better.T
        tie_first = better & better.T & (np.arange(len(rows))[:, None] < np.arange(len(rows))[None, :])
        dominated[rows] = (strictly | tie_first).any(axis=0)
    return np.flatnonzero(~dominated)


def _useful_choices(p: np.ndarray, floor: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Indices of an agent's choices that no other beats on every input.

    `agent_acc` rises with the success rate p and with the recovery floor
    min(r, p), and the latency with the call's, so a choice another is at
    least as good as on all three gives, on every upstream point, a point
    that the other's point dominates and precedes in `_pareto`'s order: an
    earlier choice, or one faster by more than rounding."""
    better = (p[:, None] >= p[None, :]) & (floor[:, None] >= floor[None, :]) & (lat[:, None] <= lat[None, :])
    order = np.arange(len(p))
    precedes = (order[:, None] < order[None, :]) | (lat[:, None] < lat[None, :] - 1e-9)
    return np.flatnonzero(~(better & precedes).any(axis=0))


def _merge(fronts: Sequence[Front]) -> Front:
    """The non-dominated points of a union of fronts."""
    acc, t, cost, assign = (np.concatenate([getattr(f, k) for f in fronts]) for k in ("acc", "t", "cost", "assign"))
    keep = _pareto(acc, t)
    return Front(acc[keep], t[keep], cost[keep], assign[keep])


def _pin_key(node: Node) -> str:
    return f"pin:{id(node)}"


def _merge_assign(*parts: np.ndarray) -> np.ndarray:
    """Combine broadcast assignment blocks: each variable is set by at most one
    part (or set identically, for conditioned variables)."""
    result = parts[0]
    for part in parts[1:]:
        result = np.where(part >= 0, part, result)
    return result


def _column(x, n: int) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return x if x.shape == (n,) else np.broadcast_to(x, (n,))


class _Candidates:
    """The points one step of the search builds, in blocks: row r of a block
    combines the assignments `front.assign[index[r]]` of its fronts and sets
    its `fixed` columns (to one choice, or one per row). The assignments, the
    widest part of a cross product, are built only for the points that
    survive pruning."""

    def __init__(self, width: int):
        self.width = width
        self.values: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.blocks: list[tuple[Sequence[Front], Sequence[np.ndarray], dict[int, int | np.ndarray]]] = []

    def add(
        self,
        acc,
        t,
        cost,
        fronts: Sequence[Front],
        idx: Sequence[np.ndarray],
        fixed: Mapping[int, int | np.ndarray] | None = None,
    ) -> None:
        n = len(idx[0])
        self.values.append(tuple(_column(x, n) for x in (acc, t, cost)))  # pyright: ignore[reportArgumentType]
        self.blocks.append((fronts, idx, dict(fixed or {})))

    def fixed_column(self, column: int) -> np.ndarray:
        """Every candidate's choice of a column that each block fixes."""
        return np.concatenate([np.broadcast_to(fixed[column], (len(idx[0]),)) for _, idx, fixed in self.blocks])

    def pruned(self, keep: Callable[[np.ndarray, np.ndarray], np.ndarray] = _pareto) -> Front:
        """The front of the candidates `keep(acc, t)` selects (by default the non-dominated)."""
        acc, t, cost = (np.concatenate(x) for x in zip(*self.values, strict=True))
        rows = keep(acc, t)
        assign = np.empty((len(rows), self.width), dtype=np.int32)
        start = 0
        for fronts, idx, fixed in self.blocks:
            n = len(idx[0])
            mine = (rows >= start) & (rows < start + n)
            if mine.any():
                picked = rows[mine] - start
                sources = [f.assign[i[picked]] for f, i in zip(fronts, idx, strict=True) if f.sets_any]
                part = _merge_assign(*sources) if sources else np.full((len(picked), self.width), -1, np.int32)
                for column, choice in fixed.items():
                    per_row = np.ndim(choice) > 0
                    part[:, column] = choice[picked] if per_row else choice  # pyright: ignore[reportIndexIssue]
                assign[mine] = part
            start += n
        return Front(acc[rows], t[rows], cost[rows], assign)


class _Search:
    def __init__(self, root: Node, limit: int):
        # Per-search memos (a `functools.cache` on a method would keep every search alive).
        self._outer_keys_memo: dict[Loop, frozenset[str]] = {}
        self._body_vars_memo: dict[Loop, frozenset[str]] = {}
        self._spread_table_memo: dict[Agent, np.ndarray] = {}
        self.root = root
        self.limit = limit
        self.vars = all_vars(root)
        self.column = {v.key: j for j, v in enumerate(self.vars)}
        self.sup = supports(root)
        self.reads = {id(n): self._reads(n) for n in walk(root)}
        self.live = [n for n in walk(root) if id(n) in self._closure(root)]
        self.open = self._open_knobs()
        self.shared, self.pins = self._shared()
        self.held, self.need = self._scopes()
        self.fixed: dict[str, int] = {}
        self.pin_point: dict[int, Front] = {}
        self.pin_index: dict[str, int] = {}
        self.memo: dict[tuple[int, ...], Front] = {}
        self.loop_rows: dict[tuple[int, tuple[int, ...]], tuple] = {}
        self.tables: dict[tuple[int, int, int], tuple[np.ndarray, ...]] = {}

    # Which variables to condition on --------------------------------------

    def _open_knobs(self) -> dict[int, tuple[str, ...]]:
        """Per node, the samples knobs its latency depends on that its
        consumer (above it) chooses: the replicated forks it is inside."""
        found: dict[int, tuple[str, ...]] = {}
        for node in walk(self.root):
            keys = {v.key for v in node.replicas} if isinstance(node, Agent) else set()
            for child in _all_children(node):
                keys |= set(found[id(child)])
            if isinstance(node, Vote) and node.samples is not None:
                keys.discard(node.samples.key)
            if isinstance(node, Agent):
                keys -= {v.key for v in node.samples_of.values()}
            found[id(node)] = tuple(sorted(keys))
        return found

    def _reads(self, node: Node) -> list[Node]:
        """The values `node`'s front is computed from (a loop's: its first
        draft's front and its body's estimates). An input the proxy finds
        redundant (`effective_inputs`) is never read."""
        if isinstance(node, Agent):
            skipped = [node.passed] if node.skippable and not node.absent else []
            return [*skipped, *effective_inputs(node.inputs, self.sup), *node.proposals, *node.gates]
        return list(_all_children(node))

    def _closure(self, node: Node) -> set[int]:
        """`node` and every value its front is computed from, transitively."""
        seen = {id(node)}
        todo = [node]
        while todo:
            for child in self.reads[id(todo.pop())]:
                if id(child) not in seen:
                    seen.add(id(child))
                    todo.append(child)
        return seen

    def _join_children(self, node: Node) -> list[Node]:
        if isinstance(node, Agent):
            children = [*effective_inputs(node.inputs, self.sup), *node.proposals, *node.gates]
            if node.skippable and not node.absent and all(node.passed is not x for x in children):
                children.append(node.passed)  # a skip joins it with what the agent reads (their cost)
            return children
        if isinstance(node, Loop):
            return [node.init]
        return list(node.children())

    def _shared(self) -> tuple[list[Var], list[Node]]:
        """What to condition on: the variables and the pinned values that two
        children of one join both depend on.

        A value with several users (the aggregate that a router and two experts
        all read) is *pinned*: the search runs once per point of its frontier,
        not once per configuration of every agent behind it. This is exact
        because every rule is monotone in its inputs' (acc, t), so a dominated
        value of the pinned node can only give dominated results. Variables
        still reachable by two paths that avoid every pin, and those of values
        a loop body reads from outside, are conditioned on by configuration
        (so are those of a joint aggregator's proposals, a joint vote's
        inputs and a joint loop's first draft, which are not read by front)."""
        users: dict[int, int] = defaultdict(int)
        for node in self.live:
            for child in self._join_children(node):
                users[id(child)] += 1
        # a joint aggregator, vote or loop reads its inputs choice by choice, not by front
        enumerated = {id(x) for a in self.live for x in _read_by_choice(a)}
        owners = self._owners()
        pins = [
            n for n in self.live
            if users[id(n)] >= 2
            and id(n) not in enumerated
            and not isinstance(n, (Input, Carried))
            and not self.open[id(n)]  # its front depends on a knob chosen above it
            and not any(k.startswith("carried:") for k in self.sup[id(n)])
            and self._only_through(n)
            and self._owns_all(n, owners)
        ]
        pinned = {id(n) for n in pins}
        opaque: dict[int, frozenset[str]] = {}
        for node in self.live:
            if id(node) in pinned:
                opaque[id(node)] = frozenset({_pin_key(node)})
                continue
            keys = {v.key for v in node.own_vars()}
            for child in self.reads[id(node)]:
                keys |= opaque[id(child)]
            opaque[id(node)] = frozenset(keys)
        self.joins: dict[str, set[int]] = defaultdict(set)
        """Per conditioned item, the nodes that need it fixed: the joins it
        is shared at, the loops whose body reads it from outside."""
        for node in self.live:
            # a shared agent's variable, owned here and by a node below, is a join here too
            seen = {v.key for v in node.own_vars() if len(owners[v.key]) > 1}
            if isinstance(node, Loop):
                seen |= {k for k in self._body_vars(node) if len(owners[k]) > 1}
            for child in self._join_children(node):
                for key in opaque[id(child)]:
                    if key in seen:
                        self.joins[key].add(id(node))
                    seen.add(key)
            if isinstance(node, Loop):
                for key in self._outer_keys(node):
                    self.joins[key].add(id(node))
        variables = [v for v in self.vars if v.key in self.joins]
        return variables, [n for n in pins if _pin_key(n) in self.joins]

    def _owners(self) -> dict[str, list[Node]]:
        """Per variable, the live nodes that own it: several for a shared agent
        (one agent called at several sites, one configuration)."""
        found: dict[str, list[Node]] = defaultdict(list)
        for node in self.live:
            for var in node.own_vars():
                found[var.key].append(node)
        return found

    def _owns_all(self, pin: Node, owners: Mapping[str, list[Node]]) -> bool:
        """Whether every site of each shared agent `pin`'s value depends on is
        inside it: a pinned value fixes its variables for itself alone."""
        inside = self._closure(pin)
        return all(
            id(owner) in inside for key in self.sup[id(pin)] if len(owners.get(key, ())) > 1 for owner in owners[key]
        )

    def _only_through(self, pin: Node) -> bool:
        """Whether everything `pin`'s value is computed from is read only
        through it: then fixing its value fixes all of that consistently. A
        redundant input is not read (`_reads`), so it does not count: the
        planner that a checker reads next to the aggregate built on it."""
        inside = self._closure(pin)
        for node in self.live:
            if id(node) in inside:
                continue
            for child in self.reads[id(node)]:
                if id(child) in inside and child is not pin and not isinstance(child, (Input, Carried)):
                    return False
        return True

    def _scopes(self) -> tuple[dict[int, list[str]], dict[int, tuple[str, ...]]]:
        """Where each conditioned variable and pinned value (an *item*) is
        released, and which items each node's front depends on.

        An item stays fixed from where it is set up, through the joins that
        share it, up to the lowest node that every path from those to the root
        passes (their dominator): there the fronts found for each of its values
        are united and pruned, which is exact because nothing above reads it
        but through that node and every rule is monotone. Conditioning where the item is live, not around the
        whole search, keeps a shared value's rounds from multiplying the work
        of everything above it. A variable that a loop body reads from outside
        stays fixed up to the loop (the body is enumerated under it), and one
        behind a pinned value up to where that value is released (the pinned
        point carries its choice). Loop bodies are evaluated, not searched, so
        nothing is released inside one."""
        parents: dict[int, list[int]] = defaultdict(list)
        for node in self.live:
            for child in self.reads[id(node)]:
                parents[id(child)].append(id(node))
        searched = [n for n in self.live if not any(k.startswith("carried:") for k in self.sup[id(n)])]

        def dominator(sources: set[int], excluded: set[int]) -> int:
            above, todo = set(sources), list(sources)
            while todo:
                for up in parents[todo.pop()]:
                    if up not in above:
                        above.add(up)
                        todo.append(up)
            for node in searched:  # children first: the first dominator is the lowest
                if id(node) in above and id(node) not in excluded and not reaches(sources - {id(node)}, id(node)):
                    return id(node)
            return id(self.root)

        def reaches(starts: set[int], blocked: int) -> bool:
            seen, todo = set(starts), list(starts)
            while todo:
                here = todo.pop()
                if here == id(self.root):
                    return True
                for up in parents[here]:
                    if up != blocked and up not in seen:
                        seen.add(up)
                        todo.append(up)
            return False

        scope = {_pin_key(p): dominator({id(p)} | self.joins[_pin_key(p)], {id(p)}) for p in self.pins}
        below = {id(n): self._closure(n) for n in searched}
        for var in self.shared:
            holders = {id(n) for n in self.live if var.key in {v.key for v in n.own_vars()}}
            sources = holders | self.joins[var.key]
            while True:
                scope[var.key] = top = dominator(sources, holders)
                late = {
                    scope[_pin_key(p)] for p in self.pins
                    if holders & below[id(p)] and id(p) != top and id(p) in below[top]
                    and scope[_pin_key(p)] not in below[top]
                }
                if not late:
                    break
                sources |= late
        held: dict[int, list[str]] = defaultdict(list)
        for item in [*(v.key for v in self.shared), *(_pin_key(p) for p in self.pins)]:
            held[scope[item]].append(item)  # variables before pins, pins inner first
        pinned = {id(p): _pin_key(p) for p in self.pins}
        need: dict[int, tuple[str, ...]] = {}
        for node in self.live:
            keys = {v.key for v in node.own_vars() if v.key in scope}
            for child in self.reads[id(node)]:
                keys.update(need[id(child)])
                if id(child) in pinned:
                    keys.add(pinned[id(child)])
            need[id(node)] = tuple(sorted(keys - set(held.get(id(node), ()))))
        return dict(held), need

    def _outer_keys(self, loop: Loop) -> frozenset[str]:
        """Variables of the values from outside the loop body that it reads."""
        if loop not in self._outer_keys_memo:
            self._outer_keys_memo[loop] = self._outer_keys_uncached(loop)
        return self._outer_keys_memo[loop]

    def _outer_keys_uncached(self, loop: Loop) -> frozenset[str]:
        body = {id(n) for n in self._body_nodes(loop)}
        outer = [
            child
            for node in self._body_nodes(loop)
            for child in node.children()
            if id(child) not in body
        ]
        outer += [n for n in (loop.verdict, loop.next) if id(n) not in body]
        keys = set().union(*(self.sup[id(n)] for n in outer)) if outer else set()
        return frozenset(k for k in keys if not k.startswith("carried:"))

    def _body_vars(self, loop: Loop) -> frozenset[str]:
        """Variables owned by nodes inside the loop body (not reachable from
        the body's outside references)."""
        if loop not in self._body_vars_memo:
            self._body_vars_memo[loop] = self._body_vars_uncached(loop)
        return self._body_vars_memo[loop]

    def _body_vars_uncached(self, loop: Loop) -> frozenset[str]:
        owned: set[str] = set()
        for node in self._body_nodes(loop):
            owned |= {v.key for v in node.own_vars()}
        return frozenset(owned)

    def _body_nodes(self, loop: Loop) -> list[Node]:
        """Nodes that depend on the loop's carried message: the body proper."""
        key = f"carried:{loop.name}"
        nodes = [*walk(loop.verdict), *walk(loop.next)]
        unique = {id(n): n for n in nodes}
        return [n for n in unique.values() if key in self.sup[id(n)]]

    # The search ------------------------------------------------------------

    def run(self) -> list[Point]:
        front = _merge([self.front(self.root)])
        keys = [v.key for v in self.vars]
        return [
            Point(dict(zip(keys, np.maximum(row, 0).tolist(), strict=True)), Estimate(acc, t, cost))
            for acc, t, cost, row in zip(front.acc.tolist(), front.t.tolist(), front.cost.tolist(), front.assign)
        ]

    def _released(self, node: Node, items: Sequence[str]) -> Front:
        """`node`'s front as the union of its fronts with the items released
        here fixed: each variable to every choice, then each pinned value to
        every point of its front (found under those choices)."""
        variables = [v for v in self.shared if v.key in items]
        pins = [p for p in self.pins if _pin_key(p) in items]
        sizes = [len(v) for v in variables]
        self._check("conditioning on shared agents", sizes)
        fronts: list[Front] = []
        for combo in itertools.product(*(range(n) for n in sizes)):
            with contextlib.ExitStack() as fixed:
                for var, choice in zip(variables, combo, strict=True):
                    fixed.enter_context(self._knob(var, choice))
                self._pin_rounds(node, variables, pins, math.prod(sizes), fronts)
        return _merge(fronts)

    def _pin_rounds(
        self, node: Node, variables: Sequence[Var], pins: Sequence[Node], rounds: int, fronts: list[Front]
    ) -> None:
        """Fix the pins in order, each to every point of its front; then find
        `node`'s front, its fixed variables set on every point."""
        if not pins:
            front = self._front(node)
            assign = front.assign.copy()
            for var in variables:  # a variable only a loop body reads is on no front
                assign[:, self.column[var.key]] = self.fixed[var.key]
            fronts.append(Front(front.acc, front.t, front.cost, assign))
            if len(fronts) == 64:  # keep the union small
                fronts[:] = [_merge(fronts)]
            return
        pin, key = pins[0], _pin_key(pins[0])
        front = self.front(pin)
        self._check(f"conditioning on shared values ({type(pin).__name__.lower()})", [rounds, len(front)])
        for i in range(len(front)):
            self.pin_point[id(pin)] = Front(*(getattr(front, k)[i : i + 1] for k in ("acc", "t", "cost", "assign")))
            self.pin_index[key] = i
            self._pin_rounds(node, variables, pins[1:], rounds * len(front), fronts)
        del self.pin_point[id(pin)], self.pin_index[key]

    def _check(self, region: str, sizes: Sequence[int]) -> None:
        total = math.prod(sizes)
        if total > self.limit:
            raise RegionLimitError(region, total, self.limit)

    def _unset(self, m: int = 1) -> np.ndarray:
        return np.full((m, len(self.vars)), -1, dtype=np.int32)

    def _constant(self, acc: float) -> Front:
        """One point that sets no variable, ready at once, free."""
        return Front(np.full(1, acc), np.zeros(1), np.zeros(1), self._unset())

    def _candidates(self) -> _Candidates:
        return _Candidates(len(self.vars))

    def _choices(self, var: Var) -> list[int]:
        if var.key in self.fixed:
            return [self.fixed[var.key]]
        return list(range(len(var)))

    def front(self, node: Node) -> Front:
        """`node`'s front under the knobs and the items fixed around it."""
        if id(node) in self.pin_point:
            return self.pin_point[id(node)]
        key = (
            id(node),
            *(self.fixed.get(k, -1) for k in self.open[id(node)]),
            *(self.pin_index[k] if k in self.pin_index else self.fixed[k] for k in self.need[id(node)]),
        )
        if key not in self.memo:
            held = self.held.get(id(node))
            self.memo[key] = self._released(node, held) if held else self._front(node)
        return self.memo[key]

    @contextlib.contextmanager
    def _knob(self, var: Var, choice: int):
        """Fix a variable: a samples knob while the fronts below its consumer
        are found, a shared one while the fronts up to where it is released are."""
        before = self.fixed.get(var.key)
        self.fixed[var.key] = choice
        try:
            yield
        finally:
            if before is None:
                del self.fixed[var.key]
            else:
                self.fixed[var.key] = before

    def _call_lat(self, node: Agent, choice: int) -> float:
        """The agent's latency under the knobs its consumers fixed."""
        assert all(v.key in self.fixed for v in node.replicas if v.key in self.column), "knob not fixed"
        return node.call_lat(choice, node.copies(self.fixed))

    def _spread_table(self, node: Agent) -> np.ndarray:
        """Row c: the latency deviations of choice c (`model.spread`)."""
        if node not in self._spread_table_memo:
            self._spread_table_memo[node] = self._spread_table_uncached(node)
        return self._spread_table_memo[node]

    def _spread_table_uncached(self, node: Agent) -> np.ndarray:
        return np.array([spread(node, c) for c in range(len(node.var))], dtype=float)

    def _spreads(self, node: Node, front: Front, index: np.ndarray) -> np.ndarray | None:
        """The deviations the points `index` of `node`'s front bring to a join."""
        if not (isinstance(node, Agent) and node.has_spread):
            return None
        return self._spread_table(node)[front.assign[index, self.column[node.var.key]]]

    def _parallel(self, nodes: Sequence[Node], fronts: Sequence[Front], idx: Sequence[np.ndarray]) -> np.ndarray:
        """`parallel_time` over a cross product of the nodes' fronts (each node once)."""
        seen: set[int] = set()
        ts, spreads = [], []
        for node, front, index in zip(nodes, fronts, idx, strict=True):
            if id(node) in seen:
                continue
            seen.add(id(node))
            ts.append(front.t[index])
            spreads.append(self._spreads(node, front, index))
        return np.asarray(parallel_time(ts, spreads), dtype=float)

    def _prune_agent(self, node: Agent, candidates: _Candidates) -> Front:
        """An agent's front; for one that ends a fork branch (`lat_dev`), the
        points no other beats within its choice or in accuracy and in every
        latency atom (what the expected maximum of its fork reads)."""
        if not node.has_spread:
            return candidates.pruned()
        choice = candidates.fixed_column(self.column[node.var.key])
        return candidates.pruned(functools.partial(self._spread_keep, node, choice))

    def _spread_keep(self, node: Agent, choice: np.ndarray, acc: np.ndarray, t: np.ndarray) -> np.ndarray:
        keep = np.concatenate([
            rows[_pareto(acc[rows], t[rows])] for c in np.unique(choice) if len(rows := np.flatnonzero(choice == c))
        ])
        keep = keep[np.lexsort((-acc[keep], np.round(t[keep], 12)))]
        if 1 < len(keep) <= SPREAD_PRUNE_LIMIT:
            atoms = np.round(t[keep, None] + self._spread_table(node)[choice[keep]], 12)
            a = acc[keep]
            better = (a[:, None] >= a[None, :]) & (atoms[:, None, :] <= atoms[None, :, :]).all(-1)
            order = np.arange(len(keep))
            beaten = (better & ~better.T) | (better & better.T & (order[:, None] < order[None, :]))
            np.fill_diagonal(beaten, False)
            keep = keep[~beaten.any(axis=0)]
        return keep

    def _front(self, node: Node) -> Front:
        if isinstance(node, Input):
            return self._constant(1.0)
        if isinstance(node, Agent):
            return self._agent(node)
        if isinstance(node, Vote):
            return self._vote(node)
        if isinstance(node, Switch):
            return self._switch(node)
        if isinstance(node, Loop):
            return self._loop(node)
        assert not isinstance(node, Carried), "carried messages live in loop bodies"
        raise TypeError(f"unknown proxy node {type(node).__name__}")

    def _product(self, region: str, fronts: Sequence[Front]) -> list[np.ndarray]:
        """Index grids of the cross product of `fronts`, flattened."""
        self._check(region, [len(f) for f in fronts])
        grids = np.meshgrid(*(np.arange(len(f)) for f in fronts), indexing="ij")
        return [g.ravel() for g in grids]

    def _combined(
        self, acc, t, fronts: Sequence[Front], idx: Sequence[np.ndarray], cost: np.ndarray | None = None
    ) -> Front:
        """The front of a cross product of `fronts` (index grids `idx`) under a
        rule that gave `acc` and `t`; costs add unless given."""
        if cost is None:
            cost = sum((f.cost[i] for f, i in zip(fronts, idx, strict=True)), np.zeros(len(idx[0])))
        candidates = self._candidates()
        candidates.add(acc, t, cost, fronts, idx)
        return candidates.pruned()

    def _pairwise(
        self, region: str, fronts: Sequence[Front], acc_fn, t_fn, identity: float | None = None
    ) -> Front:
        """Fold an associative, monotone rule over fronts, pruning each step;
        costs add. From `identity`, the rule's neutral accuracy, or (None)
        from the first front, for a rule that leaves it unchanged (a product
        of accuracies and a maximum of times, as `evaluate` takes them): a
        chain's steps copy no front they only pass on."""
        if identity is None and fronts:
            result, fronts = fronts[0], fronts[1:]
        else:
            result = self._constant(1.0 if identity is None else identity)
        for front in fronts:
            i, j = self._product(region, [result, front])
            step = self._candidates()
            step.add(acc_fn(result.acc[i], front.acc[j]), t_fn(result.t[i], front.t[j]),
                     result.cost[i] + front.cost[j], [result, front], [i, j])
            result = step.pruned()
        return result

    def _agent(self, node: Agent) -> Front:
        region = f"agent @{node.var.key}"
        upstream = self._pairwise(
            region,
            [self.front(x) for x in effective_inputs(node.inputs, self.sup)],
            np.multiply,
            np.maximum,
        )
        for waited in node.gates:
            gate = self.front(waited)
            i, j = self._product(region, [upstream, gate])
            step = self._candidates()
            # a gate is waited for, not paid for: its cost is its consumer's
            step.add(upstream.acc[i], np.maximum(upstream.t[i], gate.t[j]), upstream.cost[i], [upstream, gate], [i, j])
            upstream = step.pruned()
        if node.proposals and any(node.levels_of(c) is not None for c in self._choices(node.var)):
            return self._aggregator(region, node, upstream)
        hits = self._proposal_hits(region, node)
        i, j = self._product(region, [upstream, hits])
        u, h = upstream.acc[i], hits.acc[j]
        t_in = np.maximum(upstream.t[i], hits.t[j])
        cost_in = upstream.cost[i] + hits.cost[j]
        # every choice at once, choice by choice as `evaluate` computes it
        choices, p, recovery, lat, own = self._choice_table(node)
        candidates = self._candidates()
        candidates.add(
            agent_acc(p * h, u, recovery).ravel(),
            (t_in + lat).ravel(),
            (cost_in + own).ravel(),
            [upstream, hits],
            [np.broadcast_to(i, (len(choices), len(i))).ravel(), np.broadcast_to(j, (len(choices), len(j))).ravel()],
            {self.column[node.var.key]: np.repeat(choices, len(i))},
        )
        if node.skip_index in self._choices(node.var) and not node.absent:
            self._add_skipped(region, candidates, node)
        return self._prune_agent(node, candidates)

    def _presence(self, nodes: Sequence[Node]) -> list[tuple[bool, ...]]:
        """Which of `nodes` (a vote's inputs, an aggregator's proposals) are
        present, every way their choices allow: an agent whose skip is absent
        both ways, any other value always; never none (the dialect keeps one
        proposal always present). The front of an absent-skip agent holds its
        present points only; its consumer composes the present ones of each
        pattern by the rule for that many, sets the absent ones' skip, and
        prunes the union: exact, since each pattern's rule is monotone."""
        options: list[list[bool]] = []
        for x in nodes:
            if isinstance(x, Agent) and x.absent:
                choices = self._choices(x.var)
                options.append([*([True] if any(c != x.skip_index for c in choices) else []),
                                *([False] if x.skip_index in choices else [])])
            else:
                options.append([True])
        return [p for p in itertools.product(*options) if any(p) or not p]

    def _skips(self, nodes: Sequence[Node], pattern: Sequence[bool]) -> dict[int, int]:
        """The skip choices of the absent nodes of a presence pattern, by column."""
        return {
            self.column[x.var.key]: x.skip_index  # pyright: ignore[reportAttributeAccessIssue]
            for x, on in zip(nodes, pattern, strict=True) if not on
        }

    def _choice_table(self, node: Agent) -> tuple[np.ndarray, ...]:
        """The agent's choices worth trying (not skipping) under the knobs and
        choices fixed now, and their (p, recovery, latency, cost) as columns."""
        key = (id(node), self.fixed.get(node.var.key, -1), node.copies(self.fixed))
        if key not in self.tables:
            choices = np.array([c for c in self._choices(node.var) if c != node.skip_index], dtype=np.int32)
            p = np.array([node.acc[c] for c in choices])
            recovery = np.array([node.recovery_of(c) for c in choices])
            lat = np.array([self._call_lat(node, c) for c in choices])
            own = np.array([node.cost[c] for c in choices])
            # a fork's expected maximum may need a slower choice's spread
            useful = slice(None) if node.has_spread else _useful_choices(p, np.minimum(recovery, p), lat)
            self.tables[key] = (choices[useful], *(x[useful][:, None] for x in (p, recovery, lat, own)))
        return self.tables[key]

    def _add_skipped(self, region: str, candidates: _Candidates, node: Agent) -> None:
        """The skip choice (`model.skipped_value`): the passed value's
        accuracy and time, the cost of everything the agent reads."""
        skip = {self.column[node.var.key]: node.skip_index}
        passed = node.passed
        inputs = effective_inputs(node.inputs, self.sup)
        if not node.proposals and len(inputs) == 1 and inputs[0] is passed:
            skipped = self.front(passed)  # one input: it passes on unchanged
            every = np.arange(len(skipped))
            candidates.add(skipped.acc, skipped.t, skipped.cost, [skipped], [every], skip)  # pyright: ignore[reportArgumentType]
            return
        # what the skip does not pass on still ran: one point of each (its
        # cost rides along; its accuracy and time reach no output)
        others = [_fastest(self.front(x)) for x in inputs if x is not passed]
        own = [] if any(passed is x for x in node.proposals) else [self.front(passed)]
        # a redundant input's cost is in the input built on it (as `evaluate` counts)
        own_paid = any(passed is x for x in inputs)
        knobs = sorted(node.samples_of.items())
        settings = list(itertools.product(*(self._choices(var) for _, var in knobs)))
        for setting, pattern in itertools.product(settings, self._presence(node.proposals)):
            copies = {index: int(var.labels[c]) for (index, var), c in zip(knobs, setting, strict=True)}  # pyright: ignore[reportArgumentType]
            present = [(i, x) for i, x in enumerate(node.proposals) if pattern[i]]
            with contextlib.ExitStack() as fixed:
                for (_, var), choice in zip(knobs, setting, strict=True):
                    fixed.enter_context(self._knob(var, choice))
                # a proposal is waited for by its time alone: without a spread its fastest point is enough
                fronts = [self.front(x) if x is passed or (isinstance(x, Agent) and x.has_spread)
                          else _fastest(self.front(x)) for _, x in present]
            idx = self._product(region, [*own, *fronts, *others])
            mine, theirs, rest = idx[:len(own)], idx[len(own):len(own) + len(fronts)], idx[len(own) + len(fronts):]
            if own:
                acc, t = own[0].acc[mine[0]], own[0].t[mine[0]]
            else:
                j = next(n for n, (_, x) in enumerate(present) if x is passed)
                acc, t = fronts[j].acc[theirs[j]], self._parallel([x for _, x in present], fronts, theirs)
            cost = sum((f.cost[i] for f, i in zip(others, rest, strict=True)), np.zeros(len(idx[0])))
            cost = cost + sum((f.cost[i] * copies.get(n, 1) for (n, _), f, i in zip(present, fronts, theirs, strict=True)),
                              np.zeros(len(idx[0])))
            if own_paid:
                cost = cost + own[0].cost[mine[0]]
            fixed_columns = {self.column[var.key]: c for (_, var), c in zip(knobs, setting, strict=True)}
            fixed_columns.update(self._skips(node.proposals, pattern))
            candidates.add(acc, t, cost, [*own, *fronts, *others], idx, {**fixed_columns, **skip})

    def _aggregator(self, region: str, node: Agent, upstream: Front) -> Front:
        """An aggregator with level curves: for every setting of its proposals'
        sample knobs, the cross product of the proposals' fronts, then of that
        with the other inputs' front and the aggregator's choices; pruned once
        the aggregator's accuracy is known."""
        knobs = sorted(node.samples_of.items())
        choices = self._choices(node.var)
        settings = list(itertools.product(*(self._choices(var) for _, var in knobs)))
        candidates = self._candidates()
        patterns = self._presence(node.proposals)
        for setting, pattern in itertools.product(settings, patterns):
            copies = [1] * len(node.proposals)
            with contextlib.ExitStack() as fixed:
                for (index, var), choice in zip(knobs, setting, strict=True):
                    copies[index] = int(var.labels[choice])  # pyright: ignore[reportArgumentType]
                    fixed.enter_context(self._knob(var, choice))
                # the proposals present: the k-proposal rule over them
                proposals = [x for x, on in zip(node.proposals, pattern, strict=True) if on]
                copies = [k for k, on in zip(copies, pattern, strict=True) if on]
                fronts = [self._choices_front(x) if node.joint else self.front(x) for x in proposals]
            combos = math.prod(len(f) for f in fronts)
            self._check(region, [len(upstream), combos, len(settings) * len(patterns), len(choices)])
            idx = self._product(region, [upstream, *fronts])
            u, t_up = upstream.acc[idx[0]], upstream.t[idx[0]]
            accs = [f.acc[i] for f, i in zip(fronts, idx[1:], strict=True)]
            t_in = np.maximum(t_up, self._parallel(proposals, fronts, idx[1:]))
            cost_in = upstream.cost[idx[0]] + sum(
                f.cost[i] * k for f, i, k in zip(fronts, idx[1:], copies, strict=True)
            )
            fixed = {self.column[var.key]: choice for (_, var), choice in zip(knobs, setting, strict=True)}
            fixed.update(self._skips(node.proposals, pattern))
            for choice in choices:
                if choice == node.skip_index:
                    continue  # added once below: skipping reads no proposal
                if node.joint:
                    hits = [
                        np.stack(x.hits)[f.assign[i, self.column[x.var.key]]]  # pyright: ignore
                        for x, f, i in zip(proposals, fronts, idx[1:], strict=True)
                    ]
                    p = joint_proposal_acc(
                        node.by_right[choice], node.level_hits[choice], hits, accs, copies, node.query_weights,  # pyright: ignore
                        [x.hits_k for x in proposals],  # pyright: ignore
                    )
                else:
                    p = proposal_acc(node.acc[choice], node.levels_of(choice), accs, copies)
                candidates.add(
                    agent_acc(p, u, node.recovery_of(choice)),
                    t_in + self._call_lat(node, choice),
                    cost_in + node.cost[choice],
                    [upstream, *fronts],
                    idx,
                    {**fixed, self.column[node.var.key]: choice},
                )
        if node.skip_index in choices and not node.absent:
            self._add_skipped(region, candidates, node)
        return self._prune_agent(node, candidates)

    def _choices_front(self, node: Node) -> Front:
        """Every choice of a leaf agent, unpruned: under a rule composed query
        by query, a choice dominated on average may still solve the queries
        the others miss."""
        assert isinstance(node, Agent) and node.is_leaf
        if id(node) in self.pin_point:
            return self.pin_point[id(node)]
        choices = np.array(self._choices(node.var))
        acc = np.array([node.acc[c] for c in choices], dtype=float)
        t = np.array([self._call_lat(node, c) for c in choices], dtype=float)
        cost = np.array([node.cost[c] for c in choices], dtype=float)
        assign = self._unset(len(choices))
        assign[:, self.column[node.var.key]] = choices
        return Front(acc, t, cost, assign)

    def _proposal_hits(self, region: str, node: Agent) -> Front:
        """Front of P(at least one proposal is right), as acc, and its time:
        of the present proposals, under every presence pattern (`_presence`)."""
        patterns = self._presence(node.proposals)
        if len(patterns) == 1 and all(patterns[0]):
            return self._present_hits(region, node, range(len(node.proposals)))
        fronts = []
        for pattern in patterns:
            front = self._present_hits(region, node, [i for i, on in enumerate(pattern) if on])
            assign = front.assign.copy()
            for column, skip in self._skips(node.proposals, pattern).items():
                assign[:, column] = skip
            fronts.append(Front(front.acc, front.t, front.cost, assign))
        return _merge(fronts)

    def _present_hits(self, region: str, node: Agent, present: Sequence[int]) -> Front:
        """`_proposal_hits` over the proposals `present` (indices)."""
        fronts = []
        for index in present:
            proposal = node.proposals[index]
            var = node.samples_of.get(index)
            fronts.append(self.front(proposal) if var is None else self._replicated_hits(proposal, var))
        if not fronts:
            return self._constant(1.0)
        proposals = [node.proposals[i] for i in present]
        if any(isinstance(x, Agent) and x.has_spread for x in proposals):
            # the expected maximum is not a fold of pairs: the whole cross product
            idx = self._product(region, fronts)
            miss = functools.reduce(np.multiply, (1.0 - f.acc[i] for f, i in zip(fronts, idx, strict=True)))
            t = self._parallel(proposals, fronts, idx)
            return self._combined(1.0 - miss, t, fronts, idx)
        # hit = 1 - prod(1 - hit_i): associative and monotone in every hit_i.
        return self._pairwise(
            region, fronts, lambda a, b: 1.0 - (1.0 - a) * (1.0 - b), np.maximum, identity=0.0
        )

    def _replicated_hits(self, proposal: Node, var: Var) -> Front:
        """P(at least one of k samples is right), over the samples knob (the
        proposal's front found with the knob fixed: its latency depends on k)."""
        candidates = self._candidates()
        for choice in self._choices(var):
            with self._knob(var, choice):
                front = self.front(proposal)
            k = var.labels[choice]
            hit = 1.0 - (1.0 - front.acc) ** k  # pyright: ignore[reportOperatorIssue]
            every = np.arange(len(front))
            fixed = {self.column[var.key]: choice}
            candidates.add(hit, front.t, front.cost * k, [front], [every], fixed)  # pyright: ignore[reportOperatorIssue]
        return candidates.pruned()

    def _vote_acc(self, node: Vote, fronts: Sequence[Front], idx: Sequence[np.ndarray], samples: int | None):
        """The vote's accuracy over a cross product of its inputs' fronts."""
        accs = [f.acc[i] for f, i in zip(fronts, idx, strict=True)]
        if not node.joint:
            return vote_acc(accs, samples, node.wrong_agree)
        voters: list[Agent] = list(node.inputs)  # pyright: ignore[reportAssignmentType]
        hits = [np.stack(x.hits)[f.assign[i, self.column[x.var.key]]] for x, f, i in zip(voters, fronts, idx, strict=True)]  # pyright: ignore
        return joint_vote_acc(hits, [x.hits_k for x in voters], accs, samples, node.wrong_agree, node.query_weights)

    def _vote(self, node: Vote) -> Front:
        region = "flow.vote"
        # composed query by query, an input's choices are not read by front
        front_of = self._choices_front if node.joint else self.front
        if node.samples is not None:
            candidates = self._candidates()
            for c in self._choices(node.samples):
                with self._knob(node.samples, c):
                    front = front_of(node.inputs[0])
                k = int(node.samples.labels[c])  # pyright: ignore[reportArgumentType]
                every = np.arange(len(front))
                acc = self._vote_acc(node, [front], [every], k)
                candidates.add(acc, front.t, front.cost * k, [front], [every], {self.column[node.samples.key]: c})
            return candidates.pruned()
        patterns = self._presence(node.inputs)
        if len(patterns) == 1 and all(patterns[0]):
            fronts = [front_of(x) for x in node.inputs]
            idx = self._product(region, fronts)
            acc = self._vote_acc(node, fronts, idx, None)
            t = self._parallel(node.inputs, fronts, idx)
            return self._combined(acc, t, fronts, idx)
        candidates = self._candidates()  # a vote over the inputs present (never joint: see Vote.joint)
        for pattern in patterns:
            inputs = [x for x, on in zip(node.inputs, pattern, strict=True) if on]
            fronts = [self.front(x) for x in inputs]
            idx = self._product(region, fronts)
            acc = vote_acc([f.acc[i] for f, i in zip(fronts, idx, strict=True)], None, node.wrong_agree)
            cost = sum((f.cost[i] for f, i in zip(fronts, idx, strict=True)), np.zeros(len(idx[0])))
            candidates.add(acc, self._parallel(inputs, fronts, idx), cost, fronts, idx, self._skips(node.inputs, pattern))
        return candidates.pruned()

    def _switch(self, node: Switch) -> Front:
        fronts = [self.front(node.route), *(self.front(b) for b in node.branches)]
        idx = self._product("flow.switch", fronts)
        route, branches = fronts[0], fronts[1:]
        r_acc, r_t = route.acc[idx[0]], route.t[idx[0]]
        acc = r_acc * sum(w * b.acc[i] for w, b, i in zip(node.probs, branches, idx[1:], strict=True))
        t = sum(w * np.maximum(r_t, b.t[i]) for w, b, i in zip(node.probs, branches, idx[1:], strict=True))
        cost = route.cost[idx[0]] + sum(w * b.cost[i] for w, b, i in zip(node.probs, branches, idx[1:], strict=True))
        return self._combined(acc, t, fronts, idx, cost)

    def _loop(self, node: Loop) -> Front:
        region = f"flow.loop @{node.name}"
        # composed query by query, the first draft's choices are not read by front
        init = self._choices_front(node.init) if node.joint else self.front(node.init)
        free = [
            v for v in self.vars
            if v.key in self._body_vars(node) and v.key not in self.fixed and v.key != node.max_iters.key
        ]
        iters = self._choices(node.max_iters)
        self._check(region, [len(init), *(len(v) for v in free), len(iters)])
        choices, rho1, rho0, tpr, fpr, t_check, t_revise, c_check, c_revise = self._loop_body(node, free)
        if node.joint:
            q0 = np.stack(node.init.hits)[init.assign[:, self.column[node.init.var.key]]][:, None, :]  # pyright: ignore
            rho1, rho0, tpr, fpr = (x[None] for x in (rho1, rho0, tpr, fpr))
            t_check, t_revise = t_check[:, None], t_revise[:, None]
        accs, lats, costs = [], [], []
        for choice in iters:
            n = node.max_iters.labels[choice]
            if node.joint:
                acc, lat, checks, revisions = joint_refine_loop(
                    q0, rho1, rho0, tpr, fpr, t_check, t_revise, n, node.query_weights, node.decay  # pyright: ignore
                )
            else:
                acc, lat, checks, revisions = refine_loop(
                    init.acc[:, None], rho1, rho0, tpr, fpr, t_check, t_revise, n, node.decay  # pyright: ignore
                )
            accs.append(acc.ravel())
            lats.append((init.t[:, None] + lat).ravel())
            cost = init.cost[:, None] + checks * c_check + revisions * c_revise
            costs.append(np.broadcast_to(cost, acc.shape).ravel())
        acc, lat, cost = np.concatenate(accs), np.concatenate(lats), np.concatenate(costs)
        # Prune before building assignments: most of the cross product is dominated.
        keep = _pareto(acc, lat)
        k, rest = np.divmod(keep, len(init) * len(choices))
        i, b = np.divmod(rest, len(choices))
        assign = init.assign[i].copy()
        for j, var in enumerate(free):
            assign[:, self.column[var.key]] = choices[b, j]
        assign[:, self.column[node.max_iters.key]] = np.asarray(iters)[k]
        return Front(acc[keep], lat[keep], cost[keep], assign)

    def _loop_body(self, node: Loop, free: Sequence[Var]):
        """Per assignment of the body's free variables: its choices, the
        refine-loop parameters and the costs of a check and a revision. Cached across conditioning rounds, keyed by the
        fixed variables the body reads."""
        reads = self._outer_keys(node) | self._body_vars(node) | set(self.open[id(node)])
        outer = sorted(k for k in reads if k in self.fixed)
        key = (id(node), tuple(self.fixed[k] for k in outer))
        if key in self.loop_rows:
            return self.loop_rows[key]
        rows = []
        for body in assignments(free):
            assign = {**self.fixed, **body, node.max_iters.key: 0}
            outcomes = []
            for q in (1.0, 0.0):
                memo: dict[int, Estimate] = {}
                carried = {node.name: Estimate(q, 0.0)}
                outcomes.append(
                    (_eval(node.verdict, assign, self.sup, memo, carried), _eval(node.next, assign, self.sup, memo, carried))
                )
            (verdict, next1), (_, next0) = outcomes
            if node.joint:
                rho1, rho0, tpr, fpr = node.query_rates(assign)
            else:
                (tpr, fpr), rho1, rho0 = node.verdict.judge_rates(assign[node.verdict.var.key]), next1.acc, next0.acc
            rows.append((
                [body[v.key] for v in free], rho1, rho0, tpr, fpr, verdict.t, max(next1.t - verdict.t, 0.0),
                verdict.cost, max(next1.cost - verdict.cost, 0.0),
            ))
        choices = np.array([r[0] for r in rows], dtype=np.int32).reshape(len(rows), len(free))
        columns = [np.array([r[i] for r in rows], dtype=float) for i in range(1, 9)]
        keep = _useful_bodies(*columns[:6])  # costs ride along
        self.loop_rows[key] = (choices[keep], *(c[keep] for c in columns))
        return self.loop_rows[key]


def _fastest(front: Front) -> Front:
    """The front's earliest point (the first of ties) alone."""
    i = int(np.argmin(front.t))
    return Front(front.acc[i : i + 1], front.t[i : i + 1], front.cost[i : i + 1], front.assign[i : i + 1])


def frontier(root: Node, limit: int = DEFAULT_LIMIT) -> list[Point]:
    """The proxy's exact Pareto set (acc max, latency min), sorted by latency."""
    return _Search(root, limit).run()


def brute_force(root: Node, limit: int = DEFAULT_LIMIT) -> list[Point]:
    """The same Pareto set by evaluating every configuration (small spaces)."""
    variables = all_vars(root)
    total = math.prod(len(v) for v in variables)
    if total > limit:
        raise RegionLimitError("the whole workflow (exhaustive)", total, limit)
    points = [Point(a, evaluate(root, a)) for a in assignments(variables)]
    acc = np.array([p.estimate.acc for p in points])
    t = np.array([p.estimate.t for p in points])
    return [points[i] for i in _pareto(acc, t)]


def space_size(root: Node) -> int:
    return math.prod(len(v) for v in all_vars(root))


def by_key(points: Sequence[Point]) -> Mapping[tuple[float, float], Point]:
    return {(round(p.estimate.acc, 9), round(p.estimate.t, 9)): p for p in points}
