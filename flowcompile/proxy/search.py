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
  with those variables fixed, and the union of the results is pruned
  (`flowcompile.proxy.scopes` finds them, the values pinned point by point
  and where each is released).
* a loop's latency is not monotone in its verdict agent's accuracy (a better
  judge can reject more often), so the variables of a loop body are
  enumerated exhaustively; only the loop's initial value is pruned.

Fronts and their pruning are in `flowcompile.proxy.fronts`. `brute_force`
evaluates every configuration, for checking.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from flowcompile.proxy.frontier import FrontierLimitError
from flowcompile.proxy.fronts import (
    Candidates,
    Front,
    fastest,
    merge,
    pareto,
    useful_bodies,
    useful_choices,
)
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
    mixed_agent_acc,
    parallel_time,
    proposal_acc,
    refine_loop,
    spread,
    vote_acc,
    walk,
)
from flowcompile.proxy.scopes import Scopes, pin_key

DEFAULT_LIMIT = 2_000_000
"""Largest cross product (points) one step may build before giving up."""

SPREAD_PRUNE_LIMIT = 1500
"""Largest front whose points are compared pairwise by latency atoms (larger
ones stay whole: a superset of the front is still exact, only slower)."""


class RegionLimitError(FrontierLimitError):
    """A step of the search would exceed the limit; names the region."""

    def __init__(self, region: str, size: int, limit: int):
        super().__init__(size, limit)
        self.region = region


@dataclass(frozen=True)
class Point:
    """One configuration of the whole workflow with its proxy estimate."""

    assignment: dict[str, int]
    estimate: Estimate


class _Search:
    """One search: the plan (`Scopes`), read-only, and the state below, all of it
    dropped with the search (no cache outlives it)."""

    def __init__(self, root: Node, limit: int):
        self.root = root
        self.limit = limit
        self.scopes = Scopes(root)
        self.spread_tables = {
            id(n): np.array([spread(n, c) for c in range(len(n.var))], dtype=float)
            for n in walk(root) if isinstance(n, Agent) and n.has_spread
        }
        """Per agent ending a fork branch, row c: choice c's latency deviations (`model.spread`)."""
        self.fixed: dict[str, int] = {}
        """The variables fixed now: samples knobs and shared variables, by key."""
        self.pin_point: dict[int, Front] = {}
        self.pin_index: dict[str, int] = {}
        """Per pinned value now fixed, its point (by node id) and that point's index (by item)."""
        self.memo: dict[tuple[int, ...], Front] = {}
        self.loop_rows: dict[tuple[int, tuple[int, ...]], tuple] = {}
        self.tables: dict[tuple[int, int, int], tuple[np.ndarray, ...]] = {}

    # The search: conditioning, memoised fronts ------------------------

    def run(self) -> list[Point]:
        front = merge([self.front(self.root)])
        keys = [v.key for v in self.scopes.vars]
        return [
            Point(dict(zip(keys, np.maximum(row, 0).tolist(), strict=True)), Estimate(acc, t, cost))
            for acc, t, cost, row in zip(front.acc.tolist(), front.t.tolist(), front.cost.tolist(), front.assign)
        ]

    def front(self, node: Node) -> Front:
        """`node`'s front under the knobs and the items fixed around it."""
        if id(node) in self.pin_point:
            return self.pin_point[id(node)]
        key = (
            id(node),
            *(self.fixed.get(k, -1) for k in self.scopes.open[id(node)]),
            *(self.pin_index[k] if k in self.pin_index else self.fixed[k] for k in self.scopes.need[id(node)]),
        )
        if key not in self.memo:
            held = self.scopes.held.get(id(node))
            self.memo[key] = self._released(node, held) if held else self._front(node)
        return self.memo[key]

    def _released(self, node: Node, items: Sequence[str]) -> Front:
        """`node`'s front as the union of its fronts with the items released
        here fixed: each variable to every choice, then each pinned value to
        every point of its front (found under those choices)."""
        variables = [v for v in self.scopes.shared if v.key in items]
        pins = [p for p in self.scopes.pins if pin_key(p) in items]
        sizes = [len(v) for v in variables]
        self._check("conditioning on shared agents", sizes)
        fronts: list[Front] = []
        for combo in itertools.product(*(range(n) for n in sizes)):
            with contextlib.ExitStack() as fixed:
                for var, choice in zip(variables, combo, strict=True):
                    fixed.enter_context(self._knob(var, choice))
                self._pin_rounds(node, variables, pins, math.prod(sizes), fronts)
        return merge(fronts)

    def _pin_rounds(
        self, node: Node, variables: Sequence[Var], pins: Sequence[Node], rounds: int, fronts: list[Front]
    ) -> None:
        """Fix the pins in order, each to every point of its front; then find
        `node`'s front, its fixed variables set on every point."""
        if not pins:
            front = self._front(node)
            assign = front.assign.copy()
            for var in variables:  # a variable only a loop body reads is on no front
                assign[:, self.scopes.column[var.key]] = self.fixed[var.key]
            fronts.append(Front(front.acc, front.t, front.cost, assign))
            if len(fronts) == 64:  # keep the union small
                fronts[:] = [merge(fronts)]
            return
        pin, key = pins[0], pin_key(pins[0])
        front = self.front(pin)
        self._check(f"conditioning on shared values ({type(pin).__name__.lower()})", [rounds, len(front)])
        for i in range(len(front)):
            self.pin_point[id(pin)] = Front(*(getattr(front, k)[i : i + 1] for k in ("acc", "t", "cost", "assign")))
            self.pin_index[key] = i
            self._pin_rounds(node, variables, pins[1:], rounds * len(front), fronts)
        del self.pin_point[id(pin)], self.pin_index[key]

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

    def _choices(self, var: Var) -> list[int]:
        if var.key in self.fixed:
            return [self.fixed[var.key]]
        return list(range(len(var)))

    # Steps every rule shares ------------------------------------------

    def _check(self, region: str, sizes: Sequence[int]) -> None:
        total = math.prod(sizes)
        if total > self.limit:
            raise RegionLimitError(region, total, self.limit)

    def _unset(self, m: int = 1) -> np.ndarray:
        return np.full((m, len(self.scopes.vars)), -1, dtype=np.int32)

    def _constant(self, acc: float) -> Front:
        """One point that sets no variable, ready at once, free."""
        return Front(np.full(1, acc), np.zeros(1), np.zeros(1), self._unset())

    def _candidates(self) -> Candidates:
        return Candidates(len(self.scopes.vars))

    def _product(self, region: str, fronts: Sequence[Front]) -> list[np.ndarray]:
        """Index grids of the cross product of `fronts`, flattened."""
        sizes = [len(f) for f in fronts]
        self._check(region, sizes)
        # the first front's index varies slowest, as meshgrid's "ij" order (a third of its time)
        return list(np.indices(sizes).reshape(len(sizes), -1)) if sizes else []

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

    def _call_lat(self, node: Agent, choice: int) -> float:
        """The agent's latency under the knobs its consumers fixed."""
        assert all(v.key in self.fixed for v in node.replicas if v.key in self.scopes.column), "knob not fixed"
        return node.call_lat(choice, node.copies(self.fixed))

    def _spreads(self, node: Node, front: Front, index: np.ndarray) -> np.ndarray | None:
        """The deviations the points `index` of `node`'s front bring to a join."""
        if not (isinstance(node, Agent) and node.has_spread):
            return None
        return self.spread_tables[id(node)][front.assign[index, self.scopes.column[node.var.key]]]

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

    # Agents: inputs, proposals, skips ---------------------------------

    def _agent(self, node: Agent) -> Front:
        region = f"agent @{node.var.key}"
        upstream = self._pairwise(
            region,
            [self.front(x) for x in effective_inputs(node.inputs, self.scopes.sup)],
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
        choices, p, recovery, mixed, lat, own = self._choice_table(node)
        if id(node) in self.scopes.derived:
            behind, built = self.scopes.derived[id(node)]
            pinned = self.front(behind)
            assert len(pinned) == 1, "the mixed rule's derived-from value is conditioned on (`Scopes`)"
            clean = built.acc[self.fixed[built.var.key]] * pinned.acc[0]
            acc = mixed_agent_acc(p, mixed, u, clean, recovery)
        else:
            acc = agent_acc(p * h, u, recovery)
        candidates = self._candidates()
        candidates.add(
            acc.ravel(),
            (t_in + lat).ravel(),
            (cost_in + own).ravel(),
            [upstream, hits],
            [np.broadcast_to(i, (len(choices), len(i))).ravel(), np.broadcast_to(j, (len(choices), len(j))).ravel()],
            {self.scopes.column[node.var.key]: np.repeat(choices, len(i))},
        )
        if node.skip_index in self._choices(node.var) and not node.absent:
            self._add_skipped(region, candidates, node)
        return self._prune_agent(node, candidates)

    def _choice_table(self, node: Agent) -> tuple[np.ndarray, ...]:
        """The agent's choices worth trying (not skipping) under the knobs and
        choices fixed now, and their (p, recovery, mixed, latency, cost) as
        columns (mixed: the held mixed rate; p where none was measured)."""
        key = (id(node), self.fixed.get(node.var.key, -1), node.copies(self.fixed))
        if key not in self.tables:
            choices = np.array([c for c in self._choices(node.var) if c != node.skip_index], dtype=np.int32)
            p = np.array([node.acc[c] for c in choices])
            recovery = np.array([node.recovery_of(c) for c in choices])
            lat = np.array([self._call_lat(node, c) for c in choices])
            own = np.array([node.cost[c] for c in choices])
            floor = np.minimum(recovery, p)
            measured = [node.mixed_of(c) for c in choices]
            mixed = np.clip([p[i] if m is None else m for i, m in enumerate(measured)], floor, p)
            # a fork's expected maximum may need a slower choice's spread
            useful = slice(None) if node.has_spread else useful_choices(lat, p, floor, mixed)
            self.tables[key] = (choices[useful], *(x[useful][:, None] for x in (p, recovery, mixed, lat, own)))
        return self.tables[key]

    def _prune_agent(self, node: Agent, candidates: Candidates) -> Front:
        """An agent's front; for one that ends a fork branch (`lat_dev`), the
        points no other beats within its choice or in accuracy and in every
        latency atom (what the expected maximum of its fork reads)."""
        if not node.has_spread:
            return candidates.pruned()
        choice = candidates.fixed_column(self.scopes.column[node.var.key])
        return candidates.pruned(functools.partial(self._spread_keep, node, choice))

    def _spread_keep(
        self, node: Agent, choice: np.ndarray, acc: np.ndarray, t: np.ndarray, cost: np.ndarray
    ) -> np.ndarray:
        keep = np.concatenate([
            rows[pareto(acc[rows], t[rows], cost[rows])]
            for c in np.unique(choice) if len(rows := np.flatnonzero(choice == c))
        ])
        keep = keep[np.lexsort((cost[keep], -acc[keep], np.round(t[keep], 12)))]
        if 1 < len(keep) <= SPREAD_PRUNE_LIMIT:
            atoms = np.round(t[keep, None] + self.spread_tables[id(node)][choice[keep]], 12)
            a = acc[keep]
            better = (a[:, None] >= a[None, :]) & (atoms[:, None, :] <= atoms[None, :, :]).all(-1)
            order = np.arange(len(keep))
            beaten = (better & ~better.T) | (better & better.T & (order[:, None] < order[None, :]))
            np.fill_diagonal(beaten, False)
            keep = keep[~beaten.any(axis=0)]
        return keep

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
            self.scopes.column[x.var.key]: x.skip_index  # pyright: ignore[reportAttributeAccessIssue]
            for x, on in zip(nodes, pattern, strict=True) if not on
        }

    def _add_skipped(self, region: str, candidates: Candidates, node: Agent) -> None:
        """The skip choice (`model.skipped_value`): the passed value's
        accuracy and time, the cost of everything the agent reads."""
        skip = {self.scopes.column[node.var.key]: node.skip_index}
        passed = node.passed
        inputs = effective_inputs(node.inputs, self.scopes.sup)
        if not node.proposals and len(inputs) == 1 and inputs[0] is passed:
            skipped = self.front(passed)  # one input: it passes on unchanged
            every = np.arange(len(skipped))
            candidates.add(skipped.acc, skipped.t, skipped.cost, [skipped], [every], skip)  # pyright: ignore[reportArgumentType]
            return
        # what the skip does not pass on still ran: one point of each (its
        # cost rides along; its accuracy and time reach no output)
        others = [fastest(self.front(x)) for x in inputs if x is not passed]
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
                          else fastest(self.front(x)) for _, x in present]
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
            fixed_columns = {self.scopes.column[var.key]: c for (_, var), c in zip(knobs, setting, strict=True)}
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
            fixed = {self.scopes.column[var.key]: choice for (_, var), choice in zip(knobs, setting, strict=True)}
            fixed.update(self._skips(node.proposals, pattern))
            for choice in choices:
                if choice == node.skip_index:
                    continue  # added once below: skipping reads no proposal
                if node.joint:
                    hits = [
                        np.stack(x.hits)[f.assign[i, self.scopes.column[x.var.key]]]  # pyright: ignore
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
                    {**fixed, self.scopes.column[node.var.key]: choice},
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
        assign[:, self.scopes.column[node.var.key]] = choices
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
        return merge(fronts)

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
            fixed = {self.scopes.column[var.key]: choice}
            candidates.add(hit, front.t, front.cost * k, [front], [every], fixed)  # pyright: ignore[reportOperatorIssue]
        return candidates.pruned()

    # Votes, switches, loops -------------------------------------------

    def _vote_acc(self, node: Vote, fronts: Sequence[Front], idx: Sequence[np.ndarray], samples: int | None):
        """The vote's accuracy over a cross product of its inputs' fronts."""
        accs = [f.acc[i] for f, i in zip(fronts, idx, strict=True)]
        if not node.joint:
            return vote_acc(accs, samples, node.wrong_agree)
        voters: list[Agent] = list(node.inputs)  # pyright: ignore[reportAssignmentType]
        hits = [np.stack(x.hits)[f.assign[i, self.scopes.column[x.var.key]]] for x, f, i in zip(voters, fronts, idx, strict=True)]  # pyright: ignore
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
                candidates.add(acc, front.t, front.cost * k, [front], [every], {self.scopes.column[node.samples.key]: c})
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
            v for v in self.scopes.vars
            if v.key in self.scopes.body_vars[id(node)] and v.key not in self.fixed and v.key != node.max_iters.key
        ]
        iters = self._choices(node.max_iters)
        self._check(region, [len(init), *(len(v) for v in free), len(iters)])
        choices, rho1, rho0, tpr, fpr, t_check, t_revise, c_check, c_revise = self._loop_body(node, free)
        if node.joint:
            q0 = np.stack(node.init.hits)[init.assign[:, self.scopes.column[node.init.var.key]]][:, None, :]  # pyright: ignore
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
        keep = pareto(acc, lat, cost)
        k, rest = np.divmod(keep, len(init) * len(choices))
        i, b = np.divmod(rest, len(choices))
        assign = init.assign[i].copy()
        for j, var in enumerate(free):
            assign[:, self.scopes.column[var.key]] = choices[b, j]
        assign[:, self.scopes.column[node.max_iters.key]] = np.asarray(iters)[k]
        return Front(acc[keep], lat[keep], cost[keep], assign)

    def _loop_body(self, node: Loop, free: Sequence[Var]):
        """Per assignment of the body's free variables: its choices, the
        refine-loop parameters and the costs of a check and a revision. Cached across conditioning rounds, keyed by the
        fixed variables the body reads."""
        reads = self.scopes.outer_keys[id(node)] | self.scopes.body_vars[id(node)] | set(self.scopes.open[id(node)])
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
                    (_eval(node.verdict, assign, self.scopes.sup, memo, carried), _eval(node.next, assign, self.scopes.sup, memo, carried))
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
        keep = useful_bodies(*columns[:6])  # costs ride along
        self.loop_rows[key] = (choices[keep], *(c[keep] for c in columns))
        return self.loop_rows[key]


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
    cost = np.array([p.estimate.cost for p in points])
    return [points[i] for i in pareto(acc, t, cost)]


def space_size(root: Node) -> int:
    return math.prod(len(v) for v in all_vars(root))


def by_key(points: Sequence[Point]) -> Mapping[tuple[float, float], Point]:
    return {(round(p.estimate.acc, 9), round(p.estimate.t, 9)): p for p in points}
