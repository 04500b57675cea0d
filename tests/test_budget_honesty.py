"""Budget honesty: a reasoning budget that changes nothing observable (no reasoning
tokens, the same output tokens as the model's smallest budget) is recorded on the
agent and warned about once per model; a model declared `reasoning: false` is
profiled at one budget. Over HTTP through the litellm backend, against the sim
server and against a proxy of it that drops the budget (as llama.cpp's server does)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from flowcompile.compiler import import_spec, run_passes
from flowcompile.dialects.flow import AgentOp, WorkflowOp
from flowcompile.dialects.syntax import string_list
from flowcompile.passes.profile import NO_EFFECT_ATTR
from flowcompile.profiling.profiler import CandidateStats, budgets_without_effect
from flowcompile.runtime import reference_assignment
from flowcompile.sim import SimWorld, generate_dataset
from helpers.profiling import http_server, serving

pytestmark = pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning")

#: What carries a budget on the wire (`litellm_backend.BUDGET_TABLE`).
BUDGET_FIELDS = ("thinking", "reasoning_effort", "chat_template_kwargs", "thinking_budget")


def spec(url: str, small: str = "", large: str = "") -> str:
    """Two agents choosing between two models; `small`, `large`: extra pool fields."""
    return f"""\
workflow: honest
models:
  qwen3-0.6b: {{litellm: hosted_vllm/qwen3-0.6b, api_base: "{url}", api_key_env: none{small}}}
  qwen3-8b: {{litellm: hosted_vllm/qwen3-8b, api_base: "{url}", api_key_env: none{large}}}
defaults: {{budgets: [0, 1024]}}
agents:
  planner: {{role: planner, prompt: "Plan.\\n{{query}}"}}
  solver: {{role: solver, inputs: [query, planner], prompt: "{{query}} {{planner}}"}}
steps: [planner, solver]
"""


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    with serving(time_scale=0.0) as (_, url):
        yield url


@pytest.fixture(scope="module")
def deaf_url(sim_url: str) -> Iterator[str]:
    """A proxy of the sim server that drops every budget field: the server answers
    as at budget 0 and reports no reasoning tokens, whatever the budget."""

    class Deaf(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            for name in BUDGET_FIELDS:
                body.pop(name, None)
            headers = {k: v for k, v in self.headers.items() if k.lower().startswith("x-flowcompile")}
            forward = urllib.request.Request(
                sim_url.removesuffix("/v1") + self.path, data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json", **headers}, method="POST",
            )
            with urllib.request.urlopen(forward, timeout=30) as reply:
                status, data = reply.status, reply.read()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with http_server(Deaf) as url:
        yield f"{url}/v1"


def profiled(tmp_path: Path, text: str) -> WorkflowOp:
    path = tmp_path / "honest.yaml"
    path.write_text(text)
    dataset = tmp_path / "data.jsonl"
    dataset.write_text("".join(json.dumps(r) + "\n" for r in generate_dataset(SimWorld(), 4, 0)))
    module = import_spec(path)
    run_passes(module, f'profile{{backend=litellm dataset="{dataset}" cache=none max-samples=0 recovery=false}}')
    return next(op for op in module.walk() if isinstance(op, WorkflowOp))


def no_effect(agent: AgentOp) -> list[str]:
    found = agent.attributes.get(NO_EFFECT_ATTR)
    return string_list(found) if found is not None else []  # pyright: ignore[reportArgumentType]


def warnings_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ": warning: model " in line]


def test_a_server_that_ignores_budgets_is_recorded_and_warned_once_per_model(
    tmp_path: Path, deaf_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    wf = profiled(tmp_path, spec(deaf_url))
    for agent in wf.agents:
        assert no_effect(agent) == ["qwen3-0.6b@1024", "qwen3-8b@1024"], agent.agent_name
    found = warnings_of(capsys.readouterr().err)
    assert len(found) == 2, found  # one per model, though two agents saw it
    for model, line in zip(("qwen3-0.6b", "qwen3-8b"), found, strict=True):
        assert f"model '{model}': reasoning budget(s) 1024 had no observable effect on @planner, @solver" in line
        assert "`reasoning: false`" in line


def test_a_server_that_honours_budgets_is_not_warned(
    tmp_path: Path, sim_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    wf = profiled(tmp_path, spec(sim_url))
    assert all(not no_effect(a) for a in wf.agents)
    assert not warnings_of(capsys.readouterr().err)


def test_a_model_declared_non_reasoning_is_profiled_at_one_budget(
    tmp_path: Path, deaf_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    wf = profiled(tmp_path, spec(deaf_url, small=", reasoning: false"))
    for agent in wf.agents:
        profiles = agent.attributes["profiles"].data  # pyright: ignore[reportAttributeAccessIssue]
        assert sorted(profiles) == ["qwen3-0.6b@0", "qwen3-8b@0", "qwen3-8b@1024"]
        assert no_effect(agent) == ["qwen3-8b@1024"]  # the undeclared model is still judged
    err = capsys.readouterr().err
    assert [w.split("'")[1] for w in warnings_of(err)] == ["qwen3-8b"]
    notes = [line for line in err.splitlines() if ": note: model " in line]
    assert notes == [
        "profile @honest: note: model 'qwen3-0.6b' is declared `reasoning: false`: profiled at one budget "
        "per agent, the smallest (@planner at 0, @solver at 0)"
    ]


def test_the_reference_of_a_non_reasoning_last_model_is_at_its_one_budget(tmp_path: Path) -> None:
    path = tmp_path / "honest.yaml"
    path.write_text(spec("http://127.0.0.1:1/v1", large=", reasoning: false"))
    wf = next(op for op in import_spec(path).walk() if isinstance(op, WorkflowOp))
    assert {str(c) for c in reference_assignment(wf).values()} == {'#flow.config<model = "qwen3-8b", budget = 0>'}


def stats(tok_out: float, reasoning: float = 0.0) -> CandidateStats:
    return CandidateStats(1, 2, 1.0, 1.0, 10.0, tok_out, 0.0, reasoning=reasoning)


def test_only_an_unobservable_budget_counts_as_without_effect() -> None:
    # fewer or up to NO_GROWTH more output tokens: a real server's replies vary a little
    assert budgets_without_effect({"m@0": stats(100.0), "m@256": stats(80.0), "m@1024": stats(125.0)}) == {
        "m": [256, 1024]
    }
    assert budgets_without_effect({"m@0": stats(100.0), "m@256": stats(100.0, reasoning=40.0)}) == {}
    assert budgets_without_effect({"m@0": stats(100.0), "m@256": stats(126.0)}) == {}  # thinking in the text
    # judged against the smallest budget, whatever it is; nothing to judge without output there
    assert budgets_without_effect({"m@512": stats(90.0), "m@2048": stats(90.0)}) == {"m": [2048]}
    assert budgets_without_effect({"m@0": stats(0.0), "m@256": stats(0.0)}) == {}
