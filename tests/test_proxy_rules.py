"""Composition rules against exhaustive enumeration, plus numerical monotonicity."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowcompile.proxy.model import (
    Agent,
    Input,
    Switch,
    Var,
    agent_acc,
    evaluate,
    mixed_agent_acc,
    parallel_time,
    proposal_acc,
    refine_loop,
    round_decay,
)
from flowcompile.proxy.rules import (
    aggregate_acc,
    any_correct_acc,
    binomial_dist,
    binomial_plurality_acc,
    level_aggregate_acc,
    plurality_vote_acc,
    plurality_win,
    resample_levels,
    right_count_dist,
)

probs = st.floats(0.0, 1.0, allow_nan=False)
seeds = st.integers(0, 2**32 - 1)


def enumerate_vote(p: list[float]) -> float:
    """Sum over all 2^n outcomes; a tie is worth 1/2."""
    n, total = len(p), 0.0
    for outcome in itertools.product((0, 1), repeat=n):
        w = np.prod([pi if o else 1 - pi for pi, o in zip(p, outcome)])
        k = sum(outcome)
        total += w * (1.0 if 2 * k > n else 0.5 if 2 * k == n else 0.0)
    return total


def enumerate_plurality(p: list[float], values: int) -> float:
    """The vote by every outcome of every voter: right w.p. p_i, else one of
    `values` wrong values uniformly; the most common answer wins, a tie among
    r answers is a uniform pick (what earliest-wins is for exchangeable voters)."""
    total = 0.0
    for outcome in itertools.product(range(values + 1), repeat=len(p)):  # 0: right
        w = np.prod([pi if o == 0 else (1 - pi) / values for pi, o in zip(p, outcome)])
        counts = np.bincount(outcome, minlength=values + 1)
        top = counts.max()
        if counts[0] == top:
            total += w / int((counts == top).sum())
    return total


# ---------------------------------------------------------------- voting


@settings(deadline=None, max_examples=60)
@given(st.lists(probs, min_size=1, max_size=7))
def test_all_wrong_answers_alike_is_the_strict_majority(p):
    assert plurality_vote_acc(p, 1.0) == pytest.approx(enumerate_vote(p), abs=1e-12)


@settings(deadline=None, max_examples=60)
@given(st.lists(probs, min_size=1, max_size=5), st.integers(1, 4))
def test_plurality_vote_matches_enumeration(p, values):
    assert plurality_vote_acc(p, 1.0 / values) == pytest.approx(enumerate_plurality(p, values), abs=1e-12)


def test_plurality_hand_values_and_ties():
    assert plurality_vote_acc([1.0, 0.0], 1.0) == pytest.approx(0.5)
    assert plurality_vote_acc([1.0, 1.0, 0.0, 0.0], 1.0) == pytest.approx(0.5)
    assert plurality_vote_acc([0.9]) == pytest.approx(0.9)
    # one right, two wrong that disagree (all distinct): a three-way tie, 1/3
    assert plurality_vote_acc([1.0, 0.0, 0.0], 0.0) == pytest.approx(1 / 3)
    # one right, two wrong over 2 values: they agree w.p. 1/2 (right loses), else a 1/3 tie
    assert plurality_vote_acc([1.0, 0.0, 0.0], 0.5) == pytest.approx(0.5 / 3)
    # Hand value: 3 voters 0.6, 0.7, 0.8, wrong answers alike -> P(>= 2 correct).
    hand = 0.6 * 0.7 * 0.2 + 0.6 * 0.3 * 0.8 + 0.4 * 0.7 * 0.8 + 0.6 * 0.7 * 0.8
    assert plurality_vote_acc([0.6, 0.7, 0.8]) == pytest.approx(hand)
    # The case: a weak solver gains from samples once its mistakes disagree.
    one, five = binomial_plurality_acc(0.25, 1, 1 / 3), binomial_plurality_acc(0.25, 5, 1 / 3)
    assert five > one > binomial_plurality_acc(0.25, 5, 1.0)


def test_plurality_win_tables():
    assert plurality_win(4, 1.0) == pytest.approx([0, 0, 0.5, 1, 1])
    assert plurality_win(3, 0.0) == pytest.approx([0, 1 / 3, 1, 1])
    # 2 of 4 right, 2 wrong over 3 values: they agree w.p. 1/3 (a 1/2 tie), else right wins
    assert plurality_win(4, 1 / 3)[2] == pytest.approx(1 / 3 * 0.5 + 2 / 3)
    for n in (1, 2, 5, 9):
        for w in (0.0, 0.001, 0.2, 0.31, 0.5, 0.9, 1.0):
            table = plurality_win(n, w)
            assert table[0] == 0.0 and table[n] == 1.0
            assert np.all(np.diff(table) >= -1e-12)  # more right answers never hurt


def test_non_integer_values_mix_to_the_measured_agreement():
    """wrong_agree = 0.4 (2.5 values) is a per-query mix of 2 and 3 values whose
    chance that two wrong answers agree is 0.4: share * 1/2 + (1 - share) * 1/3."""
    share = (0.4 - 1 / 3) * 6
    assert share * 0.5 + (1 - share) / 3 == pytest.approx(0.4)
    p = [0.3, 0.5, 0.2, 0.6]
    mixed = share * enumerate_plurality(p, 2) + (1 - share) * enumerate_plurality(p, 3)
    assert plurality_vote_acc(p, 0.4) == pytest.approx(mixed, abs=1e-12)
    # the rate moves the estimate continuously between the integer cases
    between = [float(binomial_plurality_acc(0.3, 5, w)) for w in np.linspace(0.2, 0.5, 31)]
    assert np.all(np.diff(between) <= 1e-12)  # more agreement among mistakes, fewer wins
    # past the cap, a mix of many values and of all-distinct ones
    assert plurality_vote_acc([1.0, 0.0, 0.0], 1e-6) == pytest.approx(1 / 3, abs=1e-3)


def test_plurality_vote_vectorised_over_leading_axes():
    p = np.random.default_rng(0).random((3, 4, 3))
    out = plurality_vote_acc(p, 0.5)
    assert out.shape == (3, 4)
    for i, j in itertools.product(range(3), range(4)):
        assert out[i, j] == pytest.approx(enumerate_plurality(list(p[i, j]), 2), abs=1e-12)


def test_plurality_vote_rejects_bad_arguments():
    with pytest.raises(ValueError):
        plurality_vote_acc(np.zeros((3, 0)))
    with pytest.raises(ValueError):
        plurality_win(3, 1.5)
    with pytest.raises(ValueError):
        binomial_plurality_acc(0.5, 0)


@settings(deadline=None, max_examples=60)
@given(probs, st.integers(1, 12), st.sampled_from([0.0, 0.1, 1 / 3, 0.45, 1.0]))
def test_binomial_plurality_is_the_vote_over_identical_voters(p, n, wrong_agree):
    got = binomial_plurality_acc(p, n, wrong_agree)
    assert got == pytest.approx(plurality_vote_acc([p] * n, wrong_agree), abs=1e-12)
    if wrong_agree == 1.0:  # the strict-majority formula
        direct = sum(comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1) if 2 * k > n)
        if n % 2 == 0:
            direct += 0.5 * comb(n, n // 2) * (p * (1 - p)) ** (n // 2)
        assert got == pytest.approx(direct, abs=1e-12)


def test_binomial_plurality_large_n_and_edges():
    assert binomial_plurality_acc(0.5, 2001) == pytest.approx(0.5, abs=1e-9)
    assert binomial_plurality_acc(0.6, 2001) > 0.999999
    assert binomial_plurality_acc(np.array([0.0, 1.0]), 4, 0.3) == pytest.approx([0.0, 1.0])
    assert binomial_plurality_acc(0.3, 64, 0.2) > binomial_plurality_acc(0.3, 64, 0.5)


@settings(deadline=None, max_examples=40)
@given(st.lists(probs, min_size=1, max_size=6), probs)
def test_any_correct_and_aggregate_match_enumeration(p, sel):
    any_ok = sum(
        np.prod([pi if o else 1 - pi for pi, o in zip(p, out)])
        for out in itertools.product((0, 1), repeat=len(p))
        if any(out)
    )
    assert any_correct_acc(p) == pytest.approx(any_ok, abs=1e-12)
    assert aggregate_acc(p, sel) == pytest.approx(sel * any_ok, abs=1e-12)


# ---------------------------------------------------------------- aggregation by levels


def enumerate_levels(p: list[float], copies: list[int], curve: list[float]) -> float:
    """Sum over every right/wrong outcome of every draw: its weight times the
    aggregator's rate at that outcome's number of right proposals."""
    draws = [pi for pi, k in zip(p, copies) for _ in range(k)]
    total = 0.0
    for outcome in itertools.product((0, 1), repeat=len(draws)):
        w = np.prod([pi if o else 1 - pi for pi, o in zip(draws, outcome)])
        total += w * curve[sum(outcome)]
    return total


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(probs, st.integers(1, 3)), min_size=1, max_size=4), seeds)
def test_level_aggregate_matches_enumeration(inputs, seed):
    p, copies = [x for x, _ in inputs], [k for _, k in inputs]
    n = sum(copies)
    curve = np.sort(np.random.default_rng(seed).random(n + 1))
    dist = right_count_dist(p, copies)
    assert dist.shape == (n + 1,) and dist.sum() == pytest.approx(1.0)
    assert level_aggregate_acc(dist, curve) == pytest.approx(enumerate_levels(p, copies, list(curve)), abs=1e-12)


def test_level_aggregate_hand_value_and_broadcasting():
    # two proposals right w.p. 0.5 and 0.8: P(0, 1, 2 right) = 0.1, 0.5, 0.4
    dist = right_count_dist([0.5, 0.8])
    assert dist == pytest.approx([0.1, 0.5, 0.4])
    assert level_aggregate_acc(dist, [0.05, 0.6, 0.9]) == pytest.approx(0.1 * 0.05 + 0.5 * 0.6 + 0.4 * 0.9)
    grid = right_count_dist([np.array([0.5, 0.9]), 0.8])
    assert grid.shape == (2, 3) and grid[0] == pytest.approx([0.1, 0.5, 0.4])
    assert binomial_dist(0.3, 2) == pytest.approx([0.49, 0.42, 0.09])
    assert right_count_dist([0.3], [2]) == pytest.approx([0.49, 0.42, 0.09])


def test_resample_levels_reads_the_same_fraction_right():
    curve = [0.0, 0.3, 0.5, 0.8, 0.9, 1.0]  # measured with 5 samples
    assert resample_levels(curve, 5) == pytest.approx(curve)
    assert resample_levels(curve, 1) == pytest.approx([0.0, 1.0])  # none right, all right
    # 3 samples: fractions 0, 1/3, 2/3, 1 on the grid of fifths
    third, two_thirds = 0.3 + (0.5 - 0.3) * (5 / 3 - 1), 0.8 + 0.1 * (10 / 3 - 3)
    assert resample_levels(curve, 3) == pytest.approx([0.0, third, two_thirds, 1.0])
    assert resample_levels([0.4], 3) == pytest.approx([0.4] * 4)
    assert np.all(np.diff(resample_levels(curve, 4)) >= 0)
    with pytest.raises(ValueError):
        resample_levels([], 2)


def test_proposal_acc_without_levels_is_the_older_rule():
    # select 0.9 times P(at least one of three draws right): the second proposal counts twice
    assert proposal_acc(0.9, None, [0.5, 0.2], [1, 2]) == pytest.approx(0.9 * (1 - 0.5 * 0.8 * 0.8))
    assert proposal_acc(0.9, [0.0, 0.5, 0.7, 1.0], [0.5, 0.2], [1, 2]) == pytest.approx(
        enumerate_levels([0.5, 0.2], [1, 2], [0.0, 0.5, 0.7, 1.0])
    )


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_level_aggregate_is_monotone_in_every_proposal(n):
    """With a non-decreasing curve (compose's isotonic step), a more accurate
    proposal never lowers the aggregator's accuracy: what keeps the search's
    pruning of each proposal's front exact."""
    rng = np.random.default_rng(200 + n)
    p = rng.random((N, n))
    curve = np.sort(rng.random(n + 1))
    base = level_aggregate_acc(right_count_dist(list(p.T)), curve)
    for i in range(n):
        q = p.copy()
        q[:, i] = bump(rng, p[:, i])
        assert np.all(level_aggregate_acc(right_count_dist(list(q.T)), curve) >= base - TOL)


def test_a_non_monotone_curve_breaks_monotonicity():
    # why compose makes curves isotonic: here a second right proposal hurts
    worse = level_aggregate_acc(right_count_dist([0.9, 0.9]), [0.0, 0.9, 0.2])
    better = level_aggregate_acc(right_count_dist([0.9, 0.1]), [0.0, 0.9, 0.2])
    assert worse < better


# ---------------------------------------------------------------- sequence


def one_choice(name: str, inputs, acc: float, lat: float, recovery: float = 0.0, gates=()) -> Agent:
    return Agent(Var(name, (0,)), tuple(inputs), (acc,), (lat,), (0.0,), recovery=recovery, gates=tuple(gates))


def chain_of(stages, lats=None):
    node = Input()
    for i, (a, r) in enumerate(stages):
        node = one_choice(f"s{i}", [node], a, lats[i] if lats else 1.0, r)
    return node, {f"s{i}": 0 for i in range(len(stages))}


@settings(deadline=None, max_examples=40)
@given(st.lists(st.tuples(probs, probs), min_size=1, max_size=5))
def test_chain_matches_path_enumeration(stages):
    # Enumerate correct/wrong state after every stage; a stage recovers from a
    # wrong input at most as often as it succeeds on a right one (the model's
    # min(r, p), which keeps it monotone).
    stages = [(a, min(r, a)) for a, r in stages]
    total = 0.0
    for states in itertools.product((0, 1), repeat=len(stages)):
        w, prev = 1.0, None
        for (a, r), s in zip(stages, states):
            q = a if prev in (None, 1) else r
            w *= q if s else 1 - q
            prev = s
        total += w * states[-1]
    root, assignment = chain_of(stages)
    assert evaluate(root, assignment).acc == pytest.approx(total, abs=1e-12)


def test_chain_latency_adds_and_parallel_waits_for_the_slowest():
    root, assignment = chain_of([(0.5, 0.0)] * 3, lats=[1.0, 2.0, 3.5])
    assert evaluate(root, assignment).t == pytest.approx(6.5)
    assert evaluate(root, assignment).acc == pytest.approx(0.125)
    assert parallel_time([1.0, 5.0, np.array([3.0, 6.0])], [None, None, None]) == pytest.approx([5.0, 6.0])


@settings(deadline=None, max_examples=60)
@given(probs, probs, probs, probs, probs, probs)
def test_the_mixed_rule_matches_path_enumeration(plan, solve, solve_rec, check, mixed, check_rec):
    """plan -> solve -> check(plan, solve): enumerate the plan's and the
    answer's states; the checker succeeds at `check` when both are right, at
    `mixed` when the answer is right after a wrong plan, at its recovery
    rate when the answer is wrong (each rate held as the model holds it:
    recovery at most success, mixed between them)."""
    solve_rec, check_rec = min(solve_rec, solve), min(check_rec, check)
    held = min(max(mixed, check_rec), check)
    total = 0.0
    for plan_right, answer_right in itertools.product((True, False), repeat=2):
        w = plan if plan_right else 1 - plan
        a = solve if plan_right else solve_rec
        w *= a if answer_right else 1 - a
        total += w * (check if plan_right and answer_right else held if answer_right else check_rec)
    q = Input()
    planner = one_choice("plan", [q], plan, 1.0)
    solver = one_choice("solve", [q, planner], solve, 1.0, solve_rec)
    checker = Agent(Var("check", (0,)), (q, planner, solver), (check,), (1.0,), (0.0,), recovery=check_rec,
                    mixed=(mixed,))
    assert evaluate(checker, {"plan": 0, "solve": 0, "check": 0}).acc == pytest.approx(total, abs=1e-12)


@settings(deadline=None, max_examples=60)
@given(probs, probs, probs, probs, probs, probs)
def test_the_mixed_rule_rises_with_its_inputs_and_rates(p, mixed, r, u, share, step):
    """What the search's pruning needs: more right inputs, more of them
    derived from right outputs, or higher rates never lower the estimate."""
    clean = u * share
    base = mixed_agent_acc(p, mixed, u, clean, r)
    up_u = min(1.0, u + step)
    assert mixed_agent_acc(p, mixed, up_u, clean, r) >= base - 1e-12
    assert mixed_agent_acc(p, mixed, u, min(u, clean + step), r) >= base - 1e-12
    assert mixed_agent_acc(p, min(1.0, mixed + step), u, clean, r) >= base - 1e-12
    assert mixed_agent_acc(p, mixed, u, clean, min(1.0, r + step)) >= base - 1e-12
    assert mixed_agent_acc(min(1.0, p + step), mixed, u, clean, r) >= base - 1e-12


def test_recovery_never_beats_success():
    """An agent that would recover more often than it succeeds is capped at its
    success rate: otherwise a worse input would give a better output."""
    assert agent_acc(0.1, 0.9, 0.5) == pytest.approx(agent_acc(0.1, 0.1, 0.5)) == pytest.approx(0.1)


# ---------------------------------------------------------------- switch


@settings(deadline=None, max_examples=40)
@given(seeds, st.integers(1, 5))
def test_switch_matches_enumeration(seed, b):
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.ones(b))
    r, r_lat = rng.random(), rng.random() * 10
    acc_b, lat_b = rng.random(b), rng.random(b) * 10
    route = one_choice("route", [Input()], r, r_lat)
    branches = [one_choice(f"b{j}", [Input()], acc_b[j], lat_b[j], gates=[route]) for j in range(b)]
    # Outcomes: (branch j taken by traffic, router right or wrong); a wrong
    # route sends the query to a case that cannot answer it. Every case waits
    # for the route.
    acc = sum(w[j] * r * acc_b[j] for j in range(b))
    lat = sum(w[j] * (r_lat + lat_b[j]) for j in range(b))
    got = evaluate(Switch(route, tuple(branches), tuple(w)), {"route": 0, **{f"b{j}": 0 for j in range(b)}})
    assert got.acc == pytest.approx(acc, abs=1e-12)
    assert got.t == pytest.approx(lat, abs=1e-9)


# ---------------------------------------------------------------- loop


def enumerate_refine(q0, rho1, rho0, tpr, fpr, t_check, t_revise, n, decay=()):
    """The refine loop by enumerating every path of the draft's correctness:
    each round the verdict approves (the loop ends with that draft) or rejects
    (the draft is revised, a wrong one fixed w.p. rho0 times that round's
    decay); after n rejections the last revision is returned."""
    acc = lat = 0.0
    stack = [(q0, True, 0), (1 - q0, False, 0)]  # (probability, correct?, round)
    while stack:
        p, correct, k = stack.pop()
        if p == 0:
            continue
        lat += p * t_check
        approve = tpr if correct else fpr
        acc += p * approve * correct
        rejected = p * (1 - approve)
        lat += rejected * t_revise
        fix = rho1 if correct else rho0 * (decay[k] if k < len(decay) else 1.0)
        if k == n - 1:
            acc += rejected * fix
            continue
        stack += [(rejected * fix, True, k + 1), (rejected * (1 - fix), False, k + 1)]
    return acc, lat


@settings(deadline=None, max_examples=80)
@given(probs, probs, probs, probs, probs, st.floats(0.0, 10.0), st.floats(0.0, 10.0), st.integers(1, 4))
def test_refine_loop_matches_enumeration(q0, rho1, rho0, tpr, fpr, t_check, t_revise, n):
    acc, lat = enumerate_refine(q0, rho1, rho0, tpr, fpr, t_check, t_revise, n)
    got_acc, got_lat, checks, revisions = refine_loop(q0, rho1, rho0, tpr, fpr, t_check, t_revise, n)
    assert got_acc == pytest.approx(acc, abs=1e-12)
    assert got_lat == pytest.approx(lat, rel=1e-9, abs=1e-12)
    assert got_lat == pytest.approx(checks * t_check + revisions * t_revise, rel=1e-9, abs=1e-12)


@settings(deadline=None, max_examples=60)
@given(probs, probs, probs, probs, probs, st.integers(1, 4), st.lists(probs, max_size=4))
def test_refine_loop_with_round_decay_matches_enumeration(q0, rho1, rho0, tpr, fpr, n, decay):
    acc, lat = enumerate_refine(q0, rho1, rho0, tpr, fpr, 1.0, 2.0, n, decay)
    got_acc, got_lat, _, _ = refine_loop(q0, rho1, rho0, tpr, fpr, 1.0, 2.0, n, decay)
    assert got_acc == pytest.approx(acc, abs=1e-12)
    assert got_lat == pytest.approx(lat, rel=1e-9, abs=1e-12)


def test_round_decay_reads_a_round_that_fixes_nothing():
    """What the reference runs of the refine example show: a third round of
    revision fixes none of the drafts that survived two (a deterministic
    reviser asked again the same thing answers the same)."""
    decay = round_decay([49, 27, 18], [13, 9, 0])
    assert decay[0] == 1.0
    assert decay[1] == 1.0  # measured above round 1's: noise, never easier
    assert decay[2] < 0.15
    assert round_decay([], []) == ()
    assert round_decay([0, 3], [0, 1]) == ()  # no first round to compare with


# ---------------------------------------------------------------- monotonicity

N = 4000
TOL = 1e-12


def bump(rng, x, hi=1.0):
    return np.minimum(x + rng.random(x.shape) * 0.3, hi)


def test_monotone_sequence_and_parallel():
    rng = np.random.default_rng(1)
    up, b, rec = rng.random(N), rng.random(N), rng.random(N)
    base = agent_acc(b, up, rec)
    assert np.all(agent_acc(b, bump(rng, up), rec) >= base - TOL)
    assert np.all(agent_acc(bump(rng, b), up, rec) >= base - TOL)
    l1, l2 = rng.random(N), rng.random(N)
    assert np.all(parallel_time([l1 + rng.random(N), l2], [None, None]) >= parallel_time([l1, l2], [None, None]) - TOL)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_monotone_votes_and_aggregate(n):
    rng = np.random.default_rng(n)
    p = rng.random((N, n))
    sel = rng.random(N)
    base_a = aggregate_acc(p, sel)
    for wrong_agree in (0.0, 0.25, 0.4, 1.0):
        base_v = plurality_vote_acc(p, wrong_agree)
        for i in range(n):
            q = p.copy()
            q[:, i] = bump(rng, p[:, i])
            assert np.all(plurality_vote_acc(q, wrong_agree) >= base_v - TOL)
        x = rng.random(N)
        assert np.all(
            binomial_plurality_acc(bump(rng, x), n, wrong_agree) >= binomial_plurality_acc(x, n, wrong_agree) - TOL
        )
    for i in range(n):
        q = p.copy()
        q[:, i] = bump(rng, p[:, i])
        assert np.all(aggregate_acc(q, sel) >= base_a - TOL)
    assert np.all(aggregate_acc(p, bump(rng, sel)) >= base_a - TOL)


@pytest.mark.parametrize("n", [1, 2, 3, 6])
def test_refine_loop_is_monotone_in_its_draft_and_revisions(n):
    """What makes pruning a loop's initial value (and dominated bodies) exact:
    with an informative judge (tpr >= fpr) and revisions no worse from a correct
    draft (rho1 >= rho0), a better draft or revision never lowers accuracy nor
    raises latency."""
    rng = np.random.default_rng(100 + n)
    q0, rho0 = rng.random(N), rng.random(N)
    rho1 = rho0 + (1 - rho0) * rng.random(N)
    fpr = rng.random(N)
    tpr = fpr + (1 - fpr) * rng.random(N)
    t_check, t_revise = rng.random(N) * 5, rng.random(N) * 5
    acc, lat, _, _ = refine_loop(q0, rho1, rho0, tpr, fpr, t_check, t_revise, n)
    for changed in (
        dict(q0=bump(rng, q0)),
        dict(rho1=bump(rng, rho1)),
        dict(rho0=np.minimum(bump(rng, rho0), rho1)),
    ):
        args = dict(q0=q0, rho1=rho1, rho0=rho0, tpr=tpr, fpr=fpr, t_check=t_check, t_revise=t_revise, n=n)
        args.update(changed)
        acc2, lat2, _, _ = refine_loop(**args)
        assert np.all(acc2 >= acc - TOL)
        assert np.all(lat2 <= lat + 1e-9)
    _, lat3, _, _ = refine_loop(q0, rho1, rho0, tpr, fpr, t_check + rng.random(N), t_revise, n)
    assert np.all(lat3 >= lat - TOL)
