"""Tool steps at run time: a `flow.tool` call joins the trace like an agent
call, a tool that cannot run fails the run, and a `code_test` verdict ends a loop."""

from __future__ import annotations

import asyncio

from xdsl.context import Context
from xdsl.dialects.builtin import Builtin

from flowcompile.backends.base import CallRequest, CallResult
from flowcompile.diagnostics import parse_located
from flowcompile.dialects.flow import Flow, WorkflowOp
from flowcompile.profiling.dataset import Query
from flowcompile.runtime import RunResult, reference_assignment, run_workflow
from flowcompile.runtime.steps import run_tool, tool_request
from flowcompile.sim.backend import SimBackend
from flowcompile.tools import opt

QUERY = Query("q1", "[sim-query q00001] What is 6 * 7?", "42")

EXTRACT = """
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %s = flow.agent @solver(%q) {role = "solver", models = ["qwen3-8b"], budgets = [0]}
  %a = flow.tool @extract(%s) {tool = "extract_answer", params = {pattern = "<<answer:[^:]+:([^>]+)>>"}}
  flow.return %a
}
"""

REPAIR = """
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %d = flow.agent @coder(%q) {role = "solver", models = ["m"], budgets = [0]}
  %out = flow.loop @repair iter(%cur = %d) attributes {max_iters = [3]} {
    %t = flow.tool @test(%cur) {tool = "code_test", params = {tests = "assert double(3) == 6"}}
    %f = flow.agent @fixer(%q, %cur, %t) {role = "reviser", models = ["m"], budgets = [0]}
    flow.until %t, %f
  }
  flow.return %out
}
"""


def workflow(text: str) -> WorkflowOp:
    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(Flow)
    module = parse_located(ctx, text, "<test>")
    module.verify()
    return next(op for op in module.walk() if isinstance(op, WorkflowOp))


def run(wf: WorkflowOp, backend) -> RunResult:
    return asyncio.run(run_workflow(wf, reference_assignment(wf), backend, QUERY))


class Fixer:
    """A scripted backend: the coder writes a wrong program, the fixer a right one."""

    name = "scripted"

    def __init__(self) -> None:
        self.models: list[str] = []

    async def call(self, request: CallRequest) -> CallResult:
        self.models.append(request.model)
        wrong = "'coder'" in request.messages[0].content
        body = "x + 1" if wrong else "2 * x"
        return CallResult(text=f"```python\ndef double(x):\n    return {body}\n```", latency_s=1.0)


def test_a_tool_call_joins_the_trace_with_no_tokens_and_its_answer_scores() -> None:
    wf = workflow(EXTRACT)
    result = run(wf, SimBackend())
    assert result.ok, result.error
    solver, extract = result.calls
    assert (extract.agent, extract.config) == ("extract", "tool:extract_answer@0")
    assert extract.result.latency_s > 0 and extract.result.tokens_in == extract.result.tokens_out == 0
    assert extract.result.cost == 0.0
    assert result.output is not None and result.output.startswith("Answer: ")
    assert [m.content for m in extract.messages[1:]] == [solver.result.text]
    assert result.latency == solver.result.latency_s + extract.result.latency_s


def test_a_code_test_verdict_ends_a_repair_loop() -> None:
    backend = Fixer()
    result = run(workflow(REPAIR), backend)
    assert result.ok, result.error
    assert [c.agent for c in result.calls] == ["coder", "test", "fixer", "test"]
    assert result.calls[1].result.text == "reject: assert double(3) == 6: AssertionError"
    assert result.calls[3].result.text == "approve"
    assert result.loops == {"repair": (2, True)}
    assert "2 * x" in (result.output or "")
    assert all(not m.startswith("tool:") for m in backend.models)  # tools never reach the backend


def test_a_tool_that_cannot_run_fails_the_run_with_its_reason() -> None:
    wf = workflow(EXTRACT.replace('params = {pattern = "<<answer:[^:]+:([^>]+)>>"}', "params = {digits = 3}"))
    result = run(wf, SimBackend())
    assert not result.ok
    assert result.error == "tool @extract failed: tool extract_answer: unknown param 'digits' (params: pattern, number)"


def test_an_unknown_tool_request_is_a_failed_call() -> None:
    result = run_tool(tool_request("nope", {}, ["x"]))
    assert not result.ok and "unknown tool 'nope' (known tools: code_test, extract_answer" in result.text


def test_an_unknown_tool_in_ir_is_a_located_profile_error(tmp_path, capsys) -> None:
    source = tmp_path / "w.mlir"
    source.write_text(EXTRACT.replace('"extract_answer"', '"extract_answr"'))
    code = opt.run([str(source), "-p", "profile{samples=2 cache=none}"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{source}:4:3: error: profile: tool @extract: unknown tool 'extract_answr'" in err
    assert "Traceback" not in err
