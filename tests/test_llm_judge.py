"""judge=llm:MODEL: a model of the pool grades a reference run's answer."""

from __future__ import annotations

import asyncio
from pathlib import Path

from flowcompile.backends.base import CallRequest, CallResult
from flowcompile.compiler import load, the_workflow
from flowcompile.profiling.dataset import Query
from flowcompile.profiling.session import LLMJudge
from flowcompile.runtime import RunResult

CHAIN = Path(__file__).resolve().parent.parent / "examples" / "chain.mlir"


class Grader:
    """Answers every grading request with a fixed reply, and records it."""

    name = "fake"

    def __init__(self, reply: str):
        self.reply = reply
        self.requests: list[CallRequest] = []

    async def call(self, request: CallRequest) -> CallResult:
        self.requests.append(request)
        return CallResult(text=self.reply, latency_s=0.1)


def judge(reply: str, output: str, reference: str) -> tuple[bool, Grader]:
    grader = Grader(reply)
    workflow = the_workflow(load(CHAIN))
    verdict = LLMJudge(workflow, "qwen3-8b", grader)
    result = RunResult(query_id="q", output=output, latency=1.0, cost=0.0)
    return asyncio.run(verdict(result, Query("q", "What is 6 x 7?", reference))), grader


def test_an_exact_match_needs_no_grader_call() -> None:
    accepted, grader = judge("NO", "The answer: 42", "42")
    assert accepted and grader.requests == []


def test_the_grader_decides_when_answers_differ() -> None:
    accepted, grader = judge("YES, they are equivalent.", "forty-two", "42")
    assert accepted
    (request,) = grader.requests
    assert request.model == "qwen3-8b" and request.provider_model == "hosted_vllm/Qwen/Qwen3-8B"
    assert request.budget == 0
    assert "Reference answer:\n42" in request.messages[-1].content
    assert "Candidate answer:\nforty-two" in request.messages[-1].content
    rejected, _ = judge("NO", "forty-one", "42")
    assert not rejected


def test_a_judge_outside_the_pool_is_an_error_before_any_call(capsys) -> None:
    from flowcompile.tools import opt
    from helpers.profiling import EXAMPLES

    code = opt.run([str(EXAMPLES / "chain.mlir"), "-p", 'profile{judge="llm:ghost" samples=2 max-samples=0 cache=none}'])
    _, err = capsys.readouterr()
    assert code == 1
    assert "judge=llm:ghost: 'ghost' is not a model of the pool (qwen3-0.6b," in err
    assert "reference runs" not in err  # refused before profiling started
