"""Parallel latency, checked against the executor: a fork waits for its
slowest branch, so the proxy's latency of a k-sample fork (or of a fork of
different agents) must be the expected maximum of the calls, not one call's
mean.

A fake backend draws every call's latency from a seeded distribution keyed by
the request's content (model, messages, sample index), so replicas and agents
are independent (or, in one test, share a per-query factor); the real
profiler measures it, `compose` and the proxy estimate it, and the real
executor (`run_many`) measures the configuration on held-out queries. The
estimate must lie within a confidence bound of the measured mean, and the old
mean-based estimate outside it.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from xdsl.dialects.builtin import IntegerAttr, i64

from flowcompile.backends.base import CallRequest, CallResult
from flowcompile.passes.compose import ComposePass
from flowcompile.passes.profile import write_measurements
from flowcompile.passes.proxy_model import build_model
from flowcompile.profiling.dataset import Query
from flowcompile.profiling.profiler import _stats, profile_workflow
from flowcompile.proxy import model as pm
from flowcompile.proxy.rules import expected_max_curve, expected_max_lat, expected_max_of, quantile_means
from flowcompile.runtime import REPLICA_STRIDE, run_many
from helpers.profiling import context, parse_module

Z = 4.0
"""Half-width of the confidence bound, in standard errors."""

SAMPLES = """builtin.module {
  flow.workflow @sc(%query: !flow.msg) -> !flow.msg {
    %0 = flow.fork @answer attributes {samples = [1, 3, 5]} {
      %solver = flow.agent @solver(%query) {role = "solver", prompt = "Solve.\\0A{query}", args = ["query"], models = ["fast", "slow"], budgets = [0]}
      flow.yield %solver
    }
    %answer = flow.vote(%0) {method = "majority"}
    flow.return %answer
  }
}"""

MIXTURE = """builtin.module {
  flow.workflow @mix(%query: !flow.msg) -> !flow.msg {
    %0, %1, %2 = flow.fork @answer {
      %a = flow.agent @a(%query) {role = "proposer", prompt = "A.\\0A{query}", args = ["query"], models = ["fast", "slow"], budgets = [0]}
      flow.yield %a
    } {
      %b = flow.agent @b(%query) {role = "proposer", prompt = "B.\\0A{query}", args = ["query"], models = ["fast", "slow"], budgets = [0]}
      flow.yield %b
    } {
      %c = flow.agent @c(%query) {role = "proposer", prompt = "C.\\0A{query}", args = ["query"], models = ["fast", "slow"], budgets = [0]}
      flow.yield %c
    }
    %answer = flow.agent @agg(%query, %0, %1, %2) {role = "aggregator", prompt = "Pick.\\0A{query}", args = ["query", "a", "b", "c"], models = ["instant"], budgets = [0]}
    flow.return %answer
  }
}"""


class Timed:
    """Right answers at random latencies: lognormal(0, sigma) times the model's
    scale, drawn from a seed that hashes the request's content (so a cache or
    a rerun sees the same call); with `query_sd`, times a per-query factor
    shared by every call on that query (correlated replicas)."""

    name = "timed"
    SCALE = {"fast": 1.0, "slow": 3.0, "instant": 0.01}

    def __init__(self, sigma: float, seed: int, query_sd: float = 0.0) -> None:
        self.sigma, self.seed, self.query_sd = sigma, seed, query_sd
        self.calls: list[tuple[str, str, int, int, float]] = []
        """(agent, model, query, sample, latency) of every call."""

    def _draw(self, *key: object) -> np.random.Generator:
        digest = hashlib.sha256(repr((self.seed, *key)).encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:8], "little"))

    async def call(self, request: CallRequest) -> CallResult:
        agent = re.search(r"agent '([^']*)'", request.messages[0].content).group(1)  # pyright: ignore
        query = int(re.search(r"Q(\d+)", request.messages[-1].content).group(1))  # pyright: ignore
        noise = self._draw(request.model, request.budget, request.messages, request.sample).lognormal(0.0, self.sigma)
        shared = self._draw("query", query).lognormal(0.0, self.query_sd) if self.query_sd else 1.0
        latency = self.SCALE[request.model] * noise * shared
        self.calls.append((agent, request.model, query, request.sample, latency))
        return CallResult(text=f"answer: R{query}", latency_s=latency, tokens_in=10, tokens_out=10)


def queries(start: int, n: int) -> list[Query]:
    return [Query(f"q{i}", f"Q{i}: what is it?", f"R{i}") for i in range(start, start + n)]


def compiled(text: str, backend: Timed, profiling: int):
    """The workflow profiled on `profiling` queries and composed, with its proxy."""
    module = parse_module(text)
    workflow = module.ops.first
    measured = asyncio.run(profile_workflow(workflow, queries(0, profiling), backend))  # pyright: ignore
    write_measurements(workflow, measured)  # pyright: ignore
    ComposePass().apply(context(), module)
    return workflow, build_model(workflow)  # pyright: ignore


def measure(workflow, backend: Timed, assign: dict, n: int) -> np.ndarray:
    runs = asyncio.run(run_many(workflow, assign, backend, queries(10_000, n), concurrency=64))
    assert all(r.ok for r in runs)
    return np.array([r.latency for r in runs])


def choice(root: pm.Node, key: str, label: object) -> int:
    var = next(v for v in pm.all_vars(root) if v.key == key)
    return next(i for i, l in enumerate(var.labels) if l == label or getattr(l, "model", None) == label)


def bound(measured: np.ndarray, profiled_queries: int) -> float:
    """Z standard errors of (estimate - measured mean): the held-out mean's,
    and the estimate's own, from the same spread over the profiling queries
    (the estimate averages one value per profiling query)."""
    sd = measured.std(ddof=1)
    return Z * sd * math.sqrt(1.0 / len(measured) + 1.0 / profiled_queries)


@settings(deadline=None, max_examples=6)
@given(
    st.sampled_from([0.15, 0.3, 0.5]), st.integers(0, 10**6), st.sampled_from(["fast", "slow"]), st.sampled_from([3, 5])
)
def test_a_k_sample_fork_is_the_expected_maximum_of_k_calls(sigma, seed, model, k):
    backend = Timed(sigma, seed)
    profiling = 120
    workflow, root = compiled(SAMPLES, backend, profiling)
    assign = {"solver": choice(root, "solver", model), "answer.samples": choice(root, "answer.samples", k)}
    estimate = pm.evaluate(root, assign).t
    mean = next(n for n in pm.walk(root) if isinstance(n, pm.Agent)).lat[assign["solver"]]
    config = pm.all_vars(root)[0].labels[assign["solver"]]
    measured = measure(workflow, backend, {"solver": config, "answer.samples": IntegerAttr(k, i64)}, 300)
    width = bound(measured, profiling)
    assert abs(estimate - measured.mean()) <= width, (estimate, measured.mean(), width)
    assert abs(mean - measured.mean()) > width, "the mean of one call should be far off"


def test_replicas_sharing_a_query_are_measured_within_the_query():
    """Replicas that share a slow or fast query are correlated: the maximum
    of 5 replicas on one query is smaller than that of 5 calls on 5 queries.
    The profile takes it within each query (the reference run recorded each
    replica's input, so every candidate ran 5 times per query), which stays
    unbiased; the same estimator pooled over all calls does not."""
    backend = Timed(0.1, 7, query_sd=0.6)
    profiling = 120
    workflow, root = compiled(SAMPLES, backend, profiling)
    assign = {"solver": choice(root, "solver", "fast"), "answer.samples": choice(root, "answer.samples", 5)}
    estimate = pm.evaluate(root, assign).t
    config = pm.all_vars(root)[0].labels[assign["solver"]]
    measured = measure(workflow, backend, {"solver": config, "answer.samples": IntegerAttr(5, i64)}, 400)
    width = bound(measured, profiling)
    assert abs(estimate - measured.mean()) <= width
    pooled = [lat for agent, model, _, sample, lat in backend.calls if model == "fast" and sample >= REPLICA_STRIDE]
    assert abs(expected_max_of(pooled[: profiling * 5], 5) - measured.mean()) > width


@settings(deadline=None, max_examples=4)
@given(st.sampled_from([0.4, 0.6]), st.integers(0, 10**6), st.sampled_from(["fast", "slow"]))
def test_a_fork_of_different_agents_waits_for_the_slowest(sigma, seed, model):
    """Three proposers on one model: the fork is ready at the expected maximum
    of three independent calls (from each proposer's latency atoms), then the
    aggregator runs (in next to no time: its spread would only widen the bound)."""
    backend = Timed(sigma, seed)
    profiling = 150
    workflow, root = compiled(MIXTURE, backend, profiling)
    assign = {key: choice(root, key, model) for key in ("a", "b", "c")} | {"agg": 0}
    estimate = pm.evaluate(root, assign).t
    agents = {n.var.key: n for n in pm.walk(root) if isinstance(n, pm.Agent)}
    old = max(agents[k].lat[assign[k]] for k in "abc") + agents["agg"].lat[0]
    labels = {v.key: v.labels for v in pm.all_vars(root)}
    measured = measure(workflow, backend, {k: labels[k][c] for k, c in assign.items()}, 300)
    width = bound(measured, profiling)
    assert abs(estimate - measured.mean()) <= width, (estimate, measured.mean(), width)
    assert abs(old - measured.mean()) > width, "the max of the means should be far off"


# The estimators ---------------------------------------------------------------


@settings(deadline=None, max_examples=50)
@given(st.lists(st.floats(0.0, 100.0), min_size=1, max_size=9), st.integers(1, 9))
def test_expected_max_of_is_the_mean_over_k_subsets(values, k):
    if k > len(values):
        with pytest.raises(ValueError):
            expected_max_of(values, k)
        return
    brute = np.mean([max(c) for c in combinations(values, k)])
    assert expected_max_of(values, k) == pytest.approx(brute, rel=1e-9, abs=1e-9)


def test_expected_max_curve_groups_by_query_and_falls_back():
    groups = [[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]]
    curve = expected_max_curve(groups, 4)
    assert curve[0] == pytest.approx(3.0)  # the mean of every value
    assert curve[1] == pytest.approx((8 / 3 + 16 / 3) / 2)  # within each query, then averaged
    assert curve[2] == pytest.approx((3.0 + 6.0) / 2)
    assert curve[3] == pytest.approx(expected_max_of([1, 2, 3, 2, 4, 6], 4))  # no group of 4: pooled
    assert expected_max_curve([[5.0]], 3) == [5.0, 5.0, 5.0]  # past the values: the previous entry
    assert expected_max_curve([], 3) == []


def test_stats_records_lat_max_by_query_and_lat_q():
    results = [(True, CallResult(latency_s=x)) for x in (1.0, 2.0, 3.0, 10.0, 20.0, 30.0)]
    runs = [0, 0, 0, 1, 1, 1]
    stats = _stats(results, runs=runs, replicas=3, bins=2)
    assert stats.lat == pytest.approx(11.0)
    assert stats.lat_max == pytest.approx((11.0, (8 / 3 + 80 / 3) / 2, (3.0 + 30.0) / 2))
    assert stats.lat_q == pytest.approx((2.0, 20.0))
    plain = _stats(results)
    assert plain.lat_max is None and plain.lat_q is None


@settings(deadline=None, max_examples=40)
@given(st.lists(st.lists(st.floats(0.0, 50.0), min_size=1, max_size=4), min_size=1, max_size=3))
def test_expected_max_lat_is_the_mean_over_the_product(atoms):
    grid = np.meshgrid(*(np.asarray(a) for a in atoms), indexing="ij")
    brute = float(np.max(np.stack([g.ravel() for g in grid]), axis=0).mean())
    assert float(expected_max_lat(atoms)) == pytest.approx(brute, rel=1e-9, abs=1e-9)


def test_quantile_means_keep_the_mean_and_ascend():
    rng = np.random.default_rng(3)
    values = rng.lognormal(0.0, 0.5, 37)
    atoms = quantile_means(values, 8)
    assert len(atoms) == 8 and atoms == sorted(atoms)
    assert np.mean(atoms) == pytest.approx(values.mean())
    assert atoms[0] >= values.min() and atoms[-1] <= values.max()
