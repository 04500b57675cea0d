"""The text protocol of the SIMULATED backend, and its hash-based random draws.

The simulation reads only message text, so it works the same in process and
behind an HTTP server. See `flowcompile.sim.engine` for the full protocol.

* system message: ``You are the <role> agent '<agent>' of workflow '<wf>'.``
  (the backend interface's `introduction`, which the runtime sends)
* query tag anywhere in the user text: ``[sim-query q00042]``
* optional case sentence, after the system line: ``You handle the 'math' case.``
  (the agent serves that route; `introduction` says it for agents of a switch
  case); the older marker ``[sim-branch math]`` is still recognised
* every simulated output carries exactly one tag ``<<kind:agent:value>>``,
  which `SIM_READER` (the sim backend's reader) reads exactly

Draws are blake2b hashes of their full key mapped to [0, 1): no RNG state, so
any call replays exactly and calls are order independent.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

from flowcompile.backends.base import CallRequest, Message, introduction
from flowcompile.backends.reader import TEXT_READER, normalise

KINDS: tuple[str, ...] = ("plan", "answer", "verdict", "route")

_SYSTEM_RE = re.compile(r"You are the ([A-Za-z0-9_-]+) agent '([^']*)' of workflow '([^']*)'")
_QUERY_RE = re.compile(r"\[sim-query\s+([A-Za-z0-9_.-]+)\]")
_BRANCH_RE = re.compile(r"\[sim-branch\s+([^\s\]]+)\]")
_CASE_RE = re.compile(r"You handle the '([^'\n]+)' case\.")
_TAG_RE = re.compile(r"<<(plan|answer|verdict|route):([A-Za-z0-9_.-]+):([^<>:\s]+)>>")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_STD_NORMAL = NormalDist()


@dataclass(frozen=True)
class Tag:
    """One `<<kind:agent:value>>` tag found in text."""

    kind: str
    agent: str
    value: str


@dataclass(frozen=True)
class Header:
    """Who is speaking, parsed from the system message."""

    role: str = "default"
    agent: str = "anonymous"
    workflow: str = ""


def parse_header(system_text: str) -> Header:
    """Role, agent and workflow from a system message; defaults when absent."""
    m = _SYSTEM_RE.search(system_text)
    if m is None:
        return Header()
    return Header(role=m.group(1).lower(), agent=safe_name(m.group(2)) or "anonymous", workflow=m.group(3))


def find_query(text: str) -> str | None:
    """The first `[sim-query <id>]` id in `text`."""
    m = _QUERY_RE.search(text)
    return m.group(1) if m else None


def find_branch(text: str) -> str | None:
    """The route of the first case sentence (`You handle the '<route>' case.`)
    or `[sim-branch <route>]` marker in `text`, whichever comes first."""
    found = [m for m in (_CASE_RE.search(text), _BRANCH_RE.search(text)) if m is not None]
    return min(found, key=lambda m: m.start()).group(1) if found else None


def find_tags(text: str) -> list[Tag]:
    """All output tags in `text`, in order of appearance."""
    return [Tag(m.group(1), m.group(2), m.group(3)) for m in _TAG_RE.finditer(text)]


def format_tag(kind: str, agent: str, value: str) -> str:
    """The tag `<<kind:agent:value>>`."""
    return f"<<{kind}:{safe_name(agent) or 'anonymous'}:{value}>>"


def safe_name(name: str) -> str:
    """`name` with characters that would break a tag replaced by '_'."""
    return _UNSAFE.sub("_", name)


def last_answer(text: str) -> str | None:
    """The value of the last answer tag in `text` (what a dataset scorer compares)."""
    values = [t.value for t in find_tags(text) if t.kind == "answer"]
    return values[-1] if values else None


class SimReader:
    """Reads simulated replies (registered as reader "sim"): the last tag
    decides, exactly; text without a tag (a tool's, a dataset reference) is
    read as free text by `TEXT_READER`."""

    name = "sim"

    def answer_key(self, text: str | None) -> str:
        """The value of the last answer tag, else of the last tag of any kind, `normalise`d."""
        tags = find_tags(text or "")
        if not tags:
            return TEXT_READER.answer_key(text)
        answers = [t.value for t in tags if t.kind == "answer"]
        return normalise(answers[-1] if answers else tags[-1].value)

    def is_approval(self, text: str | None) -> bool:
        """The last verdict tag: `approve` approves, `reject` does not."""
        verdicts = [t.value.lower() for t in find_tags(text or "") if t.kind == "verdict"]
        return verdicts[-1] == "approve" if verdicts else TEXT_READER.is_approval(text)

    def route_label(self, text: str | None, labels: Sequence[str]) -> str | None:
        """The label the last route tag names (None when it names no label)."""
        routes = [t.value for t in find_tags(text or "") if t.kind == "route"]
        if not routes:
            return TEXT_READER.route_label(text, labels)
        return {label.lower(): label for label in labels}.get(routes[-1].lower())


SIM_READER = SimReader()
"""How every simulated reply is read, in process or over HTTP."""


def system_line(role: str, agent: str, workflow: str = "wf") -> str:
    """The protocol's system sentence for an agent (`introduction`)."""
    return introduction(role, agent, workflow)


def build_messages(
    role: str,
    agent: str,
    query_input: str,
    upstream: tuple[str, ...] | list[str] = (),
    workflow: str = "wf",
    branch: str | None = None,
) -> tuple[Message, ...]:
    """Protocol-conforming messages for one agent: the query text plus upstream outputs."""
    system = introduction(role, agent, workflow, branch)
    parts = [query_input, *(f"Upstream output:\n{u}" for u in upstream)]
    return (Message("system", system), Message("user", "\n\n".join(parts)))


# -- hash draws ---------------------------------------------------------------


def digest(*parts: object, size: int = 8) -> bytes:
    """blake2b of the parts joined unambiguously."""
    key = "\x1f".join(repr(p) if not isinstance(p, str) else p for p in parts)
    return hashlib.blake2b(key.encode("utf-8"), digest_size=size).digest()


def uniform(*parts: object) -> float:
    """A uniform draw in [0, 1) determined by `parts`."""
    return int.from_bytes(digest(*parts), "big") / 2.0**64


def normal(*parts: object) -> float:
    """A standard normal draw determined by `parts`."""
    u = uniform(*parts)
    return _STD_NORMAL.inv_cdf(min(max(u, 1e-12), 1 - 1e-12))


def hex_token(*parts: object, width: int = 4) -> str:
    """A lowercase hex token determined by `parts`."""
    return digest(*parts, size=(width + 1) // 2).hex()[:width]


def lognormal_factor(sd: float, z: float) -> float:
    """A mean-one lognormal factor from a standard normal draw `z`."""
    return math.exp(sd * z - 0.5 * sd * sd)


def sigmoid(x: float) -> float:
    """The logistic function, overflow-safe."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def logit(p: float) -> float:
    """Inverse of `sigmoid`, with p clamped away from 0 and 1."""
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def content_hash(request: CallRequest) -> str:
    """A short hash of what determines a simulated reply (model, budget, messages,
    sample, seed, max_tokens); retries are counted per hash."""
    payload = json.dumps(
        [
            request.model.lower(),
            request.budget,
            [[m.role, m.content] for m in request.messages],
            request.sample,
            request.seed,
            request.max_tokens,
        ],
        separators=(",", ":"),
    )
    return hashlib.blake2b(payload.encode("utf-8"), digest_size=8).hexdigest()


# -- reply text -----------------------------------------------------------------

_WORDS = (
    "consider the given facts first then derive each intermediate quantity carefully "
    "checking units and edge cases before combining partial results into a candidate "
    "which is compared against constraints restated from the task so that any "
    "inconsistency is caught early and the final value follows from the simulated steps"
).split()
_CORPUS = " ".join(_WORDS[(i * 7) % len(_WORDS)] for i in range(len(_WORDS) * 9))


def filler(u: float, n: int) -> str:
    """About `n` characters of tag-free filler text starting at offset `u` (in [0, 1))."""
    if n <= 0:
        return ""
    start = int(u * len(_CORPUS))
    reps = (start + n) // len(_CORPUS) + 2
    return ((_CORPUS + " ") * reps)[start : start + n].strip()
