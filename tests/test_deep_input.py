"""No crash on deep input: valid but deeply nested IR and specs either work or are
a located diagnostic with exit status 1, never a RecursionError.

IR nested up to `nesting.MAX_NESTING` brackets parses, verifies, prints and
profiles; deeper IR is rejected at the bracket that goes too deep, before xDSL
recurses. Deep YAML is rejected by the spec loader with a location.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flowcompile.nesting import MAX_NESTING
from flowcompile.tools.common import guard_main
from flowcompile.tools.opt import run

TRANSLATE = Path(sys.executable).with_name("flowcompile-translate")
AGENT = ('%a = flow.agent @a(%query) {role = "solver", prompt = "{query}", args = ["query"], '
         'models = ["qwen3-8b"], budgets = [0]}')


def nested_forks(depth: int) -> str:
    """A valid workflow whose one agent sits inside `depth` nested forks."""
    lines = ["builtin.module {", "  flow.workflow @deep(%query: !flow.msg) -> !flow.msg {"]
    lines += [f"    %f{i} = flow.fork {{" for i in range(depth)]
    lines += [f"    {AGENT}", "    flow.yield %a"]
    for i in reversed(range(depth)):
        lines += ["    }", f"    flow.yield %f{i}" if i else ""]
    lines += ["    flow.return %f0", "  }", "}"]
    return "\n".join(lines) + "\n"


def deep_attribute(depth: int) -> str:
    """A valid module with an attribute of `depth` nested arrays on the workflow."""
    value = "[" * depth + "]" * depth
    return (f"builtin.module {{\n  flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {{x = {value}}} {{\n"
            "    flow.return %q\n  }\n}\n")


def opt(capsys: pytest.CaptureFixture[str], path: Path, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = guard_main("flowcompile-opt", lambda: run([str(path), *args]))
    out = capsys.readouterr()
    return rc, out.out, out.err


def assert_located_failure(rc: int, err: str, path: Path) -> None:
    assert rc == 1, err
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: error: ", err), err
    assert "Traceback" not in err and "internal error" not in err and "RecursionError" not in err


def test_300_nested_forks_are_a_located_error(tmp_path, capsys) -> None:
    path = tmp_path / "forks.mlir"
    path.write_text(nested_forks(300))
    rc, out, err = opt(capsys, path)
    assert_located_failure(rc, err, path)
    assert f"nested more than {MAX_NESTING} levels deep" in err
    line = int(err.split(":")[1])
    assert path.read_text().splitlines()[line - 1].strip().startswith("%f")  # at a fork that goes too deep
    assert out == ""


def test_forks_nested_up_to_the_bound_parse_print_and_profile(tmp_path, capsys) -> None:
    depth = MAX_NESTING - 8  # room for the module, the workflow and the profiled agent's attributes
    path = tmp_path / "forks.mlir"
    path.write_text(nested_forks(depth))
    rc, out, err = opt(capsys, path, "-p", "profile{samples=3 max-samples=0 cache=none recovery=false},compose,pareto")
    assert rc == 0, err
    assert out.count("flow.fork") == depth and "flow.config_set" in out
    again = tmp_path / "again.mlir"
    again.write_text(out)
    rc, out2, err = opt(capsys, again)
    assert rc == 0, err
    assert out2 == out  # round trips at that depth
    rc, generic, err = opt(capsys, again, "--print-op-generic")
    assert rc == 0, err
    again.write_text(generic)
    rc, out3, err = opt(capsys, again)  # the generic form nests as deep: it reads back
    assert rc == 0, err
    assert out3 == out


def test_deep_attributes_work_up_to_the_bound_and_are_located_past_it(tmp_path, capsys) -> None:
    ok = tmp_path / "ok.mlir"
    ok.write_text(deep_attribute(MAX_NESTING - 3))  # module, workflow and attribute dict braces
    rc, out, err = opt(capsys, ok)
    assert rc == 0, err
    assert "[" * (MAX_NESTING - 3) in out
    for depth in (MAX_NESTING, 5000, 200_000):
        bad = tmp_path / f"bad{depth}.mlir"
        bad.write_text(deep_attribute(depth))
        rc, out, err = opt(capsys, bad)
        assert_located_failure(rc, err, bad)
        assert err.startswith(f"{bad}:2:")  # the line of the attribute


def test_brackets_in_strings_and_comments_do_not_count(tmp_path, capsys) -> None:
    path = tmp_path / "strings.mlir"
    deep = "[" * 1000
    text = nested_forks(1).replace('prompt = "{query}"', f'prompt = "{deep} \\" {deep} {{query}}"')
    path.write_text(f"// {deep}\n{text}")
    rc, out, err = opt(capsys, path)
    assert rc == 0, err


def fork_steps(depth: int) -> str:
    """JSON (which YAML reads) for a steps list: one agent inside `depth` nested forks."""
    step = '"solver"'
    for i in reversed(range(depth)):
        step = f'{{"fork": {{"as": "f{i}", "branches": [[{step}]], "combine": "vote"}}}}'
    return f"[{step}]"


def spec(steps: str) -> str:
    """A spec whose `steps` is the JSON text `steps`."""
    head = json.dumps({
        "workflow": "w",
        "models": {"qwen3-8b": {"litellm": "hosted_vllm/Qwen/Qwen3-8B"}},
        "defaults": {"budgets": [0]},
        "agents": {"solver": {"role": "solver", "prompt": "{query}"}},
    })
    return head[:-1] + f', "steps": {steps}}}'


def deep_mapping(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("forks", lambda: spec(fork_steps(300))),
        ("lists", lambda: spec("[" * 5000 + "]" * 5000)),
        ("mappings", lambda: spec('["solver"]').replace('"defaults"', f'"x": {deep_mapping(3000)}, "defaults"')),
    ],
)
def test_deep_yaml_is_a_located_error(tmp_path, name, text) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text())
    proc = subprocess.run([str(TRANSLATE), "--import-yaml", str(path)], capture_output=True, text=True, timeout=120)
    assert_located_failure(proc.returncode, proc.stderr, path)
    assert "nested too deeply" in proc.stderr, proc.stderr


def test_moderately_deep_yaml_forks_import(tmp_path) -> None:
    path = tmp_path / "forks.yaml"
    path.write_text(spec(fork_steps(MAX_NESTING // 2)))
    proc = subprocess.run([str(TRANSLATE), "--import-yaml", str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("flow.fork") == MAX_NESTING // 2


@pytest.mark.parametrize("length", [60, 5000])
def test_an_unterminated_long_string_is_a_located_error_not_a_hang(tmp_path, length) -> None:
    """xDSL 0.74's string regex takes time doubling with each character of a
    string with no closing quote; flowcompile's lexer regex fails in linear
    time. A hang shows here as the time-out (not a timing assertion: the old
    regex would need years for 60 characters)."""
    path = tmp_path / "unterminated.mlir"
    prompt = ("solve it step by step " * (length // 22 + 1))[:length]
    path.write_text(f'flow.workflow @w(%q: !flow.msg) -> !flow.msg {{\n  %a = flow.agent @a(%q) {{role = "solver", '
                    f'prompt = "{prompt}}}\n  flow.return %a\n}}\n')
    opt_tool = Path(sys.executable).with_name("flowcompile-opt")
    proc = subprocess.run([str(opt_tool), str(path)], capture_output=True, text=True, timeout=120)
    assert_located_failure(proc.returncode, proc.stderr, path)
    assert "unterminated string" in proc.stderr
