"""The pass registry: every pass `flowcompile-opt -p` can run, by name.

Adding a pass is one module in this folder plus one line in `FLOW_PASSES`.
Passes outside the repository register through the `flowcompile.passes`
entry-point group (`name = "package.module:PassClass"`). Factories import their
module only when the pass is used, so `--help` stays fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points

from xdsl.passes import ModulePass

PassFactory = Callable[[], type[ModulePass]]

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
