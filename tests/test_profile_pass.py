"""Acceptance tests of the `profile` pass (flowcompile-opt -p 'profile{...}').

Calls are counted where they reach the backend (a recording `SimBackend`
installed in the backend registry, or the simulated HTTP server's /stats),
never only by re-reading the pass's own summary line.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import flowcompile.backends as backends
from flowcompile.backends.base import CallRequest
from flowcompile.backends.store import request_key
from flowcompile.dialects.flow import WorkflowOp
from flowcompile.profiling.dataset import Query, as_query
from flowcompile.profiling.shape import estimate_calls
from flowcompile.runtime import reference_assignment, run_many, score
from flowcompile.sim import DEFAULT_WORLD, SimWorld, generate_dataset, write_jsonl
from flowcompile.sim.backend import SimBackend
from flowcompile.sim.protocol import SIM_READER
from flowcompile.tools import opt
from helpers.profiling import (
    EXAMPLES,
    RecordingSim,
    one_summary,
    pointed_at,
    profiles,
    reset_stats,
    stats,
    structure,
    workflow_of,
)

SAMPLES = 8



@pytest.fixture
def sims(monkeypatch: pytest.MonkeyPatch) -> list[RecordingSim]:
    """Every sim backend the pass builds, in order (one per pass run)."""
    made: list[RecordingSim] = []

    def factory(**options) -> RecordingSim:
        made.append(RecordingSim(**options))
        return made[-1]

    monkeypatch.setitem(backends._FACTORIES, "sim", factory)  # pyright: ignore[reportPrivateUsage]
    return made


def profile(capsys: pytest.CaptureFixture[str], source: Path | str, options: str) -> tuple[int, str, str]:
    """Run `flowcompile-opt SOURCE -p 'profile{OPTIONS}'` in process: (exit code, IR, stderr)."""
    code = opt.run([str(source), "-p", f"profile{{{options}}}"])
    out, err = capsys.readouterr()
    return code, out, err


def sim_queries(n: int = SAMPLES, seed: int = 0) -> list[Query]:
    """The queries the sim backend generates for `samples=n seed=seed` without a dataset."""
    return [as_query(row) for row in generate_dataset(SimWorld(), n, seed)]


def expected_counts(workflow: WorkflowOp, queries: list[Query], seed: int = 0) -> tuple[int, int, dict[str, int]]:
    """Independently of the profiler: run the reference configuration on `queries`
    against a fresh sim and count (reference calls, accepted runs, calls per agent
    in the accepted runs). The profiler must then make reference calls +
    sum over agents of candidates x recorded inputs."""
    runs = asyncio.run(run_many(workflow, reference_assignment(workflow), SimBackend(), queries, seed=seed))
    assert all(r.ok for r in runs)
    accepted = [r for r, q in zip(runs, queries, strict=True) if score(r, q)]
    inputs = Counter(c.agent for r in accepted for c in r.calls)
    return sum(len(r.calls) for r in runs), len(accepted), {a.agent_name: inputs[a.agent_name] for a in workflow.agents}


def candidate_keys(workflow: WorkflowOp) -> dict[str, set[str]]:
    return {a.agent_name: {c.key for c in a.candidates()} for a in workflow.agents}


def agent_of(request: CallRequest) -> str:
    """The agent named by a request's system sentence ("... agent 'solver' of workflow ...")."""
    return request.messages[0].content.split("'")[1]


# 1. Call count -----------------------------------------------------------------------


@pytest.mark.parametrize("example", ["chain", "refine"])
def test_calls_are_reference_runs_plus_candidates_on_recorded_inputs(example, sims, capsys):
    source = EXAMPLES / f"{example}.mlir"
    workflow = workflow_of(source.read_text())
    reference, accepted, inputs = expected_counts(workflow, sim_queries())
    assert accepted > 0 and all(inputs.values()), "every agent needs accepted inputs here"
    candidates = sum(len(a.candidates()) * inputs[a.agent_name] for a in workflow.agents)

    code, ir, err = profile(
        capsys, source, f"samples={SAMPLES} max-samples=0 recovery=false by-answers=false cache=none"
    )

    assert code == 0, err
    (backend,) = sims
    # what reached the backend, counted by the backend itself
    assert len(backend.requests) == backend.total_calls == reference + candidates
    # split by phase: the first `reference` requests are sample 0 of the reference config
    # (sample >= 1 marks a candidate call on a recorded input)
    assert sum(1 for r in backend.requests if r.sample == 0) == reference
    per_agent = Counter(agent_of(r) for r in backend.requests[reference:])
    assert per_agent == {a.agent_name: len(a.candidates()) * inputs[a.agent_name] for a in workflow.agents}
    summary = one_summary(err)
    assert summary == {
        **summary,
        "workflow": example,
        "calls": reference + candidates,
        "reference": reference,
        "queries": SAMPLES,
        "accepted": accepted,
        "candidate": candidates,
        "agents": len(inputs),
        "made": backend.total_calls,
        "hits": 0,
        "retries": 0,
        "failures": 0,
    }
    # every candidate of every agent is profiled on every recorded input
    measured = profiles(ir)
    assert {a: set(p) for a, p in measured.items()} == candidate_keys(workflow)
    for agent, table in measured.items():
        assert {p["acc_n"] for p in table.values()} == {inputs[agent]}, agent


def judged_inputs(example: str, queries: list[Query]) -> dict[str, int]:
    """Independently of the profiler, from the reference runs and the workflow's
    structure: the calls each agent is profiled on when judged by the reference
    answers, without recovery (inputs known right only).

    chain: the planner's candidates are judged against the reference's plan
    (every run); the solver reads that plan, right as the reference's (every
    run); the checker reads the plan and the solver's answer (every run whose
    solver answer is right).
    refine: the drafter reads the query (every run); the critic is judged on
    every draft it reads (the last answer before it): acc on the right ones,
    rec on the wrong ones; the reviser on the calls whose draft is right, or,
    with none, on all it had."""
    workflow = workflow_of((EXAMPLES / f"{example}.mlir").read_text())
    runs = asyncio.run(run_many(workflow, reference_assignment(workflow), SimBackend(), queries))
    gold = [SIM_READER.answer_key(q.reference) for q in queries]
    if example == "chain":
        def answer_of(i: int, agent: str) -> str:
            return SIM_READER.answer_key(next(c.result.text for c in runs[i].calls if c.agent == agent))
        every = [i for i, r in enumerate(runs) if not r.error]
        return {
            "planner": len(every),
            "solver": len(every),
            "checker": sum(answer_of(i, "solver") == gold[i] for i in every),
        }
    judged: Counter[tuple[str, bool]] = Counter()  # (agent, its draft is right)
    for i, run in enumerate(runs):
        draft = ""
        for call in run.calls:
            if call.agent in ("critic", "reviser"):
                judged[call.agent, SIM_READER.answer_key(draft) == gold[i]] += 1
            if call.agent in ("drafter", "reviser"):
                draft = call.result.text
    revisions = judged["reviser", True] or judged["reviser", True] + judged["reviser", False]
    return {
        "drafter": sum(1 for r in runs for c in r.calls if c.agent == "drafter"),
        "critic": judged["critic", True],
        "critic rejects": judged["critic", False],
        "reviser": revisions,
    }


@pytest.mark.parametrize("example", ["chain", "refine"])
def test_judged_by_answers_agents_are_profiled_on_inputs_of_known_state(example, sims, capsys):
    workflow = workflow_of((EXAMPLES / f"{example}.mlir").read_text())
    inputs = judged_inputs(example, sim_queries())
    code, ir, err = profile(capsys, EXAMPLES / f"{example}.mlir", f"samples={SAMPLES} max-samples=0 recovery=false cache=none")

    assert code == 0, err
    summary = one_summary(err)
    calls = {**inputs, "critic": inputs.get("critic", 0) + inputs.get("critic rejects", 0)}
    assert summary["candidate"] == sum(len(a.candidates()) * calls[a.agent_name] for a in workflow.agents)
    assert "answers and verdicts judged by the reference answers" in err
    for agent, table in profiles(ir).items():
        assert {p["acc_n"] for p in table.values()} == {inputs[agent]}, agent
        if agent == "critic":  # a judge is measured on wrong drafts too, without recovery
            assert {p["rec_n"] for p in table.values()} == {inputs["critic rejects"]}
    assert 'judged = "reference answers"' in ir


# 2. Determinism and caching ----------------------------------------------------------


def test_cached_rerun_is_byte_identical_and_calls_nothing(tmp_path, sims, capsys):
    source = EXAMPLES / "refine.mlir"
    cache = tmp_path / "cache.sqlite"
    code, first, err1 = profile(capsys, source, f'samples={SAMPLES} max-samples=0 recovery=false cache="{cache}"')
    assert code == 0, err1
    code, second, err2 = profile(capsys, source, f'samples={SAMPLES} max-samples=0 recovery=false cache="{cache}"')
    assert code == 0, err2

    assert second == first
    assert "profiles = {" in first and "iters = " in first
    s1, s2 = one_summary(err1), one_summary(err2)
    assert sims[0].total_calls == s1["made"] == s1["calls"] > 0
    assert sims[1].total_calls == 0 and sims[1].requests == []
    assert (s2["made"], s2["hits"], s2["calls"]) == (0, s1["calls"], s1["calls"])


def test_same_seed_same_profiles_other_seed_other_profiles(tmp_path, capsys):
    source = EXAMPLES / "refine.mlir"
    runs = {}
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        code, ir, err = profile(capsys, source, f'samples={SAMPLES} max-samples=0 recovery=false seed={seed} cache="{tmp_path / name}.sqlite"')
        assert code == 0, err
        assert one_summary(err)["made"] > 0  # fresh caches: every run really called the sim
        runs[name] = ir
    assert runs["a"] == runs["b"]
    a, c = profiles(runs["a"]), profiles(runs["c"])
    assert set(a) == set(c) and all(set(a[x]) == set(c[x]) for x in a)
    same = sum(a[x][k] == c[x][k] for x in a for k in a[x])
    total = sum(len(a[x]) for x in a)
    assert same < total / 10, f"{same} of {total} profiles unchanged by the seed"


# 3. Changing one prompt re-profiles that agent alone ---------------------------------


OLD_PROMPT = 'prompt = "Solve the problem following the plan.'
NEW_PROMPT = 'prompt = "Solve the problem step by step, following the plan.'


def test_changing_the_solver_prompt_reprofiles_the_solver_alone(tmp_path, sims, capsys):
    original = (EXAMPLES / "chain.mlir").read_text()
    assert original.count(OLD_PROMPT) == 1
    edited_path = tmp_path / "edited.mlir"
    edited_path.write_text(original.replace(OLD_PROMPT, NEW_PROMPT))
    cache = tmp_path / "cache.sqlite"

    code, before, err = profile(capsys, EXAMPLES / "chain.mlir", f'samples={SAMPLES} max-samples=0 recovery=false cache="{cache}"')
    assert code == 0, err
    code, after, err = profile(capsys, edited_path, f'samples={SAMPLES} max-samples=0 recovery=false cache="{cache}"')
    assert code == 0, err
    made = sims[1].requests
    summary = one_summary(err)

    # The expectation from first principles. Only the solver's messages contain its
    # prompt, so what must be called again is: the solver's reference call on each query
    # (SAMPLES calls) and each solver candidate on each recorded solver input
    # (18 candidates x every run: the solver's input, the reference's plan, is right in
    # each). Downstream, the checker reads the solver's
    # OUTPUT, and the simulated output depends on the query, agent, model, budget,
    # sample and the tags in the input, not on the prompt's wording: the solver's
    # outputs, hence the checker's messages, the accepted runs and every planner and
    # checker call, are unchanged, so they are all cache hits.
    workflow = workflow_of(original)
    solver = next(a for a in workflow.agents if a.agent_name == "solver")
    assert len(made) == summary["made"] == SAMPLES + len(solver.candidates()) * SAMPLES
    assert {agent_of(r) for r in made} == {"solver"}
    assert all("step by step, following the plan" in r.messages[1].content for r in made)
    assert summary["hits"] == summary["calls"] - summary["made"]

    # The same expectation computed mechanically: the requests of a no-cache run of
    # the edited IR that the original run never made are exactly the calls made.
    def keys(requests: list[CallRequest]) -> Counter[str]:
        return Counter(request_key("sim", r) for r in requests)

    code, _, err = profile(capsys, edited_path, f"samples={SAMPLES} max-samples=0 recovery=false cache=none")
    assert code == 0, err
    changed = keys(sims[2].requests) - keys(sims[0].requests)
    assert keys(made) == changed

    old, new = profiles(before), profiles(after)
    assert new["planner"] == old["planner"]
    assert new["checker"] == old["checker"]
    # the solver was re-measured: same outputs (so acc) but longer inputs
    for key, p in new["solver"].items():
        q = old["solver"][key]
        assert (p["acc"], p["acc_n"], p["tok_out"]) == (q["acc"], q["acc_n"], q["tok_out"]), key
        assert p["tok_in"] > q["tok_in"], key


# 4. Faults cost retries only -------------------------------------------------------


def test_faults_cost_retries_not_measurements(tmp_path, sims, capsys):
    world = yaml.safe_load(DEFAULT_WORLD.read_text())
    world["faults"] = {
        "rate_limit": 0.06,
        "server_error": 0.05,
        "timeout": 0.05,
        "malformed": 0.04,
        "timeout_s": 0.05,
    }
    assert sum(v for k, v in world["faults"].items() if k != "timeout_s") == pytest.approx(0.2)
    world_path = tmp_path / "faulty.yaml"
    world_path.write_text(yaml.safe_dump(world))
    source = EXAMPLES / "chain.mlir"

    code, clean, err = profile(capsys, source, f"samples={SAMPLES} max-samples=0 recovery=false cache=none")
    assert code == 0, err
    clean_summary = one_summary(err)
    # concurrency 32 overlaps the retry back-off sleeps (0.5 s, 1 s, ... with jitter)
    code, faulty, err = profile(
        capsys, source, f'samples={SAMPLES} max-samples=0 recovery=false cache=none concurrency=32 retries=10 world="{world_path}"'
    )
    assert code == 0, err
    summary = one_summary(err)

    assert summary["retries"] > 0
    assert summary["failures"] == 0
    # every attempt reached the backend: the logical calls plus one per retry
    assert sims[1].total_calls == summary["made"] == clean_summary["calls"] + summary["retries"]
    assert summary["calls"] == clean_summary["calls"]
    workflow = workflow_of(source.read_text())
    got, want = profiles(faulty), profiles(clean)
    assert {a: set(p) for a, p in got.items()} == candidate_keys(workflow)
    for agent, table in want.items():
        for key, p in table.items():
            for field in ("acc", "acc_n", "tok_in", "tok_out", "cost"):
                assert got[agent][key][field] == p[field], (agent, key, field)
    assert structure(faulty) == structure(clean)


# 5. litellm through the simulated server over HTTP ----------------------------------


@pytest.fixture(scope="module")
def sim_server() -> Iterator[str]:
    from flowcompile.sim.server import start_server

    server, thread, url = start_server(host="127.0.0.1", port=0, time_scale=0)
    yield url
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_litellm_over_http_measures_what_the_sim_measures(tmp_path, sim_server, capsys):
    url = sim_server
    source = tmp_path / "chain.mlir"
    source.write_text(pointed_at((EXAMPLES / "chain.mlir").read_text(), url))
    dataset = write_jsonl(tmp_path / "dataset.jsonl", generate_dataset(SimWorld(), SAMPLES, 0))

    code, in_process, err = profile(capsys, source, f'dataset="{dataset}" cache=none max-samples=0 recovery=false')
    assert code == 0, err
    sim_summary = one_summary(err)
    reset_stats(url)
    code, over_http, err = profile(capsys, source, f'backend=litellm dataset="{dataset}" cache=none max-samples=0 recovery=false')
    assert code == 0, err
    summary = one_summary(err)

    served = stats(url)
    assert served["total"] == summary["made"] == summary["calls"] == sim_summary["calls"]
    assert served["by_status"] == {"200": summary["made"]}
    assert (summary["retries"], summary["failures"]) == (0, 0)
    got, want = profiles(over_http), profiles(in_process)
    assert {a: set(p) for a, p in got.items()} == {a: set(p) for a, p in want.items()}
    for agent, table in want.items():
        for key, p in table.items():
            q = got[agent][key]
            for field in ("acc", "acc_n", "tok_in", "tok_out", "cost"):
                assert q[field] == p[field], (agent, key, field)
            # latency over HTTP is the client's wall clock around the call, not the sim's figure
            assert q["lat"] > 0 and q["lat_p95"] > 0, (agent, key)
    # The example's pool has no prices: over HTTP the cost is what the server states in
    # usage.cost (the world's prices, read by litellm), so it is never 0 there either.
    assert all(p["cost"] > 0 for table in got.values() for p in table.values())
    assert structure(over_http) == structure(in_process)


# 6. Dry run ------------------------------------------------------------------------


def test_dry_run_prints_the_bound_and_calls_nothing(tmp_path, sims, capsys):
    source = EXAMPLES / "self_consistency.mlir"
    code, ir, err = profile(capsys, source, f"samples={SAMPLES} max-samples=0 recovery=false cache=none dry-run=true")
    assert code == 0, err
    reference, candidates = estimate_calls(workflow_of(source.read_text()), SAMPLES)
    lines = [line for line in err.splitlines() if "dry run" in line]
    assert len(lines) == 1, err
    assert (
        f"at most {reference + candidates} calls ({reference} reference + {candidates} candidate) "
        f"on {SAMPLES} queries" in lines[0]
    )
    assert sum(b.total_calls for b in sims) == 0
    assert opt.run([str(source)]) == 0
    unchanged, _ = capsys.readouterr()
    assert ir == unchanged
    assert "profiles" not in ir


# 7. Diagnostics --------------------------------------------------------------------


def test_bad_dataset_line_is_located_without_traceback(tmp_path):
    rows = generate_dataset(SimWorld(), 3, 0)
    good = write_jsonl(tmp_path / "good.jsonl", rows).read_text().splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([good[0], good[1], '{"id": "x", "input": "no reference"}', good[2]]) + "\n")
    opt_tool = Path(sys.executable).with_name("flowcompile-opt")
    proc = subprocess.run(
        [str(opt_tool), str(EXAMPLES / "chain.mlir"), "-p", f'profile{{dataset="{bad}" cache=none}}'],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert f"{bad}:3: missing field 'reference'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("backend=litellm cache=none", "backend=litellm needs dataset=PATH"),
        ("backend=nosuch cache=none", "unknown backend 'nosuch'"),
    ],
)
def test_backend_mistakes_are_one_line_errors(options, message, sims, capsys):
    code, out, err = profile(capsys, EXAMPLES / "chain.mlir", options)
    assert code == 1
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert sum(b.total_calls for b in sims) == 0


def test_the_record_says_how_many_calls_ran_at_once(sims, capsys):
    code, ir, err = profile(capsys, EXAMPLES / "chain.mlir", f"samples={SAMPLES} max-samples=0 recovery=false concurrency=3 cache=none")
    assert code == 0, err
    assert 'judged = "reference answers", concurrency = 3}' in ir


def test_candidate_calls_take_the_agents_in_turn():
    """Between two calls of one agent, each other agent with calls left has one."""
    from flowcompile.profiling.profiler import interleaved

    streams = [["a1", "a2", "a3"], ["b1"], ["c1", "c2"]]
    assert interleaved(streams) == ["a1", "b1", "c1", "a2", "c2", "a3"]  # pyright: ignore[reportArgumentType]
    assert interleaved([]) == []
