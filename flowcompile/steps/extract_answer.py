"""`extract_answer`: the final answer of a text, by a regex or as its last number.

Its output is `Answer: <value>`, the form `backends.reader.TEXT_READER.answer_key` reads,
so voting and scoring treat it like any answer. Nothing found is the empty
answer (a wrong answer, not a failed call).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from flowcompile.steps import Params, ToolResult, unknown_params

NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
"""A number, as written: an optional sign, digits, an optional decimal part."""

PARAMS = ("pattern", "number")


class ExtractAnswer:
    """`params: {pattern: "<regex with one group>"}` (the group of its last
    match) or `{number: true}` (the last number); the last input is read."""

    name = "extract_answer"

    def check(self, params: Params) -> list[str]:
        problems = unknown_params(params, PARAMS, self.name)
        pattern, number = params.get("pattern"), params.get("number")
        if (pattern is None) == (number is None or number is False):
            problems.append(f'tool {self.name}: give one of pattern = "<regex with one group>" or number = true')
        if number is not None and not isinstance(number, bool):
            problems.append(f"tool {self.name}: number must be true or false")
        if pattern is not None:
            if not isinstance(pattern, str):
                problems.append(f"tool {self.name}: pattern must be a string")
            else:
                try:
                    groups = re.compile(pattern).groups
                except re.error as e:
                    problems.append(f"tool {self.name}: pattern is no regex: {e}")
                else:
                    if groups != 1:
                        problems.append(f"tool {self.name}: pattern needs exactly one group, has {groups}")
        return problems

    def run(self, inputs: Sequence[str], params: Params) -> ToolResult:
        if problems := self.check(params):
            return ToolResult("", ok=False, error=problems[0])
        text = inputs[-1] if inputs else ""
        pattern = params.get("pattern")
        if isinstance(pattern, str):
            found = [m.group(1) or "" for m in re.finditer(pattern, text)]
        else:
            found = NUMBER.findall(text)
        value = " ".join(found[-1].split()) if found else ""  # one line: the reader reads one
        return ToolResult(f"Answer: {value}")
