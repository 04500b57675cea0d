"""A bound on how deeply IR text may nest, checked before xDSL parses it.

xDSL's parser, printer and verifier recurse once (several Python frames) per
nesting level of regions, attributes and brackets, so valid but very deep IR
would end in a RecursionError. Instead, text nested deeper than `MAX_NESTING`
is a parse error at the bracket that goes too deep. The bound is what every
stage (parsing, verifying, printing, the passes) handles within Python's
default recursion limit, which the tools leave alone: other parsers (PyYAML)
rely on it to refuse their own deep input.
"""

from __future__ import annotations

import re

from xdsl.utils.exceptions import ParseError
from xdsl.utils.lexer import Input, Span

MAX_NESTING = 64
"""Brackets ((, [, {, <) open at once; a region in generic form, `({ ... })`,
counts once, so a workflow nests the same in both forms."""

# Strings and comments first, so their brackets do not count; `->` is an arrow.
_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*|->|\(\{|\}\)|[\[({<]|[\])}>]')


def check_nesting(text: str, name: str, limit: int = MAX_NESTING) -> None:
    """Raise a located ParseError at the first bracket nested deeper than `limit`."""
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in ("[", "(", "{", "<", "({"):
            depth += 1
            if depth > limit:
                span = Span(match.start(), match.end(), Input(text, name))
                raise ParseError(span, f"nested more than {limit} levels deep (brackets, regions, attributes)")
        elif token in ("]", ")", "}", ">", "})"):
            depth = max(0, depth - 1)
