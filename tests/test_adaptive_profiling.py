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


def test_hypervolume_shares_are_the_areas_each_point_alone_holds():
    from flowcompile.passes.profile import hypervolume_shares
    from flowcompile.proxy import hypervolume_2d

    acc, lat = [0.5, 0.7, 0.45, 0.9], [1.0, 2.0, 3.0, 4.0]  # (0.45, 3.0): dominated twice over
    shares = hypervolume_shares(acc, lat, 0.4, 4.0)
    assert shares[2] == 0.0
    corner = (0.4 - 1e-3, 4.0 * 1.001 + 1e-9)
    total = hypervolume_2d(acc, lat, *corner)
    for i in (0, 1, 3):
        rest = [j for j in range(4) if j != i]
        alone = total - hypervolume_2d([acc[j] for j in rest], [lat[j] for j in rest], *corner)
        assert shares[i] == pytest.approx(alone / total)
    assert 0 < sum(shares) <= 1


@pytest.mark.parametrize("min_value, rounds", [(1.0, 1), (0.0, 3)])
def test_configurations_worth_too_little_keep_nothing_in_play(tmp_path, capsys, min_value, rounds):
    """No configuration holds all of a front's hypervolume: with min-value=1
    nothing is worth another round; with 0 every plausible one is."""
    module = import_spec("examples/chain.yaml")
    run_passes(module, f'profile{{samples=8 max-samples=32 min-value={min_value} cache="{tmp_path / "c.sqlite"}"}}')
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


def test_which_configuration_tops_the_front_is_worth_resolving():
    """The most accurate point holds no area of its own (the corner is at its
    latency); a configuration topping some drawn fronts but not all is worth
    the share of the accuracy range only it reaches, and one on every front
    and on top of none is certain."""
    from flowcompile.passes.profile import uncertain_worth

    low, mid, top_a, top_b = (("x", 0),), (("x", 1),), (("x", 2),), (("x", 3),)
    fronts = [
        [(low, 0.4, 1.0), (mid, 0.6, 2.0), (top_a, 0.8, 9.0)],
        [(low, 0.4, 1.0), (mid, 0.6, 2.0), (top_b, 0.7, 10.0)],
    ]
    worth = uncertain_worth(fronts)
    assert low not in worth and mid not in worth  # on both, on top of neither
    assert worth[top_a] == pytest.approx((0.8 - 0.6) / (0.8 - 0.4) / 2)  # top of one front of two
    assert worth[top_b] == pytest.approx((0.7 - 0.6) / (0.7 - 0.4) / 2)
