"""The refine loop composed query by query: a drafter's per-query rates, and
the critic's and reviser's outcomes from right and wrong drafts per query
(`rec_hits`), through the difficulty model into `joint_refine_loop`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flowcompile.compiler import import_spec, run_passes, the_workflow
from flowcompile.passes.proxy_model import build_model
from flowcompile.proxy import model as pm
from flowcompile.proxy.difficulty import fit_slope
from flowcompile.proxy.search import brute_force, frontier
from flowcompile.validation import SampleCounts, drawn_fronts
from helpers.models import refine_loop_model, sigmoid
from helpers.profiling import profiled_candidates

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_slope_tells_outcomes_that_follow_difficulty_from_those_that_do_not():
    rng = np.random.default_rng(0)
    difficulty = rng.normal(0.0, 1.5, 600)
    for slope in (1.0, 0.0):
        rows = [rng.binomial(1, sigmoid(a - slope * difficulty)).astype(float) for a in (-0.5, 0.5, 1.5)]
        rows[0][:100] = np.nan
        ability, got = fit_slope(rows, difficulty)
        assert abs(got - slope) < 0.2
        assert np.all(np.diff(ability) > 0)



def _rate(ability: float, slope: float, difficulty: np.ndarray) -> float:
    return float(sigmoid(ability - slope * difficulty).mean())


def test_a_candidate_measured_on_few_queries_is_pooled_with_candidates_that_measure_alike():
    """Revisers fixing a wrong draft as often whatever their model: one
    measured on 20 queries that happened to fix 3 is pulled toward the rest,
    not ranked last by its own outcomes."""
    rng = np.random.default_rng(2)
    difficulty = rng.normal(0.0, 1.5, 256)
    rows = [rng.binomial(1, 0.4, 256).astype(float) for _ in range(5)]
    few = np.full(256, np.nan)
    few[:20] = 0.0
    few[:3] = 1.0
    ability, slope = fit_slope([*rows, few], difficulty)
    pooled = _rate(ability[-1], slope, difficulty)
    others = [_rate(a, slope, difficulty) for a in ability[:-1]]
    assert pooled > 0.3 > 3 / 20
    assert pooled > min(others) - 0.05


def test_candidates_that_measure_apart_keep_their_own_rates():
    rng = np.random.default_rng(3)
    difficulty = rng.normal(0.0, 1.5, 256)
    truth = (0.1, 0.3, 0.5, 0.7, 0.9)
    rows = [rng.binomial(1, p, 256).astype(float) for p in truth]
    ability, slope = fit_slope(rows, difficulty)
    for a, p in zip(ability, truth, strict=True):
        assert abs(_rate(a, slope, difficulty) - p) < 0.07

def test_joint_loop_matches_simulated_runs():
    """Monte Carlo over the loop as the executor runs it, query by query."""
    rng = np.random.default_rng(1)
    q = 8
    q0, rho1, rho0, tpr, fpr = (rng.uniform(0.05, 0.95, q) for _ in range(5))
    rho0 = np.minimum(rho0, rho1)
    t_check, t_revise, n = 2.0, 3.0, 3
    acc, lat, checks, revisions = pm.joint_refine_loop(q0, rho1, rho0, tpr, fpr, t_check, t_revise, n)
    runs = 40000
    which = rng.integers(0, q, runs)
    right = rng.random(runs) < q0[which]
    done = np.zeros(runs, dtype=bool)
    spent = np.zeros(runs)
    for step in range(n):
        spent[~done] += t_check
        approve = rng.random(runs) < np.where(right, tpr[which], fpr[which])
        done |= approve
        revise = ~done
        spent[revise] += t_revise
        fixed = rng.random(runs) < np.where(right, rho1[which], rho0[which])
        right = np.where(revise, fixed, right)
    assert abs(right.mean() - acc) < 4 * np.sqrt(acc * (1 - acc) / runs)
    assert abs(spent.mean() - lat) < 4 * spent.std() / np.sqrt(runs)


def test_a_judge_lenient_on_hard_queries_costs_what_the_marginal_rule_misses():
    """Drafts fail on the hard half, where the critic approves wrong drafts:
    the marginal rule spreads its leniency over every query."""
    q0 = np.array([1.0, 1.0, 0.0, 0.0])
    tpr = np.array([0.9, 0.9, 0.9, 0.9])
    fpr = np.array([0.0, 0.0, 1.0, 1.0])
    rho = np.full(4, 0.8)
    joint = pm.joint_refine_loop(q0, rho, rho, tpr, fpr, 1.0, 1.0, 2)[0]
    marginal = pm.refine_loop(q0.mean(), 0.8, 0.8, 0.9, 0.5, 1.0, 1.0, 2)[0]
    # easy: approved at once (0.9), or revised and then approved or revised
    # again (0.1 * (0.8 * (0.9 + 0.1 * 0.8) + 0.2 * 0.8)); hard: approved wrong
    assert joint == pytest.approx(0.5 * (0.9 + 0.1 * (0.8 * (0.9 + 0.1 * 0.8) + 0.2 * 0.8)))
    assert joint < marginal - 0.15


@pytest.mark.parametrize("seed", range(6))
def test_search_is_exact_for_the_joint_loop(seed):
    root = refine_loop_model(np.random.default_rng(seed))
    assert root.joint
    if seed % 2:  # later rounds fix fewer wrong drafts
        root.decay = (1.0, 0.6, 0.1)
    found = sorted((round(p.estimate.acc, 9), round(p.estimate.t, 9)) for p in frontier(root))
    truth = sorted((round(p.estimate.acc, 9), round(p.estimate.t, 9)) for p in brute_force(root))
    assert found == truth


def test_profile_records_outcomes_on_wrong_inputs_and_the_loop_composes_per_query():
    wf, found = profiled_candidates(EXAMPLES / "refine.yaml", "profile{samples=12 max-samples=0 cache=none},compose")
    for agent, profile in found:
        rec = profile.get("rec_hits")
        if agent.agent_name == "drafter":  # reads the query alone: never a wrong input
            assert rec is None
            continue
        assert isinstance(rec, str) and len(rec) == 12 and set(rec) <= set("01.")
        measured = sum(c != "." for c in rec)
        assert 0 < measured <= profile.get("rec_n")  # pyright: ignore[reportOperatorIssue]
    loop = next(n for n in pm.walk(build_model(wf)) if isinstance(n, pm.Loop))
    assert loop.joint


def test_drawn_fronts_draw_the_modeled_rates_by_their_profiled_counts():
    """Rules composed query by query read per-query rates, not `acc`: a
    posterior draw must move those rates too (by the candidate's calls), or a
    noisy candidate's front would look certain to adaptive profiling."""
    root = refine_loop_model(np.random.default_rng(8))
    critic = root.verdict
    nominal = [h.copy() for h in critic.hits]
    seen = []
    counts = {"critic": [400, 0, 20]}
    for _ in drawn_fronts(root, SampleCounts(counts), 40, seed=1, limit=10**6):
        seen.append([h.copy() for h in critic.hits])
    draws = np.array([[h.mean() for h in s] for s in seen[1:]])
    assert np.ptp(draws[:, 1]) == 0.0  # no calls: as it is
    assert 0.0 < np.std(draws[:, 0]) < np.std(draws[:, 2])  # fewer calls, wider draws
    assert all(np.array_equal(a, b) for a, b in zip(critic.hits, nominal))


def test_compose_names_the_per_query_rule_and_the_search_reads_it():
    """The IR says which rule composes the loop; edited back to the marginal
    rule, the search composes it from marginal rates."""
    from xdsl.dialects.builtin import StringAttr

    from flowcompile.dialects.flow import LoopOp
    from flowcompile.passes.proxy_model import per_query_ops

    module = import_spec(EXAMPLES / "refine.yaml")
    run_passes(module, "profile{samples=12 max-samples=0 cache=none},compose")
    wf = the_workflow(module)
    loop_op = next(op for op in wf.walk() if isinstance(op, LoopOp))
    assert loop_op.attributes["proxy"] == StringAttr("refine-loop-per-query")
    assert per_query_ops(wf) == {loop_op}
    joint = {tuple(sorted(p.assignment.items())): p.estimate.acc for p in frontier(build_model(wf))}
    loop_op.attributes["proxy"] = StringAttr("refine-loop")
    root = build_model(wf)
    assert not next(n for n in pm.walk(root) if isinstance(n, pm.Loop)).joint
    marginal = {tuple(sorted(p.assignment.items())): p.estimate.acc for p in frontier(root)}
    assert joint != marginal


def test_the_loop_reads_its_measured_rounds_and_a_dead_round_adds_no_accuracy():
    """Profiled by the reference answers, the loop carries its per-round
    counts, and the proxy composes them: where a third round fixes nothing,
    three rounds estimate no more accuracy than two, only more latency."""
    from flowcompile.dialects.flow import LoopOp
    from flowcompile.dialects.syntax import int_array

    module = import_spec(EXAMPLES / "refine.yaml")
    run_passes(module, "profile{samples=32 max-samples=0 cache=none},compose")
    wf = the_workflow(module)
    loop_op = next(op for op in wf.walk() if isinstance(op, LoopOp))
    assert loop_op.revision_rounds is not None
    loop_op.attributes["revised"], loop_op.attributes["fixed"] = int_array([20, 10, 20]), int_array([5, 3, 0])
    root = build_model(wf)
    loop = next(n for n in pm.walk(root) if isinstance(n, pm.Loop))
    assert loop.decay[2] < 0.1
    base = {v.key: 0 for v in pm.all_vars(root)}
    two, three = (pm.evaluate(root, {**base, loop.max_iters.key: loop.max_iters.labels.index(k)}) for k in (2, 3))
    assert three.acc == pytest.approx(two.acc, abs=0.01)
    assert three.t > two.t
    loop.decay = ()
    assert pm.evaluate(root, {**base, loop.max_iters.key: loop.max_iters.labels.index(3)}).acc > three.acc
