"""Aggregators composed query by query (`model.joint_proposal_acc`): proposers
that fail on the same hard queries are not credited for independence.

Checked: the rule on hand-made outcomes, the search's exactness for it
(frontier == brute force), the profiler's per-query records, the verifier of
`hits` and `level_hits`, and, end to end on the correlated simulated world,
that the joint estimate is closer to what the executor measures than the
rule that takes the proposers as independent."""

from __future__ import annotations

import asyncio
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects.builtin import IntegerAttr, i64

from flowcompile.compiler import import_spec, parse, run_passes, the_workflow
from flowcompile.dialects.flow import ProfileAttr
from flowcompile.passes.proxy_model import build_model
from flowcompile.proxy import model as pm
from flowcompile.proxy.search import brute_force, frontier
from flowcompile.runtime import run_many, score
from flowcompile.sim import SimWorld, generate_dataset
from flowcompile.sim.backend import SimBackend
from flowcompile.sim.world import correlated_world_path
from flowcompile.validation import SampleCounts, drawn_fronts
from helpers.models import refine_loop_model
from helpers.profiling import profiled_candidates

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NAN = np.nan


def test_correlated_proposers_get_no_credit_for_independence():
    # two proposers right on the same two of four queries; an aggregator
    # right exactly when at least one proposal is
    hits = [np.array([1.0, 1.0, 0.0, 0.0]), np.array([1.0, 1.0, 0.0, 0.0])]
    levels = np.array([[0.0, 1.0, 1.0]] * 4)
    joint = pm.joint_proposal_acc([0.0, 1.0, 1.0], levels, hits, [0.5, 0.5], [1, 1])
    assert joint == pytest.approx(0.5)
    independent = pm.proposal_acc(1.0, [0.0, 1.0, 1.0], [0.5, 0.5], [1, 1])
    assert independent == pytest.approx(0.75)


def test_missing_outcomes_fall_back_to_rates_and_curve():
    # query 1: proposer 0 unmeasured (its rate 0.5 stands in), aggregator
    # unmeasured at level 1 (the curve's 0.6 stands in)
    hits = [np.array([1.0, NAN]), np.array([0.0, 0.0])]
    levels = np.array([[0.0, 1.0, 1.0], [0.0, NAN, 1.0]])
    got = pm.joint_proposal_acc([0.0, 0.6, 1.0], levels, hits, [0.5, 0.2], [1, 1])
    assert got == pytest.approx((1.0 + 0.5 * 0.6) / 2)


def test_replicated_proposal_draws_from_its_profiled_samples():
    # one proposal right on 2 of its 3 profiled samples of query 0, none of
    # query 1; the aggregator succeeds with two or more right
    hits = [np.array([2 / 3, 0.0])]
    curve = [0.0, 0.0, 1.0, 1.0]
    levels = np.full((2, 4), NAN)
    # 3 draws of 3 profiled: exactly the 2 right ones on query 0
    assert pm.joint_proposal_acc(curve, levels, hits, [0.3], [3], calls=[3]) == pytest.approx(0.5)
    weighted = pm.joint_proposal_acc(curve, levels, hits, [0.3], [3], np.array([3.0, 1.0]), calls=[3])
    assert weighted == pytest.approx(0.75)
    # 2 draws without replacement: both right w.p. (2/3)(1/2)
    curve2 = [0.0, 0.0, 1.0]
    assert pm.joint_proposal_acc(curve2, np.full((2, 3), NAN), hits, [0.3], [2], calls=[3]) == pytest.approx(1 / 6)


def test_sample_counts_are_hypergeometric_up_to_the_profiled_count():
    from flowcompile.proxy.rules import sample_count_dist

    assert sample_count_dist(np.array([2]), 5, 3)[0] == pytest.approx([0.1, 0.6, 0.3, 0.0])
    assert sample_count_dist(np.array([2]), 5, 5)[0] == pytest.approx([0, 0, 1, 0, 0, 0])
    past = sample_count_dist(np.array([2]), 5, 7)[0]  # more draws than profiled: binomial at 2/5
    assert past.sum() == pytest.approx(1.0) and past[7] == pytest.approx(0.4**7)


def test_joint_vote_counts_one_querys_samples_together():
    # a solver right on 3 of 5 profiled samples of query 0 and 1 of 5 of query 1
    hits = [np.array([0.6, 0.2])]
    one = pm.joint_vote_acc(hits, [5], [0.4], 1)
    assert one == pytest.approx(0.4)
    five = pm.joint_vote_acc(hits, [5], [0.4], 5)  # strict majority: query 0 only
    assert five == pytest.approx(0.5)
    independent = pm.vote_acc([0.4], 5)
    assert independent == pytest.approx(sum(math.comb(5, j) * 0.4**j * 0.6 ** (5 - j) for j in (3, 4, 5)))


def _mixture(rng: np.random.Generator, proposers: int, queries: int, sampled: bool) -> pm.Agent:
    """A random fork of leaf proposers and an aggregator, all measured per query."""
    nodes, samples_of = [], {}
    query = pm.Input()
    for i in range(proposers):
        n = int(rng.integers(2, 5))
        hits = tuple(rng.integers(0, 2, queries).astype(float) for _ in range(n))
        for h in hits:
            h[rng.random(queries) < 0.1] = NAN
        acc = tuple(float(np.nanmean(h)) for h in hits)
        knob = pm.Var(f"k{i}", (1, 3)) if sampled and i == 0 else None
        nodes.append(pm.Agent(
            pm.Var(f"p{i}", tuple(range(n))), (query,), acc, tuple(rng.uniform(1, 10, n)), (0.0,) * n,
            hits=hits, replicas=(knob,) if knob else (), lat_max=tuple((l, l * 1.3, l * 1.5) for l in rng.uniform(1, 10, n)) if knob else (),
        ))
        if knob:
            samples_of[i] = knob
    m = 3
    width = proposers + (2 if sampled else 0) + 1
    curves = tuple(tuple(np.sort(rng.uniform(0, 1, width))) for _ in range(m))
    levels = tuple(np.where(rng.random((queries, width)) < 0.2, NAN, rng.integers(0, 2, (queries, width))).astype(float) for _ in range(m))
    return pm.Agent(
        pm.Var("agg", tuple(range(m))), (query,), tuple(rng.uniform(0.3, 0.9, m)), tuple(rng.uniform(1, 20, m)),
        (0.0,) * m, proposals=tuple(nodes), samples_of=samples_of, by_right=curves, level_hits=levels,
    )


@pytest.mark.parametrize("seed,sampled", [(s, s % 2 == 1) for s in range(6)])
def test_search_is_exact_for_the_joint_rule(seed, sampled):
    root = _mixture(np.random.default_rng(seed), 3, 12, sampled)
    assert root.joint
    found = sorted((round(p.estimate.acc, 9), round(p.estimate.t, 9)) for p in frontier(root))
    truth = sorted((round(p.estimate.acc, 9), round(p.estimate.t, 9)) for p in brute_force(root))
    assert found == truth


def test_a_proposer_dominated_on_average_can_still_be_chosen():
    """Proposer choice 1 is worse on average than choice 0 and slower, but
    solves the queries the other proposer misses: the joint front keeps it."""
    query = pm.Input()
    a = pm.Agent(pm.Var("a", (0,)), (query,), (0.5,), (1.0,), (0.0,), hits=(np.array([1.0, 1.0, 0.0, 0.0]),))
    b = pm.Agent(pm.Var("b", (0, 1)), (query,), (0.5, 0.25), (1.0, 2.0), (0.0, 0.0),
                 hits=(np.array([1.0, 1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0, 0.0])))
    agg = pm.Agent(pm.Var("agg", (0,)), (query,), (0.9,), (1.0,), (0.0,), proposals=(a, b),
                   by_right=((0.0, 1.0, 1.0),), level_hits=(np.array([[0.0, 1.0, 1.0]] * 4),))
    accs = {p.assignment["b"]: p.estimate.acc for p in frontier(agg)}
    assert accs == {0: pytest.approx(0.5), 1: pytest.approx(0.75)}


@pytest.mark.parametrize("build", [
    lambda: _mixture(np.random.default_rng(3), 3, 12, False),
    lambda: refine_loop_model(np.random.default_rng(7)),
], ids=["aggregator", "refine-loop"])
def test_drawn_fronts_resample_the_queries_and_restore_them(build):
    root = build()
    nominal = [p.estimate.acc for p in frontier(root)]
    fronts = list(drawn_fronts(root, SampleCounts(), 3, seed=0, limit=10**6))
    assert [p.estimate.acc for p in fronts[0]] == nominal
    assert any([p.estimate.acc for p in f] != nominal for f in fronts[1:])
    assert root.query_weights is None and [p.estimate.acc for p in frontier(root)] == nominal


def test_profile_records_outcomes_per_query():
    _, found = profiled_candidates(EXAMPLES / "mixture.yaml", "profile{samples=12 max-samples=0 cache=none}")
    for agent, profile in found:
        hits = profile.get("hits")
        assert isinstance(hits, str) and len(hits) == 12
        measured = [c for c in hits if c != "."]
        assert len(measured) == profile.get("acc_n")
        assert sum(c == "1" for c in measured) == round(profile.get("acc") * len(measured))  # pyright: ignore
        if agent.agent_name == "aggregator":
            rows = str(profile.get("level_hits")).split("|")
            counts, rates = profile.get("by_right_n"), profile.get("by_right")
            assert [sum(c != "." for c in r) for r in rows] == counts
            assert [sum(c == "1" for c in r) for r in rows] == [round(x * n) for x, n in zip(rates, counts)]  # pyright: ignore


@pytest.mark.parametrize(
    "fields,message",
    [
        ('hits = "01x"', "'x' is not '.' or a count"),
        ('hits = "012"', "'2' is not '.' or a count of right calls from 0 to 1"),
        ('hits = "013", hits_k = 3', None),
        ('hits_k = 2', "hits_k needs hits"),
        ('hits = "01", level_hits = "01|0"', "every level needs one entry per profiling query"),
        ('hits = "01", level_hits = "01|02"', "'2' is not '0', '1', '.'"),
        ('by_right = [0.0, 1.0], by_right_n = [1, 1], level_hits = "01|00|11"', "level_hits has 3 levels, by_right_n 2"),
        ('rec_hits = "01x"', "'x' is not '0', '1' or '.'"),
        ('hits = "01", rec_hits = "0.1"', "rec_hits needs one entry per profiling query"),
        ('hits = "01", rec_hits = ".1"', None),
    ],
)
def test_verifier_checks_per_query_outcomes(fields, message):
    text = f"module attributes {{p = #flow.profile<acc = 0.5, acc_n = 2, lat = 1.0, {fields}>}} {{}}"
    if message is None:
        parse(text, "t.mlir")
        return
    with pytest.raises(Exception, match=message):
        parse(text, "t.mlir")


def _configs(wf, rng: np.random.Generator, n: int) -> list[dict]:
    agents = list(wf.agents)
    grid = [list(a.candidates()) for a in agents]
    picks = set()
    while len(picks) < n:
        picks.add(tuple(int(rng.integers(len(g))) for g in grid))
    return [{a.agent_name: g[i] for a, g, i in zip(agents, grid, pick, strict=True)} for pick in sorted(picks)]


def _held_out_errors(wf, world: str, assigns: list[dict]) -> dict[str, list[float]]:
    """Per rule (joint; independent: the per-query outcomes dropped), the
    absolute error of each configuration's estimate against its accuracy on
    200 held-out queries, run by the executor."""
    queries = generate_dataset(SimWorld(world), 200, 1000)
    errors: dict[str, list[float]] = {"joint": [], "independent": []}
    for assign in assigns:
        runs = asyncio.run(run_many(wf, assign, SimBackend(SimWorld(world)), queries, concurrency=16))
        measured = sum(score(r, q) for r, q in zip(runs, queries, strict=True)) / len(queries)
        for rule in errors:
            root = build_model(wf)
            if rule == "independent":
                for node in pm.walk(root):
                    if isinstance(node, pm.Agent):
                        node.hits = ()
            assert root.joint == (rule == "joint")
            labels = {k: v.value.data if isinstance(v, IntegerAttr) else v for k, v in assign.items()}
            choice = {v.key: v.labels.index(labels[v.key]) for v in pm.all_vars(root)}
            errors[rule].append(abs(pm.evaluate(root, choice).acc - measured))
    return errors


def test_joint_estimate_is_closer_to_the_executor_on_a_correlated_world():
    """Mixture on the correlated world (proposers share hard queries): over 12
    configurations, the joint estimate's mean absolute error against 200
    held-out queries is below the independent rule's."""
    world = str(correlated_world_path())
    module = import_spec(EXAMPLES / "mixture.yaml")
    run_passes(module, f"profile{{samples=64 max-samples=0 cache=none world=\"{world}\"}},compose")
    wf = the_workflow(module)
    errors = _held_out_errors(wf, world, _configs(wf, np.random.default_rng(0), 12))
    assert np.mean(errors["joint"]) < np.mean(errors["independent"]), errors


def _votes(rng: np.random.Generator, queries: int, sampled: bool) -> pm.Vote:
    """A random vote over leaf agents measured per query: the samples of one
    (5 profiled per query) or one call each of three."""
    query = pm.Input()

    def leaf(name: str, calls: int, knob: pm.Var | None) -> pm.Agent:
        n = int(rng.integers(2, 6))
        hits = tuple(rng.integers(0, calls + 1, queries) / calls for _ in range(n))
        for h in hits:
            h[rng.random(queries) < 0.1] = NAN
        lat = rng.uniform(1, 10, n)
        return pm.Agent(
            pm.Var(name, tuple(range(n))), (query,), tuple(float(np.nanmean(h)) for h in hits), tuple(lat),
            (0.0,) * n, hits=hits, hits_k=calls, replicas=(knob,) if knob else (),
            lat_max=tuple((x, x * 1.2, x * 1.3, x * 1.4, x * 1.5) for x in lat) if knob else (),
        )

    if sampled:
        knob = pm.Var("k", (1, 3, 5))
        return pm.Vote((leaf("solver", 5, knob),), knob, wrong_agree=float(rng.uniform(0.2, 1.0)))
    return pm.Vote(tuple(leaf(f"s{i}", 1, None) for i in range(3)), None, wrong_agree=float(rng.uniform(0.2, 1.0)))


@pytest.mark.parametrize("seed,sampled", [(s, s % 2 == 0) for s in range(6)])
def test_search_is_exact_for_the_joint_vote(seed, sampled):
    root = _votes(np.random.default_rng(seed), 16, sampled)
    assert root.joint
    found = sorted((round(p.estimate.acc, 9), round(p.estimate.t, 9)) for p in frontier(root))
    truth = sorted((round(p.estimate.acc, 9), round(p.estimate.t, 9)) for p in brute_force(root))
    assert found == truth


def test_joint_vote_is_closer_to_the_executor_on_a_correlated_world():
    """Self-consistency on the correlated world: a solver's samples of one
    query share its difficulty. Over every configuration with 3 or 5
    samples, the joint estimate's mean absolute error against 200 held-out
    queries is below the independent binomial's."""
    world = str(correlated_world_path())
    module = import_spec(EXAMPLES / "self_consistency.yaml")
    run_passes(module, f"profile{{samples=64 max-samples=0 cache=none world=\"{world}\"}},compose")
    wf = the_workflow(module)
    (solver,) = wf.agents
    assert all(p is not None and p.get("hits_k") == 5 for p in solver.per_candidate("profiles", ProfileAttr))
    (key,) = wf.knobs()
    assigns = [
        {"solver": config, key: IntegerAttr(samples, i64)}
        for config, samples in itertools.product(solver.candidates(), (3, 5))
    ]
    errors = _held_out_errors(wf, world, assigns)
    assert np.mean(errors["joint"]) < np.mean(errors["independent"]), errors


def test_difficulty_model_recovers_abilities_and_difficulties():
    from flowcompile.proxy.difficulty import fit

    rng = np.random.default_rng(1)
    ability, difficulty = np.array([-1.0, 0.0, 1.5, 2.5]), rng.normal(0.0, 1.2, 400)
    p = 1.0 / (1.0 + np.exp(-(ability[:, None] - difficulty[None, :])))
    rows = [rng.binomial(5, row) / 5 for row in p]
    rows[0][:50] = NAN  # not measured there
    got_ability, got_difficulty = fit(rows, [5, 5, 5, 5])
    shift = np.mean(got_difficulty) - np.mean(difficulty)  # the scale's origin is free
    assert np.abs(got_ability - shift - ability).max() < 0.3
    assert np.corrcoef(got_difficulty, difficulty)[0, 1] > 0.85


def test_smoothing_keeps_each_candidates_mean_and_shares_the_queries_difficulty():
    from flowcompile.proxy.difficulty import smooth

    root = _mixture(np.random.default_rng(4), 3, 200, False)
    raw = {id(a): [np.nanmean(h) for h in a.hits] for a in root.proposals}  # pyright: ignore
    smooth(root)
    for agent in root.proposals:
        assert agent.hits_k == 0 and all(not np.isnan(h).any() for h in agent.hits)  # pyright: ignore
        assert np.allclose([h.mean() for h in agent.hits], raw[id(agent)], atol=0.05)  # pyright: ignore
    # one difficulty per query: every candidate's rates rank the queries alike
    rates = np.array([h for a in root.proposals for h in a.hits])  # pyright: ignore
    order = np.argsort(rates[0])
    assert all((np.diff(row[order]) >= -1e-12).all() for row in rates)


def test_a_failed_candidate_leaves_the_joint_rule_aligned():
    """A proposer candidate profiling marked failed has no profile: the
    per-query outcomes the model reads are those of the searched candidates."""
    from xdsl.dialects.builtin import DictionaryAttr, StringAttr

    from flowcompile.profiling.failures import FAILED_ATTR

    module = import_spec(EXAMPLES / "mixture.yaml")
    run_passes(module, "profile{samples=12 max-samples=0 cache=none}")
    wf = the_workflow(module)
    proposer = next(a for a in wf.agents if a.agent_name == "proposer_a")
    lost = proposer.candidates()[1].key
    profiles = dict(proposer.attributes["profiles"].data)  # pyright: ignore[reportAttributeAccessIssue]
    del profiles[lost]
    proposer.attributes["profiles"] = DictionaryAttr(profiles)
    proposer.attributes[FAILED_ATTR] = DictionaryAttr({lost: StringAttr("12 of 12 calls failed")})
    run_passes(module, "compose")
    root = build_model(wf)
    (node,) = [x for x in root.proposals if x.var.key == "proposer_a"]  # pyright: ignore
    assert len(node.hits) == len(node.acc) == len(proposer.candidates()) - 1
    assert root.joint
