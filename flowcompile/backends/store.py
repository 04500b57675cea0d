"""The profile store: every finished call, content-addressed, in SQLite.

A row is keyed by `request_key` (what the service sees, plus the backend name)
and keeps what was MEASURED when the call was made: latency, tokens, reasoning
tokens and their source, cost. A hit therefore costs nothing yet reads as the
original call did. Each `put` commits at once (WAL journal), so a crash or a
kill -9 loses at most the call in flight and a rerun resumes where it stopped.
Only successful results are stored; requests, API keys and headers never are.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from flowcompile.backends.base import CallRequest, CallResult

#: Bump when the table layout or the key changes; older stores are refused.
SCHEMA_VERSION = 1
_APP = "flowcompile-profile-store"

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


class StoreError(RuntimeError):
    """A store file that cannot be used (other schema version, not a store, corrupt)."""


def key_fields(backend_name: str, request: CallRequest) -> dict[str, Any]:
    """The fields that identify a call, as plain JSON values.

    The pool name `model` is kept beside `provider_model` because in-process
    backends (sim) have no provider string. Prices are left out: they do not
    change what the service answers."""
    return {
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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: autocommit, so each put is its own durable transaction.
            self._db: sqlite3.Connection | None = sqlite3.connect(str(self.path), isolation_level=None)
            self._open()
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
        db.execute("PRAGMA busy_timeout=5000")
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
        # One transaction, so a crash can never leave tables without their meta rows.
        db.executescript(
            f"BEGIN; {_SCHEMA}"
            f"INSERT OR IGNORE INTO meta VALUES ('app', '{_APP}');"
            f"INSERT OR IGNORE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');"
            "COMMIT;"
        )

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError(f"{self.path}: store is closed")
        return self._db

    def get(self, backend_name: str, request: CallRequest) -> CallResult | None:
        """The stored result of this call, or None."""
        row = self._conn.execute(
            "SELECT text, latency_s, tokens_in, tokens_out, reasoning_tokens, reasoning_source, cost "
            "FROM calls WHERE key = ?",
            (request_key(backend_name, request),),
        ).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
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

    def put(self, backend_name: str, request: CallRequest, result: CallResult) -> bool:
        """Store a successful result (committed before returning); failures are ignored.

        Returns whether a row was written."""
        if not result.ok:
            return False
        self._conn.execute(
            "INSERT OR REPLACE INTO calls VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
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
            ),
        )
        self.writes += 1
        return True

    def __len__(self) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0])

    def stats(self) -> dict[str, Any]:
        """Entries, their recorded latency and cost, per-backend counts, and this session's hits."""
        entries, latency, cost = self._conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(latency_s), 0), COALESCE(SUM(cost), 0) FROM calls"
        ).fetchone()
        by_backend = dict(self._conn.execute("SELECT backend, COUNT(*) FROM calls GROUP BY backend").fetchall())
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
