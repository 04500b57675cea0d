"""The one table of pass option bounds (passes/registry.py) and where it is applied."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import click
import pytest

from flowcompile.passes.registry import (
    FLOW_PASSES,
    UNBOUNDED_OPTIONS,
    Bound,
    OptionError,
    available_passes,
    check_options,
    option_bound,
)


def _numeric_fields(pass_name: str) -> list[str]:
    cls = available_passes()[pass_name]()
    return [
        f.name for f in dataclasses.fields(cls)
        if ("int" in str(f.type) or "float" in str(f.type)) and "bool" not in str(f.type)
    ]


@pytest.mark.parametrize("pass_name", sorted(FLOW_PASSES))
def test_every_numeric_option_of_every_flow_pass_has_a_bound(pass_name: str) -> None:
    """A new option must say which values it takes (or that it takes any)."""
    missing = [
        name for name in _numeric_fields(pass_name)
        if option_bound(pass_name, name) is None and name not in UNBOUNDED_OPTIONS
    ]
    assert not missing, f"{pass_name}: add {missing} to OPTION_BOUNDS or UNBOUNDED_OPTIONS"


@pytest.mark.parametrize(
    ("bound", "value", "problem"),
    [
        (Bound(1), 1, None),
        (Bound(1), 0, "must be >= 1"),
        (Bound(0, low_open=True), 0.0, "must be > 0"),
        (Bound(0, low_open=True), 1e-9, None),
        (Bound(0, 1), 1.0, None),
        (Bound(0, 1), 1.01, "must be <= 1"),
        (Bound(0, 1), -0.01, "must be >= 0"),
        (Bound(0), math.nan, "must be a number"),
    ],
)
def test_a_bound_says_why_a_value_is_out(bound: Bound, value: float, problem: str | None) -> None:
    assert bound.problem(value) == problem


def test_check_options_names_the_option_as_the_pipeline_spells_it() -> None:
    profile = available_passes()["profile"]()
    check_options(profile())
    with pytest.raises(OptionError, match=r"^option max-samples=-1: must be >= 0$"):
        check_options(profile(max_samples=-1))
    validate = available_passes()["validate"]()
    with pytest.raises(OptionError, match=r"^option samples=0: must be >= 1$"):  # validate's own bound
        check_options(validate(samples=0))
    check_options(profile(samples=0))  # profile's 0 is "all"
    check_options(profile(seed=-7))


def test_a_pass_run_through_the_library_is_checked_too() -> None:
    from flowcompile.compiler import CompileError, load, run_passes

    module = load(Path(__file__).resolve().parent.parent / "examples" / "chain.mlir")
    with pytest.raises(CompileError, match="profile: option concurrency=0: must be >= 1"):
        run_passes(module, "profile{concurrency=0 cache=none}")


@pytest.mark.parametrize(
    ("command", "option", "pass_name", "field"),
    [
        ("compile", "concurrency", "profile", "concurrency"),
        ("compile", "samples", "profile", "samples"),
        ("compile", "validation_samples", "validate", "samples"),
        ("compile", "k", "pareto", "k"),
        ("compile", "min_acc", "pareto", "min_acc"),
        ("run", "max_latency", "pareto", "max_latency"),
    ],
)
def test_command_options_take_the_range_of_their_pass_option(command: str, option: str, pass_name: str, field: str) -> None:
    from flowcompile.tools.cli import cli

    param = next(p for p in cli.commands[command].params if p.name == option)
    assert isinstance(param.type, click.IntRange | click.FloatRange)
    bound = option_bound(pass_name, field)
    assert bound is not None
    assert (param.type.min, param.type.max, param.type.min_open) == (bound.low, bound.high, bound.low_open)


@pytest.mark.parametrize("option", ["samples", "max_samples"])
def test_a_query_count_past_what_memory_holds_is_refused_before_anything_runs(option: str) -> None:
    """The fuzz run found `profile{samples=...}` with a huge count generating its
    simulated set until the machine ran out of memory (23 GB): it is a bound now."""
    from flowcompile.passes.registry import MAX_QUERIES

    profile = available_passes()["profile"]()
    check_options(profile(**{option: MAX_QUERIES}))
    spelled = option.replace("_", "-")
    with pytest.raises(OptionError, match=rf"^option {spelled}=100000000: must be <= {MAX_QUERIES}$"):
        check_options(profile(**{option: 10**8}, dry_run=True))
