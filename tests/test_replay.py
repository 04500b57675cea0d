"""Recorded traces: record the simulated world once, replay it without the simulation."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flowcompile.backends import CallRequest, CallResult, get_backend
from flowcompile.backends.replay import NO_RECORDING, RecordingBackend, ReplayBackend, TraceError
from flowcompile.backends.store import request_key
from flowcompile.sim import SimWorld, build_messages
from flowcompile.sim.backend import SimBackend


def requests() -> list[CallRequest]:
    out = []
    for i, (model, budget) in enumerate([("qwen3-8b", 0), ("qwen3-8b", 2048), ("qwen3-14b", 1024)]):
        msgs = build_messages("solver", "solve", f"[sim-query q{i:05d}] Solve it.")
        for sample in (0, 1):
            out.append(CallRequest(model=model, budget=budget, messages=msgs, sample=sample, temperature=0.6))
    return out


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[CallResult]]:
    path = tmp_path_factory.mktemp("trace") / "trace.jsonl"
    with RecordingBackend(SimBackend(SimWorld()), path) as backend:
        results = [asyncio.run(backend.call(r)) for r in requests()]
    assert backend.counters["recorded"] == len(results)
    return path, results


def test_replay_gives_identical_results(recorded: tuple[Path, list[CallResult]]) -> None:
    path, results = recorded
    replay = ReplayBackend(path)
    assert len(replay) == len(results)
    for request, expected in zip(requests(), results, strict=True):
        got = asyncio.run(replay.call(request))
        assert got == expected
        assert got.latency_s == expected.latency_s and got.tokens_out == expected.tokens_out


def test_replay_runs_without_the_simulation(recorded: tuple[Path, list[CallResult]]) -> None:
    path, results = recorded
    code = textwrap.dedent(
        """
        import asyncio, json, sys
        from flowcompile.backends import CallRequest, get_backend
        backend = get_backend("replay", trace=sys.argv[1])
        out = []
        for line in open(sys.argv[1]):
            row = json.loads(line)
            req = CallRequest(model=row["model"], budget=row["budget"], messages=[tuple(m) for m in row["messages"]],
                              sample=row["sample"], temperature=row["temperature"])
            out.append(asyncio.run(backend.call(req)).text)
        print(json.dumps({"texts": out, "sim": [m for m in sys.modules if m.startswith("flowcompile.sim")]}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    report = json.loads(proc.stdout)
    assert report["sim"] == []
    assert report["texts"] == [r.text for r in results]


def test_trace_lines_are_sorted_and_keyed(recorded: tuple[Path, list[CallResult]]) -> None:
    path, _ = recorded
    lines = path.read_text().splitlines()
    assert len(lines) == len(requests())
    for line, request in zip(lines, requests(), strict=True):
        row = json.loads(line)
        assert list(row) == sorted(row)
        assert line == json.dumps(row, sort_keys=True, ensure_ascii=False)
        assert row["key"] == request_key("sim", request)
        assert row["backend"] == "sim"
        assert not any("api_key" in k or "header" in k for k in row)


def test_missing_recording_is_a_permanent_error(recorded: tuple[Path, list[CallResult]]) -> None:
    path, _ = recorded
    request = CallRequest(model="qwen3-32b", budget=512, messages=[("user", "never recorded")])
    result = asyncio.run(ReplayBackend(path).call(request))
    assert result.error == NO_RECORDING and not result.retryable
    assert "qwen3-32b" in result.text
    assert request_key("", request)[:12] in result.text


def test_backend_filter_and_failures_not_recorded(tmp_path: Path) -> None:
    class Flaky:
        name = "flaky"

        async def call(self, request: CallRequest) -> CallResult:
            return CallResult(error="rate_limit") if request.sample else CallResult(text="ok", latency_s=1.0)

    path = tmp_path / "t.jsonl"
    with RecordingBackend(Flaky(), path) as backend:
        asyncio.run(backend.call(CallRequest(model="m", messages=[("user", "a")])))
        asyncio.run(backend.call(CallRequest(model="m", messages=[("user", "a")], sample=1)))
    assert len(path.read_text().splitlines()) == 1
    assert len(ReplayBackend(path, backend="flaky")) == 1
    assert len(ReplayBackend(path, backend="sim")) == 0


def test_bad_trace_lines_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"model": "m"}\nnot json\n')
    with pytest.raises(TraceError) as err:
        ReplayBackend(path)
    assert f"{path}:1:" in str(err.value) and f"{path}:2:" in str(err.value)
    with pytest.raises(TraceError, match="cannot read"):
        ReplayBackend(tmp_path / "missing.jsonl")


def test_registry_builds_replay(recorded: tuple[Path, list[CallResult]]) -> None:
    backend = get_backend("replay", trace=recorded[0])
    assert isinstance(backend, ReplayBackend) and backend.name == "replay"
