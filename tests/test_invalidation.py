"""Derived attributes never go stale: the dependency table of
`flowcompile.passes.invalidation`, the passes that follow it, and the pipeline
of issue 10 that used to emit a stale frontier."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from xdsl.dialects.builtin import FloatAttr, ModuleOp, f64
from xdsl.ir import Attribute, Operation

from flowcompile.compiler import load, parse, run_passes
from flowcompile.dialects.flow import AgentOp, VoteOp
from flowcompile.passes import invalidation as inv
from flowcompile.passes.registry import FLOW_PASSES
from flowcompile.passes.strip_profiles import MEASUREMENT_ATTRS
from flowcompile.irtext import print_module

ROOT = Path(__file__).resolve().parent.parent
PROFILE = "profile{samples=12 max-samples=0 cache=none}"
VALIDATE = "validate{samples=16 cache=none}"

# A composed-ready workflow with small samples, so that the prior's strength
# moves the estimates and the frontier.
PROFILED = """
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %p = flow.agent @plan(%q) {role = "planner", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.9, acc_n = 4, lat = 1.0>, "b@0" = #flow.profile<acc = 0.75, acc_n = 40, lat = 3.0>}}
  %s = flow.agent @solve(%p) {role = "solver", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.5, acc_n = 2, lat = 0.5>, "b@0" = #flow.profile<acc = 0.8, acc_n = 50, lat = 2.0>}}
  flow.return %s
}
"""


def _names(entries: list[inv.Derived]) -> list[str]:
    return [e.name for e in entries]


# The table ---------------------------------------------------------------------


def test_table_lists_each_attribute_after_its_inputs() -> None:
    for index, entry in enumerate(inv.TABLE):
        for source in entry.inputs:
            assert source in inv.TABLE[:index], (entry.name, source.name)


def test_table_writers_are_passes_and_entries_are_distinct() -> None:
    for entry in inv.TABLE:
        assert set(entry.writers) <= set(FLOW_PASSES), entry
    keys = [(e.name, e.ops) for e in inv.TABLE]
    assert len(keys) == len(set(keys))


def test_what_each_pass_invalidates() -> None:
    assert _names(inv.invalidated_by("compose")) == ["frontier", "space", "validated"]
    assert _names(inv.invalidated_by("enumerate")) == ["validated"]
    assert _names(inv.invalidated_by("profile")) == [
        "retargeted", "estimates", "proxy", "wrong_agree", "estimate", "frontier", "space", "validated"
    ]
    assert _names(inv.invalidated_by("retarget")) == ["estimates", "proxy", "estimate", "frontier", "space", "validated"]
    assert inv.invalidated_by("validate") == inv.invalidated_by("pareto") == []
    # Whether a rule composes query by query follows from the profiles: re-profiling erases it.
    assert inv.PROXY in inv.dependents([*inv.written_by("profile")])


def test_erase_tells_a_votes_rate_from_an_agents() -> None:
    voted = PROFILED.replace("flow.return %s", '%v = flow.vote(%s) {method = "majority"}\n  flow.return %v')
    module = parse(voted, "t")
    agent = next(op for op in module.walk() if isinstance(op, AgentOp))
    vote = next(op for op in module.walk() if isinstance(op, VoteOp))
    for op in (agent, vote):
        op.attributes["wrong_agree"] = FloatAttr(0.25, f64)
    inv.erase(module, [inv.VOTE_WRONG_AGREE])
    assert "wrong_agree" not in vote.attributes and "wrong_agree" in agent.attributes


def _invalidates_paragraph(pass_name: str) -> str:
    module_name, _, _ = FLOW_PASSES[pass_name].partition(":")
    doc = importlib.import_module(module_name).__doc__ or ""
    found = re.search(r"^Invalidates\b.*?(?:\n\n|\Z)", doc, re.S | re.M)
    assert found, f"{module_name}'s docstring has no 'Invalidates' paragraph"
    return found.group(0)


@pytest.mark.parametrize(
    "pass_name",
    [
        name
        for name in FLOW_PASSES
        if name != "strip-profiles"
    ],
)
def test_each_pass_states_what_it_invalidates(pass_name: str) -> None:
    paragraph = _invalidates_paragraph(pass_name)
    named = set(re.findall(r"`([a-z_]+)`", paragraph)) & {e.name for e in inv.TABLE}
    expected = set(_names(inv.invalidated_by(pass_name)))
    assert named == expected, paragraph
    if not expected:
        assert paragraph.startswith("Invalidates nothing"), paragraph


def test_strip_profiles_states_it_erases_the_whole_table() -> None:
    paragraph = _invalidates_paragraph("strip-profiles")
    assert "everything" in paragraph
    doc = importlib.import_module("flowcompile.passes.strip_profiles").__doc__ or ""
    assert "invalidation.TABLE" in doc


# The passes --------------------------------------------------------------------


def test_stale_pipeline_of_issue_10_gives_the_recomputed_set() -> None:
    stale = run_passes(parse(PROFILED, "t"), "compose,enumerate,compose{prior-strength=50},pareto")
    fresh = run_passes(parse(PROFILED, "t"), "compose{prior-strength=50},pareto")
    # The first compose's frontier differs, so equality is not vacuous.
    first = run_passes(parse(PROFILED, "t"), "compose,pareto")
    assert print_module(first) != print_module(fresh)
    assert print_module(stale) == print_module(fresh)


def _snapshot(module: ModuleOp) -> list[tuple[Operation, dict[str, Attribute]]]:
    return [(op, dict(op.attributes)) for op in module.walk()]


def _table_names(entries: list[inv.Derived], op: Operation) -> set[str]:
    return {e.name for e in entries if e.carried_by(op)}


STAGES = [PROFILE, "compose", "enumerate", VALIDATE, "pareto", "enumerate",
          "compose{prior-strength=50}", "pareto", "strip-profiles"]
"""Every pass, and passes again over what later ones wrote: `enumerate` over
`validate`'s frontier, `compose` over a frontier, `pareto` enumerating itself."""


@pytest.mark.parametrize("example", ["router", "self_consistency", "refine"])
def test_passes_write_what_the_table_says_and_leave_nothing_stale(example: str) -> None:
    module = load(ROOT / "examples" / f"{example}.mlir")
    for stage in STAGES:
        name = stage.partition("{")[0]
        before = _snapshot(module)
        run_passes(module, stage)
        for op, old in before:
            new = dict(op.attributes)
            written = {k for k in new if new[k] != old.get(k)}
            erased = set(old) - set(new)
            stale = _table_names(inv.invalidated_by(name), op) & set(new)
            if name == "strip-profiles":
                assert not _table_names(list(inv.TABLE), op) & set(new), (op.name, new.keys())
                continue
            assert written <= _table_names(inv.written_by(name), op), (stage, op.name, written)
            assert erased <= _table_names(inv.invalidated_by(name) + inv.written_by(name), op), (
                stage, op.name, erased,
            )
            assert not stale, (stage, op.name, stale)


def test_profiling_again_erases_estimates_and_everything_downstream() -> None:
    module = load(ROOT / "examples" / "self_consistency.mlir")
    run_passes(module, f"{PROFILE},compose,enumerate")
    run_passes(module, PROFILE.replace("}", " seed=1}"))
    left = {
        (op.name, e.name)
        for op in module.walk()
        for e in inv.invalidated_by("profile")
        if e.carried_by(op) and e.name in op.attributes
    }
    assert not left, left


def test_strip_profiles_exports_the_tables_names() -> None:
    # artifact.workflow_hash drops these names from the structure it hashes
    assert MEASUREMENT_ATTRS == {e.name for e in inv.TABLE}
    assert {"frontier", "space", "validated", "profiled", "estimates"} <= MEASUREMENT_ATTRS
