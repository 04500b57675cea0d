"""How the runtime reads agent outputs: final answers, verdicts and routes.

Each reader first looks for the tags of the simulated backend's text protocol
(`<<kind:agent:value>>`, see `flowcompile.sim.protocol`), which are exact, and
otherwise falls back to heuristics for free text written by a real LLM. The
tag pattern is repeated here rather than imported so that the runtime does not
depend on the simulator.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

_TAG_RE = re.compile(r"<<(plan|answer|verdict|route):([A-Za-z0-9_.-]+):([^<>:\s]+)>>")
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


def _tags(text: str) -> list[tuple[str, str]]:
    """(kind, value) of every protocol tag in `text`, in order."""
    return [(m.group(1), m.group(3)) for m in _TAG_RE.finditer(text)]


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


def answer_key(text: str | None) -> str:
    """The normalised final answer of an output, for voting and scoring.

    In order: the value of the last `<<answer:...>>` tag (else of the last tag
    of any kind); the text after the last "answer:" marker (the rest of its
    line, or the next non-empty line: "Final **Answer:** 42"; nothing after
    it is the empty answer); the last non-empty line. Then `normalise`d.
    Empty or None text gives "".
    """
    if not text:
        return ""
    tags = _tags(text)
    if tags:
        answers = [value for kind, value in tags if kind == "answer"]
        return normalise(answers[-1] if answers else tags[-1][1])
    markers = list(_ANSWER_MARKER_RE.finditer(text))
    if markers:
        after = text[markers[-1].end() :]
        for line in after.splitlines():
            if normalise(line):
                return normalise(line)
        return ""  # a marker with nothing after it: the empty answer ("Answer: ")
    lines = [line for line in text.splitlines() if normalise(line)]
    return normalise(lines[-1]) if lines else ""


def is_approval(text: str | None) -> bool:
    """Whether a judge's output approves.

    A sim verdict tag decides (the last one: `approve` or `reject`). Otherwise
    approval words (APPROVE, APPROVED, LGTM, "looks correct/good/right", "is
    correct") are counted against rejection words (REJECT, REJECTED,
    "incorrect", "wrong", and any negated approval such as "not correct" or
    "don't approve"); the output approves only when approvals outnumber
    rejections, so rejection wins ties and a judge that says neither rejects.
    """
    if not text:
        return False
    verdicts = [value.lower() for kind, value in _tags(text) if kind == "verdict"]
    if verdicts:
        return verdicts[-1] == "approve"
    rejections = len(_NEGATED_RE.findall(text))
    rest = _NEGATED_RE.sub(" ", text)
    rejections += len(_REJECT_RE.findall(rest))
    approvals = len(_APPROVE_RE.findall(rest))
    return approvals > rejections


def route_label(text: str | None, labels: Sequence[str]) -> str | None:
    """The label of `labels` that a router's output names, or None.

    A sim route tag decides (the last one; None when its value is no label).
    Otherwise: a label equal to the output's `answer_key` ("Answer: code");
    else the label whose word (case-insensitive, whole word) appears first,
    ignoring mentions right after a negation ("not math"). Matching keeps the
    label's spelling from `labels`.
    """
    if not text:
        return None
    by_lower = {label.lower(): label for label in labels}
    routes = [value for kind, value in _tags(text) if kind == "route"]
    if routes:
        return by_lower.get(routes[-1].lower())
    key = answer_key(text)
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
