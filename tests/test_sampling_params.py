"""Per-agent sampling (temperature, top_p, max_tokens, seed, stop): from the spec
to `#flow.sampling`, to every `CallRequest` the runtime and the profiler make (the
same request for the same call), to litellm's wire, and into the cache key."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from xdsl.dialects.builtin import IntegerAttr, i64
from xdsl.ir import Attribute

from flowcompile.backends.base import CallRequest, Message
from flowcompile.backends.litellm_backend import LiteLLMBackend
from flowcompile.backends.store import key_fields, request_key
from flowcompile.compiler import import_spec
from flowcompile.dialects.flow import AgentOp, ConfigAttr, WorkflowOp
from flowcompile.profiling.dataset import as_query
from flowcompile.profiling.profiler import profile_workflow
from flowcompile.runtime import REPLICA_STRIDE, run_workflow
from flowcompile.runtime.interpreter import REPLICA_TEMPERATURE, agent_request
from flowcompile.sim import SimWorld, generate_dataset
from helpers.profiling import RecordingSim, http_server

pytestmark = pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning")

SPEC = """\
workflow: sampled
models:
  qwen3-0.6b: {litellm: hosted_vllm/qwen3-0.6b}
  qwen3-8b: {litellm: hosted_vllm/qwen3-8b}
defaults: {budgets: [0], max_tokens: 900, seed: 5}
agents:
  planner: {role: planner, prompt: "Plan.\\n{query}", temperature: 0.3, top_p: 0.9, stop: ["END"]}
  solver: {role: solver, inputs: [query, planner], prompt: "Solve {query} by {planner}"}
  judge: {role: solver, inputs: [query, answer], prompt: "{query} {answer}", temperature: 0.0, max_tokens: 1200}
steps:
  - planner
  - fork: {as: answer, samples: [1, 3], branches: [[solver]], combine: vote}
  - judge
"""


def workflow(tmp_path: Path, text: str = SPEC) -> WorkflowOp:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return next(op for op in import_spec(path).walk() if isinstance(op, WorkflowOp))


def agent(wf: WorkflowOp, name: str) -> AgentOp:
    return next(a for a in wf.agents if a.agent_name == name)


def assignment(wf: WorkflowOp, samples: int) -> dict[str, Attribute]:
    """Every agent on qwen3-8b at budget 0, the fork at `samples` replicas."""
    return {a.agent_name: ConfigAttr.of("qwen3-8b", 0) for a in wf.agents} | {"answer.samples": IntegerAttr(samples, i64)}


def agent_of(request: CallRequest) -> str:
    return request.messages[0].content.split("'")[1]


def test_agent_fields_win_over_defaults_and_the_lowering_is_deterministic(tmp_path: Path) -> None:
    wf = workflow(tmp_path)
    planner, solver, judge = (agent(wf, n).sampling for n in ("planner", "solver", "judge"))
    assert planner is not None and solver is not None and judge is not None
    assert (planner.get("temperature"), planner.get("top_p"), planner.stop) == (0.3, 0.9, ["END"])
    assert (planner.get("max_tokens"), planner.get("seed")) == (900, 5)  # from defaults
    assert (solver.get("temperature"), solver.get("top_p"), solver.stop) == (None, None, None)
    assert (judge.get("temperature"), judge.get("max_tokens")) == (0.0, 1200)
    assert str(import_spec(tmp_path / "spec.yaml")) == str(import_spec(tmp_path / "spec.yaml"))


def test_requests_carry_the_agents_sampling(tmp_path: Path) -> None:
    wf = workflow(tmp_path)
    messages = (Message("user", "hi"),)
    config = ConfigAttr.of("qwen3-8b", 0)

    def request(name: str, **kw: Any) -> CallRequest:
        return agent_request(wf, agent(wf, name), config, messages, **{"sample": 0, "seed": 0, **kw})

    planner = request("planner", seed=10, max_tokens=50)
    assert (planner.temperature, planner.top_p, planner.stop) == (0.3, 0.9, ("END",))
    assert planner.seed == 15  # the run's seed plus the agent's
    assert planner.max_tokens == 900  # the agent's limit before the run's
    assert planner.provider_model == "hosted_vllm/qwen3-8b"
    # in a replicated fork and setting none: sampled, so that the replicas differ
    assert request("solver").temperature == REPLICA_TEMPERATURE > 0
    # an explicit 0 is kept, and outside a sampled fork the default is greedy
    assert request("judge").temperature == 0.0
    plain = workflow(tmp_path, SPEC.replace("temperature: 0.0, ", ""))
    assert agent_request(plain, agent(plain, "judge"), config, messages, sample=0, seed=0).temperature == 0.0


def test_runs_and_profiling_send_the_same_sampling(tmp_path: Path) -> None:
    """Every call the profiler makes of an agent carries the fields a run of that
    agent carries; the replicas of a run sample at distinct service seeds."""
    wf = workflow(tmp_path)
    queries = [as_query(r) for r in generate_dataset(SimWorld(), 3, 0)]
    ran = RecordingSim()
    result = asyncio.run(run_workflow(wf, assignment(wf, samples=3), ran, queries[0]))
    assert result.error is None
    profiled = RecordingSim()
    asyncio.run(profile_workflow(wf, queries, profiled))

    def sampling(r: CallRequest) -> tuple[Any, ...]:
        return (r.temperature, r.top_p, r.stop, r.max_tokens, r.seed)

    at_run = {agent_of(r): sampling(r) for r in ran.requests}
    assert at_run["solver"] == (REPLICA_TEMPERATURE, None, (), 900, 5)
    for r in profiled.requests:
        assert sampling(r) == at_run[agent_of(r)], r
    solver_seeds = [r.service_seed() for r in ran.requests if agent_of(r) == "solver"]
    assert sorted(solver_seeds) == [5, 6, 7]  # seed + replica
    candidate_seeds = {r.service_seed() for r in profiled.requests if agent_of(r) == "solver" and r.sample >= REPLICA_STRIDE}
    assert len(candidate_seeds) > 1


def test_sim_max_tokens_still_bounds_each_reply(tmp_path: Path) -> None:
    text = SPEC.replace("max_tokens: 900", "max_tokens: 40")
    wf = workflow(tmp_path, text)
    query = as_query(generate_dataset(SimWorld(), 1, 0)[0])
    backend = RecordingSim()
    result = asyncio.run(run_workflow(wf, assignment(wf, samples=1), backend, query))
    planner = next(c.result for c in result.calls if c.agent == "planner")
    assert planner.tokens_out + planner.reasoning_tokens <= 40
    assert next(r for r in backend.requests if agent_of(r) == "planner").max_tokens == 40


# -- the wire and the cache key ---------------------------------------------------------------


def request(**fields: Any) -> CallRequest:
    base: dict[str, Any] = {"model": "m", "provider_model": "openai/m", "messages": (Message("user", "hi"),)}
    return CallRequest(**{**base, **fields})


def test_service_seed_differs_per_sample_only_when_sampling() -> None:
    assert request(temperature=0.7, seed=0, sample=0).service_seed() == 0  # sent: reproducible
    assert request(temperature=0.7, seed=3, sample=65).service_seed() == 68
    assert request(temperature=0.0, seed=0, sample=2).service_seed() is None  # greedy: the seed is moot
    assert request(temperature=0.0, seed=4, sample=2).service_seed() == 4


def test_litellm_kwargs_carry_the_sampling() -> None:
    kwargs = LiteLLMBackend().kwargs(
        request(temperature=0.5, top_p=0.8, max_tokens=64, stop=("END", "\n\n"), seed=2, sample=1, api_base="http://x/v1")
    )
    assert (kwargs["temperature"], kwargs["top_p"], kwargs["max_tokens"]) == (0.5, 0.8, 64)
    assert (kwargs["stop"], kwargs["seed"]) == (["END", "\n\n"], 3)
    plain = LiteLLMBackend().kwargs(request())
    assert plain["temperature"] == 0.0
    assert not {"top_p", "stop", "seed", "max_tokens"} & set(plain)


def test_each_sampling_field_is_part_of_the_cache_key() -> None:
    base = request()
    keys = {request_key("litellm", base)}
    for change in ({"temperature": 0.4}, {"top_p": 0.9}, {"max_tokens": 10}, {"seed": 1}, {"stop": ("x",)}):
        keys.add(request_key("litellm", request(**change)))
    assert len(keys) == 6
    # unset fields leave the key of a call made before they existed unchanged
    assert not {"top_p", "stop"} & set(key_fields("litellm", base))


def test_bad_request_values_raise() -> None:
    for bad in ({"temperature": -0.1}, {"top_p": 0.0}, {"top_p": 1.5}, {"max_tokens": 0}):
        with pytest.raises(ValueError):
            request(**bad)


class _Capture(BaseHTTPRequestHandler):
    """An OpenAI-compatible server that records each body and answers one short reply."""

    bodies: list[dict[str, Any]] = []

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_POST(self) -> None:  # noqa: N802
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).bodies.append(json.loads(raw or b"{}"))
        reply = json.dumps({
            "id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


@pytest.fixture()
def capture() -> Iterator[tuple[str, type[_Capture]]]:
    handler = type("Capture", (_Capture,), {"bodies": []})
    with http_server(handler) as url:
        yield f"{url}/v1", handler


def test_the_wire_body_holds_the_sampling(capture: tuple[str, type[_Capture]]) -> None:
    url, handler = capture
    sampled = request(api_base=url, api_key_env="none", temperature=0.7, top_p=0.9, max_tokens=32,
                      stop=("END",), seed=1, sample=2)
    result = asyncio.run(LiteLLMBackend(timeout=10).call(sampled))
    assert result.error is None, result.text
    body = handler.bodies[-1]
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["stop"], body["seed"]) == (
        0.7, 0.9, 32, ["END"], 3,
    )
