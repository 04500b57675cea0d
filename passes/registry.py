"""The pass registry: every pass `flowcompile-opt -p` can run, by name.

Adding a pass is one module in this folder plus one line in `FLOW_PASSES`.
Passes outside the repository register through the `flowcompile.passes`
entry-point group (`name = "package.module:PassClass"`). Factories import their
module only when the pass is used, so `--help` stays fast.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # xdsl.passes costs half a second; the CLI reads the bounds below at startup
    from xdsl.passes import ModulePass

PassFactory = Callable[[], "type[ModulePass]"]

FLOW_PASSES: dict[str, str] = {
    "profile": "flowcompile.passes.profile:ProfilePass",
    "compose": "flowcompile.passes.compose:ComposePass",
    "enumerate": "flowcompile.passes.enumerate:EnumeratePass",
    "validate": "flowcompile.passes.validate:ValidatePass",
    "pareto": "flowcompile.passes.pareto:ParetoPass",
    "strip-profiles": "flowcompile.passes.strip_profiles:StripProfilesPass",
}
"""The flow passes, in pipeline order; each also gets a `--<name>` flag."""

GENERIC_PASSES: dict[str, str] = {
    "canonicalize": "xdsl.transforms.canonicalize:CanonicalizePass",
    "cse": "xdsl.transforms.common_subexpression_elimination:CommonSubexpressionElimination",
    "dce": "xdsl.transforms.dead_code_elimination:DeadCodeElimination",
}
"""xDSL's cleanups that are meaningful on flow IR (agents have unknown effects,
so cse and dce never merge or drop an LLM call)."""

ENTRY_POINT_GROUP = "flowcompile.passes"


def _lazy(target: str) -> PassFactory:
    def load() -> type[ModulePass]:
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)

    return load


def plugin_passes() -> dict[str, PassFactory]:
    """Passes registered by installed packages under `flowcompile.passes`."""
    return {ep.name: ep.load for ep in entry_points(group=ENTRY_POINT_GROUP)}


def flow_pass_names() -> list[str]:
    return [*FLOW_PASSES, *(n for n in plugin_passes() if n not in FLOW_PASSES)]


def available_passes() -> dict[str, PassFactory]:
    """Every pass by name: flow passes, plugins, then the generic cleanups."""
    passes = {name: _lazy(target) for name, target in FLOW_PASSES.items()}
    for name, factory in plugin_passes().items():
        passes.setdefault(name, factory)
    passes.update((n, _lazy(t)) for n, t in GENERIC_PASSES.items())
    return passes


# Option bounds ---------------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    """The values a numeric option accepts: `low` (excluded when `low_open`) to `high`."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False

    def problem(self, value: float) -> str | None:
        """Why `value` is out of bounds, or None."""
        if math.isnan(value):
            return "must be a number"
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return f"must be {'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None and value > self.high:
            return f"must be <= {self.high:g}"
        return None


OPTION_BOUNDS: dict[str, Bound] = {
    "concurrency": Bound(1),
    "retries": Bound(1),
    "timeout": Bound(0, low_open=True),
    "samples": Bound(0),
    "max_samples": Bound(0),
    "budget": Bound(0),
    "draws": Bound(0),
    "candidates": Bound(1),
    "keep": Bound(1),
    "prior_strength": Bound(0),
    "limit": Bound(1),
    "k": Bound(1),
    "max_latency": Bound(0),
    "min_acc": Bound(0, 1),
    "max_cost": Bound(0),
    "max_failures": Bound(0, 1),
}
"""The numeric options' bounds, by option: an option means the same in every
pass that has it (PASS_OPTION_BOUNDS holds the exceptions). The one place these
rules live: the drivers check every pass against it before it runs, and the
`flowcompile` commands derive their options' ranges from it."""

UNBOUNDED_OPTIONS = frozenset({"seed"})
"""Numeric options that take any value."""

PASS_OPTION_BOUNDS: dict[tuple[str, str], Bound] = {
    ("validate", "samples"): Bound(1),  # validation needs a query; profile's 0 means "all"
}


class OptionError(ValueError):
    """A pass option out of its bounds; the message names the option."""


def option_bound(pass_name: str, option: str) -> Bound | None:
    """The bound of `option` (a field name, snake_case) of the pass named `pass_name`."""
    return PASS_OPTION_BOUNDS.get((pass_name, option), OPTION_BOUNDS.get(option))


def check_options(pass_: ModulePass) -> None:
    """Raise OptionError naming the first option of `pass_` out of its bounds."""
    if not dataclasses.is_dataclass(pass_):
        return
    for field in dataclasses.fields(pass_):
        value = getattr(pass_, field.name)
        bound = option_bound(pass_.name, field.name)
        if bound is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if (problem := bound.problem(value)) is not None:
            option, shown = field.name.replace("_", "-"), value if isinstance(value, int) else f"{value:g}"
            raise OptionError(f"option {option}={shown}: {problem}")
