"""The runtime: executes a workflow under one configuration against a backend.

`run_workflow` interprets a `flow.workflow` for one query (`run_many` for a
dataset) and returns a `RunResult`: output, critical-path latency, cost, every
call made, the routes and loop iterations taken. The runtime reads agent
outputs (final answers, verdicts, routes) with the reader of the backend it
calls (`run_reader`, see `flowcompile.backends.reader`): it knows no backend's
protocol. `assignment` holds the configurations the runtime takes (a
`#flow.point`'s `assign`) and their validation.
"""

from __future__ import annotations

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
    pool_endpoints,
    run_many,
    run_reader,
    run_workflow,
    score,
)
from flowcompile.runtime.messages import render_user, system_text

__all__ = [
    "REPLICA_STRIDE",
    "AgentCall",
    "Assignment",
    "RunResult",
    "assignment_from_point",
    "cheapest_assignment",
    "pool_endpoints",
    "reference_assignment",
    "render_user",
    "run_many",
    "run_reader",
    "run_workflow",
    "score",
    "system_text",
    "validate_assignment",
]
