"""Recorded call traces: `RecordingBackend` writes them, `ReplayBackend` answers from them.

A trace is JSONL, one successful call per line, sorted keys: the request's key
fields (`flowcompile.backends.store.key_fields`: backend, model, provider_model,
api_base, budget, messages, temperature, max_tokens, sample, seed, and top_p
and stop where set), its `key`,
and the measured result (text, latency_s, tokens_in, tokens_out,
reasoning_tokens, reasoning_source, cost), and the `reader` its text needs
(`flowcompile.backends.reader`). No keys or headers are ever written, so a
trace can be shared and a profile re-run without any provider.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from flowcompile.backends.base import Backend, CallRequest, CallResult, Message
from flowcompile.backends.reader import TEXT_READER, Endpoints, Reader, get_reader, known_readers, reader_of
from flowcompile.backends.store import key_fields, request_key

#: The error kind of a request with no recording (not retryable: asking again won't help).
NO_RECORDING = "no recorded reply"
_RESULT_FIELDS = ("text", "latency_s", "tokens_in", "tokens_out", "reasoning_tokens", "reasoning_source", "cost")


class TraceError(ValueError):
    """A trace file that cannot be read: `<path>:<line>: <reason>`."""


def trace_line(backend_name: str, request: CallRequest, result: CallResult, reader: str = TEXT_READER.name) -> str:
    """The JSONL line (with newline) recording one successful call, read by `reader`."""
    row: dict[str, Any] = key_fields(backend_name, request)
    row["key"] = request_key(backend_name, request)
    row["reader"] = reader
    for name in _RESULT_FIELDS:
        row[name] = getattr(result, name)
    return json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n"


def _request_of(row: dict[str, Any]) -> CallRequest:
    return CallRequest(
        model=row["model"],
        provider_model=row.get("provider_model", ""),
        api_base=row.get("api_base"),
        budget=int(row.get("budget", 0)),
        messages=tuple(Message(str(role), str(content)) for role, content in row["messages"]),
        temperature=float(row.get("temperature", 0.0)),
        max_tokens=row.get("max_tokens"),
        sample=int(row.get("sample", 0)),
        seed=int(row.get("seed", 0)),
        top_p=None if row.get("top_p") is None else float(row["top_p"]),
        stop=tuple(str(s) for s in row.get("stop", ())),
    )


def _result_of(row: dict[str, Any]) -> CallResult:
    return CallResult(
        text=str(row["text"]),
        latency_s=float(row["latency_s"]),
        tokens_in=int(row["tokens_in"]),
        tokens_out=int(row["tokens_out"]),
        reasoning_tokens=int(row.get("reasoning_tokens", 0)),
        reasoning_source=str(row.get("reasoning_source", "")),
        cost=float(row.get("cost", 0.0)),
    )


def _reader_name(row: dict[str, Any]) -> str:
    # A line written before readers were recorded: the reader named like its backend (the sim's), else text.
    named = row.get("reader") or (row["backend"] if row.get("backend") in known_readers() else TEXT_READER.name)
    if named not in known_readers():
        raise ValueError(f"unknown reader {named!r} (known readers: {', '.join(known_readers())})")
    return str(named)


def _replay_key(request: CallRequest) -> str:
    # Replay matches on what was asked, whichever backend recorded it.
    return request_key("", request)


class ReplayBackend:
    """Answers requests from a recorded trace (registered as "replay", option `trace=PATH`).

    `backend` restricts the trace to lines recorded by that backend. When one
    request was recorded several times, the first recording wins."""

    name = "replay"

    def __init__(self, trace: str | Path, backend: str | None = None) -> None:
        self.path = Path(trace)
        self.counters: Counter[str] = Counter()
        self._replies: dict[str, CallResult] = {}
        self._readers: set[str] = set()
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise TraceError(f"{self.path}: cannot read trace ({exc.strerror or exc})") from None
        problems = []
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if backend is not None and row.get("backend") != backend:
                    continue
                self._replies.setdefault(_replay_key(_request_of(row)), _result_of(row))
                self._readers.add(_reader_name(row))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
                problems.append(f"{self.path}:{lineno}: bad trace line ({type(exc).__name__}: {exc})")
        if problems:
            raise TraceError("\n".join(problems))

    def __len__(self) -> int:
        return len(self._replies)

    def reader_for(self, endpoints: Endpoints) -> Reader:
        """The reader the trace's lines name (free text when they name only that)."""
        named = sorted(self._readers - {TEXT_READER.name})
        if len(named) > 1:
            raise TraceError(f"{self.path}: lines need different readers ({', '.join(named)})")
        return get_reader(named[0]) if named else TEXT_READER

    async def call(self, request: CallRequest) -> CallResult:
        """The recorded result, or a non-retryable `NO_RECORDING` error (message in `text`)."""
        key = _replay_key(request)
        found = self._replies.get(key)
        if found is None:
            self.counters["misses"] += 1
            model = request.provider_model or request.model
            return CallResult(
                error=NO_RECORDING,
                text=(
                    f"{NO_RECORDING} for model {model} (budget {request.budget}, sample {request.sample}, "
                    f"key {key[:12]}) in {self.path}"
                ),
            )
        self.counters["hits"] += 1
        return found


class RecordingBackend:
    """Forwards to `inner` and appends each successful call to a JSONL trace, one flush per line."""

    def __init__(self, inner: Backend, path: str | Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.path = Path(path)
        self.counters: Counter[str] = Counter()
        self._fh: IO[str] | None = None

    async def call(self, request: CallRequest) -> CallResult:
        """Call `inner`; record the result if it succeeded."""
        result = await self.inner.call(request)
        if result.ok:
            if self._fh is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fh = self.path.open("a", encoding="utf-8")
            reader = reader_of(self.inner, (request.api_base,)).name
            self._fh.write(trace_line(self.name, request, result, reader))
            self._fh.flush()
            self.counters["recorded"] += 1
        return result

    def close(self) -> None:
        """Close the trace file (idempotent)."""
        fh, self._fh = self._fh, None
        if fh is not None:
            fh.close()

    def __enter__(self) -> RecordingBackend:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
