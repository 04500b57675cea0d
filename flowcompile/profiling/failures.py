"""Failed calls during profiling: counted and reported, never measured.

A call that still fails after the backend's retries tells nothing about the
candidate's accuracy or latency, so the profiler leaves it out of every
statistic. This module decides what such failures mean:

* a stage (the reference runs, the candidate calls, recovery, aggregate levels)
  stops as soon as more than `max_failures` of its calls (runs, for the
  reference stage) have failed: the final share can then only be above the
  threshold, so stopping early loses nothing but the cost of the calls that
  would have been wasted. `ProfilingStopped` carries the provider's message;
  every finished call is already in the cache, so a rerun resumes;
* a candidate more than `max_failures` of whose own calls failed is *failed*:
  it gets no profile, the agent's `failed` attribute says why, and the search
  leaves it out (`failed_candidates`);
* fewer lost calls are tolerated and named on stderr.

Messages are scrubbed of anything key-like (`litellm_backend.scrub`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from xdsl.dialects.builtin import DictionaryAttr, StringAttr

from flowcompile.backends.base import Backend, CallRequest, CallResult
from flowcompile.backends.litellm_backend import scrub

FAILED_ATTR = "failed"
"""The agent attribute naming its failed candidates: {"model@budget" = "why"}."""

SHOWN = 5
"""Lost calls named in one message."""


class ProfilingStopped(ValueError):
    """Profiling stopped because too many calls failed; the message says which
    and what the provider answered (a ValueError: a user-facing diagnostic)."""


def allowed(total: int, max_failures: float) -> int:
    """How many of `total` calls may fail within `max_failures` (a share)."""
    return math.floor(max_failures * total + 1e-9)


class StageGuard:
    """Counts a stage's failures and stops it once their share must pass the threshold."""

    def __init__(self, stage: str, total: int, max_failures: float, unit: str = "calls") -> None:
        self.stage, self.total, self.max_failures, self.unit = stage, total, max_failures, unit
        self.lost: list[str] = []
        self.last_error = ""
        self.stopped = False

    def observe(self, what: str, error: str | None) -> None:
        """Note one finished call (`error` None when it succeeded); raise
        `ProfilingStopped` once the failures are more than the threshold allows."""
        if error is None:
            return
        self.lost.append(what)
        self.last_error = scrub(error)
        if len(self.lost) > allowed(self.total, self.max_failures):
            self.stopped = True
        self.check()

    def check(self) -> None:
        """Raise `ProfilingStopped` if the stage has stopped (before starting a call:
        calls that return at once would otherwise all run before the stop is seen)."""
        if self.stopped:
            raise ProfilingStopped(self.message())

    def message(self) -> str:
        shown = ", ".join(self.lost[:SHOWN]) + (f" and {len(self.lost) - SHOWN} more" if len(self.lost) > SHOWN else "")
        return (
            f"profiling stopped: {len(self.lost)} of {self.total} {self.stage} {self.unit} failed after retries "
            f"(max-failures={self.max_failures:g} allows {allowed(self.total, self.max_failures)}); "
            f"the provider said: {self.last_error}; lost: {shown}; "
            "every finished call is in the cache: rerun to resume"
        )


class GuardedBackend:
    """`inner`, refusing to start a call once `guard`'s stage has stopped."""

    def __init__(self, inner: Backend, guard: StageGuard) -> None:
        self.inner, self.guard, self.name = inner, guard, inner.name

    async def call(self, request: CallRequest) -> CallResult:
        self.guard.check()
        return await self.inner.call(request)


@dataclass(frozen=True)
class CandidateFailures:
    """The lost calls of one candidate configuration."""

    failed: int
    calls: int
    last_error: str

    def excluded(self, max_failures: float) -> bool:
        """Whether too few of its calls succeeded for it to be measured."""
        return self.failed >= self.calls or self.failed > allowed(self.calls, max_failures)

    def describe(self) -> str:
        return f"{self.failed} of {self.calls} calls failed; last: {self.last_error}"


def tally(outcomes: Iterable[tuple[str, str, CallResult]]) -> dict[tuple[str, str], CandidateFailures]:
    """(agent, config) -> its failures, from (agent, config, result) of every
    call; candidates without a failure are left out."""
    calls: dict[tuple[str, str], list[CallResult]] = {}
    for agent, config, result in outcomes:
        calls.setdefault((agent, config), []).append(result)
    out = {}
    for key, results in calls.items():
        bad = [r for r in results if not r.ok]
        if bad:
            out[key] = CandidateFailures(len(bad), len(results), bad[-1].failure_text())
    return out


def failed_candidates(agent: object) -> dict[str, str]:
    """The agent's failed candidates ("model@budget" -> why) as the profile pass
    recorded them; the search leaves them out."""
    attributes = getattr(agent, "attributes", {})
    found = attributes.get(FAILED_ATTR)
    if not isinstance(found, DictionaryAttr):
        return {}
    return {k: v.data for k, v in found.data.items() if isinstance(v, StringAttr)}


def failed_attr(reasons: dict[str, str]) -> DictionaryAttr:
    """The `failed` attribute for `reasons` ("model@budget" -> why)."""
    return DictionaryAttr({key: StringAttr(why) for key, why in sorted(reasons.items())})


@dataclass
class ProfileFailures:
    """What failed in one profiling run: the reference runs lost, and per
    candidate its lost calls; `excluded` holds those it leaves unmeasured."""

    runs: list[str] = field(default_factory=list)
    candidates: dict[tuple[str, str], CandidateFailures] = field(default_factory=dict)
    excluded: dict[tuple[str, str], str] = field(default_factory=dict)
    """(agent, config) -> why it is not measured."""

    def count(self, outcomes: Iterable[tuple[str, str, CallResult]], max_failures: float) -> None:
        """Tally (agent, config, result) of every candidate-side call."""
        self.candidates = tally(outcomes)
        self.excluded = {k: f.describe() for k, f in self.candidates.items() if f.excluded(max_failures)}

    @property
    def lost_calls(self) -> int:
        return sum(f.failed for f in self.candidates.values())

    def lines(self, workflow: str) -> list[str]:
        """Warnings for stderr: every lost call is named, by run or by candidate."""
        out = [f"profile @{workflow}: warning: reference {run} (not measured)" for run in self.runs]
        for (agent, config), f in sorted(self.candidates.items()):
            verdict = "excluded from the search" if (agent, config) in self.excluded else "measured on the others"
            out.append(f"profile @{workflow}: warning: @{agent} {config}: {f.describe()} ({verdict})")
        return out
