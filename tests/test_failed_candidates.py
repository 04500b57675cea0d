"""Failed calls are counted, never measured (in process, on the simulated world).

* a call lost after retries is left out of acc_n and every other statistic;
* a candidate whose calls fail past `max-failures` gets no profile, the agent's
  `failed` attribute says why (the provider's message, no secret), and the search
  never picks it;
* a stage stops early, with the provider's message, once its failures must pass the
  threshold; the threshold is an option checked like every other.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from xdsl.passes import PassPipeline

import flowcompile.backends as backends
from flowcompile.backends.base import CallRequest, CallResult
from flowcompile.compiler import context
from flowcompile.dialects.flow import AgentOp, ConfigSetOp, WorkflowOp
from flowcompile.passes.proxy_model import build_model
from flowcompile.passes.registry import available_passes
from flowcompile.profiling.dataset import as_query
from flowcompile.profiling.failures import CandidateFailures, ProfilingStopped, StageGuard, allowed
from flowcompile.profiling.profiler import profile_workflow
from flowcompile.proxy import model as pm
from flowcompile.sim import SimWorld, generate_dataset, write_jsonl
from flowcompile.sim.backend import SimBackend
from flowcompile.tools import opt
from helpers.profiling import EXAMPLES, parse_module

SECRET = "sk-live-abcdefghijklmnop"


class Flaky:
    """The simulated world, except that calls matching `fails` fail (not retryable)."""

    name = "flaky"

    def __init__(self, fails) -> None:  # noqa: ANN001
        self.inner, self.fails, self.calls = SimBackend(), fails, 0

    async def call(self, request: CallRequest) -> CallResult:
        self.calls += 1
        if self.fails(request):
            return CallResult(error="not_found", text=f"not_found: {request.model} is not served (key {SECRET})")
        return await self.inner.call(request)


def chain() -> WorkflowOp:
    module = parse_module((EXAMPLES / "chain.mlir").read_text())
    return next(op for op in module.walk() if isinstance(op, WorkflowOp))


QUERIES = [as_query(row) for row in generate_dataset(SimWorld(), 8, 0)]


def on_query(request: CallRequest, query_id: str) -> bool:
    return any(query_id in m.content for m in request.messages)


def test_a_lost_call_is_not_a_measurement() -> None:
    clean = asyncio.run(profile_workflow(chain(), QUERIES, SimBackend()))
    lossy = Flaky(lambda r: r.model == "qwen3-0.6b" and r.budget == 0 and on_query(r, QUERIES[1].id))
    measured = asyncio.run(profile_workflow(chain(), QUERIES, lossy))
    lost = measured.failures.candidates
    assert lost and {config for _, config in lost} == {"qwen3-0.6b@0"}
    for (agent, config), failures in lost.items():
        assert failures.failed < failures.calls  # measured on the other queries
        want, got = clean.agents[agent][config], measured.agents[agent][config]
        assert got.n == want.n - failures.failed  # acc_n counts real measurements only
        assert "not_found" in failures.last_error and SECRET not in failures.last_error
    untouched = [(a, c) for a, table in clean.agents.items() for c in table if (a, c) not in lost]
    assert all(measured.agents[a][c] == clean.agents[a][c] for a, c in untouched)
    assert not measured.failures.excluded  # max_failures=1.0: tolerated


def test_a_failed_candidate_is_excluded_from_the_search(tmp_path, monkeypatch) -> None:
    dead = lambda r: r.model == "qwen3-4b" and r.budget == 1024  # noqa: E731
    backends.register_backend("flaky-test", lambda: Flaky(dead))
    dataset = write_jsonl(tmp_path / "data.jsonl", generate_dataset(SimWorld(), 8, 0))
    module = parse_module((EXAMPLES / "chain.mlir").read_text())
    spec = (f'profile{{backend=flaky-test dataset="{dataset}" cache=none max-samples=0 recovery=false '
            "max-failures=0.5},compose,enumerate,pareto")
    PassPipeline.parse_spec(available_passes(), spec).apply(context(), module)
    agents = [op for op in module.walk() if isinstance(op, AgentOp)]
    for agent in agents:
        profiles = agent.attributes["profiles"].data  # pyright: ignore[reportAttributeAccessIssue]
        assert "qwen3-4b@1024" not in profiles and len(profiles) == len(agent.candidates()) - 1
        why = agent.attributes["failed"].data["qwen3-4b@1024"].data  # pyright: ignore[reportAttributeAccessIssue]
        assert re.match(r"(\d+) of \1 calls failed; last: not_found: qwen3-4b is not served", why), why
        assert SECRET not in why and "***" in why
        assert "qwen3-4b@1024" not in agent.attributes["estimates"].data  # pyright: ignore[reportAttributeAccessIssue]
    workflow = next(op for op in module.walk() if isinstance(op, WorkflowOp))
    for var in pm.all_vars(build_model(workflow)):  # the search's choices
        keys = [getattr(label, "key", label) for label in var.labels]
        assert "qwen3-4b@1024" not in keys and len(keys) == 17, var.key
    points = next(op for op in module.walk() if isinstance(op, ConfigSetOp)).points
    chosen = {str(cfg) for p in points for cfg in p.assign.values()}
    assert chosen and not any('"qwen3-4b", budget = 1024' in c for c in chosen)


def test_the_default_threshold_stops_profiling_with_the_providers_message(tmp_path, capsys) -> None:
    dead = lambda r: r.model == "qwen3-4b" and r.budget == 1024  # noqa: E731
    backends.register_backend("flaky-test", lambda: Flaky(dead))
    dataset = write_jsonl(tmp_path / "data.jsonl", generate_dataset(SimWorld(), 8, 0))
    source = tmp_path / "chain.mlir"
    source.write_text((EXAMPLES / "chain.mlir").read_text())
    rc = opt.run([str(source), "-p", f'profile{{backend=flaky-test dataset="{dataset}" cache=none max-samples=0}}'])
    err = capsys.readouterr().err
    assert rc == 1
    assert f"{source}:2:3: error: profile: profiling stopped: " in err
    assert "not_found: qwen3-4b is not served" in err and SECRET not in err
    assert "(max-failures=0.05 allows" in err and "rerun to resume" in err


def test_a_stage_stops_as_soon_as_the_threshold_must_be_passed() -> None:
    everything = Flaky(lambda r: True)
    with pytest.raises(ProfilingStopped, match="every reference run failed|reference runs failed") as stop:
        asyncio.run(profile_workflow(chain(), QUERIES * 4, everything, concurrency=2, max_failures=0.05))
    assert "not_found" in str(stop.value)
    # 32 runs, 1 may fail: the second failure stops the stage, the runs not started never call
    assert everything.calls <= allowed(32, 0.05) + 1 + 2 < 32


def test_the_guard_allows_exactly_the_share_it_is_given() -> None:
    guard = StageGuard("candidate", 40, 0.05)
    for i in range(40):
        guard.observe(f"call {i}", None)
    guard.observe("a", "server_error")
    guard.observe("b", "server_error")  # 2 of 40 = 5 %: still allowed
    with pytest.raises(ProfilingStopped, match=r"3 of 40 candidate calls failed .* lost: a, b, c"):
        guard.observe("c", f"server_error: {SECRET}")
    assert SECRET not in guard.message()
    assert CandidateFailures(1, 20, "x").excluded(0.05) is False
    assert CandidateFailures(2, 20, "x").excluded(0.05) is True
    assert CandidateFailures(3, 3, "x").excluded(1.0) is True  # nothing measured


@pytest.mark.parametrize("value", ["-0.1", "1.5", "2"])
def test_max_failures_is_bounded(tmp_path, capsys, value) -> None:
    source = tmp_path / "chain.mlir"
    source.write_text((EXAMPLES / "chain.mlir").read_text())
    rc = opt.run([str(source), "-p", f"profile{{max-failures={value} dry-run=true}}"])
    assert rc == 1
    assert "max-failures" in capsys.readouterr().err


def test_strip_profiles_drops_the_failed_record() -> None:
    """`failed` is a measurement like `profiles`: strip-profiles erases it, so a
    stripped workflow is profiled from scratch."""
    from xdsl.dialects.builtin import DictionaryAttr, StringAttr

    from flowcompile.compiler import import_spec, run_passes, the_workflow
    from flowcompile.profiling.failures import FAILED_ATTR

    module = import_spec(EXAMPLES / "chain.yaml")
    (agent, *_) = the_workflow(module).agents
    agent.attributes[FAILED_ATTR] = DictionaryAttr({agent.candidates()[0].key: StringAttr("3 of 3 calls failed")})
    run_passes(module, "strip-profiles")
    assert FAILED_ATTR not in agent.attributes
