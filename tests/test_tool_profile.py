"""Tool steps through profiling, composition and `compile`: a tool has one
configuration, measured like an agent's (latency, success by the answers),
and the proxy composes it with the sequence rule."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from flowcompile.tools import opt
from flowcompile.tools.cli import cli
from helpers.profiling import profiles

TOOL_KEY = "tool:extract_answer@0"

SPEC = {
    "workflow": "extracting",
    "models": {
        "qwen3-1.7b": {"litellm": "hosted_vllm/Qwen/Qwen3-1.7B"},
        "qwen3-8b": {"litellm": "hosted_vllm/Qwen/Qwen3-8B"},
    },
    "defaults": {"budgets": [0, 1024]},
    "agents": {
        "solver": {"role": "solver"},
        "extract": {"tool": "extract_answer", "params": {"pattern": "<<answer:[^:]+:([^>]+)>>"}},
    },
    "steps": ["solver", "extract"],
}

IR = """
flow.workflow @extracting(%q: !flow.msg) -> !flow.msg {
  %s = flow.agent @solver(%q) {role = "solver", models = ["qwen3-1.7b", "qwen3-8b"], budgets = [0, 1024]}
  %a = flow.tool @extract(%s) {tool = "extract_answer", params = {pattern = "<<answer:[^:]+:([^>]+)>>"}}
  flow.return %a
}
"""


def test_profile_and_compose_measure_the_tool_as_one_configuration(tmp_path: Path, capsys) -> None:
    source = tmp_path / "w.mlir"
    source.write_text(IR)
    code = opt.run([str(source), "-p", "profile{samples=16 max-samples=0 cache=none},compose"])
    ir, err = capsys.readouterr()
    assert code == 0, err
    measured = profiles(ir)
    assert set(measured["extract"]) == {TOOL_KEY}
    tool = measured["extract"][TOOL_KEY]
    assert tool["lat"] > 0 and tool["tok_out"] == 0.0 and tool["cost"] == 0.0
    assert tool["acc_n"] > 0 and tool["acc"] > 0.5  # extracting the sim's answer tag keeps a right answer right
    assert len(measured["solver"]) == 4
    assert 'proxy = "sequence' in ir.split("flow.tool", 1)[1].split("\n", 1)[0]
    assert f'estimates = {{"{TOOL_KEY}" = #flow.estimate<' in ir


def test_compile_end_to_end_on_a_workflow_with_a_tool(tmp_path: Path) -> None:
    spec = tmp_path / "extracting.yaml"
    spec.write_text(yaml.safe_dump(SPEC, sort_keys=False))
    result = CliRunner().invoke(
        cli,
        ["compile", str(spec), "-o", str(tmp_path / "out"), "--samples", "16", "--max-samples", "0",
         "--cache", str(tmp_path / "c.sqlite"), "--validation-samples", "16"],
    )
    assert result.exit_code == 0, result.output
    artifact = json.loads((tmp_path / "out" / "extracting.artifact.json").read_text())
    assert artifact["points"]
    compiled = (tmp_path / "out" / "extracting.compiled.mlir").read_text()
    assert "flow.tool @extract" in compiled and "flow.config_set" in compiled
