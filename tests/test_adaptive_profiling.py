"""Adaptive profiling: the rounds, the horizons, the budget, and the pass end to end."""

from __future__ import annotations

from collections import Counter

import pytest

from flowcompile.compiler import import_spec, run_passes, the_workflow
from flowcompile.dialects.flow import ProfileAttr
from flowcompile.passes.profile import recorded_ids
from flowcompile.profiling.adaptive import profile_adaptively
from flowcompile.profiling.profiler import CandidateStats, Measurements

CANDIDATES = [("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")]
REFERENCE_PER_QUERY = 2


def fake_profile(calls: list[tuple[int, dict]]):
    """A profiler stand-in: one call per candidate per query within its
    horizon, REFERENCE_PER_QUERY reference calls per query; records each call."""

    def profile(n, horizon):
        reach = {key: min(n, horizon(*key)) for key in CANDIDATES}
        calls.append((n, reach))
        m = Measurements(queries=n, reference_calls=REFERENCE_PER_QUERY * n)
        m.candidate_calls = sum(reach.values())
        m.calls_of = Counter(reach)
        m.queries_of = dict(reach)
        for agent, config in CANDIDATES:
            m.agents.setdefault(agent, {})[config] = CandidateStats(0, reach[agent, config], 1.0, 1.0, 0, 0, 0)
        return m

    return profile


def test_only_candidates_in_play_get_more_queries():
    calls: list = []
    measured, rounds = profile_adaptively(
        fake_profile(calls), lambda m: dict.fromkeys([("a", "x"), ("b", "y")], 1.0), first=8, pool=64
    )
    assert [r.queries for r in rounds] == [8, 16, 32, 64]
    assert measured.queries_of == {("a", "x"): 64, ("a", "y"): 8, ("b", "x"): 8, ("b", "y"): 64}
    assert all(r.in_play == 2 for r in rounds[1:]) and rounds[0].in_play == 4


def test_stops_when_nothing_is_in_play():
    calls: list = []
    _, rounds = profile_adaptively(fake_profile(calls), lambda m: {}, first=8, pool=64)
    assert [r.queries for r in rounds] == [8] and len(calls) == 1


def test_a_returning_candidate_catches_up_on_what_it_missed():
    calls: list = []
    plays = iter([{("a", "x"): 1.0}, {("a", "x"): 1.0, ("a", "y"): 1.0}, {}])
    measured, _ = profile_adaptively(fake_profile(calls), lambda m: next(plays), first=8, pool=64)
    # round 2 gave a.x 16 queries; round 3 gave a.y all 32, the 8..16 it missed too
    assert measured.queries_of[("a", "y")] == 32 and measured.queries_of[("a", "x")] == 32


@pytest.mark.parametrize("budget", [40, 70, 100, 150])
def test_the_budget_caps_the_calls(budget):
    calls: list = []
    measured, rounds = profile_adaptively(
        fake_profile(calls), lambda m: dict.fromkeys(CANDIDATES, 1.0), first=8, pool=512, budget=budget
    )
    first_round = (REFERENCE_PER_QUERY + len(CANDIDATES)) * 8
    assert measured.total_calls <= max(budget, first_round)
    # and it spends most of what it may: another round of MIN_GROWTH would not fit
    assert budget - measured.total_calls < (REFERENCE_PER_QUERY + len(CANDIDATES)) * 8 or measured.queries == 512


def test_each_round_keeps_the_most_valuable_share_of_the_last_ones_candidates():
    calls: list = []
    worth = {("a", "x"): 0.5, ("a", "y"): 0.1, ("b", "x"): float("inf"), ("b", "y"): 0.2}
    measured, rounds = profile_adaptively(fake_profile(calls), lambda m: worth, first=8, pool=64, shrink=0.5)
    # 4 candidates, then at most 2, then 1: the one topping a front first, then by worth
    assert [r.in_play for r in rounds] == [4, 2, 1, 1]
    assert measured.queries_of == {("a", "x"): 16, ("a", "y"): 8, ("b", "x"): 64, ("b", "y"): 8}


def test_the_first_round_runs_even_past_the_budget():
    calls: list = []
    measured, rounds = profile_adaptively(fake_profile(calls), lambda m: dict.fromkeys(CANDIDATES, 1.0), first=8, pool=64, budget=1)
    assert len(rounds) == 1 and measured.queries == 8


def test_the_pass_profiles_adaptively_and_records_what_it_used(tmp_path, capsys):
    module = import_spec("examples/chain.yaml")
    run_passes(module, f'profile{{samples=8 max-samples=32 cache="{tmp_path / "c.sqlite"}"}}')
    workflow = the_workflow(module)
    counts = sorted(
        {p.get("acc_n") for a in workflow.agents for p in a.per_candidate("profiles", ProfileAttr) if p}
    )
    # candidates out of play keep the first round's count; those in play have more
    assert len(counts) >= 2 and counts[0] < counts[-1]
    assert len(recorded_ids(workflow, "profiled")) == 32
    err = capsys.readouterr().err
    assert "profile @chain (adaptive): 3 rounds (8 queries/" in err
    assert "candidates on all 32 queries:" in err


def test_adaptive_profiling_is_deterministic(tmp_path):
    texts = []
    for run in range(2):
        module = import_spec("examples/self_consistency.yaml")
        run_passes(module, f'profile{{samples=8 max-samples=24 cache="{tmp_path / f"c{run}.sqlite"}"}}')
        texts.append(str(module))
    assert texts[0] == texts[1]


def test_adaptive_without_a_cache_makes_each_call_once(capsys):
    module = import_spec("examples/self_consistency.yaml")
    run_passes(module, "profile{samples=8 max-samples=16 cache=none}")
    err = capsys.readouterr().err
    last = [line for line in err.splitlines() if line.startswith("profile @self_consistency: ") and "calls (" in line][-1]
    total = int(last.split(": ", 1)[1].split(" calls")[0])
    made = int(last.split("); ", 1)[1].split(" made")[0])
    hits = int(last.split(" made, ", 1)[1].split(" cache hits")[0])
    # the last round re-read the first round's calls from the in-memory store
    assert hits > 0 and made + hits == total


def test_a_missed_twin_is_worth_little_and_a_missed_gap_much():
    """Worth is the area a draw's frontier would add to the proxy's: a near
    twin of a frontier point swapping places with it adds a sliver, a point
    filling a gap adds its rectangle."""
    from flowcompile.profiling.worth import Draw, worth
    from flowcompile.proxy import hypervolume_2d

    a, b, twin, c, gap = (("x", 0),), (("x", 1),), (("x", 2),), (("x", 3),), (("x", 4),)
    nominal = [(a, 0.5, 1.0), (b, 0.7, 2.0), (c, 0.9, 4.0)]
    draws = [
        Draw([(a, 0.5, 1.0), (twin, 0.702, 2.0), (c, 0.9, 4.0)], [(a, 0.5, 1.0), (b, 0.699, 2.0), (c, 0.9, 4.0)]),
        Draw([(a, 0.5, 1.0), (b, 0.7, 2.0), (gap, 0.85, 2.5), (c, 0.9, 4.0)], nominal),
    ]
    found = worth(draws, lambda key: [key])
    assert set(found) == {twin, gap}
    corner = (0.5 - 1e-3, 4.0 * 1.001 + 1e-9)
    best = [hypervolume_2d([p[1] for p in d.front], [p[2] for p in d.front], *corner) for d in draws]
    assert found[gap] == pytest.approx((0.85 - 0.7) * (4.0 - 2.5) / best[1] / 2, rel=1e-3)
    assert found[twin] == pytest.approx((0.702 - 0.699) * (4.0 - 2.0) / best[0] / 2, rel=1e-3)
    assert found[twin] < found[gap] / 20


def test_a_missed_configuration_topping_a_draw_is_worth_the_accuracy_it_adds():
    """The most accurate point holds no area of its own (the corner is at its
    latency): a missed configuration topping a draw above all the proxy's
    frontier reaches there is worth the share of the accuracy range it adds."""
    from flowcompile.profiling.worth import Draw, worth

    low, top, better = (("x", 0),), (("x", 1),), (("x", 2),)
    nominal = [(low, 0.4, 1.0), (top, 0.8, 9.0)]
    draws = [Draw([(low, 0.4, 1.0), (better, 0.9, 10.0)], nominal), Draw(nominal, nominal)]
    assert worth(draws, lambda key: [key]) == {better: pytest.approx((0.9 - 0.8) / (0.9 - (0.4 - 1e-3)) / 2)}


def test_a_candidate_is_worth_its_missed_configurations_together_not_their_sum():
    """Two near-equal missed configurations using one candidate fill one gap:
    the candidate is worth that gap once."""
    from flowcompile.profiling.worth import Draw, worth

    a, c, gap, near = (("x", 0),), (("x", 1),), (("x", 2),), (("x", 3),)
    nominal = [(a, 0.5, 1.0), (c, 0.9, 4.0)]
    draw = Draw([(a, 0.5, 1.0), (gap, 0.8, 2.0), (near, 0.8, 2.0), (c, 0.9, 4.0)], nominal)
    alone = worth([draw], lambda key: [key])
    together = worth([draw], lambda key: ["shared"])
    assert alone[gap] == pytest.approx(alone[near])
    assert together["shared"] == pytest.approx(alone[gap])


def test_the_point_keeping_a_configuration_off_the_frontier_is_the_slowest_faster_one():
    from flowcompile.profiling.worth import blockers

    a, b, c, off, outside = (("x", 0),), (("x", 1),), (("x", 2),), (("x", 3),), (("x", 4),)
    nominal = [(c, 0.9, 4.0), (a, 0.5, 1.0), (b, 0.7, 2.0)]
    found = blockers(nominal, {off: (0.6, 3.0), outside: (0.95, 3.0)})
    assert found == {off: b}  # b and a both dominate it; b is the nearer; nothing dominates `outside`


@pytest.mark.parametrize("min_value, rounds", [(1.0, 1), (0.0, 3)])
def test_configurations_worth_too_little_keep_nothing_in_play(tmp_path, capsys, min_value, rounds):
    """No configuration holds all of a front's hypervolume: with min-value=1
    nothing is worth another round; with 0 every plausible one is."""
    module = import_spec("examples/chain.yaml")
    run_passes(module, f'profile{{samples=8 max-samples=32 min-value={min_value} precision=0 cache="{tmp_path / "c.sqlite"}"}}')
    err = capsys.readouterr().err
    assert f"profile @chain (adaptive): {rounds} rounds (8 queries/" in err


def test_drawn_fronts_draw_recovery_rates_by_their_measured_counts():
    """A chain's value leans on its checker's recovery as much as on its
    success: with the rate fixed at what 30 wrong inputs measured, a strong
    checker measured low there is never on a drawn front, and adaptive
    profiling never measures it again (it lost the chain's most accurate
    configuration so)."""
    import numpy as np

    from flowcompile.proxy import model as pm
    from flowcompile.validation import SampleCounts, drawn_fronts

    query = pm.Input()
    solver = pm.Agent(pm.Var("solver", (0,)), (query,), (0.6,), (1.0,), (0.0,))
    checker = pm.Agent(
        pm.Var("checker", (0, 1, 2)), (query, solver), (0.8, 0.8, 0.8), (1.0, 2.0, 3.0), (0.0, 0.0, 0.0),
        recovery=(0.3, 0.3, 0.3),
    )
    seen = []
    for _ in drawn_fronts(checker, SampleCounts(rec={"checker": [400, 0, 30]}), 60, seed=2, limit=10**6):
        seen.append(checker.recovery)
    draws = np.array(seen[1:])
    assert np.ptp(draws[:, 1]) == 0.0  # nothing measured: as it is
    assert 0.0 < np.std(draws[:, 0]) < np.std(draws[:, 2])  # fewer wrong inputs, wider draws
    assert abs(draws[:, 2].mean() - 0.3) < 0.05  # around the measured rate, not a walk away from it
    assert checker.recovery == (0.3, 0.3, 0.3)  # restored


def test_drawn_fronts_draw_mixed_rates_by_their_measured_counts():
    """The checker's success on a right answer beside a wrong plan moves
    with its count, as recovery does, and is restored afterwards."""
    import numpy as np

    from flowcompile.proxy import model as pm
    from flowcompile.validation import SampleCounts, drawn_fronts

    query = pm.Input()
    plan = pm.Agent(pm.Var("plan", (0,)), (query,), (0.7,), (1.0,), (0.0,))
    solver = pm.Agent(pm.Var("solver", (0,)), (query, plan), (0.6,), (1.0,), (0.0,))
    checker = pm.Agent(
        pm.Var("checker", (0, 1, 2)), (query, plan, solver), (0.8, 0.8, 0.8), (1.0, 2.0, 3.0), (0.0, 0.0, 0.0),
        recovery=0.2, mixed=(0.4, 0.4, 0.4),
    )
    seen = [checker.mixed for _ in drawn_fronts(checker, SampleCounts(mixed={"checker": [400, 0, 30]}), 60, 2, 10**6)]
    draws = np.array(seen[1:])
    assert np.ptp(draws[:, 1]) == 0.0  # nothing measured: as it is
    assert 0.0 < np.std(draws[:, 0]) < np.std(draws[:, 2])
    assert checker.mixed == (0.4, 0.4, 0.4)  # restored


def test_frontier_estimates_still_moving_by_the_precision_are_loose():
    """Deployment reads the frontier's estimates: a frontier configuration
    whose accuracy the draws move by a standard deviation of at least the
    precision keeps its candidates in play; one they barely move does not,
    nor does a configuration off the proxy's frontier."""
    from flowcompile.profiling.worth import Draw, loose

    steady, moving, off = (("x", 0),), (("x", 1),), (("x", 2),)
    draws = [
        Draw([(off, 0.9, 1.0)], [(steady, 0.50 + d / 1000, 1.0), (moving, 0.7 + (-1) ** d * 0.05, 2.0)])
        for d in range(8)
    ]
    assert loose(draws, 0.04) == [moving]
    assert loose(draws, 0.06) == []


@pytest.mark.parametrize("precision, rounds", [(0, 1), (0.001, 3)])
def test_loose_frontier_estimates_keep_their_candidates_in_play(tmp_path, capsys, precision, rounds):
    """Nothing is worth a round for the frontier's membership (min-value=1),
    yet its estimates on 8 queries are loose: with a precision they get the
    rounds."""
    module = import_spec("examples/chain.yaml")
    run_passes(module, f'profile{{samples=8 max-samples=32 min-value=1 precision={precision} cache="{tmp_path / "c.sqlite"}"}}')
    assert f"profile @chain (adaptive): {rounds} rounds (8 queries/" in capsys.readouterr().err
