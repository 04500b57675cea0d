"""The runtime: executes a workflow under one configuration against a backend.

`run_workflow` interprets a `flow.workflow` for one query (`run_many` for a
dataset) and returns a `RunResult`: output, critical-path latency, cost, every
call made, the routes and loop iterations taken. `answers` holds how agent
outputs are read (final answers, verdicts, routes), for simulated and real text
alike; `assignment` the configurations the runtime takes (a `#flow.point`'s
`assign`) and their validation.
"""

from __future__ import annotations

from flowcompile.runtime.answers import answer_key, is_approval, normalise, route_label
from flowcompile.runtime.assignment import (
    Assignment,
    assignment_from_point,
    cheapest_assignment,
    reference_assignment,
    validate_assignment,
)
from flowcompile.runtime.executor import (
    REPLICA_STRIDE,
    AgentCall,
    RunResult,
    run_many,
    run_workflow,
    score,
)
from flowcompile.runtime.messages import render_user, system_text

__all__ = [
    "REPLICA_STRIDE",
    "AgentCall",
    "Assignment",
    "RunResult",
    "answer_key",
    "assignment_from_point",
    "cheapest_assignment",
    "is_approval",
    "normalise",
    "reference_assignment",
    "render_user",
    "route_label",
    "run_many",
    "run_workflow",
    "score",
    "system_text",
    "validate_assignment",
]
