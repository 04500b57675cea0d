"""The pass registry: names, lazy loading, plugins, and the package layout."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from xdsl.context import Context
from xdsl.dialects import builtin
from xdsl.passes import ModulePass

from flowcompile.passes import registry
from flowcompile.passes.registry import (
    ENTRY_POINT_GROUP,
    FLOW_PASSES,
    GENERIC_PASSES,
    available_passes,
    flow_pass_names,
)
from flowcompile.tools.opt import run

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", sorted(available_passes()))
def test_every_registered_name_loads_its_pass(name):
    cls = available_passes()[name]()
    assert isinstance(cls, type) and issubclass(cls, ModulePass)
    assert cls.name == name


@pytest.mark.parametrize("name", sorted(FLOW_PASSES))
def test_flow_passes_are_kebab_case_modules_under_passes(name):
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", name)
    module = FLOW_PASSES[name].partition(":")[0]
    assert module == "flowcompile.passes." + name.replace("-", "_")
    assert (REPO / "passes" / (name.replace("-", "_") + ".py")).is_file()


def test_flow_and_generic_passes():
    names = flow_pass_names()
    assert names[: len(FLOW_PASSES)] == list(FLOW_PASSES)
    assert not set(GENERIC_PASSES) & set(names)
    assert list(available_passes()) == [*names, *GENERIC_PASSES]
    assert set(GENERIC_PASSES) == {"canonicalize", "cse", "dce"}


@dataclass(frozen=True)
class PluginPass(ModulePass):
    """A pass an installed package provides."""

    name = "my-plugin"

    def apply(self, ctx: Context, op: builtin.ModuleOp) -> None:
        op.attributes["plugged"] = builtin.UnitAttr()


@dataclass(frozen=True)
class FakeEntryPoint:
    name: str
    target: type[ModulePass]

    def load(self) -> type[ModulePass]:
        return self.target


@pytest.fixture
def plugins(monkeypatch):
    entries = [
        FakeEntryPoint("my-plugin", PluginPass),
        FakeEntryPoint("strip-profiles", PluginPass),  # may not shadow a flow pass
    ]
    groups: list[str] = []

    def entry_points(*, group: str):
        groups.append(group)
        return entries if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(registry, "entry_points", entry_points)
    return groups


def test_plugin_is_available_and_gets_a_flag(plugins):
    assert available_passes()["my-plugin"]() is PluginPass
    assert flow_pass_names() == [*FLOW_PASSES, "my-plugin"]
    assert plugins and set(plugins) == {ENTRY_POINT_GROUP}


def test_plugin_cannot_shadow_a_flow_pass(plugins):
    cls = available_passes()["strip-profiles"]()
    assert cls is not PluginPass and cls.name == "strip-profiles"
    assert flow_pass_names().count("strip-profiles") == 1


def test_plugin_runs_from_the_driver(plugins, tmp_path, capsys):
    source = tmp_path / "in.mlir"
    source.write_text("flow.workflow @w() {\n  flow.return\n}\n")
    assert run([str(source), "--my-plugin"]) == 0
    assert capsys.readouterr().out.startswith("builtin.module attributes {plugged} {")
    with pytest.raises(SystemExit):
        run(["--help"])
    assert "--my-plugin" in capsys.readouterr().out


def test_passes_and_dialects_are_not_top_level_modules(tmp_path):
    """Only `flowcompile.passes` and `flowcompile.dialects` exist once installed."""
    code = (
        "import importlib.util, json, flowcompile.passes, flowcompile.dialects\n"
        "print(json.dumps([importlib.util.find_spec('passes') is None,\n"
        "                  importlib.util.find_spec('dialects') is None,\n"
        "                  flowcompile.passes.__path__[0],\n"
        "                  flowcompile.dialects.__path__[0]]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    no_passes, no_dialects, passes_dir, dialects_dir = json.loads(result.stdout)
    assert no_passes and no_dialects
    assert Path(passes_dir).resolve() == REPO / "passes"
    assert Path(dialects_dir).resolve() == REPO / "dialects"


# Pipelines, as users type them ------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "lexed"),
    [
        ("profile{cache=out/x.db}", 'profile{cache="out/x.db"}'),
        ('profile{cache="out/x.db"}', 'profile{cache="out/x.db"}'),
        ("profile{samples=4 seed=-1 timeout=1.5}", "profile{samples=4 seed=-1 timeout=1.5}"),
        ("profile{world=a/w.yaml dataset=d.jsonl},compose", 'profile{world="a/w.yaml" dataset="d.jsonl"},compose'),
        ('p{x=a.b,"c d",7}', 'p{x="a.b","c d",7}'),
        ("pareto{k=8},strip-profiles", "pareto{k=8},strip-profiles"),
    ],
)
def test_bare_option_values_are_quoted_as_mlir_opt_reads_them(typed, lexed):
    assert registry.quote_bare_values(typed) == lexed


def test_a_bare_path_and_a_lone_flag_parse():
    (pass_,) = registry.parse_pipeline("profile{cache=out/x.db dry-run}")
    assert (pass_.cache, pass_.dry_run) == ("out/x.db", True)


@pytest.mark.parametrize(
    ("pipeline", "message"),
    [
        ("profle", "unknown pass 'profle'; did you mean 'profile'?"),
        ("profile{sampels=4}", "profile: unknown option 'sampels'; did you mean 'samples'?"),
        ("profile{max_sample=4}", "profile: unknown option 'max-sample'; did you mean 'max-samples'?"),
        ("pareto{k=x}", 'pareto: option k="x": expected int'),
        ("pareto{k=0}", "pareto: option k=0: must be >= 1"),
    ],
)
def test_pipeline_errors_name_the_culprit_and_the_closest_name(pipeline, message):
    with pytest.raises(registry.PipelineError) as error:
        registry.parse_pipeline(pipeline)
    assert str(error.value).startswith(message)


def test_options_are_documented_dashed_with_type_default_and_help():
    options = {o.name: o for o in registry.pass_options(available_passes()["profile"]())}
    assert options["dry-run"] == registry.OptionDoc("dry-run", "bool", "false", options["dry-run"].help)
    assert options["samples"].type == "int" and options["samples"].default == "0"
    assert options["backend"].default == '"sim"'
    assert not [name for name in options if "_" in name]
    pareto = {o.name: o for o in registry.pass_options(available_passes()["pareto"]())}
    assert (pareto["min-acc"].type, pareto["min-acc"].default) == ("float", "unset")


@pytest.mark.parametrize("name", sorted(FLOW_PASSES))
def test_every_flow_pass_option_has_a_one_line_help(name):
    undocumented = [o.name for o in registry.pass_options(available_passes()[name]()) if not o.help]
    assert undocumented == []
