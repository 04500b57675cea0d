"""Tool steps: the registry, its plugins, and the built-in tools' behaviour."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest

from flowcompile import steps
from flowcompile.backends.reader import TEXT_READER
from flowcompile.steps import ENTRY_POINT_GROUP, Tool, ToolResult, UnknownToolError, registered_tools, tool_named
from flowcompile.steps.code_test import ENV, program_text


class Upper:
    """A tool an installed package provides."""

    name = "upper"

    def check(self, params):
        return []

    def run(self, inputs, params):
        return ToolResult(inputs[-1].upper())


@dataclass(frozen=True)
class FakeEntryPoint:
    name: str
    target: object

    def load(self) -> object:
        return self.target


@pytest.fixture
def plugins(monkeypatch):
    entries = [FakeEntryPoint("upper", Upper), FakeEntryPoint("code_test", Upper)]
    groups: list[str] = []

    def entry_points(*, group: str):
        groups.append(group)
        return entries if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(steps, "entry_points", entry_points)
    registered_tools.cache_clear()
    yield groups
    registered_tools.cache_clear()


def test_builtins_are_registered_and_are_tools():
    tools = registered_tools()
    assert {"extract_answer", "code_test"} <= set(tools)
    assert all(isinstance(t, Tool) and t.name == name for name, t in tools.items())


def test_plugin_tool_is_found_but_cannot_replace_a_builtin(plugins):
    assert tool_named("upper").run(["abc"], {}).text == "ABC"
    assert type(tool_named("code_test")).__name__ == "CodeTest"
    assert plugins == [ENTRY_POINT_GROUP]


def test_unknown_tool_names_the_known_ones():
    with pytest.raises(UnknownToolError, match=r"unknown tool 'nope' \(known tools: code_test, extract_answer"):
        tool_named("nope")


@pytest.mark.parametrize(
    ("params", "text", "answer"),
    [
        ({"number": True}, "first 3, then 4.5 and finally -12", "-12"),
        ({"pattern": r"<<answer:[^:]+:([^>]+)>>"}, "x <<answer:s:a17>> y <<answer:s:B2>>", "b2"),
        ({"number": True}, "no digits here", ""),
    ],
)
def test_extract_answer_reads_as_an_answer(params, text, answer):
    result = tool_named("extract_answer").run(["ignored 99", text], params)
    assert result.ok and result.text.startswith("Answer: ")
    assert TEXT_READER.answer_key(result.text) == answer


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({}, "give one of pattern"),
        ({"pattern": "(a)(b)"}, "exactly one group, has 2"),
        ({"pattern": "("}, "pattern is no regex"),
        ({"number": True, "digits": 3}, "unknown param 'digits'"),
    ],
)
def test_extract_answer_checks_its_params(params, problem):
    tool = tool_named("extract_answer")
    assert any(problem in p for p in tool.check(params))
    assert not tool.run(["1"], params).ok


TESTS = "assert double(2) == 4\nassert double(3) == 6\n"


def test_code_test_approves_a_fenced_program_that_passes():
    result = tool_named("code_test").run(["Here:\n```python\ndef double(x):\n    return 2 * x\n```\n"], {"tests": TESTS})
    assert result == ToolResult("approve") and TEXT_READER.is_approval(result.text)


def test_code_test_rejects_with_the_first_failing_assert():
    result = tool_named("code_test").run(["def double(x):\n    return x + 2\n"], {"tests": TESTS})
    assert result.ok and not TEXT_READER.is_approval(result.text)
    assert result.text == "reject: assert double(3) == 6: AssertionError"


@pytest.mark.parametrize(
    ("program", "reason"),
    [
        ("import socket\nsocket.create_connection(('127.0.0.1', 9))", "network access is disabled"),
        ("import socket\nsocket.socket()", "network access is disabled"),
        ("while True:\n    pass", "timed out after 1 s"),
        ("while True:\n    print('x' * 1000)", "wrote more than"),
        ("def double(:", "SyntaxError"),
    ],
)
def test_code_test_guards(program, reason):
    result = tool_named("code_test").run([program], {"tests": TESTS, "timeout_s": 1})
    assert result.ok and result.text.startswith("reject: ") and reason in result.text
    assert not TEXT_READER.is_approval(result.text)


def test_code_test_runs_isolated_in_an_empty_dir(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    program = "import os, sys\ndef double(x):\n    return 2 * x\n"
    tests = "assert 'OPENAI_API_KEY' not in os.environ\nassert os.listdir('.') == ['candidate.py'] or sorted(os.listdir('.')) == ['candidate.py', 'output.txt']\nassert sys.flags.isolated\n"
    assert tool_named("code_test").run([program], {"tests": tests}).text == "approve"
    assert "OPENAI_API_KEY" not in ENV and sys.executable


def test_code_test_checks_its_params():
    tool = tool_named("code_test")
    assert any("tests must be" in p for p in tool.check({}))
    assert any("timeout_s must be" in p for p in tool.check({"tests": "pass", "timeout_s": 0}))
    assert any("tests are not Python" in p for p in tool.check({"tests": "assert ("}))
    assert not tool.run(["x = 1"], {}).ok


def test_program_text_takes_the_first_fence_or_everything():
    assert program_text("a\n```py\nx = 1\n```\n```python\ny = 2\n```") == "x = 1\n"
    assert program_text("x = 1") == "x = 1"
