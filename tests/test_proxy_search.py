"""The bottom-up search finds exactly the proxy's Pareto set.

Random small workflows (chains, shared inputs, forks with votes and with
aggregators, with and without level curves, replicated samples, votes whose
wrong answers agree at random rates, switches, loops, optional agents that
pass their input on, and optional proposers whose skip leaves no value) with
random estimates, inputs the proxy finds redundant next to values with several
users, and checkers that read a plan beside the answer built on it at measured
mixed rates: `frontier` must equal the brute-force Pareto set point for point, and every
point's assignment must evaluate to that point (cost included).
"""

from __future__ import annotations

import random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from flowcompile.proxy.model import (
    Agent,
    Carried,
    Input,
    Loop,
    Node,
    Switch,
    Var,
    Vote,
    evaluate,
    walk,
)
from flowcompile.proxy.scopes import Scopes
from flowcompile.proxy.search import RegionLimitError, brute_force, frontier, space_size
from helpers.fronts import assert_same_front, random_levels


class Builder:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.count = 0

    def agent(
        self, inputs, gate=None, proposals=(), samples_of=None, skippable=False, choices=None, levels=0, absent=False,
        mixed=False,
    ):
        """`levels`: the aggregator's proposal count at its largest samples, to
        give its choices random non-decreasing level curves (some left without)."""
        rng = self.rng
        n = choices or rng.randint(1, 3)
        name = f"a{self.count}"
        self.count += 1
        skippable = skippable or absent
        labels = tuple(range(n)) + (("skip",) if skippable else ())
        return Agent(
            Var(name, labels),
            tuple(inputs),
            tuple(round(rng.uniform(0.05, 1.0), 3) for _ in range(n)),
            tuple(round(rng.uniform(0.1, 4.0), 2) for _ in range(n)),
            tuple(round(rng.uniform(0.0, 0.01), 4) for _ in range(n)),
            recovery=rng.choice([0.0, 0.1, 0.3, tuple(round(rng.uniform(0, 0.5), 2) for _ in range(n))]),
            proposals=tuple(proposals),
            gates=(gate,) if gate is not None else (),
            skippable=skippable,
            absent=absent,
            samples_of=samples_of or {},
            by_right=random_levels(rng, n, levels),
            mixed=tuple(rng.choice([None, round(rng.uniform(0.0, 1.0), 3)]) for _ in range(n)) if mixed else (),
        )

    def knob(self, name, values):
        self.count += 1
        return Var(f"{name}{self.count}", tuple(values))


def random_workflow(seed: int) -> Node:
    rng = random.Random(seed)
    b = Builder(rng)
    values: list[Node] = [Input()]
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(
            ["agent", "shared", "vote", "samples", "aggregate", "switch", "loop", "optional", "redundant", "absent",
             "mixed"]
        )
        pick = lambda k=1: rng.sample(values, min(k, len(values)))  # noqa: E731
        if kind == "agent":
            values.append(b.agent(pick(rng.randint(1, 2))))
        elif kind == "shared":
            # two agents read the same upstream, a third joins them
            up = pick()[0]
            left, right = b.agent([up]), b.agent([up])
            values.append(b.agent([left, right]))
        elif kind == "vote":
            branches = [b.agent(pick()) for _ in range(rng.randint(2, 3))]
            values.append(Vote(tuple(branches), wrong_agree=rng.choice([1.0, 0.0, round(rng.random(), 3)])))
        elif kind == "samples":
            knob = b.knob("samples", [1, 2, 3, 5])
            values.append(Vote((b.agent(pick()),), knob, wrong_agree=rng.choice([1.0, 0.0, round(rng.random(), 3)])))
        elif kind == "aggregate":
            up = pick()[0]
            proposals = [b.agent([up]) for _ in range(rng.randint(2, 3))]
            curves = rng.random() < 0.6
            if rng.random() < 0.5:
                knob = b.knob("samples", [1, 2, 3])
                levels = 3 if curves else 0
                values.append(b.agent([up], proposals=proposals[:1], samples_of={0: knob}, levels=levels))
            else:
                levels = len(proposals) if curves else 0
                values.append(b.agent([up], proposals=proposals, levels=levels))
        elif kind == "switch":
            route = b.agent(pick())
            branches = tuple(b.agent(pick(), gate=route) for _ in range(2))
            p = round(rng.uniform(0.1, 0.9), 2)
            values.append(Switch(route, branches, (p, 1.0 - p)))
        elif kind == "loop":
            name = f"loop{b.count}"
            carried = Carried(name)
            critic = b.agent([carried])
            if rng.random() < 0.5:  # measured rejection rates, some choices without
                critic.rejects = tuple(rng.choice([None, round(rng.uniform(0.2, 1.0), 2)]) for _ in critic.acc)
            extra = [pick()[0]] if rng.random() < 0.3 else []
            if rng.random() < 0.5:  # the verdict as content (older IR) or as a value waited for
                reviser = b.agent([carried, critic, *extra])
            else:
                reviser = b.agent([carried, *extra], gate=critic)
            iters = rng.choice([[1, 2, 3], [0, 1, 2]])  # 0: the first draft as it is
            values.append(Loop(name, pick()[0], carried, critic, reviser, b.knob("iters", iters)))
        elif kind == "redundant":
            # a value with several users, one of which also reads a value inside
            # it: the proxy ignores that input (effective_inputs), so the shared
            # value can be pinned
            up = pick()[0]
            mid = b.agent([b.agent([up])] if rng.random() < 0.5 else [up])
            if rng.random() < 0.5:
                users = [b.agent([mid]), b.agent([mid, up])]
                values.append(b.agent([*users, up]))
            else:
                route = b.agent([mid])
                branches = (b.agent([mid], gate=route), b.agent([mid, up], gate=route))
                p = round(rng.uniform(0.1, 0.9), 2)
                values.append(Switch(route, branches, (p, 1.0 - p)))
        elif kind == "mixed":
            # plan -> solve(plan) -> check(plan, solve): the plan is redundant
            # to the answer, but a wrong one still counts (the mixed rule);
            # the plan may have other readers later
            plan = b.agent(pick())
            solve = b.agent([Input(), plan] if rng.random() < 0.5 else [plan])
            check = b.agent([plan, solve] if rng.random() < 0.5 else [Input(), solve, plan], mixed=True)
            values.extend([plan, check] if rng.random() < 0.3 else [check])
        elif kind == "absent":
            # proposers that may be skipped, leaving no value: a vote or an
            # aggregator (levels, the older rule, a sampled proposal beside
            # them) over the present ones; one proposer always runs
            up = pick()[0]
            count = rng.randint(1, 3)
            proposals = [b.agent([up], absent=i < count) for i in range(count)] + [b.agent([up])]
            rng.shuffle(proposals)
            if rng.random() < 0.4:
                values.append(Vote(tuple(proposals), wrong_agree=rng.choice([1.0, 0.0, round(rng.random(), 3)])))
            elif rng.random() < 0.3:
                knob = b.knob("samples", [1, 3])
                sampled = b.agent([up])
                levels = 3 + len(proposals) if rng.random() < 0.6 else 0
                values.append(b.agent([up], proposals=[sampled, *proposals], samples_of={0: knob}, levels=levels))
            else:
                levels = len(proposals) if rng.random() < 0.6 else 0
                values.append(b.agent([up], proposals=proposals, levels=levels))
        else:
            values.append(b.agent(pick(), skippable=True))
    if len(values) > 2 and rng.random() < 0.5:
        values.append(b.agent(rng.sample(values[1:], 2)))  # a join of two earlier values
    return values[-1]


@settings(deadline=None, max_examples=150)
@given(st.integers(0, 10**9))
@example(5670)  # an exact accuracy tie on a rounding boundary
def test_frontier_equals_brute_force(seed: int) -> None:
    root = random_workflow(seed)
    if space_size(root) > 30_000:
        return
    assert_same_front(root)


def share_agents(root: Node, rng: random.Random) -> bool:
    """Make two or three agents of `root` with the same choices one shared
    agent (one variable, each site its own estimates); False if none match."""
    groups: dict[tuple, list[Agent]] = {}
    for node in walk(root):
        if isinstance(node, Agent) and not node.absent:
            groups.setdefault(node.var.labels, []).append(node)
    candidates = [g for g in groups.values() if len(g) >= 2]
    if not candidates:
        return False
    group = rng.choice(candidates)
    sites = rng.sample(group, min(len(group), rng.randint(2, 3)))
    for site in sites[1:]:
        site.var = sites[0].var
    return True


@settings(deadline=None, max_examples=150)
@given(st.integers(0, 10**9))
def test_a_shared_agent_across_sites_is_searched_exactly(seed: int) -> None:
    """One agent at several sites (branches, a loop body and its outside, a
    chain), one variable: the search equals brute force, every point one
    choice for all sites."""
    root = random_workflow(seed)
    if not share_agents(root, random.Random(seed)) or space_size(root) > 30_000:
        return
    assert_same_front(root)


def test_a_shared_agent_is_chosen_once() -> None:
    b = Builder(random.Random(1))
    q = Input()
    plan = b.agent([q], choices=3)
    left, right = b.agent([plan]), b.agent([plan])
    root = b.agent([left, right])
    assert_same_front(root)
    # the planner's variable is set, consistently, on every point
    assert all(0 <= p.assignment[plan.var.key] < 3 for p in frontier(root))


def test_a_redundant_input_counts_once() -> None:
    # verifier(plan, solver(plan)): the plan is already inside the solver's value
    q = Input()
    plan = Agent(Var("plan", (0,)), (q,), (0.5,), (1.0,), (0.0,))
    solver = Agent(Var("solve", (0,)), (q, plan), (0.8,), (1.0,), (0.0,))
    check = Agent(Var("check", (0,)), (q, plan, solver), (0.9,), (1.0,), (0.0,))
    assert evaluate(check, {"plan": 0, "solve": 0, "check": 0}).acc == pytest.approx(0.5 * 0.8 * 0.9)


def test_a_wrong_plan_beside_a_right_answer_counts_at_the_mixed_rate() -> None:
    q = Input()
    plan = Agent(Var("plan", (0,)), (q,), (0.5,), (1.0,), (0.0,))
    solver = Agent(Var("solve", (0,)), (q, plan), (0.8,), (1.0,), (0.0,), recovery=0.25)
    check = Agent(Var("check", (0,)), (q, plan, solver), (0.9,), (1.0,), (0.0,), recovery=0.1, mixed=(0.3,))
    u = 0.5 * 0.8 + 0.5 * 0.25  # the answer is right
    clean = 0.5 * 0.8  # ... and so is the plan it followed
    expected = clean * 0.9 + (u - clean) * 0.3 + (1 - u) * 0.1
    assert evaluate(check, {"plan": 0, "solve": 0, "check": 0}).acc == pytest.approx(expected)
    # a mixed rate outside [recovery, success] is held inside it
    above = Agent(Var("check", (0,)), (q, plan, solver), (0.9,), (1.0,), (0.0,), recovery=0.1, mixed=(0.95,))
    assert evaluate(above, {"plan": 0, "solve": 0, "check": 0}).acc == pytest.approx(u * 0.9 + (1 - u) * 0.1)


def test_the_mixed_rule_is_searched_exactly() -> None:
    """The search conditions on the plan and the solver where the checker's
    mixed rule reads them, and finds brute force's front."""
    b = Builder(random.Random(7))
    q = Input()
    plan = b.agent([q], choices=4)
    solve = b.agent([q, plan], choices=4)
    check = b.agent([q, plan, solve], choices=4, mixed=True)
    assert solve.var.key in {v.key for v in Scopes(check).shared}
    assert_same_front(check)


def test_a_redundant_input_does_not_block_pinning() -> None:
    """A router and two experts read an aggregate; one expert also reads the
    plan behind it, which the proxy ignores (its support is inside the
    aggregate's). The aggregate is still pinned, so no agent behind it is
    conditioned on, and the front is still brute force's."""
    b = Builder(random.Random(3))
    q = Input()
    plan = b.agent([q], choices=3)
    proposals = [b.agent([plan], choices=3) for _ in range(2)]
    agg = b.agent([q, plan], proposals=proposals, choices=3, levels=2)
    route = b.agent([agg], choices=2)
    experts = (b.agent([agg], gate=route, choices=3), b.agent([q, agg, plan], gate=route, choices=3))
    root = Switch(route, experts, (0.6, 0.4))
    scopes = Scopes(root)
    assert agg in scopes.pins
    assert not {plan.var.key, *(p.var.key for p in proposals)} & {v.key for v in scopes.shared}
    assert_same_front(root)


def test_an_aggregator_with_levels_is_searched_exactly() -> None:
    """Three proposers and a sampled one, with level curves that make the best
    aggregator depend on how the proposals' accuracies are spread."""
    b = Builder(random.Random(7))
    q = Input()
    proposals = [b.agent([q], choices=3) for _ in range(3)]
    root = b.agent([q], proposals=proposals, choices=3, levels=3)
    root.by_right = ((0.0, 0.9, 0.95, 1.0), (0.05, 0.4, 0.8, 1.0), None)  # the last: the older rule
    assert_same_front(root)
    sampled = b.agent([q], choices=3)
    root = b.agent([q], proposals=[sampled, proposals[0]], samples_of={0: b.knob("k", [1, 3])}, levels=4)
    assert_same_front(root)


def test_the_limit_names_the_region() -> None:
    q = Input()
    # three non-dominated choices each: the vote's cross product is 3**12
    branches = [
        Agent(Var(f"s{i}", (0, 1, 2)), (q,), (0.5, 0.6, 0.7), (1.0, 2.0, 3.0), (0.0,) * 3)
        for i in range(12)
    ]
    root = Vote(tuple(branches))
    with pytest.raises(RegionLimitError) as info:
        frontier(root, limit=1000)
    assert info.value.region == "flow.vote"
    assert info.value.size == 3**12


def test_a_judge_with_measured_rejections_uses_them():
    """One round of refine: the draft is approved (kept) or revised; the
    judge's false-approve rate is 1 - its measured rejection rate."""
    carried = Carried("l")
    critic = Agent(Var("critic", (0,)), (carried,), (0.9,), (1.0,), (0.0,), rejects=(0.6,))
    reviser = Agent(Var("reviser", (0,)), (carried,), (0.8,), (2.0,), (0.0,), recovery=0.5, gates=(critic,))
    drafter = Agent(Var("drafter", (0,)), (Input(),), (0.7,), (3.0,), (0.0,))
    loop = Loop("l", drafter, carried, critic, reviser, Var("iters", (1,)))
    q, tpr, fpr, rho1, rho0 = 0.7, 0.9, 0.4, 0.8, 0.5
    expected = q * tpr + q * (1 - tpr) * rho1 + (1 - q) * (1 - fpr) * rho0
    assert evaluate(loop, {"critic": 0, "reviser": 0, "drafter": 0, "iters": 0}).acc == pytest.approx(expected)
    assert critic.judge_rates(0) == (0.9, pytest.approx(0.4))
    critic.rejects = (None,)  # not measured: symmetric
    assert critic.judge_rates(0) == (0.9, pytest.approx(0.1))
    critic.rejects = (0.05,)  # approves wrong drafts more often than right ones: approval says nothing
    assert critic.judge_rates(0) == (0.9, 0.9)


def test_of_two_tied_points_the_cheaper_is_kept() -> None:
    """The ensemble off passes p0 on: whether p1 (absent-able, faster) runs
    then changes neither accuracy nor latency, only cost. The search and
    brute force both keep the configuration that does not pay for it."""
    q = Input()
    p0 = Agent(Var("p0", (0,)), (q,), (0.6,), (2.0,), (0.01,))
    p1 = Agent(Var("p1", (0, "skip")), (q,), (0.7,), (1.0,), (0.05,), skippable=True, absent=True)
    ens = Agent(Var("ens", (0, "skip")), (q,), (0.9,), (1.0,), (0.02,), proposals=(p0, p1), skippable=True, passes=p0)
    for points in (frontier(ens), brute_force(ens)):
        off = [p for p in points if p.assignment["ens"] == 1]
        assert len(off) == 1 and off[0].assignment["p1"] == 1, [p.assignment for p in points]
        assert off[0].estimate.cost == pytest.approx(0.01)
