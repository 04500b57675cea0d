"""The profiling dataset: JSONL, one query per line.

Each line is an object with string fields ``id``, ``input`` and ``reference``;
any other keys are kept, in order, in `Query.meta`. `load_dataset` checks the
whole file and reports every problem at once, one ``<path>:<line>: <reason>``
per line, so a hand-edited file is fixed in one pass.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

REQUIRED: tuple[str, ...] = ("id", "input", "reference")


class DatasetError(ValueError):
    """A dataset file with problems; the message lists them, one per line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Query:
    """One profiling query: its id, the workflow input, the reference answer, extra keys."""

    id: str
    input: str
    reference: str
    meta: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), compare=False)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of this query (extra keys first-level, as read)."""
        return {**dict(self.meta), "id": self.id, "input": self.input, "reference": self.reference}


def queries_digest(queries: Iterable[Query]) -> str:
    """A digest of the queries, in order (ids, inputs and references): two
    records name the same query set exactly when their digests agree."""
    canonical = json.dumps([q.to_json() for q in queries], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def load_dataset(path: str | Path) -> list[Query]:
    """Read and check a JSONL dataset; raise `DatasetError` listing every bad line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError([f"{path}:0: cannot read dataset ({exc})"]) from None
    problems: list[str] = []
    queries: list[Query] = []
    first_line: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{lineno}: invalid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(row, dict):
            problems.append(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")
            continue
        bad = False
        for name in REQUIRED:
            if name not in row:
                problems.append(f"{path}:{lineno}: missing field {name!r}")
                bad = True
            elif not isinstance(row[name], str):
                problems.append(f"{path}:{lineno}: field {name!r} must be a string, got {type(row[name]).__name__}")
                bad = True
        if bad:
            continue
        qid = row["id"]
        if not qid:
            problems.append(f"{path}:{lineno}: field 'id' must not be empty")
            continue
        if qid in first_line:
            problems.append(f"{path}:{lineno}: duplicate id {qid!r} (first on line {first_line[qid]})")
            continue
        first_line[qid] = lineno
        queries.append(as_query(row))
    if not problems and not queries:
        problems.append(f"{path}:1: empty dataset (no queries)")
    if problems:
        raise DatasetError(problems)
    return queries


def as_query(row: Mapping[str, Any]) -> Query:
    """A `Query` from a dict with string id/input/reference (other keys go to meta)."""
    for name in REQUIRED:
        if not isinstance(row.get(name), str):
            raise ValueError(f"query field {name!r} must be a string, got {row.get(name)!r}")
    meta = MappingProxyType({k: v for k, v in row.items() if k not in REQUIRED})
    return Query(row["id"], row["input"], row["reference"], meta)


def write_dataset(path: str | Path, queries: Iterable[Query | Mapping[str, Any]]) -> Path:
    """Write queries (or dicts, e.g. from `flowcompile.sim.generate_dataset`) as JSONL.

    Raises ValueError, before writing anything, on what `load_dataset` would refuse."""
    rows = [q if isinstance(q, Query) else as_query(q) for q in queries]
    seen: set[str] = set()
    for q in rows:
        if not q.id or q.id in seen:
            raise ValueError(f"query id {q.id!r} is empty or repeated")
        seen.add(q.id)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for q in rows:
            fh.write(json.dumps(q.to_json(), sort_keys=True, ensure_ascii=False) + "\n")
    return path
