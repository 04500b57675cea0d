"""Many writers on one profile store: no errors, no lost rows, one result per call."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from flowcompile.backends import CallRequest, CallResult
from flowcompile.backends import store as store_module
from flowcompile.backends.store import ProfileStore, StoreError

ROOT = Path(__file__).resolve().parent.parent
WRITERS = 4

WRITER = textwrap.dedent(
    """
    import sys
    from flowcompile.backends import CallRequest, CallResult
    from flowcompile.backends.store import ProfileStore
    path, writer, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = ProfileStore(path)
    for i in range(count):
        # half the keys are shared by every writer, half are this writer's own
        key = f"shared{i}" if i % 2 else f"w{writer}-{i}"
        request = CallRequest(model="m", messages=[("user", key)])
        store.get("sim", request)
        store.put("sim", request, CallResult(text=f"{key} by {writer}", latency_s=float(writer)))
    store.close()
    """
)


def test_concurrent_writers_lose_no_row(tmp_path: Path) -> None:
    path, count = tmp_path / "p.sqlite", 200
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(w), str(count)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for w in range(WRITERS)
    ]
    outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    assert all(code == 0 for code, _ in outcomes), outcomes
    with ProfileStore(path) as store:
        own = WRITERS * (count // 2)
        shared = count // 2
        assert len(store) == own + shared
        for w in range(WRITERS):
            for i in range(0, count, 2):
                got = store.get("sim", CallRequest(model="m", messages=[("user", f"w{w}-{i}")]))
                assert got is not None and got.text == f"w{w}-{i} by {w}"


def test_the_first_stored_result_wins(tmp_path: Path) -> None:
    request = CallRequest(model="m", messages=[("user", "q")])
    first, second = CallResult(text="first", latency_s=1.0), CallResult(text="second", latency_s=2.0)
    with ProfileStore(tmp_path / "p.sqlite") as a, ProfileStore(tmp_path / "p.sqlite") as b:
        assert a.record("sim", request, first) == first
        # b made the same call concurrently: it gets a's result, as a rerun would
        assert b.record("sim", request, second) == first
        assert not b.put("sim", request, second)
        assert b.get("sim", request) == first and len(b) == 1
        failed = CallResult(error="timeout", latency_s=3.0)
        assert b.record("sim", CallRequest(model="m", messages=[("user", "r")]), failed) == failed
        assert len(b) == 1


def test_a_lock_held_past_the_busy_timeout_is_waited_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite gives up after its busy time-out; the store retries until the lock is free."""
    path = tmp_path / "p.sqlite"
    ProfileStore(path).close()
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.05)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another process's write lock
    released = threading.Event()

    def release() -> None:
        time.sleep(0.6)  # 12 busy time-outs
        holder.execute("COMMIT")
        released.set()

    thread = threading.Thread(target=release)
    thread.start()
    with ProfileStore(path) as store:  # opening takes the write lock too
        assert store.put("sim", CallRequest(model="m", messages=[("user", "q")]), CallResult(text="a"))
        assert released.is_set()
        assert len(store) == 1
    thread.join()
    holder.close()


def test_a_lock_never_released_is_a_store_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.sqlite"
    ProfileStore(path).close()
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.02)
    monkeypatch.setattr(store_module, "LOCKED_RETRY_S", 0.3)
    holder = sqlite3.connect(path, isolation_level=None)
    store = ProfileStore(path)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreError, match="database is locked"):
        store.put("sim", CallRequest(model="m", messages=[("user", "q")]), CallResult(text="a"))
    holder.execute("ROLLBACK")
    store.close()
    holder.close()


SUMMARY = re.compile(r": (\d+) calls \(.*\); (\d+) made, (\d+) cache hits")


def _profile(cache: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable, "-c", "from flowcompile.tools.opt import main; main()",
            str(ROOT / "examples" / "chain.mlir"),
            "-p", f'profile{{cache="{cache}" samples=8 max-samples=0}}', "-o", str(out),
        ],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _calls(stderr: str) -> tuple[int, int, int]:
    """(calls, made, cache hits) from the profile pass's summary line."""
    found = SUMMARY.findall(stderr)
    assert len(found) == 1, stderr
    calls, made, hits = found[0]
    return int(calls), int(made), int(hits)


def test_four_profilers_share_one_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite"
    procs = [_profile(cache, tmp_path / f"out{i}.mlir") for i in range(WRITERS)]
    runs = [(p.wait(timeout=300), p.communicate()[1]) for p in procs]
    for code, stderr in runs:
        assert code == 0, stderr
        assert "error" not in stderr, stderr
    outputs = {(tmp_path / f"out{i}.mlir").read_bytes() for i in range(WRITERS)}
    assert len(outputs) == 1 and b"profiles = {" in next(iter(outputs))
    counts = [_calls(stderr) for _, stderr in runs]
    assert all(made + hits == calls for calls, made, hits in counts)
    fifth = _profile(cache, tmp_path / "out5.mlir")
    code, stderr = fifth.wait(timeout=300), fifth.communicate()[1]
    assert code == 0, stderr
    calls, made, hits = _calls(stderr)
    assert (calls, made, hits) == (counts[0][0], 0, calls)  # every call the four made is in the cache
    assert (tmp_path / "out5.mlir").read_bytes() in outputs
