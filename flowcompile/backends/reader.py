"""How a reply's text is read: its final answer, its verdict, its route.

The backend that produced a reply decides how it reads (`reader_of`): a
backend whose replies follow a protocol brings its own `Reader`, any other is
read by `TEXT_READER`, the heuristics for free text written by an LLM.
Readers are registered by name ("text", and "sim", the simulated backend's,
loaded lazily) so a trace or a server can name the one its replies need: an
OpenAI-compatible endpoint names it in its model list (`READER_FIELD`), as
the simulated server does.
"""

from __future__ import annotations

import json
import re
import string
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, runtime_checkable

from flowcompile.backends.lazy import check_entry, lookup

Endpoints = Sequence[str | None]
"""The `api_base`s a run calls (None: the provider's default endpoint)."""


@runtime_checkable
class Reader(Protocol):
    """Reads the outputs of agents for voting, routing, looping and scoring."""

    @property
    def name(self) -> str:
        """The name it is registered under."""
        ...

    def answer_key(self, text: str | None) -> str:
        """The normalised final answer of `text` ("" for none)."""
        ...

    def is_approval(self, text: str | None) -> bool:
        """Whether a judge's `text` approves."""
        ...

    def route_label(self, text: str | None, labels: Sequence[str]) -> str | None:
        """The label of `labels` a router's `text` names, or None."""
        ...


_ANSWER_MARKER_RE = re.compile(r"answer\s*[*_]*\s*:", re.IGNORECASE)
# Trailing '%' is kept ("50%" is not "50"); a leading sign or decimal point is
# kept before a digit ("-3" is not "3").
_EDGE = "".join(c for c in string.punctuation if c != "%") + "\u201c\u201d\u2018\u2019\u00ab\u00bb\u2026"
_SIGNS = "-+."

# Verdict vocabulary (whole words, case-insensitive). A negated approval word
# ("not correct", "don't approve") counts as a rejection.
_NEGATED_RE = re.compile(
    r"(?:\bnot|\bnever|n't|\bcannot)\s+(?:be\s+)?(?:approved?|correct|right|lgtm)\b", re.IGNORECASE
)
_APPROVE_RE = re.compile(
    r"\b(?:approved?|lgtm|looks\s+(?:correct|good|right)|is\s+correct)\b", re.IGNORECASE
)
_REJECT_RE = re.compile(r"\b(?:reject(?:ed)?|incorrect|wrong)\b", re.IGNORECASE)
_NEGATION_BEFORE_RE = re.compile(r"(?:\bnot|n't|\bno)\s*(?:an?\s+|the\s+)?$", re.IGNORECASE)


def normalise(text: str) -> str:
    """Lowercase, whitespace collapsed, surrounding punctuation stripped."""
    s = " ".join(text.lower().split())
    end = len(s)
    while end and (s[end - 1] in _EDGE or s[end - 1].isspace()):
        end -= 1
    start = 0
    while start < end and (s[start] in _EDGE or s[start].isspace()):
        if s[start] in _SIGNS and start + 1 < end and s[start + 1].isdigit():
            break
        start += 1
    return s[start:end]


class TextReader:
    """Free text as an LLM writes it (registered as "text", the default)."""

    name = "text"

    def answer_key(self, text: str | None) -> str:
        """In order: the text after the last "answer:" marker (the rest of its
        line, or the next non-empty line: "Final **Answer:** 42"; nothing after
        it is the empty answer); the last non-empty line. Then `normalise`d.
        Empty or None text gives ""."""
        if not text:
            return ""
        markers = list(_ANSWER_MARKER_RE.finditer(text))
        if markers:
            after = text[markers[-1].end() :]
            for line in after.splitlines():
                if normalise(line):
                    return normalise(line)
            return ""  # a marker with nothing after it: the empty answer ("Answer: ")
        lines = [line for line in text.splitlines() if normalise(line)]
        return normalise(lines[-1]) if lines else ""

    def is_approval(self, text: str | None) -> bool:
        """Approval words (APPROVE, APPROVED, LGTM, "looks correct/good/right",
        "is correct") against rejection words (REJECT, REJECTED, "incorrect",
        "wrong", and any negated approval such as "not correct" or "don't
        approve"): approves only when approvals outnumber rejections, so
        rejection wins ties and a judge that says neither rejects."""
        if not text:
            return False
        rejections = len(_NEGATED_RE.findall(text))
        rest = _NEGATED_RE.sub(" ", text)
        rejections += len(_REJECT_RE.findall(rest))
        approvals = len(_APPROVE_RE.findall(rest))
        return approvals > rejections

    def route_label(self, text: str | None, labels: Sequence[str]) -> str | None:
        """A label equal to the output's `answer_key` ("Answer: code"); else the
        label whose word (case-insensitive, whole word) appears first, ignoring
        mentions right after a negation ("not math"). Matching keeps the
        label's spelling from `labels`."""
        if not text:
            return None
        by_lower = {label.lower(): label for label in labels}
        key = self.answer_key(text)
        if key in by_lower:
            return by_lower[key]
        best: tuple[int, str] | None = None
        for label in labels:
            pattern = re.compile(rf"(?<![\w-]){re.escape(label)}(?![\w-])", re.IGNORECASE)
            for m in pattern.finditer(text):
                if _NEGATION_BEFORE_RE.search(text[max(0, m.start() - 12) : m.start()]):
                    continue
                if best is None or m.start() < best[0]:
                    best = (m.start(), label)
                break
        return best[1] if best else None


TEXT_READER: Reader = TextReader()
"""The reader of a backend that names none."""


class LazyReader:
    """A reader decided on first use (by `choose`, called once): a backend that
    must ask its endpoints which reader they need asks only when a reply is read."""

    def __init__(self, choose: Callable[[], Reader]) -> None:
        self._choose = choose
        self._chosen: Reader | None = None
        self._lock = threading.Lock()

    @property
    def chosen(self) -> Reader:
        """The reader, decided now if not yet."""
        with self._lock:
            if self._chosen is None:
                self._chosen = self._choose()
            return self._chosen

    @property
    def name(self) -> str:
        return self.chosen.name

    def answer_key(self, text: str | None) -> str:
        return self.chosen.answer_key(text)

    def is_approval(self, text: str | None) -> bool:
        return self.chosen.is_approval(text)

    def route_label(self, text: str | None, labels: Sequence[str]) -> str | None:
        return self.chosen.route_label(text, labels)


_READERS: dict[str, Reader | str] = {
    "text": TEXT_READER,
    "sim": "flowcompile.sim.protocol:SIM_READER",
}


def register_reader(name: str, reader: Reader | str) -> None:
    """Register `reader` (or a lazy "module:attr" path to one) under `name`."""
    check_entry(reader, "reader")
    _READERS[name] = reader


def known_readers() -> list[str]:
    """The registered reader names, sorted."""
    return sorted(_READERS)


def get_reader(name: str) -> Reader:
    """The reader registered as `name`."""
    return lookup(_READERS, name, "reader")


READER_FIELD = "flowcompile_reader"
"""The field of an endpoint's `GET <api_base>/models` reply that names the reader of its replies."""
PROBE_TIMEOUT_S = 5.0


def endpoint_reader(api_base: str, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """The reader `api_base`'s model list names; None when it names none or
    cannot be read (a real provider: its replies are free text)."""
    url = api_base.rstrip("/") + "/models"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:  # noqa: S310 (the spec's own endpoint)
            listing = json.load(reply)
    except (OSError, ValueError, urllib.error.URLError):
        return None
    named = listing.get(READER_FIELD) if isinstance(listing, dict) else None
    return named if isinstance(named, str) and named in _READERS else None


def reader_of(backend: object, endpoints: Iterable[str | None] = ()) -> Reader:
    """The reader of the replies `backend` gives for calls to `endpoints`: what
    its `reader_for(endpoints)` says, looked up through wrappers (their
    `inner`); `TEXT_READER` for a backend that says nothing."""
    found: object | None = backend
    while found is not None:
        choose = getattr(found, "reader_for", None)
        if callable(choose):
            return choose(tuple(endpoints))
        found = getattr(found, "inner", None)
    return TEXT_READER
