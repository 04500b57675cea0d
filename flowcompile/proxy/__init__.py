"""Structure-aware accuracy/latency proxy: composition rules, Pareto frontiers,
hypervolume selection and profiling statistics, in plain numpy."""

from __future__ import annotations

from .frontier import (
    Frontier,
    FrontierLimitError,
    brute_force_pareto,
    combine,
    leaf,
    pareto_indices,
    pareto_mask,
    prune,
)
from .hypervolume import hypervolume_2d, select_k
from .rules import (
    aggregate_acc,
    any_correct_acc,
    binomial_majority_acc,
    chain_acc,
    chain_lat,
    majority_vote_acc,
    parallel_lat,
    sequence_acc,
    switch_acc,
    switch_lat,
)
from .stats import acc_interval, p95, rankdata, shrunk_acc, spearman

__all__ = [
    "Frontier",
    "FrontierLimitError",
    "acc_interval",
    "aggregate_acc",
    "any_correct_acc",
    "binomial_majority_acc",
    "brute_force_pareto",
    "chain_acc",
    "chain_lat",
    "combine",
    "hypervolume_2d",
    "leaf",
    "majority_vote_acc",
    "p95",
    "parallel_lat",
    "pareto_indices",
    "pareto_mask",
    "prune",
    "rankdata",
    "select_k",
    "shrunk_acc",
    "spearman",
    "switch_acc",
    "switch_lat",
]
