"""The profile pass survives `kill -9`: a rerun on the same cache repeats no finished call.

The simulated server runs in its own process (tests/helpers/serve_sim.py), slowed
to TIME_SCALE of the simulated latency so that a run lasts a few seconds; the
profiler is `flowcompile-opt -p 'profile{backend=litellm ...}'` in a subprocess.
Calls are counted at the server (/stats) and in the cache file.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowcompile.sim import SimWorld, generate_dataset, write_jsonl
from helpers.processes import stop
from helpers.profiling import EXAMPLES, cache_rows, one_summary, pointed_at, profiles, reset_stats, stats, structure

HELPERS = Path(__file__).resolve().parent / "helpers"
OPT = Path(sys.executable).with_name("flowcompile-opt")
TIME_SCALE = 0.0015
"""Server seconds per simulated second: the server then sleeps ~2 s per run in total (litellm's
own overhead per call, and its import, take longer), so a run lasts a few seconds."""
CONCURRENCY = 4
QUERIES = 8


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, str(HELPERS / "serve_sim.py"), "--time-scale", str(TIME_SCALE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), f"server did not start (exit {proc.poll()})"
        yield url
    finally:
        stop(proc, grace_s=10)


def command(source: Path, dataset: Path, cache: Path, out: Path) -> list[str]:
    options = f'backend=litellm dataset="{dataset}" cache="{cache}" concurrency={CONCURRENCY} max-samples=0 recovery=false'
    return [str(OPT), str(source), "-o", str(out), "-p", f"profile{{{options}}}"]


def run_to_end(cmd: list[str]) -> dict:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return one_summary(proc.stderr)


def settled_total(url: str, quiet: float = 0.5, limit: float = 20.0) -> int:
    """The server's request count once it has not moved for `quiet` seconds."""
    deadline = time.monotonic() + limit
    last, since = stats(url)["total"], time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = stats(url)["total"]
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return now
    raise AssertionError("the server kept receiving requests")


def test_kill_9_then_rerun_repeats_no_finished_call(tmp_path, server):
    url = server
    source = tmp_path / "chain.mlir"
    source.write_text(pointed_at((EXAMPLES / "chain.mlir").read_text(), url))
    dataset = write_jsonl(tmp_path / "dataset.jsonl", generate_dataset(SimWorld(), QUERIES, 0))

    # An uninterrupted run on a fresh cache: the reference result and the call total.
    reset_stats(url)
    fresh = run_to_end(command(source, dataset, tmp_path / "fresh.sqlite", tmp_path / "fresh.mlir"))
    expected_total = stats(url)["total"]
    assert expected_total == fresh["made"] == fresh["calls"] > 0
    assert len(stats(url)["by_content"]) == expected_total  # every call is a distinct request

    # The run we kill: SIGKILL once about half of the calls have reached the server.
    reset_stats(url)
    cache = tmp_path / "cache.sqlite"
    kill_when(command(source, dataset, cache, tmp_path / "killed.mlir"), url, expected_total // 2)

    at_kill = settled_total(url)
    rows_before = cache_rows(cache)
    # Each finished call is one committed row; calls in flight at the kill reached the
    # server but not the cache, and there are at most `concurrency` of them.
    assert 0 < rows_before < expected_total
    in_flight = at_kill - rows_before
    assert 0 <= in_flight <= CONCURRENCY, (at_kill, rows_before)

    # The rerun calls exactly what is not in the cache.
    resumed_out = tmp_path / "resumed.mlir"
    resumed = run_to_end(command(source, dataset, cache, resumed_out))
    served = stats(url)
    assert served["total"] - at_kill == expected_total - rows_before
    assert (resumed["made"], resumed["hits"]) == (expected_total - rows_before, rows_before)
    assert resumed["calls"] == expected_total
    # Counted per request at the server: no finished call was repeated; only the ones
    # in flight at the kill were (at most `concurrency`).
    repeated = {key: n for key, n in served["by_content"].items() if n > 1}
    assert len(served["by_content"]) == expected_total
    assert sum(n - 1 for n in repeated.values()) == in_flight <= CONCURRENCY
    assert cache_rows(cache) == expected_total

    # A third run on the same cache is all cache hits and prints the same IR, byte for byte.
    again_out = tmp_path / "again.mlir"
    again = run_to_end(command(source, dataset, cache, again_out))
    assert (again["made"], again["hits"]) == (0, expected_total)
    assert stats(url)["total"] == served["total"]
    assert again_out.read_bytes() == resumed_out.read_bytes()

    # The measurements equal the uninterrupted run's. Latency is the client's wall clock
    # around each live call, so it differs between live runs and is not compared.
    got, want = profiles(resumed_out.read_text()), profiles((tmp_path / "fresh.mlir").read_text())
    assert {a: set(t) for a, t in got.items()} == {a: set(t) for a, t in want.items()}
    for agent, table in want.items():
        for key, p in table.items():
            for field in ("acc", "acc_n", "tok_in", "tok_out", "cost"):
                assert got[agent][key][field] == p[field], (agent, key, field)
            assert got[agent][key]["lat"] > 0
    assert structure(resumed_out.read_text()) == structure((tmp_path / "fresh.mlir").read_text())


def kill_when(cmd: list[str], url: str, reached: int) -> None:
    """Start `cmd` and SIGKILL it once the server has received `reached` requests."""
    victim = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while stats(url)["total"] < reached:
            assert victim.poll() is None, f"the profiler ended before {reached} requests"
            assert time.monotonic() < deadline, "the profiler made too few calls in time"
            time.sleep(0.005)
        os.kill(victim.pid, signal.SIGKILL)
    finally:
        if victim.poll() is None:
            victim.kill()
        victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL


def test_sigkill_at_random_points_then_rerun_repeats_no_finished_call(tmp_path, server):
    """Killed twice, at points drawn at random (the seed is in any failure message),
    then run to the end: only calls in flight at a kill are asked again, and the
    result is the uninterrupted run's, printed byte for byte the same on every rerun."""
    url = server
    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    source = tmp_path / "chain.mlir"
    source.write_text(pointed_at((EXAMPLES / "chain.mlir").read_text(), url))
    dataset = write_jsonl(tmp_path / "dataset.jsonl", generate_dataset(SimWorld(), QUERIES, 1))

    reset_stats(url)
    fresh_out = tmp_path / "fresh.mlir"
    run_to_end(command(source, dataset, tmp_path / "fresh.sqlite", fresh_out))
    expected_total = stats(url)["total"]

    reset_stats(url)
    cache = tmp_path / "cache.sqlite"
    first, second = sorted(rng.uniform(0.1, 0.8) for _ in range(2))
    kills = 0
    for fraction in (first, second):
        committed = cache_rows(cache) if cache.exists() else 0
        # `fraction` of the calls this run has left to make, counted from the requests so far
        target = settled_total(url) + max(1, int(fraction * (expected_total - committed)))
        kill_when(command(source, dataset, cache, tmp_path / "killed.mlir"), url, target)
        kills += 1
    at_kill = settled_total(url)
    committed = cache_rows(cache)
    assert 0 < committed < expected_total, (seed, committed)
    lost = at_kill - committed  # requests that reached the server but not the cache
    assert 0 <= lost <= kills * CONCURRENCY, (seed, at_kill, committed)

    resumed_out = tmp_path / "resumed.mlir"
    resumed = run_to_end(command(source, dataset, cache, resumed_out))
    assert (resumed["made"], resumed["hits"]) == (expected_total - committed, committed), seed
    served = stats(url)
    assert len(served["by_content"]) == expected_total, seed
    repeated = sum(n - 1 for n in served["by_content"].values())
    assert repeated == lost, (seed, repeated, lost)  # no finished call was asked again

    again_out = tmp_path / "again.mlir"
    again = run_to_end(command(source, dataset, cache, again_out))
    assert (again["made"], again["hits"]) == (0, expected_total), seed
    assert again_out.read_bytes() == resumed_out.read_bytes(), seed
    got, want = profiles(resumed_out.read_text()), profiles(fresh_out.read_text())
    for agent, table in want.items():
        for key, p in table.items():
            for field in ("acc", "acc_n", "tok_in", "tok_out", "cost"):
                assert got[agent][key][field] == p[field], (seed, agent, key, field)
    assert structure(resumed_out.read_text()) == structure(fresh_out.read_text()), seed
