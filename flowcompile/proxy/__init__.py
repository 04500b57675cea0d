"""Structure-aware accuracy/latency proxy in plain numpy: composition rules, the
proxy model and its exact Pareto search, hypervolume selection, statistics."""

from __future__ import annotations

from .frontier import FrontierLimitError, pareto_indices, pareto_mask
from .hypervolume import hypervolume_2d, select_k
from .rules import (
    aggregate_acc,
    any_correct_acc,
    binomial_plurality_acc,
    level_aggregate_acc,
    plurality_vote_acc,
    right_count_dist,
)
from .stats import acc_interval, isotonic, p95, rankdata, shrunk_acc, spearman

__all__ = [
    "FrontierLimitError",
    "acc_interval",
    "aggregate_acc",
    "any_correct_acc",
    "binomial_plurality_acc",
    "hypervolume_2d",
    "isotonic",
    "level_aggregate_acc",
    "p95",
    "pareto_indices",
    "pareto_mask",
    "plurality_vote_acc",
    "rankdata",
    "right_count_dist",
    "select_k",
    "shrunk_acc",
    "spearman",
]
