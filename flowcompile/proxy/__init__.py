"""Structure-aware accuracy/latency proxy in plain numpy: composition rules, the
proxy model and its exact Pareto search, hypervolume selection, statistics."""

from __future__ import annotations

from .frontier import FrontierLimitError, pareto_indices, pareto_mask
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
    "FrontierLimitError",
    "acc_interval",
    "aggregate_acc",
    "any_correct_acc",
    "binomial_majority_acc",
    "chain_acc",
    "chain_lat",
    "hypervolume_2d",
    "majority_vote_acc",
    "p95",
    "parallel_lat",
    "pareto_indices",
    "pareto_mask",
    "rankdata",
    "select_k",
    "shrunk_acc",
    "spearman",
    "switch_acc",
    "switch_lat",
]
