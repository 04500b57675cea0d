"""The profile store: every finished call, content-addressed, in SQLite.

A row is keyed by `request_key` (what the service sees, plus the backend name)
and keeps what was MEASURED when the call was made: latency, tokens, reasoning
tokens and their source, cost. A hit therefore costs nothing yet reads as the
original call did. Each `put` commits at once (WAL journal), so a crash or a
kill -9 loses at most the call in flight and a rerun resumes where it stopped.
Only successful results are stored; requests, API keys and headers never are.

Any number of processes may profile into one file at once. WAL lets readers
run beside the one writer; every write is a short IMMEDIATE transaction, so a
writer waits for the lock (busy time-out) instead of failing on a stale read
snapshot; and a write still refused after the time-out is retried with backoff.
The first result stored for a key wins: a process that made the same call
concurrently reads the stored row back, so every process profiles with the
same measurements as a later rerun.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from flowcompile.backends.base import CallRequest, CallResult

#: Bump when the table layout or the key changes; older stores are refused.
SCHEMA_VERSION = 1
_APP = "flowcompile-profile-store"
_SQLITE_MAGIC = b"SQLite format 3\x00"

BUSY_TIMEOUT_S = 10.0
"""How long one statement waits for another process's lock before SQLite gives up."""

LOCKED_RETRY_S = 120.0
"""How long a statement SQLite gave up on is retried (with backoff) before it is an error."""

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    budget INTEGER NOT NULL,
    sample INTEGER NOT NULL,
    text TEXT NOT NULL,
    latency_s REAL NOT NULL,
    tokens_in INTEGER NOT NULL,
    tokens_out INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    reasoning_source TEXT NOT NULL,
    cost REAL NOT NULL,
    created REAL NOT NULL
);
"""


class StoreError(ValueError):
    """A store file that cannot be used (a folder, not SQLite, unwritable, another
    schema version, corrupt). A ValueError, as the project's other input errors,
    so the drivers report it as a diagnostic."""


def check_store_path(path: Path) -> None:
    """Refuse, before SQLite sees it, a path that cannot hold a store: a folder,
    a path under a file, an existing file that is not SQLite. Creates the
    missing parent folders. ":memory:" is SQLite's in-memory store."""
    if str(path) == ":memory:":
        return
    if path.is_dir():
        raise StoreError(f"{path}: is a folder; name a file, e.g. {path / 'profile-cache.sqlite'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StoreError(f"{path}: cannot create its folder: {path.parent} is not a folder") from None
    except OSError as e:
        raise StoreError(f"{path}: cannot create its folder {path.parent}: {e.strerror or e}") from None
    try:
        with path.open("rb") as stream:
            head = stream.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        return
    except OSError as e:
        raise StoreError(f"{path}: cannot read: {e.strerror or e}") from None
    if head and head != _SQLITE_MAGIC[: len(head)]:
        raise StoreError(f"{path}: not a usable profile store (not an SQLite file)")


def _is_busy(error: sqlite3.Error) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED: another connection holds the lock."""
    name = getattr(error, "sqlite_errorname", "")
    if name:
        return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
    return "locked" in str(error) or "busy" in str(error)


def key_fields(backend_name: str, request: CallRequest) -> dict[str, Any]:
    """The fields that identify a call, as plain JSON values.

    The pool name `model` is kept beside `provider_model` because in-process
    backends (sim) have no provider string. Prices are left out: they do not
    change what the service answers. `top_p` and `stop` are there only when
    set, so the keys of calls made before they existed stay the same."""
    fields: dict[str, Any] = {
        "backend": backend_name,
        "model": request.model,
        "provider_model": request.provider_model,
        "api_base": request.api_base,
        "budget": request.budget,
        "messages": [[m.role, m.content] for m in request.messages],
        "temperature": float(request.temperature),
        "max_tokens": request.max_tokens,
        "sample": request.sample,
        "seed": request.seed,
    }
    if request.top_p is not None:
        fields["top_p"] = float(request.top_p)
    if request.stop:
        fields["stop"] = list(request.stop)
    return fields


def request_key(backend_name: str, request: CallRequest) -> str:
    """sha256 (hex) of the canonical JSON of `key_fields`."""
    canonical = json.dumps(
        key_fields(backend_name, request), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ProfileStore:
    """A SQLite file of finished calls; use from one thread (e.g. one asyncio loop)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self._db: sqlite3.Connection | None = None
        check_store_path(self.path)
        try:
            # isolation_level=None: autocommit, so each put is its own durable transaction;
            # timeout: SQLite's busy handler waits this long for another process's lock.
            self._db = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self._locked_retry(self._open)
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(f"{self.path}: not a usable profile store ({exc})") from None
        except StoreError:
            self.close()
            raise

    def _open(self) -> None:
        db = self._conn
        db.execute("PRAGMA journal_mode=WAL")
        # FULL: a call costs seconds and money, an fsync milliseconds.
        db.execute("PRAGMA synchronous=FULL")
        # IMMEDIATE takes the write lock first (waiting for it), so the checks and the
        # creation below see one state of the file, whoever else opens it at once.
        db.execute("BEGIN IMMEDIATE")
        try:
            self._check_and_create(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _check_and_create(self, db: sqlite3.Connection) -> None:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "meta" not in tables:
            raise StoreError(f"{self.path}: not a FlowCompile profile store (tables: {', '.join(sorted(tables))})")
        if "meta" in tables:
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("app") != _APP:
                raise StoreError(f"{self.path}: not a FlowCompile profile store")
            found = meta.get("schema_version")
            if found != str(SCHEMA_VERSION):
                raise StoreError(
                    f"{self.path}: profile store schema version {found}, this FlowCompile reads version "
                    f"{SCHEMA_VERSION}; profile into a new store file (or delete this one)"
                )
            return
        # In the same transaction, so a crash can never leave tables without their meta rows.
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute("INSERT OR IGNORE INTO meta VALUES ('app', ?)", (_APP,))
        db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def _locked_retry(self, action: Callable[[], T]) -> T:
        """Run `action`, retrying with capped, jittered backoff while another
        process holds the lock beyond the busy time-out; other SQLite errors,
        and a lock held past LOCKED_RETRY_S, are StoreErrors."""
        deadline = time.monotonic() + LOCKED_RETRY_S
        delay = 0.05
        while True:
            try:
                return action()
            except sqlite3.DatabaseError as exc:
                if not _is_busy(exc) or time.monotonic() + delay > deadline:
                    raise StoreError(f"{self.path}: not a usable profile store ({exc})") from None
            time.sleep(delay * (0.5 + random.random() / 2))
            delay = min(2.0, delay * 2)

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError(f"{self.path}: store is closed")
        return self._db

    def get(self, backend_name: str, request: CallRequest) -> CallResult | None:
        """The stored result of this call, or None."""
        row = self._row(request_key(backend_name, request))
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return _result(row)

    def _row(self, key: str) -> tuple[Any, ...] | None:
        db = self._conn
        return self._locked_retry(
            lambda: db.execute(
                "SELECT text, latency_s, tokens_in, tokens_out, reasoning_tokens, reasoning_source, cost "
                "FROM calls WHERE key = ?",
                (key,),
            ).fetchone()
        )

    def put(self, backend_name: str, request: CallRequest, result: CallResult) -> bool:
        """Store a successful result (committed before returning) unless the call
        is stored already; failures are ignored. Returns whether a row was written."""
        if not result.ok:
            return False
        row = (
            request_key(backend_name, request),
            backend_name,
            request.model,
            request.budget,
            request.sample,
            result.text,
            float(result.latency_s),
            int(result.tokens_in),
            int(result.tokens_out),
            int(result.reasoning_tokens),
            result.reasoning_source,
            float(result.cost),
            time.time(),
        )
        db = self._conn
        # OR IGNORE: the first result stored for a key is the measurement, whichever
        # process made it; a rerun reads that one, so every reader agrees.
        cursor = self._locked_retry(
            lambda: db.execute("INSERT OR IGNORE INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        )
        written = cursor.rowcount == 1
        self.writes += written
        return written

    def record(self, backend_name: str, request: CallRequest, result: CallResult) -> CallResult:
        """Store a successful `result`; what the store holds for the call afterwards:
        `result`, or the result another process stored first (a failure is returned as is)."""
        if self.put(backend_name, request, result) or not result.ok:
            return result
        row = self._row(request_key(backend_name, request))
        return result if row is None else _result(row)

    def remember_reader(self, endpoints: str, reader: str) -> None:
        """Note that the replies of `endpoints` (their api_bases, one string) read with `reader`."""
        db = self._conn
        self._locked_retry(lambda: db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"reader {endpoints}", reader)))

    def remembered_reader(self, endpoints: str) -> str | None:
        """The reader noted for `endpoints`, or None."""
        db = self._conn
        row = self._locked_retry(lambda: db.execute("SELECT value FROM meta WHERE key = ?", (f"reader {endpoints}",)).fetchone())
        return None if row is None else str(row[0])

    def __len__(self) -> int:
        db = self._conn
        return int(self._locked_retry(lambda: db.execute("SELECT COUNT(*) FROM calls").fetchone())[0])

    def stats(self) -> dict[str, Any]:
        """Entries, their recorded latency and cost, per-backend counts, and this session's hits."""
        db = self._conn
        entries, latency, cost = self._locked_retry(
            lambda: db.execute("SELECT COUNT(*), COALESCE(SUM(latency_s), 0), COALESCE(SUM(cost), 0) FROM calls").fetchone()
        )
        by_backend = dict(
            self._locked_retry(lambda: db.execute("SELECT backend, COUNT(*) FROM calls GROUP BY backend").fetchall())
        )
        return {
            "path": str(self.path),
            "schema_version": SCHEMA_VERSION,
            "entries": entries,
            "recorded_latency_s": latency,
            "recorded_cost": cost,
            "by_backend": by_backend,
            "hits": self.hits,
            "misses": self.misses,
            "writes": self.writes,
        }

    def close(self) -> None:
        """Close the connection (idempotent)."""
        db, self._db = getattr(self, "_db", None), None
        if db is not None:
            db.close()

    def __enter__(self) -> ProfileStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _result(row: tuple[Any, ...]) -> CallResult:
    """A stored row (the columns `_row` selects) as the result it recorded."""
    text, latency, t_in, t_out, reasoning, source, cost = row
    return CallResult(
        text=text,
        latency_s=latency,
        tokens_in=t_in,
        tokens_out=t_out,
        reasoning_tokens=reasoning,
        reasoning_source=source,
        cost=cost,
    )
