"""Per-call time-outs from the call's token allowance and the model's speed.

One fixed time-out is wrong both ways: a call that may reason for 16K tokens
on a slow model needs minutes, a short reply a few seconds, and a time-out
long enough for the first leaves a hung short call waiting for minutes. So
unless the user fixes one, each call gets `SLACK` times what its tokens
should take at the model's measured pace: its reasoning budget plus its reply
(`max_tokens`, else the longest reply the model gave so far), at the median
seconds per generated token of the model's recent completed calls, and never
less than `MIN_TIMEOUT_S`. Until a model has completed `WARM_CALLS` calls,
its calls get `UNMEASURED_TIMEOUT_S`.
"""

from __future__ import annotations

import statistics
from collections import defaultdict, deque

from flowcompile.backends.base import CallRequest, CallResult

MIN_TIMEOUT_S = 30.0
UNMEASURED_TIMEOUT_S = 600.0
SLACK = 4.0
WARM_CALLS = 3
RECENT_CALLS = 64


class CallTimeouts:
    """Time-outs per call: `fixed` seconds, or derived from measured speed."""

    def __init__(self, fixed: float = 0.0, floor_s: float = MIN_TIMEOUT_S) -> None:
        if fixed < 0:
            raise ValueError(f"timeout must be >= 0 (0: derived per call), got {fixed}")
        self.fixed, self.floor_s = fixed, floor_s
        self._pace: defaultdict[str, deque[float]] = defaultdict(lambda: deque(maxlen=RECENT_CALLS))
        self._longest_reply: dict[str, int] = {}

    def for_request(self, request: CallRequest) -> float:
        """Seconds this call may take before it is abandoned (and cancelled)."""
        if self.fixed:
            return self.fixed
        pace = self._pace.get(request.model)
        if pace is None or len(pace) < WARM_CALLS:
            return UNMEASURED_TIMEOUT_S
        reply = request.max_tokens or self._longest_reply.get(request.model, 0)
        expected = statistics.median(pace) * (request.budget + reply)
        return max(self.floor_s, SLACK * expected)

    def observe(self, request: CallRequest, result: CallResult) -> None:
        """Learn the model's pace from a completed call (failures teach nothing)."""
        if not result.ok:
            return
        generated = result.tokens_out + result.reasoning_tokens
        if generated <= 0 or result.latency_s <= 0:
            return
        self._pace[request.model].append(result.latency_s / generated)
        longest = self._longest_reply.get(request.model, 0)
        self._longest_reply[request.model] = max(longest, result.tokens_out)
