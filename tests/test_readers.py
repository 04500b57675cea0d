"""Readers belong to backends (`flowcompile.backends.reader`): each backend's
reader reads its own replies, in process (sim), over HTTP (litellm against the
simulated server, which names its reader in its model list) and as free text
(a real model's reply, read by the default reader); a given reader is used."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from flowcompile.backends import CallRequest, CallResult
from flowcompile.backends.litellm_backend import LiteLLMBackend
from flowcompile.backends.middleware import CachedBackend, RetryingBackend
from flowcompile.backends.reader import (
    READER_FIELD,
    TEXT_READER,
    endpoint_reader,
    get_reader,
    known_readers,
    reader_of,
)
from flowcompile.backends.replay import RecordingBackend, ReplayBackend
from flowcompile.backends.store import ProfileStore
from flowcompile.compiler import import_spec, the_workflow
from flowcompile.profiling.dataset import Query
from flowcompile.runtime import reference_assignment, run_many, run_reader, score
from flowcompile.runtime.steps import with_tools
from flowcompile.sim import SimWorld, build_messages
from flowcompile.sim.backend import SimBackend
from flowcompile.sim.protocol import SIM_READER
from flowcompile.sim.server import start_server
from helpers.profiling import http_server

pytestmark = pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning")

ROOT = Path(__file__).resolve().parent.parent
READERS = [SIM_READER, TEXT_READER]

# -- the two readers on the same texts ----------------------------------------------------

FREE_TEXT_ANSWERS = [
    ("The capital is Paris.\n\nFinal Answer: **Paris**.", "paris"),
    ("Answer: 42\nLet me know if you need more detail.", "42"),
    ("**Answer:**\n\n   -3.5 ", "-3.5"),
    ("answer: 1, wait, I made a mistake.\nFinal answer: 2", "2"),
    ("The  ANSWER:   New \t York!", "new york"),
    ("We get x = 7.\nSo x is 7.\n\n", "so x is 7"),
    ("The growth is 50%.\nAnswer: 50%", "50%"),
    ("", ""),
]
FREE_TEXT_VERDICTS = [
    ("APPROVE", True),
    ("Verdict: APPROVED.", True),
    ("LGTM, ship it.", True),
    ("I checked every step; the answer looks correct.", True),
    ("REJECT: step 2 divides by zero.", False),
    ("The answer is incorrect: 6 * 7 is not 41.", False),
    ("That is wrong.", False),
    ("This is not correct.", False),
    ("I don't approve this answer.", False),
    ("The answer is correct, but the units are wrong.", False),  # a tie rejects
    ("No comment.", False),
    ("", False),
]
FREE_TEXT_ROUTES = [
    ("This is a math question.", "math"),
    ("Answer: Code", "code"),
    ("It is not math; it is code.", "code"),
    ("Mathematics, clearly.", None),  # whole words only
    ("I cannot tell.", None),
    ("", None),
]


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
@pytest.mark.parametrize(("text", "key"), FREE_TEXT_ANSWERS)
def test_free_text_answers_read_alike(reader, text: str, key: str) -> None:
    """The sim's reader reads untagged text (a tool's, a reference) as free text."""
    assert reader.answer_key(text) == key


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
@pytest.mark.parametrize(("text", "approved"), FREE_TEXT_VERDICTS)
def test_free_text_verdicts_read_alike(reader, text: str, approved: bool) -> None:
    assert reader.is_approval(text) is approved


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.name)
@pytest.mark.parametrize(("text", "label"), FREE_TEXT_ROUTES)
def test_free_text_routes_read_alike(reader, text: str, label: str | None) -> None:
    assert reader.route_label(text, ["math", "code"]) == label
    assert reader.route_label("this one is MATH", ["Math", "Code"]) == "Math"  # the label's spelling


@pytest.mark.parametrize(
    ("text", "sim_key", "text_key"),
    [
        ("(simulated reply)\nfiller\n<<answer:solver:4F2a>>", "4f2a", "solver:4f2a"),
        ("<<answer:a:1111>> then <<answer:b:2222>> <<verdict:c:approve>>", "2222", "b:2222>> <<verdict:c:approve"),
        ("<<plan:planner:9abc>>", "9abc", "plan:planner:9abc"),
    ],
)
def test_sim_tags_are_read_only_by_the_sim_reader(text: str, sim_key: str, text_key: str) -> None:
    assert SIM_READER.answer_key(text) == sim_key
    assert TEXT_READER.answer_key(text) == text_key  # no protocol: the free-text rules


def test_sim_verdict_and_route_tags_decide_for_the_sim_reader_only() -> None:
    assert SIM_READER.is_approval("Looks wrong to me.\n<<verdict:critic:approve>>")
    assert not TEXT_READER.is_approval("Looks wrong to me.\n<<verdict:critic:approve>>")
    assert not SIM_READER.is_approval("(simulated reply)\n<<verdict:critic:reject>>")
    assert SIM_READER.route_label("<<route:router:CODE>>", ["math", "code"]) == "code"
    assert SIM_READER.route_label("math is near\n<<route:router:science>>", ["math", "code"]) is None
    assert TEXT_READER.route_label("math is near\n<<route:router:science>>", ["math", "code"]) == "math"


def test_the_registry_names_both_readers_and_rejects_others() -> None:
    assert known_readers() == ["sim", "text"]
    assert get_reader("sim") is SIM_READER and get_reader("text") is TEXT_READER
    with pytest.raises(ValueError, match="unknown reader 'mine'; known readers: sim, text"):
        get_reader("mine")


# -- each backend's reader reads its own replies ------------------------------------------

SIM = SimWorld()
KINDS = {"solver": "answer", "critic": "verdict", "router": "route", "planner": "plan"}


def _request(role: str, q: int, api_base: str | None = None) -> CallRequest:
    upstream = ("<<answer:solver:0000>>",) if role == "critic" else ()
    return CallRequest(
        model="qwen3-8b", provider_model="hosted_vllm/qwen3-8b", api_base=api_base, api_key_env="none",
        messages=build_messages(role, role, f"[sim-query q{q:05d}] Solve it.", upstream),
    )


def _reading(reader, kind: str, text: str) -> str:
    if kind == "verdict":
        return "approve" if reader.is_approval(text) else "reject"
    if kind == "route":
        return str(reader.route_label(text, SIM.world.queries.routes()))
    return reader.answer_key(text)


def test_the_sim_backend_reads_its_replies_exactly_through_any_wrapper(tmp_path: Path) -> None:
    backend = SimBackend(SIM)
    for wrapped in (backend, RetryingBackend(backend), CachedBackend(backend, ProfileStore(tmp_path / "c.sqlite")),
                    with_tools(backend)):
        assert reader_of(wrapped).name == "sim"
    for role, kind in KINDS.items():
        for q in range(6):
            trace = SIM.trace(_request(role, q))
            assert _reading(SIM_READER, kind, trace.result.text) == trace.value.lower(), (role, q)


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    server, thread, url = start_server(SIM, host="127.0.0.1", time_scale=0)
    yield url
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_litellm_reads_the_simulated_server_exactly(sim_url: str) -> None:
    """The server's model list names the sim's reader; litellm's reader for that
    endpoint is it, and reads every kind of reply as the world decided it."""
    assert endpoint_reader(sim_url) == "sim"
    backend = LiteLLMBackend(timeout=10)
    reader = reader_of(RetryingBackend(backend), [sim_url, sim_url])
    assert reader.name == "sim"
    for role, kind in KINDS.items():
        request = _request(role, 3, sim_url)
        reply = asyncio.run(backend.call(request))
        assert reply.ok, reply.text
        trace = SIM.trace(_request(role, 3))
        assert reply.text == trace.result.text
        assert _reading(reader, kind, reply.text) == trace.value.lower()


def test_a_cached_rerun_reads_as_the_first_run_with_the_server_stopped(tmp_path: Path) -> None:
    server, thread, url = start_server(SIM, host="127.0.0.1", time_scale=0)
    store = ProfileStore(tmp_path / "cache.sqlite")
    try:
        first = CachedBackend(LiteLLMBackend(timeout=10), store)
        reply = asyncio.run(first.call(_request("solver", 2, url)))
        assert reader_of(first, [url]).name == "sim"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert endpoint_reader(url, timeout=1) is None  # nobody there now
    again = CachedBackend(LiteLLMBackend(timeout=10), store)
    hit = asyncio.run(again.call(_request("solver", 2, url)))
    assert hit.cached and hit.text == reply.text
    reader = reader_of(again, [url])
    assert reader.name == "sim" and reader.answer_key(hit.text) == SIM.trace(_request("solver", 2)).value
    assert reader_of(CachedBackend(LiteLLMBackend(), store), ["http://127.0.0.1:9/v1"]).name == "text"


class _RealModel(BaseHTTPRequestHandler):
    """An OpenAI-compatible service whose model list names no reader."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def _send(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        self._send({"object": "list", "data": [{"id": "m", "object": "model"}]})

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self._send({
            "id": "x", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {
                "role": "assistant", "content": "6 * 7 = 42, so <<answer:me:41>> is wrong.\nFinal answer: 42"}}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14},
        })


def test_a_real_reply_is_read_as_free_text_by_the_default_reader() -> None:
    with http_server(_RealModel) as base:
        url = base + "/v1"
        assert endpoint_reader(url) is None
        backend = LiteLLMBackend(timeout=10)
        reader = reader_of(backend, [url])
        request = CallRequest(model="m", provider_model="openai/m", api_base=url, api_key_env="none",
                              messages=[("user", "6 * 7?")], price_in=0.0, price_out=0.0)
        reply = asyncio.run(backend.call(request))
        assert reply.ok, reply.text
        assert reader.name == "text" and reader.answer_key(reply.text) == "42"
    assert reader_of(LiteLLMBackend(), [None]) is TEXT_READER  # the provider's own endpoint: nothing to ask
    assert endpoint_reader("http://127.0.0.1:9/v1", timeout=1) is None  # nobody there: free text


def test_a_trace_names_the_reader_its_replies_need(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    with RecordingBackend(SimBackend(SIM), path) as recording:
        asyncio.run(recording.call(_request("solver", 1)))
    assert json.loads(path.read_text())["reader"] == "sim"
    assert reader_of(ReplayBackend(path)) is SIM_READER
    row = json.loads(path.read_text())
    del row["reader"]  # a trace written before readers were recorded: the sim's lines are the sim's
    path.write_text(json.dumps(row) + "\n")
    assert reader_of(ReplayBackend(path)) is SIM_READER
    path.write_text(json.dumps({**row, "backend": "litellm"}) + "\n")
    assert reader_of(ReplayBackend(path)) is TEXT_READER


# -- a given reader is used ---------------------------------------------------------------


class _Equals:
    """A reader of a made-up protocol: the answer follows the last "ANS="."""

    name = "equals"

    def answer_key(self, text: str | None) -> str:
        if text and "ANS=" in text:
            return TEXT_READER.answer_key(text.rsplit("ANS=", 1)[1])
        return TEXT_READER.answer_key(text)

    def is_approval(self, text: str | None) -> bool:
        return TEXT_READER.is_approval(text)

    def route_label(self, text: str | None, labels: Sequence[str]) -> str | None:
        return TEXT_READER.route_label(text, labels)


class _Equaliser:
    """A backend that writes its answers in that protocol."""

    name = "equaliser"

    async def call(self, request: CallRequest) -> CallResult:
        return CallResult(text="thinking...\nANS=42", latency_s=1.0)


def test_a_given_reader_reads_the_run() -> None:
    workflow = the_workflow(import_spec(ROOT / "examples" / "self_consistency.yaml"))
    query = Query("q", "6 * 7?", "42")
    assign = reference_assignment(workflow)
    assert run_reader(workflow, _Equaliser()) is TEXT_READER
    (plain,) = asyncio.run(run_many(workflow, assign, _Equaliser(), [query]))
    assert plain.reader is TEXT_READER and not score(plain, query)  # "ans=42" is not 42
    (given,) = asyncio.run(run_many(workflow, assign, _Equaliser(), [query], reader=_Equals()))
    assert given.reader.name == "equals" and score(given, query)
    assert LiteLLMBackend(reader="sim").reader_for(["http://127.0.0.1:9/v1"]) is SIM_READER  # asks no endpoint
    assert READER_FIELD == "flowcompile_reader"
