"""A bound on how deeply IR text may nest, checked before xDSL parses it.

xDSL's parser, printer and verifier recurse once (several Python frames) per
nesting level of regions, attributes and brackets, so valid but very deep IR
would end in a RecursionError. Instead, text nested deeper than `MAX_NESTING`
is a parse error at the bracket that goes too deep, and the interpreter's
recursion limit is raised enough for every depth up to it.
"""

from __future__ import annotations

import re
import sys

from xdsl.utils.exceptions import ParseError
from xdsl.utils.lexer import Input, Span

MAX_NESTING = 256
"""Brackets ((, [, {, <) open at once; 300 nested forks are 300 regions deep."""

RECURSION_LIMIT = 20_000
"""Enough Python frames for `MAX_NESTING` levels in every stage (measured: about
8 frames per level when parsing, more in passes that walk nested regions)."""

# Strings and comments first, so their brackets do not count; `->` is an arrow.
_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*|->|[\[({<]|[\])}>]')


def check_nesting(text: str, name: str, limit: int = MAX_NESTING) -> None:
    """Raise a located ParseError at the first bracket nested deeper than `limit`;
    otherwise make sure the recursion limit allows that depth."""
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[({<":
            depth += 1
            if depth > limit:
                span = Span(match.start(), match.end(), Input(text, name))
                raise ParseError(span, f"nested more than {limit} levels deep (brackets, regions, attributes)")
        elif token in "])}>":
            depth = max(0, depth - 1)
    if sys.getrecursionlimit() < RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)
