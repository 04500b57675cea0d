"""The token-based latency model: a per-model speed table and its law.

A call's latency is modelled as

    latency = ttft_s + tokens_in / prefill_tok_per_s + max(tokens_out - 1, 0) / decode_tok_per_s

with `tokens_out` counting reasoning tokens too (they are decoded like the
answer). `ttft_s` is the time to the first token of an empty prompt (queueing,
scheduling and the first decode step); a rate of None means the prompt's
processing was too fast to separate from `ttft_s` on the measured lengths. The
law is linear in tokens, so a profile's mean latency follows from its mean
token counts.

The table is measured by `flowcompile bench-latency` through the serving
endpoint (`flowcompile.latency_bench`); the `retarget` pass reads it. It is
JSON, versioned, and records how it was measured (concurrency, endpoints)
and never a key.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FORMAT = "flowcompile-speed-table"
VERSION = 1
LAW = "latency = ttft_s + tokens_in / prefill_tok_per_s + max(tokens_out - 1, 0) / decode_tok_per_s"


class SpeedTableError(ValueError):
    """A speed table that cannot be read: the message starts with `path:` (and
    `line:col:` when the JSON itself is broken)."""


@dataclass(frozen=True)
class ModelSpeed:
    """One model's measured speeds on one endpoint."""

    ttft_s: float
    decode_tok_per_s: float
    prefill_tok_per_s: float | None = None
    provider: str = ""
    endpoint: str = ""
    requests: int = 0

    def latency(self, tokens_in: float, tokens_out: float) -> float:
        """The law's latency of a call with these (mean) token counts."""
        prefill = 0.0 if self.prefill_tok_per_s is None else tokens_in / self.prefill_tok_per_s
        return self.ttft_s + prefill + max(tokens_out - 1.0, 0.0) / self.decode_tok_per_s


@dataclass(frozen=True)
class SpeedTable:
    """Speeds per pool model, and how they were measured."""

    models: Mapping[str, ModelSpeed]
    concurrency: int
    backend: str
    simulated: bool = False

    def to_json(self) -> str:
        """The table as the file `load` reads (sorted keys: same table, same bytes)."""
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "law": LAW,
            "backend": self.backend,
            "simulated": self.simulated,
            "concurrency": self.concurrency,
            "models": {name: asdict(speed) for name, speed in sorted(self.models.items())},
        }
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def digest(text: str | bytes) -> str:
    """The short content digest a retargeted workflow records for its table."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return "sha256:" + hashlib.sha256(data).hexdigest()[:16]


def load(path: str | Path) -> tuple[SpeedTable, str]:
    """The table in `path` and its digest; SpeedTableError names what is wrong."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise SpeedTableError(f"{path}: cannot read the speed table: {e.strerror or e}") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise SpeedTableError(f"{path}: the speed table is not UTF-8 text ({e.reason} at byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise SpeedTableError(f"{path}:{e.lineno}:{e.colno}: the speed table is not JSON: {e.msg}") from None
    return parse(doc, str(path)), digest(raw)


def parse(doc: Any, where: str) -> SpeedTable:
    """A speed table from its JSON document (`where` prefixes every problem)."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SpeedTableError(f"{where}: not a speed table (no \"format\": \"{FORMAT}\"; write one with bench-latency)")
    if doc.get("version") != VERSION:
        raise SpeedTableError(f"{where}: speed table version {doc.get('version')!r}, this reader knows {VERSION}")
    models = doc.get("models")
    if not isinstance(models, dict) or not models:
        raise SpeedTableError(f"{where}: \"models\" must map each model to its speeds")
    concurrency = doc.get("concurrency")
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise SpeedTableError(f"{where}: \"concurrency\" must be a positive integer, got {concurrency!r}")
    return SpeedTable(
        models={name: _speed(entry, f"{where}: model {name!r}") for name, entry in models.items()},
        concurrency=concurrency,
        backend=str(doc.get("backend", "")),
        simulated=bool(doc.get("simulated", False)),
    )


def _speed(entry: Any, where: str) -> ModelSpeed:
    if not isinstance(entry, dict):
        raise SpeedTableError(f"{where}: must be an object of speeds")

    def number(key: str, optional: bool = False, positive: bool = True) -> float | None:
        value = entry.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise SpeedTableError(f"{where}: {key} must be a finite number, got {value!r}")
        if value < 0 or (positive and value == 0):
            raise SpeedTableError(f"{where}: {key} must be {'> 0' if positive else '>= 0'}, got {value!r}")
        return float(value)

    requests = entry.get("requests", 0)
    if not isinstance(requests, int) or isinstance(requests, bool) or requests < 0:
        raise SpeedTableError(f"{where}: requests must be a non-negative integer, got {requests!r}")
    ttft = number("ttft_s", positive=False)
    decode = number("decode_tok_per_s")
    assert ttft is not None and decode is not None
    return ModelSpeed(
        ttft_s=ttft,
        decode_tok_per_s=decode,
        prefill_tok_per_s=number("prefill_tok_per_s", optional=True),
        provider=str(entry.get("provider", "")),
        endpoint=str(entry.get("endpoint", "")),
        requests=requests,
    )


@dataclass(frozen=True)
class Timing:
    """One streamed request: its token counts and when its tokens came."""

    tokens_in: int
    tokens_out: int
    first_s: float
    """Seconds to the first generated token (content or reasoning)."""
    total_s: float


def fit(timings: Sequence[Timing]) -> tuple[float, float | None, float]:
    """(ttft_s, prefill_tok_per_s, decode_tok_per_s) of the law by least squares:
    the first token's time against the prompt's length, then the rest of the
    reply's time against its tokens. A slope that is not positive gives no
    prefill rate (ttft_s is then the mean time to the first token). The second
    fit's intercept, a fixed cost of streaming (the client's handling of each
    event; a sim server sends a fixed number), is left out: a call that is not
    streamed does not pay it."""
    ttft, per_prompt_token = _line([(t.tokens_in, t.first_s) for t in timings])
    prefill = 1.0 / per_prompt_token if per_prompt_token > 0 else None
    if prefill is None:
        ttft = sum(t.first_s for t in timings) / len(timings)
    _overhead, per_token = _line([(t.tokens_out - 1, t.total_s - t.first_s) for t in timings])
    if per_token <= 0:
        raise ValueError("the replies' times do not grow with their tokens: no decode rate (measure longer replies)")
    return max(ttft, 0.0), prefill, 1.0 / per_token


def _line(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line through `points` (slope 0 if x never varies)."""
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0
    return mean_y - slope * mean_x, slope
