"""What the Pareto search (`flowcompile.proxy.search`) conditions on, and where.

A variable that two children of one join depend on would be chosen twice,
inconsistently; a value with several users is cheaper fixed point by point
than configuration by configuration. `Scopes` finds both (the *shared*
variables and the *pinned* values: its items), the node where each item is
released (every path from it meets there, so the fronts found for each of its
values are united there) and which items each node's front depends on (its
memo key). It reads the proxy model only; the search's state is its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from flowcompile.proxy.model import (
    Agent,
    Carried,
    Input,
    Loop,
    Node,
    Var,
    Vote,
    all_vars,
    derived_input,
    effective_inputs,
    supports,
    walk,
)


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


def pin_key(node: Node) -> str:
    return f"pin:{id(node)}"


class Scopes:
    """The conditioning plan of a search over `root`, found once, read-only after."""

    def __init__(self, root: Node):
        self.root = root
        self.vars = all_vars(root)
        self.column = {v.key: j for j, v in enumerate(self.vars)}
        """Each variable's column in a front's `assign`."""
        self.sup = supports(root)
        self.derived = {
            id(n): found for n in walk(root) if isinstance(n, Agent) and (found := derived_input(n, self.sup))
        }
        """Per agent composed by the mixed rule, the value behind its input
        and the agent built on it (`derived_input`)."""
        self.reads = {id(n): self._reads(n) for n in walk(root)}
        reached = self._closure(root)
        self.live = [n for n in walk(root) if id(n) in reached]
        self.open = self._open_knobs()
        loops = [n for n in walk(root) if isinstance(n, Loop)]
        self.outer_keys = {id(n): self._outer_keys_of(n) for n in loops}
        self.body_vars = {id(n): self._body_vars_of(n) for n in loops}
        self.shared, self.pins, self.joins = self._shared()
        """The variables and the values conditioned on (the items) and, per
        item, the nodes that need it fixed: the joins it is shared at, the
        loops whose body reads it from outside."""
        self.held, self.need = self._scopes()

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
        redundant (`effective_inputs`) is never read, but by a rule of mixed
        inputs (`derived_input`)."""
        if isinstance(node, Agent):
            skipped = [node.passed] if node.skippable and not node.absent else []
            return [*skipped, *self._content(node), *node.proposals, *node.gates]
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

    def _content(self, node: Agent) -> list[Node]:
        """The inputs `node`'s rule reads: the effective ones, and the value
        behind them that a rule of mixed inputs reads too."""
        behind = [self.derived[id(node)][0]] if id(node) in self.derived else []
        return [*effective_inputs(node.inputs, self.sup), *behind]

    def _join_children(self, node: Node) -> list[Node]:
        if isinstance(node, Agent):
            children = [*self._content(node), *node.proposals, *node.gates]
            if node.skippable and not node.absent and all(node.passed is not x for x in children):
                children.append(node.passed)  # a skip joins it with what the agent reads (their cost)
            return children
        if isinstance(node, Loop):
            return [node.init]
        return list(node.children())

    def _shared(self) -> tuple[list[Var], list[Node], dict[str, set[int]]]:
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
                opaque[id(node)] = frozenset({pin_key(node)})
                continue
            keys = {v.key for v in node.own_vars()}
            for child in self.reads[id(node)]:
                keys |= opaque[id(child)]
            opaque[id(node)] = frozenset(keys)
        joins: dict[str, set[int]] = defaultdict(set)
        for node in self.live:
            # a shared agent's variable, owned here and by a node below, is a join here too
            seen = {v.key for v in node.own_vars() if len(owners[v.key]) > 1}
            if isinstance(node, Loop):
                seen |= {k for k in self.body_vars[id(node)] if len(owners[k]) > 1}
            for child in self._join_children(node):
                for key in opaque[id(child)]:
                    if key in seen:
                        joins[key].add(id(node))
                    seen.add(key)
            if isinstance(node, Loop):
                for key in self.outer_keys[id(node)]:
                    joins[key].add(id(node))
            if id(node) in self.derived:  # the mixed rule reads the built-on agent's choice
                joins[self.derived[id(node)][1].var.key].add(id(node))
        variables = [v for v in self.vars if v.key in joins]
        return variables, [n for n in pins if pin_key(n) in joins], joins

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

        scope = {pin_key(p): dominator({id(p)} | self.joins[pin_key(p)], {id(p)}) for p in self.pins}
        below = {id(n): self._closure(n) for n in searched}
        for var in self.shared:
            holders = {id(n) for n in self.live if var.key in {v.key for v in n.own_vars()}}
            sources = holders | self.joins[var.key]
            while True:
                scope[var.key] = top = dominator(sources, holders)
                late = {
                    scope[pin_key(p)] for p in self.pins
                    if holders & below[id(p)] and id(p) != top and id(p) in below[top]
                    and scope[pin_key(p)] not in below[top]
                }
                if not late:
                    break
                sources |= late
        held: dict[int, list[str]] = defaultdict(list)
        for item in [*(v.key for v in self.shared), *(pin_key(p) for p in self.pins)]:
            held[scope[item]].append(item)  # variables before pins, pins inner first
        pinned = {id(p): pin_key(p) for p in self.pins}
        need: dict[int, tuple[str, ...]] = {}
        for node in self.live:
            keys = {v.key for v in node.own_vars() if v.key in scope}
            for child in self.reads[id(node)]:
                keys.update(need[id(child)])
                if id(child) in pinned:
                    keys.add(pinned[id(child)])
            need[id(node)] = tuple(sorted(keys - set(held.get(id(node), ()))))
        return dict(held), need

    def _outer_keys_of(self, loop: Loop) -> frozenset[str]:
        """Variables of the values from outside the loop body that it reads."""
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

    def _body_vars_of(self, loop: Loop) -> frozenset[str]:
        """Variables owned by nodes inside the loop body (not reachable from
        the body's outside references)."""
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
