"""The proxy model of a workflow: a dataflow graph of values, and its meaning.

The `enumerate` and `pareto` passes translate flow IR into this graph; it knows
no IR. A workflow configuration is an `Assignment`, one choice index per
decision variable (`Var`: an agent's (model, budget) candidates, or a structure
knob). `evaluate` gives the proxy's estimate of a configuration; it *defines*
the proxy, and `search.frontier` must find exactly the Pareto set of it.

Every value carries (acc, t, cost): the probability it is correct, its ready
time in seconds from the workflow's start, and the expected dollars spent to
produce it. The rules (see DESIGN.md, "Proxy rules"):

* agent b on inputs X under choice c: `u = prod(acc_x)` over the inputs that
  are not redundant (an input whose agents all feed another input adds nothing
  new: the chain's shared plan counts once); `acc = p_c*u + (1-u)*min(r, p_c)`
  (recovery never beats success, which keeps the rule monotone);
  `t = max(t_x, t_gate) + lat_c`, where `lat_c` is, for an agent inside
  replicated forks running m copies of it, `lat_max_c[m-1]`: the expected
  latency of the slowest of the m calls, which the fork waits for (the mean
  `lat_c` without that measurement: older IR). An aggregator (an agent reading fork
  results, its proposals) replaces `p_c` by `sum_j P(j right) * a_c(j)`: the
  Poisson-binomial of the proposals' accuracies (a replicated fork's k samples
  count k times) against its profiled success rate with exactly j right
  proposals; without level data (older IR) by `p_c` times the chance that at
  least one proposal is right. When every proposal is a leaf agent (it reads
  only workflow inputs) measured query by query, and so is the aggregator at
  every level, the Poisson-binomial is taken per profiling query from the
  proposals' outcomes there, against the aggregator's outcome there
  (`joint_proposal_acc`): proposers that fail on the same hard queries get
  no credit for independence. A skipped optional agent passes an input on
  (`skippable`; `skipped_value`: of several, `passes` names it, a proposal
  ready when the fork joins; the cost of what it reads still counts), or,
  with `absent`, produces no value: an aggregator reads
  the k proposals present, by the k-proposal rule (the level curve read at
  k, `rules.resample_levels`), and a vote counts the inputs present; an
  absent value takes no time and costs nothing.
  The proposals are ready, in expectation, at `parallel_time` of theirs, and
  `t_x` is the largest of that and the other inputs' (and the gate's) times.
* parallel (`parallel_time`): the branches of a fork of different agents end
  at `t_i + D_i`, `D_i` the centred spread of the call that ends branch i
  (its profiled latency atoms, independent across branches; no spread for
  any other branch); they are ready at `E[max_i(t_i + D_i)]`, non-decreasing
  in every `t_i`, and `max_i t_i` when no branch has a spread.
* vote: the chance that the plurality of its inputs' answers is right (the
  Poisson-binomial of the inputs' accuracies, the binomial over the k samples
  of a replicated fork, against the chance that j right answers beat the
  wrong ones when those agree pairwise w.p. `wrong_agree`; see
  `rules.plurality_win`), per profiling query when every input is a leaf
  agent measured query by query (`joint_vote_acc`: one query's samples share
  its difficulty); `t = parallel_time` of the inputs (of a replicated
  fork: its one input, whose agents took the slowest-of-k latency).
  Per-query outcomes reach these rules through the query-difficulty model
  (`flowcompile.proxy.difficulty`), not raw.
* switch: `acc = acc_route * sum(w_i * acc_i)`, `t = sum(w_i * max(t_route, t_i))`;
  every agent inside a case waits for the route (its gate).
* refine loop: a Markov chain over the carried draft's correctness; see
  `refine_loop`. The chance that round k fixes a wrong draft is the
  reviser's, scaled by how the reference run's round k fixed wrong drafts
  against its first round (`round_decay`): a draft that survived revision is
  harder, and a deterministic reviser asked the same again answers the same. Per profiling query (`joint_refine_loop`) when the first
  draft comes from a leaf agent measured query by query and the verdict and
  the reviser were measured per query from right and wrong drafts
  (`rec_hits`): a critic lenient on the hard queries, where drafts are
  wrong, ends the loop on them; the marginal rule would spread that over
  every query.
Costs add over executed agents, weighted by branch probabilities and expected
loop iterations; cost is reported, not optimised.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from flowcompile.proxy.rules import (
    aggregate_acc,
    binomial_dist,
    binomial_plurality_acc,
    convolve_counts,
    expected_max_lat,
    level_aggregate_acc,
    plurality_vote_acc,
    plurality_win,
    resample_levels,
    right_count_dist,
    sample_count_dist,
)

Assignment = Mapping[str, int]


@dataclass(frozen=True)
class Var:
    """A decision variable: `labels[i]` is choice i (a config, a knob value)."""

    key: str
    labels: tuple[object, ...]

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class Estimate:
    acc: float
    t: float
    cost: float = 0.0
    present: bool = True
    """False for the output of a skipped agent with `absent` (no value)."""


ABSENT = Estimate(0.0, 0.0, 0.0, present=False)


class Node:
    """A value of the workflow graph. Identity matters: nodes are shared."""

    def children(self) -> Sequence[Node]:
        return ()

    def own_vars(self) -> Sequence[Var]:
        return ()


@dataclass(eq=False)
class Input(Node):
    """A workflow input: always correct, ready at time 0."""

    name: str = "query"


@dataclass(eq=False)
class Carried(Node):
    """The message a loop carries; its value is set by the loop per iteration."""

    loop: str


@dataclass(eq=False)
class Agent(Node):
    """One sub-agent call; `acc/lat/cost[i]` are the estimates of choice i.

    With `skippable`, the variable has one more choice, the last, meaning
    "skip": the output is `inputs[0]` unchanged, or with `absent` no value
    (`ABSENT`), which only a vote or an aggregator reads (as the dialect
    guarantees: a fork branch of its own, with a proposal always present).
    """

    var: Var
    inputs: tuple[Node, ...]
    acc: tuple[float, ...]
    lat: tuple[float, ...]
    cost: tuple[float, ...]
    recovery: float | tuple[float, ...] = 0.0
    """Chance of a correct output from a wrong input: one rate, or one per choice."""
    mixed: tuple[float | None, ...] = ()
    """Per choice, the chance of a correct output from a mixed input (right,
    but derived from a wrong output it also reads: `derived_input`), or None
    (or no entries): taken to be `acc`, the wrong output not mattering."""
    proposals: tuple[Node, ...] = ()
    gates: tuple[Node, ...] = ()
    """Values it waits for without reading them as content: the route of the
    switch case it is in, the verdict that sent it to revise."""
    skippable: bool = False
    absent: bool = False
    """With `skippable`: a skip produces no value instead of passing `inputs[0]` on."""
    passes: Node | None = None
    """With `skippable` and not `absent`: the value a skip passes on, one of
    `inputs` or `proposals` (None: `inputs[0]`); see `skipped_value`."""
    samples_of: dict[int, Var] = field(default_factory=dict)
    """For proposals that are a replicated fork: index -> its samples knob."""
    by_right: tuple[tuple[float, ...] | None, ...] = ()
    """Aggregators: per choice, the success rate with exactly j = 0..n proposals
    right (non-decreasing in j), or None (or no entries): the older rule."""
    lat_max: tuple[tuple[float, ...] | None, ...] = ()
    """Per choice, the expected latency of the slowest of m parallel calls,
    m = 1..K (entry m - 1), or None (or no entries): `lat` whatever m is."""
    replicas: tuple[Var, ...] = ()
    """The samples knobs of the replicated forks around the agent: under
    knob values k_1, k_2, ... it runs m = k_1 * k_2 * ... copies at once.
    The knobs belong to the forks' consumers (votes, aggregators)."""
    lat_dev: tuple[tuple[float, ...] | None, ...] = ()
    """Agents ending a branch of a fork of several: per choice, the centred
    deviations of its call latency (equally likely atoms), or None."""
    rejects: tuple[float | None, ...] = ()
    """Verdict agents: per choice, the measured chance of rejecting a wrong
    draft, or None (or no entries): taken to be `acc`, the chance of
    approving a right one."""
    hits: tuple[np.ndarray | None, ...] = ()
    """Per choice, its success rate on each profiling query (NaN: not
    measured there), or None (or no entries): composed by `acc` alone."""
    hits_k: int = 1
    """Profiled calls per query behind each entry of `hits` (replicas); 0:
    the entries are modeled rates (`difficulty.smooth`)."""
    rec_hits: tuple[np.ndarray | None, ...] = ()
    """Agents reading other agents' outputs: per choice, its success rate on
    each profiling query from a wrong input (NaN: not measured), or None."""
    level_hits: tuple[np.ndarray | None, ...] = ()
    """Aggregators: per choice, its outcome per profiling query (rows) and
    level j of right proposals (columns), NaN where not measured."""
    query_weights: np.ndarray | None = None
    """Aggregators composed query by query: the profiling queries' weights
    (None: equal), which posterior draws resample."""
    per_query: bool = True
    """Whether its rule may compose query by query (the IR's `proxy` rule
    says; `joint` tells whether it does)."""

    def children(self) -> Sequence[Node]:
        return (*self.inputs, *self.proposals, *self.gates)

    @property
    def is_leaf(self) -> bool:
        """Reads only workflow inputs and always runs: its per-query outcomes
        depend on its own choice alone."""
        return not (self.proposals or self.gates or self.skippable) and all(isinstance(x, Input) for x in self.inputs)

    @property
    def measured_per_query(self) -> bool:
        """A leaf with per-query hits for every choice."""
        return self.is_leaf and _complete(self.hits, len(self.acc))

    @property
    def modeled_per_query(self) -> bool:
        """Per-query rates from the difficulty model, from a right input and
        from a wrong one, for every choice (no query unmeasured)."""
        return self.hits_k == 0 and all(
            _complete(rows, len(self.acc)) and not any(np.isnan(r).any() for r in rows)  # pyright: ignore
            for rows in (self.hits, self.rec_hits)
        )

    @functools.cached_property
    def joint(self) -> bool:
        """An aggregator composed query by query: every proposal a leaf agent
        with per-query hits for every choice, itself with per-query levels for
        every choice (see `joint_proposal_acc`). Decided on first use."""
        if not (
            self.per_query
            and self.proposals
            and _complete(self.level_hits, len(self.acc))
            and _complete(self.by_right, len(self.acc))
            and all(isinstance(x, Agent) and x.measured_per_query for x in self.proposals)
        ):
            return False
        return _same_queries([*self.level_hits, *(h for x in self.proposals for h in x.hits)])  # pyright: ignore

    def judge_rates(self, choice: int) -> tuple[float, float]:
        """(true-approve, false-approve) rates of a verdict agent's choice."""
        reject = self.rejects[choice] if choice < len(self.rejects) else None
        return verdict_rates(self.acc[choice], reject)

    def own_vars(self) -> Sequence[Var]:
        return (self.var, *self.samples_of.values())

    def mixed_of(self, choice: int) -> float | None:
        return self.mixed[choice] if choice < len(self.mixed) else None

    def recovery_of(self, choice: int) -> float:
        if isinstance(self.recovery, tuple):
            return self.recovery[choice]
        return self.recovery

    @property
    def passed(self) -> Node:
        """The value a skip passes on (`passes`, else the first input)."""
        return self.passes if self.passes is not None else self.inputs[0]

    @property
    def skip_index(self) -> int | None:
        return len(self.acc) if self.skippable else None

    def levels_of(self, choice: int) -> tuple[float, ...] | None:
        """The level curve of a choice, if it was measured."""
        return self.by_right[choice] if choice < len(self.by_right) else None

    def call_lat(self, choice: int, copies: int) -> float:
        """The latency a choice adds when `copies` replicas of the agent run
        at once: the slowest one's expected (`lat_max`; past its last entry,
        the last), or the mean without that measurement or for one copy."""
        curve = self.lat_max[choice] if choice < len(self.lat_max) else None
        if copies <= 1 or not curve:
            return self.lat[choice]
        return curve[min(copies, len(curve)) - 1]

    def copies(self, knob_choice: Mapping[str, int]) -> int:
        """Replicas under the knobs' choices (a knob not given counts 1)."""
        m = 1
        for var in self.replicas:
            if var.key in knob_choice:
                m *= int(var.labels[knob_choice[var.key]])  # pyright: ignore[reportArgumentType]
        return m

    def __post_init__(self) -> None:
        if len({len(d) for d in self.lat_dev if d is not None}) > 1:
            raise ValueError(f"agent {self.var.key}: every choice's lat_dev needs as many atoms")

    @property
    def has_spread(self) -> bool:
        return any(d is not None for d in self.lat_dev)


@dataclass(eq=False)
class Vote(Node):
    """`flow.vote`: the most common answer; `samples` replicates a single input
    k times (a knob). `wrong_agree` is how often two wrong answers agree (1:
    all wrong answers alike, the strict-majority rule)."""

    inputs: tuple[Node, ...]
    samples: Var | None = None
    wrong_agree: float = 1.0
    query_weights: np.ndarray | None = None
    """Composed query by query: the profiling queries' weights (None: equal)."""
    per_query: bool = True
    """Whether its rule may compose query by query (see `Agent.per_query`)."""

    def children(self) -> Sequence[Node]:
        return self.inputs

    @functools.cached_property
    def joint(self) -> bool:
        """Composed query by query (`joint_vote_acc`): every input a leaf
        agent measured per query (samples of one query share its difficulty)."""
        voters = [x for x in self.inputs if isinstance(x, Agent) and x.measured_per_query]
        return self.per_query and len(voters) == len(self.inputs) and _same_queries([h for x in voters for h in x.hits])  # pyright: ignore

    def own_vars(self) -> Sequence[Var]:
        return (self.samples,) if self.samples is not None else ()


@dataclass(eq=False)
class Switch(Node):
    route: Node
    branches: tuple[Node, ...]
    probs: tuple[float, ...]

    def children(self) -> Sequence[Node]:
        return (self.route, *self.branches)


@dataclass(eq=False)
class Loop(Node):
    """A refine loop: `verdict` judges the carried draft, `next` revises it."""

    name: str
    init: Node
    carried: Carried
    verdict: Agent
    next: Node
    max_iters: Var
    query_weights: np.ndarray | None = None
    """Composed query by query: the profiling queries' weights (None: equal)."""
    per_query: bool = True
    """Whether its rule may compose query by query (see `Agent.per_query`)."""
    decay: tuple[float, ...] = ()
    """Per revision round, its chance of fixing a wrong draft against the
    first round's (`round_decay`); () where not measured: every round alike."""

    def children(self) -> Sequence[Node]:
        return (self.init,)

    @functools.cached_property
    def joint(self) -> bool:
        """Composed query by query (`joint_refine_loop`): the first draft a
        leaf agent's with modeled per-query rates, the verdict and the
        reviser modeled per query from right and wrong drafts, both reading
        only the carried draft and workflow inputs (the reviser waiting for
        the verdict). Decided on first use."""
        init, verdict, reviser = self.init, self.verdict, self.next
        if not (self.per_query and isinstance(init, Agent) and init.measured_per_query and init.hits_k == 0):
            return False
        if not (isinstance(reviser, Agent) and not reviser.proposals and not reviser.skippable):
            return False
        for agent, gates in ((verdict, ()), (reviser, (verdict,))):
            if not agent.modeled_per_query or tuple(agent.gates) != gates:
                return False
            if not all(isinstance(x, Input) or x is self.carried for x in agent.inputs):
                return False
        return _same_queries([*init.hits, *verdict.hits, *verdict.rec_hits, *reviser.hits, *reviser.rec_hits])  # pyright: ignore

    def query_rates(self, assign: Assignment) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """A joint loop's body under `assign`, per profiling query: (rho1,
        rho0, tpr, fpr) of `refine_loop`. A revision of a wrong draft is
        never more often right than of a right one (`agent_acc`'s rule,
        which keeps more skilful revisers better per query)."""
        verdict, reviser = self.verdict, self.next
        assert isinstance(reviser, Agent)
        v, r = assign[verdict.var.key], assign[reviser.var.key]
        rho1 = np.asarray(reviser.hits[r], dtype=float)
        rho0 = np.minimum(np.asarray(reviser.rec_hits[r], dtype=float), rho1)
        tpr = np.asarray(verdict.hits[v], dtype=float)
        fpr = 1.0 - np.asarray(verdict.rec_hits[v], dtype=float)
        return rho1, rho0, tpr, fpr

    def own_vars(self) -> Sequence[Var]:
        return (self.max_iters,)


# Rules shared by evaluation and search --------------------------------------


def agent_acc(p: np.ndarray | float, u: np.ndarray | float, recovery: float):
    """`p*u + (1-u)*min(r, p)`: success on correct input, recovery otherwise."""
    return p * u + (1.0 - u) * np.minimum(recovery, p)


def mixed_agent_acc(p, mixed, u, clean, recovery):
    """Success from inputs that are right and derived from right outputs
    (chance `clean`), right but derived from a wrong one (`u - clean`, at the
    `mixed` rate) and wrong (`1 - u`, at the recovery floor, as `agent_acc`).
    The mixed rate is held between the floor and p, so the estimate rises
    with u, with clean and with each rate (what the search's pruning needs)."""
    floor = np.minimum(recovery, p)
    between = np.clip(mixed, floor, p)
    return clean * p + (u - clean) * between + (1.0 - u) * floor


def verdict_rates(p: float, reject: float | None = None) -> tuple[float, float]:
    """(true-approve, false-approve) rates of a verdict agent that approves a
    right draft w.p. p and rejects a wrong one w.p. `reject` (None: p, a
    judge worse than chance taken as chance). A judge that approves wrong
    drafts more often than right ones is taken as one whose approval says
    nothing (false-approve = true-approve): either keeps the loop monotone in
    the draft's quality."""
    if reject is None:
        p = max(p, 0.5)
        return p, 1.0 - p
    return p, min(1.0 - reject, p)


def refine_loop(q0, rho1, rho0, tpr, fpr, t_check, t_revise, n: int, decay: Sequence[float] = ()):
    """Accuracy and expected latency of a bounded refine loop (broadcasting).

    Each iteration the verdict judges the carried draft: approve a correct one
    w.p. `tpr`, a wrong one w.p. `fpr`, and the loop ends with that draft.
    Otherwise the draft is revised (costing `t_revise` more), correct w.p.
    `rho1` from a correct draft and `rho0` from a wrong one. After `n`
    rejections the loop ends with the last revision; with n = 0 it runs no
    iteration and ends with the first draft (acc q0, no latency). The k-th revision of a
    wrong draft is right w.p. `rho0 * decay[k-1]` (1 past the end): a draft
    that survived earlier revisions is harder to fix (`round_decay`). Returns
    (acc, expected latency, expected checks, expected revisions).
    """
    correct = np.asarray(q0, dtype=float)
    wrong = 1.0 - correct
    acc = np.zeros(np.broadcast(correct, rho1, rho0, tpr, t_check).shape)
    lat = np.zeros_like(acc)
    checks = np.zeros_like(acc)
    revisions = np.zeros_like(acc)
    if n == 0:  # no iteration: the first draft as it came in
        acc = acc + correct
    for step in range(n):
        reach = correct + wrong
        checks = checks + reach
        lat = lat + reach * t_check
        acc = acc + correct * tpr
        rejected_correct = correct * (1.0 - tpr)
        rejected_wrong = wrong * (1.0 - fpr)
        rejected = rejected_correct + rejected_wrong
        lat = lat + rejected * t_revise
        revisions = revisions + rejected
        fix = rho0 * decay[step] if step < len(decay) else rho0
        correct = rejected_correct * rho1 + rejected_wrong * fix
        wrong = rejected - correct
        if step == n - 1:
            acc = acc + correct
    return acc, lat, checks, revisions


def joint_refine_loop(
    q0, rho1, rho0, tpr, fpr, t_check, t_revise, n: int, weights: np.ndarray | None = None,
    decay: Sequence[float] = (),
):
    """`refine_loop` query by query: its probabilities per profiling query on
    the last axis (the draft's, the verdict's and the reviser's chances there:
    a judge lenient on hard queries ends the loop on the drafts that are
    wrong there), then the (`weights`-) mean of each result over the
    queries. Broadcasts over the leading axes."""
    return tuple(
        _query_mean(x, weights) for x in refine_loop(q0, rho1, rho0, tpr, fpr, t_check, t_revise, n, decay)
    )


ROUND_PRIOR = 2.0
"""Pseudo-revisions of the prior that pulls each round's fix rate toward the
pooled one (`round_decay`)."""


def round_decay(revised: Sequence[int], fixed: Sequence[int]) -> tuple[float, ...]:
    """Per revision round k, how the chance of fixing a wrong draft compares
    with the first round's: `fixed[k] / revised[k]` (the reference run's wrong
    drafts revised in round k, and of them fixed), each shrunk toward the
    pooled rate by ROUND_PRIOR pseudo-revisions, over round 1's. At most 1: a
    draft that survived a revision is never easier to fix, which keeps the
    loop's rule monotone; a deterministic agent asked again the same thing
    answers the same, so repeated rounds may fix nothing."""
    total = sum(revised)
    if not total or not revised[0]:
        return ()
    pooled = sum(fixed) / total
    rates = [(k + ROUND_PRIOR * pooled) / (r + ROUND_PRIOR) for r, k in zip(revised, fixed, strict=True)]
    if rates[0] <= 0.0:
        return ()
    return tuple(min(1.0, rate / rates[0]) for rate in rates)


def proposal_acc(
    p: float, curve: Sequence[float] | None, accs: Sequence[np.ndarray | float], copies: Sequence[int]
):
    """An aggregator's success on correct other inputs, from its proposals'
    accuracies (broadcasting), proposal i counted `copies[i]` times: the level
    rule with a measured curve, else `p` times P(some proposal is right)."""
    if curve is not None:
        return level_aggregate_acc(right_count_dist(accs, copies), curve)
    arrays = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in accs])
    drawn = [a for a, k in zip(arrays, copies, strict=True) for _ in range(k)]
    return aggregate_acc(np.stack(drawn, -1), p)


def _complete(rows: Sequence[object], n: int) -> bool:
    return len(rows) == n and all(r is not None for r in rows)


def _same_queries(rows: Sequence[np.ndarray]) -> bool:
    """Per-query rows of one profiling run: one length."""
    return len({len(r) for r in rows}) == 1


def query_count_dist(hits: np.ndarray, calls: int, draws: int, acc: np.ndarray | float) -> np.ndarray:
    """Per profiling query, the distribution of right answers among `draws`
    calls of an agent right on `hits[..., q]` of its `calls` profiled ones
    there (`rules.sample_count_dist`; `calls` 0: `hits` are modeled rates,
    drawn independently); where not measured (NaN), `draws`
    independent calls at its accuracy `acc` (broadcast over leading axes).
    Shape: hits' shape + (draws + 1,)."""
    hits = np.asarray(hits, dtype=float)
    measured = ~np.isnan(hits)
    fallback = binomial_dist(np.broadcast_to(np.asarray(acc, dtype=float)[..., None], hits.shape), draws)
    if calls == 0:  # modeled rates (`difficulty.smooth`): independent draws given the query
        return np.where(measured[..., None], binomial_dist(np.where(measured, hits, 0.0), draws), fallback)
    right = np.rint(np.where(measured, hits, 0.0) * calls).astype(int)
    return np.where(measured[..., None], sample_count_dist(right, calls, draws), fallback)


def _query_mean(per_query: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    w = np.ones(per_query.shape[-1]) if weights is None else np.asarray(weights, dtype=float)
    return per_query @ (w / w.sum())


def joint_vote_acc(
    hits: Sequence[np.ndarray],
    calls: Sequence[int],
    accs: Sequence[np.ndarray | float],
    samples: int | None,
    wrong_agree: float = 1.0,
    weights: np.ndarray | None = None,
):
    """`flow.vote` composed query by query: over the `samples` replicas of
    `hits[0]`'s agent, or one call of each input's agent; per profiling query
    the count of right answers (`query_count_dist`; the inputs independent
    given the query) against `rules.plurality_win`, then the (`weights`-)
    mean over the queries. Broadcasts over leading axes."""
    if samples is not None:
        dist = query_count_dist(hits[0], calls[0], samples, accs[0])
    else:
        parts = [query_count_dist(h, k, 1, a) for h, k, a in zip(hits, calls, accs, strict=True)]
        dist = functools.reduce(convolve_counts, parts)
    return _query_mean(dist @ plurality_win(dist.shape[-1] - 1, wrong_agree), weights)


def joint_proposal_acc(
    curve: Sequence[float],
    levels: np.ndarray,
    hits: Sequence[np.ndarray],
    accs: Sequence[np.ndarray | float],
    copies: Sequence[int],
    weights: np.ndarray | None = None,
    calls: Sequence[int] | None = None,
):
    """An aggregator's success on correct other inputs, composed query by
    query (correlated difficulty: proposers fail together on hard queries).

    On profiling query q, proposal i's `copies[i]` draws hold as many right
    answers as `query_count_dist` gives from its `calls[i]` (default 1)
    profiled calls there (where NaN, independent draws at its accuracy
    `accs[i]`), the proposals independent given the query; the aggregator succeeds
    with j right w.p. `levels[q, j]`, measured on that query (where NaN, the
    level curve `curve[j]`; for a proposal count other than the measured
    one, the resampled curve). The estimate is the (`weights`-) mean over
    every profiling query: a candidate measured on fewer of them (adaptive
    profiling) still composes its proposers query by query, with its level
    curve where its own outcome is missing. Broadcasts over the leading
    axes of `hits` and `accs`; not monotone in the proposals' accuracies, so
    the search enumerates the proposals' choices rather than their fronts."""
    calls = [1] * len(hits) if calls is None else calls
    parts = [query_count_dist(h, c, k, a) for h, c, k, a in zip(hits, calls, copies, accs, strict=True)]
    dist = functools.reduce(convolve_counts, parts)  # [..., queries, n + 1]
    if dist.shape[-1] == levels.shape[1]:
        table = np.where(np.isnan(levels), np.asarray(curve, dtype=float)[None, :], levels)
    else:
        table = np.broadcast_to(resample_levels(curve, dist.shape[-1] - 1), (len(levels), dist.shape[-1]))
    return _query_mean((dist * table).sum(-1), weights)


def parallel_time(ts: Sequence[np.ndarray | float], spreads: Sequence[np.ndarray | None]):
    """When parallel branches are all ready, in expectation (broadcasting over
    leading axes): `E[max_i(t_i + D_i)]`, the D_i independent, each uniform
    over `spreads[i]` (last axis; None: no spread); `max_i t_i` when no branch
    has a spread. Non-decreasing in every t_i (and every atom)."""
    if all(d is None for d in spreads):
        return functools.reduce(np.maximum, (np.asarray(t, dtype=float) for t in ts))
    atoms = [
        np.asarray(t, dtype=float)[..., None] + (0.0 if d is None else np.asarray(d, dtype=float))
        for t, d in zip(ts, spreads, strict=True)
    ]
    return expected_max_lat(atoms)


def vote_acc(accs: Sequence[np.ndarray | float], samples: int | None, wrong_agree: float = 1.0):
    """`flow.vote` over inputs right w.p. `accs` (broadcasting), or over the
    `samples` replicas of `accs[0]`: the plurality rule (see
    `rules.plurality_win`)."""
    if samples is not None:
        return binomial_plurality_acc(np.asarray(accs[0], dtype=float), samples, wrong_agree)
    stacked = np.stack(np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in accs]), -1)
    return plurality_vote_acc(stacked, wrong_agree)


# Structure queries ------------------------------------------------------------


def walk(root: Node) -> Iterator[Node]:
    """Every node reachable from root, each once, children before parents,
    loop bodies included."""
    seen: set[int] = set()

    def visit(node: Node) -> Iterator[Node]:
        if id(node) in seen:
            return
        seen.add(id(node))
        for child in node.children():
            yield from visit(child)
        if isinstance(node, Loop):
            yield from visit(node.verdict)
            yield from visit(node.next)
        yield node

    yield from visit(root)


def all_vars(root: Node) -> list[Var]:
    found: dict[str, Var] = {}
    for node in walk(root):
        for var in node.own_vars():
            found.setdefault(var.key, var)
    return list(found.values())


def effective_inputs(inputs: Sequence[Node], supports: Mapping[int, frozenset[str]]) -> list[Node]:
    """Inputs minus the redundant ones: an input whose support is within
    another input's (a value that input already depends on) is dropped; of
    equal supports the first is kept."""
    unique = _unique(inputs)
    keep = []
    for i, node in enumerate(unique):
        mine = supports[id(node)]
        redundant = any(
            j != i
            and mine <= supports[id(other)]
            and (mine != supports[id(other)] or j < i)
            for j, other in enumerate(unique)
        )
        if not redundant:
            keep.append(node)
    return keep


def derived_input(node: Agent, sup: Mapping[int, frozenset[str]]) -> tuple[Node, Agent] | None:
    """(d, x) when `node` has mixed rates and reads, beside workflow inputs,
    exactly an agent x and the one value d that x reads besides workflow
    inputs (a checker reading the plan and the answer its solver built on it):
    then `node`'s inputs are right and derived from right outputs with
    chance P(x right and d right) = x's success rate times d's accuracy, the
    `clean` of `mixed_agent_acc`. Otherwise None: the rule is `agent_acc`,
    d (redundant to x, `effective_inputs`) not read."""
    if node.proposals or all(m is None for m in node.mixed):
        return None
    content = [x for x in effective_inputs(node.inputs, sup) if not isinstance(x, Input)]
    behind = [y for y in _unique(node.inputs) if not isinstance(y, Input) and all(y is not x for x in content)]
    if len(content) != 1 or len(behind) != 1 or not isinstance(x := content[0], Agent):
        return None
    if x.proposals or x.skippable:
        return None
    read = [y for y in effective_inputs(x.inputs, sup) if not isinstance(y, Input)]
    return (behind[0], x) if len(read) == 1 and read[0] is behind[0] else None


def _unique(nodes: Sequence[Node]) -> list[Node]:
    found: list[Node] = []
    for node in nodes:
        if all(node is not other for other in found):
            found.append(node)
    return found


def supports(root: Node) -> dict[int, frozenset[str]]:
    """For every node, the keys of the variables its value depends on. A
    carried message counts as a variable of its own so it is never redundant."""
    result: dict[int, frozenset[str]] = {}
    for node in walk(root):
        keys = {v.key for v in node.own_vars()}
        for child in node.children():
            keys |= result[id(child)]
        if isinstance(node, Carried):
            keys.add(f"carried:{node.loop}")
        if isinstance(node, Loop):
            keys |= result[id(node.verdict)] | result[id(node.next)]
            keys.discard(f"carried:{node.name}")
        result[id(node)] = frozenset(keys)
    return result


# Evaluation of one configuration ---------------------------------------------


def evaluate(root: Node, assignment: Assignment) -> Estimate:
    """The proxy's estimate of one workflow configuration."""
    sup = supports(root)
    memo: dict[int, Estimate] = {}
    return _eval(root, assignment, sup, memo, {})


def _eval(
    node: Node,
    assign: Assignment,
    sup: Mapping[int, frozenset[str]],
    memo: dict[int, Estimate],
    carried: Mapping[str, Estimate],
) -> Estimate:
    key = id(node)
    if key in memo:
        return memo[key]

    def ev(child: Node) -> Estimate:
        return _eval(child, assign, sup, memo, carried)

    if isinstance(node, Input):
        result = Estimate(1.0, 0.0)
    elif isinstance(node, Carried):
        result = carried[node.loop]
    elif isinstance(node, Agent):
        result = _eval_agent(node, assign, sup, ev)
    elif isinstance(node, Vote):
        present = [(x, v) for x in node.inputs if (v := ev(x)).present]  # a vote counts the present inputs
        values = [v for _, v in present]
        k = node.samples.labels[assign[node.samples.key]] if node.samples else None
        if node.joint:
            voters: list[Agent] = list(node.inputs)  # pyright: ignore[reportAssignmentType]
            acc = float(joint_vote_acc(
                [x.hits[assign[x.var.key]] for x in voters], [x.hits_k for x in voters],  # pyright: ignore
                [v.acc for v in values], k, node.wrong_agree, node.query_weights,  # pyright: ignore
            ))
        else:
            acc = float(vote_acc([v.acc for v in values], k, node.wrong_agree))  # pyright: ignore[reportArgumentType]
        cost = sum(v.cost for v in values) * (k or 1)  # pyright: ignore[reportOperatorIssue]
        result = Estimate(acc, _joined([x for x, _ in present], values, assign), cost)
    elif isinstance(node, Switch):
        route = ev(node.route)
        branches = [ev(b) for b in node.branches]
        w = node.probs
        acc = route.acc * sum(wi * b.acc for wi, b in zip(w, branches, strict=True))
        t = sum(wi * max(route.t, b.t) for wi, b in zip(w, branches, strict=True))
        cost = route.cost + sum(wi * b.cost for wi, b in zip(w, branches, strict=True))
        result = Estimate(acc, t, cost)
    elif isinstance(node, Loop):
        result = _eval_loop(node, assign, sup, ev, carried)
    else:
        raise TypeError(f"unknown proxy node {type(node).__name__}")
    memo[key] = result
    return result


def _eval_agent(node: Agent, assign: Assignment, sup, ev) -> Estimate:
    choice = assign[node.var.key]
    if choice == node.skip_index:
        return ABSENT if node.absent else skipped_value(node, assign, sup, ev)
    inputs = effective_inputs(node.inputs, sup)
    values = [ev(x) for x in inputs]
    u = math.prod(v.acc for v in values)
    t_in = max((v.t for v in values), default=0.0)
    cost = sum(v.cost for v in values)
    p = node.acc[choice]
    if node.proposals:
        # the proposals present (an absent one is no proposal: the k-proposal rule)
        proposals, proposal_values, copies = _present_proposals(node, assign, ev)
        cost += sum(v.cost * k for v, k in zip(proposal_values, copies, strict=True))
        accs = [v.acc for v in proposal_values]
        if node.joint:
            hits = [x.hits[assign[x.var.key]] for x in proposals]  # pyright: ignore
            p = float(joint_proposal_acc(
                node.by_right[choice] or (), node.level_hits[choice], hits, accs, copies, node.query_weights,  # pyright: ignore
                [x.hits_k for x in proposals],  # pyright: ignore
            ))
        else:
            p = float(proposal_acc(p, node.levels_of(choice), accs, copies))
        t_in = max(t_in, _joined(proposals, proposal_values, assign))
    for gate in node.gates:
        t_in = max(t_in, ev(gate).t)
    if (derived := derived_input(node, sup)) is not None and (mixed := node.mixed_of(choice)) is not None:
        behind, built = derived
        clean = built.acc[assign[built.var.key]] * ev(behind).acc
        acc = float(mixed_agent_acc(p, mixed, u, clean, node.recovery_of(choice)))
    else:
        acc = float(agent_acc(p, u, node.recovery_of(choice)))
    return Estimate(acc, t_in + node.call_lat(choice, node.copies(assign)), cost + node.cost[choice])


def _present_proposals(node: Agent, assign: Assignment, ev) -> tuple[list[Node], list[Estimate], list[int]]:
    """The aggregator's proposals that are present, their values, and how
    many samples each counts (a replicated fork's knob; 1 otherwise)."""
    proposals, values, copies = [], [], []
    for index, x in enumerate(node.proposals):
        value = ev(x)
        if value.present:
            var = node.samples_of.get(index)
            proposals.append(x)
            values.append(value)
            copies.append(int(var.labels[assign[var.key]]) if var is not None else 1)  # pyright: ignore[reportArgumentType]
    return proposals, values, copies


def skipped_value(node: Agent, assign: Assignment, sup, ev) -> Estimate:
    """A skipped `pass` agent's output: the value it passes on (`passed`),
    correct as that is and ready when it is (a proposal when the fork joins,
    at `parallel_time` of the proposals present); the skipped call adds no
    time and costs nothing, but what the agent reads still ran: the cost is
    its inputs' and proposals', as a call would count them."""
    passed = ev(node.passed)
    cost = sum(ev(x).cost for x in effective_inputs(node.inputs, sup))
    t = passed.t
    if node.proposals:
        proposals, values, copies = _present_proposals(node, assign, ev)
        cost += sum(v.cost * k for v, k in zip(values, copies, strict=True))
        if any(node.passed is x for x in proposals):
            t = _joined(proposals, values, assign)
    return Estimate(passed.acc, t, cost)


def spread(node: Node, choice: int | None) -> tuple[float, ...] | None:
    """The latency deviations a value brings to a parallel join: for an agent
    with `lat_dev` (ending a fork branch) its choice's, zeros for a choice
    without them or skipped (the same width, so every choice is compared
    atom by atom); None for any other value (one atom: its time)."""
    if not (isinstance(node, Agent) and node.has_spread) or choice is None:
        return None
    width = next(len(d) for d in node.lat_dev if d is not None)
    own = node.lat_dev[choice] if choice < len(node.lat_dev) and choice != node.skip_index else None
    return own if own is not None else (0.0,) * width


def _joined(nodes: Sequence[Node], values: Sequence[Estimate], assign: Assignment) -> float:
    """`parallel_time` of the values of `nodes` (each node once)."""
    seen: set[int] = set()
    ts, spreads = [], []
    for node, value in zip(nodes, values, strict=True):
        if id(node) in seen:
            continue
        seen.add(id(node))
        ts.append(value.t)
        choice = assign.get(node.var.key) if isinstance(node, Agent) else None
        spreads.append(spread(node, choice))
    return float(parallel_time(ts, spreads))


def _eval_loop(node: Loop, assign: Assignment, sup, ev, carried) -> Estimate:
    init = ev(node.init)
    outcomes = []
    for q in (1.0, 0.0):
        inner = {**carried, node.name: Estimate(q, 0.0)}
        memo: dict[int, Estimate] = {}
        verdict = _eval(node.verdict, assign, sup, memo, inner)
        nxt = _eval(node.next, assign, sup, memo, inner)
        outcomes.append((verdict, nxt))
    (verdict, next1), (_, next0) = outcomes
    n = node.max_iters.labels[assign[node.max_iters.key]]
    t_revise = max(next1.t - verdict.t, 0.0)
    if node.joint:
        q0 = node.init.hits[assign[node.init.var.key]]  # pyright: ignore[reportAttributeAccessIssue]
        acc, lat, checks, revisions = joint_refine_loop(
            q0, *node.query_rates(assign), verdict.t, t_revise, n, node.query_weights, node.decay  # pyright: ignore
        )
    else:
        tpr, fpr = node.verdict.judge_rates(assign[node.verdict.var.key])
        acc, lat, checks, revisions = refine_loop(
            init.acc, next1.acc, next0.acc, tpr, fpr, verdict.t, t_revise, n, node.decay  # pyright: ignore
        )
    revise_cost = max(next1.cost - verdict.cost, 0.0)
    cost = init.cost + float(checks) * verdict.cost + float(revisions) * revise_cost
    return Estimate(float(acc), init.t + float(lat), cost)


def assignments(variables: Sequence[Var]) -> Iterator[dict[str, int]]:
    """Every configuration of the given variables (the full cross product)."""
    keys = [v.key for v in variables]
    for combo in itertools.product(*(range(len(v)) for v in variables)):
        yield dict(zip(keys, combo, strict=True))
