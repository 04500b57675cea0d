"""The workflow's shape as profiling counts it: how many calls an agent
makes in one run, how many of them run in parallel, which agents' outputs an
aggregator reads as proposals, and the bounds on profiling's calls that the
dry run states before anything runs."""

from __future__ import annotations

from xdsl.ir import BlockArgument, SSAValue

from flowcompile.dialects.flow import ForkOp, LoopOp, StepOp, WorkflowOp, YieldOp


def proposal_agents(agent: StepOp) -> list[tuple[StepOp, bool]] | None:
    """The agents whose outputs are `agent`'s proposals (the fork results it
    reads), each with whether its fork is replicated (a samples knob: its
    proposals are the samples); [] for an agent that reads no fork, None when a
    fork branch does not end with an agent's output (no levels are measured)."""
    found: list[tuple[StepOp, bool]] = []
    for value in agent.inputs:
        fork = value.owner
        if not isinstance(fork, ForkOp):
            continue
        yielded = fork.branches[fork.res.index(value)].block.last_op
        source = yielded.operands[0].owner if isinstance(yielded, YieldOp) and yielded.operands else None
        if not isinstance(source, StepOp):
            return None
        found.append((source, fork.samples is not None))
    return found


def estimate_calls(workflow: WorkflowOp, queries: int) -> tuple[int, int]:
    """Upper bounds (reference calls, candidate calls) before anything runs:
    every agent invoked at its largest replica count and loop bound, every
    query accepted."""
    reference = candidates = 0
    for agent in workflow.agents:
        calls = invocations(agent)
        reference += queries * calls
        candidates += queries * calls * len(agent.candidates())
    return reference, candidates


def estimate_aggregate_calls(workflow: WorkflowOp, queries: int) -> int:
    """Upper bound on the aggregate-level calls: per aggregator, its n
    proposals (a replicated fork's largest sample count) times its candidate
    calls, since each recorded input is rewritten to the n levels of right
    proposals other than its own."""
    return sum(aggregate_calls_bound(agent, queries) for agent in workflow.agents)


def aggregate_calls_bound(agent: StepOp, queries: int) -> int:
    """`estimate_aggregate_calls` for one agent (0 unless it reads forks)."""
    sources = proposal_agents(agent)
    if not sources:
        return 0
    n = sum(largest_samples(source) if replicated else 1 for source, replicated in sources)
    return n * queries * invocations(agent) * len(agent.candidates())


def recovery_calls_bound(agent: StepOp, queries: int, by_answers: bool = False) -> int:
    """Upper bound on an agent's recovery calls: one per candidate call, for an
    agent that reads another agent's output or a loop's carried message (0
    otherwise: nothing to perturb); judged `by_answers`, two for one that
    also reads an output another of its inputs was derived from (a mixed
    input, `truth.mixed`)."""
    def upstream(value: SSAValue) -> bool:
        if isinstance(value, BlockArgument):
            return isinstance(value.block.parent_op(), LoopOp)
        return isinstance(value.owner, StepOp)

    if not any(upstream(v) for v in agent.inputs):
        return 0
    per_call = 2 if by_answers and reads_derived(agent) else 1
    return per_call * queries * invocations(agent) * len(agent.candidates())


def reads_derived(agent: StepOp) -> bool:
    """Whether `agent` reads an agent's output that another agent it reads
    read too (the plan beside the answer built on it)."""
    read = {v for v in agent.inputs if isinstance(v.owner, StepOp)}
    return any(w in read for v in read for w in v.owner.inputs)  # pyright: ignore[reportAttributeAccessIssue]


def invocations(agent: StepOp) -> int:
    """Calls of `agent` in one run at its largest replica counts and loop bounds."""
    count = 1
    parent = agent.parent_op()
    while parent is not None and not isinstance(parent, WorkflowOp):
        if isinstance(parent, LoopOp):
            count *= max(parent.max_iter_values)
        knob = getattr(parent, "samples", None)
        if knob is not None:
            count *= max(knob.iter_values())
        parent = parent.parent_op()
    return count


def replicas_of(agent: StepOp) -> int:
    """Calls of `agent` that the replicated forks around it run in parallel
    at their largest sample counts (1 outside them)."""
    count = 1
    parent = agent.parent_op()
    while parent is not None and not isinstance(parent, WorkflowOp):
        if isinstance(parent, ForkOp) and parent.samples is not None:
            count *= max(parent.samples.iter_values())  # pyright: ignore[reportOptionalMemberAccess]
        parent = parent.parent_op()
    return count


def ends_parallel_branch(agent: StepOp) -> bool:
    """Whether `agent`'s output is what one branch of a fork of several
    (not replicated) branches yields: the fork waits for the slowest branch."""
    for use in agent.output.uses:
        fork = use.operation.parent_op()
        if isinstance(use.operation, YieldOp) and isinstance(fork, ForkOp):
            if fork.samples is None and len(fork.branches) > 1:
                return True
    return False


def largest_samples(source: StepOp) -> int:
    """The largest sample count of the replicated fork that `source` is in."""
    parent = source.parent_op()
    while parent is not None and not (isinstance(parent, ForkOp) and parent.samples is not None):
        parent = parent.parent_op()
    return max(parent.samples.iter_values()) if isinstance(parent, ForkOp) and parent.samples else 1  # pyright: ignore
