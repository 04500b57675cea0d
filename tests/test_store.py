"""The profile store: round trips, keys, durability under kill -9, schema versions."""

from __future__ import annotations

import dataclasses
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flowcompile.backends import CallRequest, CallResult
from flowcompile.backends.store import SCHEMA_VERSION, ProfileStore, StoreError, request_key

REQ = CallRequest(
    model="qwen3-8b",
    provider_model="hosted_vllm/Qwen/Qwen3-8B",
    api_base="http://127.0.0.1:8000/v1",
    budget=1024,
    messages=(("system", "You are the solver agent 's' of workflow 'w'."), ("user", "[sim-query q1] hi")),
    temperature=0.7,
    max_tokens=4096,
    sample=2,
    seed=7,
)
RES = CallResult(
    text="answer <<answer:s:ab12>>",
    latency_s=3.25,
    tokens_in=31,
    tokens_out=120,
    reasoning_tokens=700,
    reasoning_source="usage",
    cost=0.00123,
)


def test_round_trip_keeps_measurements(tmp_path: Path) -> None:
    with ProfileStore(tmp_path / "p.db") as store:
        assert store.get("litellm", REQ) is None
        assert store.put("litellm", REQ, RES)
        assert len(store) == 1
    with ProfileStore(tmp_path / "p.db") as store:
        got = store.get("litellm", REQ)
        assert got == RES
        assert (got.latency_s, got.tokens_in, got.tokens_out, got.reasoning_tokens, got.cost) == (
            3.25, 31, 120, 700, 0.00123,
        )
        assert got.reasoning_source == "usage"
        assert store.get("sim", REQ) is None  # the backend name is part of the key
        stats = store.stats()
        assert stats["entries"] == 1 and stats["hits"] == 1 and stats["misses"] == 1
        assert stats["recorded_latency_s"] == pytest.approx(3.25)
        assert stats["by_backend"] == {"litellm": 1}


def test_failures_are_not_stored(tmp_path: Path) -> None:
    with ProfileStore(tmp_path / "p.db") as store:
        assert not store.put("litellm", REQ, CallResult(error="rate_limit", latency_s=0.1))
        assert len(store) == 0 and store.get("litellm", REQ) is None


CHANGES = {
    "model": {"model": "qwen3-14b"},
    "provider_model": {"provider_model": "hosted_vllm/Qwen/Qwen3-14B"},
    "api_base": {"api_base": "http://127.0.0.1:8001/v1"},
    "api_base_none": {"api_base": None},
    "budget": {"budget": 2048},
    "budget_zero": {"budget": 0},
    "message_content": {"messages": (("system", "You are the solver agent 's' of workflow 'w'."), ("user", "hi!"))},
    "message_role": {"messages": (("user", REQ.messages[0].content), ("user", "[sim-query q1] hi"))},
    "message_added": {"messages": (*REQ.messages, ("user", "more"))},
    "temperature": {"temperature": 0.0},
    "max_tokens": {"max_tokens": None},
    "sample": {"sample": 3},
    "seed": {"seed": 8},
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_every_field_changes_the_key(change: str) -> None:
    other = dataclasses.replace(REQ, **CHANGES[change])
    assert request_key("litellm", other) != request_key("litellm", REQ)


def test_key_is_stable_and_ignores_prices() -> None:
    key = request_key("litellm", REQ)
    assert len(key) == 64 and key == request_key("litellm", dataclasses.replace(REQ))
    assert request_key("sim", REQ) != key
    assert request_key("litellm", dataclasses.replace(REQ, price_in=1e-6, price_out=2e-6)) == key


def test_rows_hold_measurements_only(tmp_path: Path) -> None:
    with ProfileStore(tmp_path / "p.db") as store:
        store.put("litellm", REQ, RES)
    db = sqlite3.connect(tmp_path / "p.db")
    columns = {row[1] for row in db.execute("PRAGMA table_info(calls)")}
    # no request body, api_base, headers or keys: only identification and measurements
    assert columns == {
        "key", "backend", "model", "budget", "sample", "text", "latency_s", "tokens_in", "tokens_out",
        "reasoning_tokens", "reasoning_source", "cost", "created",
    }
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


WRITER = textwrap.dedent(
    """
    import sys, time
    from flowcompile.backends import CallRequest, CallResult
    from flowcompile.backends.store import ProfileStore
    store = ProfileStore(sys.argv[1])
    for i in range(int(sys.argv[2])):
        request = CallRequest(model="m", messages=[("user", f"q{i}")])
        store.put("sim", request, CallResult(text=f"a{i}", latency_s=i + 0.5))
        print(i, flush=True)
        time.sleep(0.002)
    """
)


def test_store_survives_kill_9_mid_run(tmp_path: Path) -> None:
    path, n = tmp_path / "p.db", 400
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(n)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    printed = 0
    for line in proc.stdout:
        printed = int(line) + 1
        if printed == n // 2:
            proc.send_signal(signal.SIGKILL)
            break
    rest = proc.stdout.read()  # lines written before the kill landed
    printed += len(rest.split())
    assert proc.wait(timeout=10) == -signal.SIGKILL, "the writer finished before it was killed"
    assert printed < n
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    with ProfileStore(path) as store:
        count = len(store)
        # every reported commit is there; at most the one in flight (committed, not yet reported) more
        assert printed <= count <= printed + 1
        for i in range(n):
            got = store.get("sim", CallRequest(model="m", messages=[("user", f"q{i}")]))
            assert (got is not None) == (i < count)
            if got is not None:
                assert got.latency_s == i + 0.5
        store.put("sim", CallRequest(model="m", messages=[("user", "after")]), CallResult(text="x"))
        assert len(store) == count + 1


def test_other_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    ProfileStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match=f"schema version 999, this FlowCompile reads version {SCHEMA_VERSION}"):
        ProfileStore(path)


def test_foreign_files_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="not a FlowCompile profile store"):
        ProfileStore(other)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a usable profile store"):
        ProfileStore(junk)


def test_closed_store_raises(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path / "p.db")
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.get("sim", REQ)
