"""Reading a workflow spec file, with errors that name the field and its line.

Every problem, whether pydantic's or the lowering's, is a `SpecProblem`: the
dotted path of the bad field (`agents.planner.budgets[1]`), where it sits in
the YAML file, and a one-line reason.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from flowcompile.frontend.spec import (
    AGENT_TAG,
    STEP_KINDS,
    TOOL_TAG,
    AgentSpec,
    ChoiceDefaults,
    ForkBlock,
    LoopBlock,
    ModelSpec,
    SwitchBlock,
    ToolSpec,
    WorkflowSpec,
)
from flowcompile.selection import Preference

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class SpecProblem:
    loc: Loc
    message: str
    line: int | None = None
    col: int | None = None

    def format(self, file: str) -> str:
        where = f"{file}:{self.line}:{self.col}" if self.line else file
        path = format_loc(self.loc)
        text = f"{where}: error: {path + ': ' if path else ''}{self.message}"
        # a lone surrogate from the file, escaped: a UTF-8 stream cannot write it
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


class SpecError(Exception):
    """One or more problems in a spec file."""

    def __init__(self, file: str, problems: Sequence[SpecProblem]):
        super().__init__("\n".join(p.format(file) for p in problems))
        self.file = file
        self.problems = list(problems)


def format_loc(loc: Loc) -> str:
    """`('agents', 'a', 'budgets', 1)` -> `agents.a.budgets[1]`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _clean_loc(loc: Loc) -> Loc:
    """Drop pydantic's discriminator tags: `steps[1].fork.fork.as` -> `steps[1].fork.as`."""
    parts = list(loc)
    cleaned: list[str | int] = []
    for i, part in enumerate(parts):
        after_index = i > 0 and isinstance(parts[i - 1], int)
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        if after_index and part in STEP_KINDS and (part == "agent" or nxt == part):
            continue
        if part in (AGENT_TAG, TOOL_TAG):
            continue
        cleaned.append(part)
    return tuple(cleaned)


class Locator:
    """Finds the line and column of a field path in a YAML document."""

    def __init__(self, text: str):
        try:
            self.root = yaml.compose(text)
        except (yaml.YAMLError, RecursionError):
            self.root = None

    def find(self, loc: Loc) -> tuple[int | None, int | None]:
        """Where the deepest existing part of `loc` is: a mapping field's key,
        a list item's value."""
        node, mark = self.root, self.root.start_mark if self.root else None
        for part in loc:
            found = _child(node, part)
            if found is None:
                break
            node, mark = found
        if mark is None:
            return None, None
        return mark.line + 1, mark.column + 1


def _child(node: Any, part: str | int) -> tuple[Any, Any] | None:
    """(child node, the mark that points at it) or None."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == str(part):
                return value, key.start_mark
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int):
        if 0 <= part < len(node.value):
            return node.value[part], node.value[part].start_mark
    return None


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an
    error at the second one (PyYAML keeps the last silently: a second agent of
    the same name would replace the first). Merge keys (`<<: *anchor`) still
    override, as YAML means them to."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:  # an unhashable key; the base class reports it
                    continue
                if first is not key_node:
                    raise yaml.constructor.ConstructorError(
                        None, None,
                        f"duplicate key {key!r} (first at line {first.start_mark.line + 1})",
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)  # pyright: ignore[reportArgumentType]


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:map", _UniqueKeyLoader.construct_yaml_map)


class _DuplicateJSONKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateJSONKey(key)
        out[key] = value
    return out


def _parse_document(text: str, file: str) -> Any:
    """The YAML (or, for `.json` files, JSON) document; SpecError at the
    offending line and column when it does not parse or repeats a key."""
    if file.endswith(".json"):
        try:
            return json.loads(text, object_pairs_hook=_unique_json_object)
        except json.JSONDecodeError as e:
            raise SpecError(file, [SpecProblem((), f"invalid JSON: {e.msg}", e.lineno, e.colno)]) from None
        except _DuplicateJSONKey as e:
            line, col = _second_json_key(text, e.key)
            raise SpecError(file, [SpecProblem((), f"duplicate key {e.key!r}", line, col)]) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise SpecError(file, [SpecProblem((), f"invalid YAML: {e.problem}", line, col)]) from None
    except yaml.YAMLError as e:
        raise SpecError(file, [SpecProblem((), f"invalid YAML: {e}", 1, 1)]) from None
    except RecursionError:
        raise SpecError(file, [SpecProblem((), "invalid YAML: nested too deeply", 1, 1)]) from None


def _second_json_key(text: str, key: str) -> tuple[int | None, int | None]:
    """Where `"key":` occurs for the second time (a good guess at the repeat)."""
    needle = json.dumps(key)
    first = text.find(needle)
    second = text.find(needle, first + 1) if first >= 0 else -1
    if second < 0:
        return None, None
    line = text.count("\n", 0, second) + 1
    return line, second - (text.rfind("\n", 0, second) + 1) + 1


def load_spec_text(text: str, file: str) -> tuple[WorkflowSpec, Locator]:
    """Parse and validate a spec; raise SpecError with every problem found."""
    document = _parse_document(text, file)
    locator = Locator(text)
    if not isinstance(document, dict):
        raise SpecError(file, [SpecProblem((), "the spec must be a mapping (workflow:, models:, agents:, steps:)", 1, 1)])
    if boolean_keys := _boolean_keys(locator.root, ()):
        raise SpecError(file, boolean_keys)
    if surrogates := _lone_surrogates(document, locator):
        raise SpecError(file, surrogates)
    try:
        spec = WorkflowSpec.model_validate(document)
    except ValidationError as e:
        problems = []
        for error in e.errors(include_url=False):
            loc = _clean_loc(tuple(error["loc"]))
            line, col = locator.find(loc)
            problems.append(SpecProblem(loc, _reason(error), line, col))
        raise SpecError(file, problems) from None
    return spec, locator


_BOOLEAN_WORDS = {"on", "off", "yes", "no", "true", "false", "y", "n"}


def _boolean_keys(node: Any, loc: Loc) -> list[SpecProblem]:
    """A problem at every mapping key YAML 1.1 read as a boolean (`on:`, `yes:`):
    pydantic would only say "Keys should be strings", with no hint why."""
    problems: list[SpecProblem] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:bool" and key.value.lower() in _BOOLEAN_WORDS:
                problems.append(SpecProblem(
                    (*loc, key.value), _boolean_key_reason(key.value, loc, value),
                    key.start_mark.line + 1, key.start_mark.column + 1,
                ))
            else:
                problems += _boolean_keys(value, (*loc, str(key.value)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _boolean_keys(item, (*loc, index))
    return problems


def _lone_surrogates(document: Any, locator: Locator) -> list[SpecProblem]:
    """A problem at every string holding a lone UTF-16 surrogate (`"\\ud800"`
    in a quoted scalar): no UTF-8 file, IR or terminal can hold it."""
    problems: list[SpecProblem] = []
    stack: list[tuple[Loc, Any]] = [((), document)]
    while stack:
        loc, node = stack.pop()
        if isinstance(node, dict):
            stack += [((*loc, str(k)), k) for k in node if isinstance(k, str)]
            stack += [((*loc, str(k)), v) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [((*loc, i), v) for i, v in enumerate(node)]
        elif isinstance(node, str) and (bad := next((c for c in node if "\ud800" <= c <= "\udfff"), None)):
            line, col = locator.find(loc)
            problems.append(SpecProblem(loc, f"not valid Unicode: a lone surrogate \\u{ord(bad):04x}", line, col))
    return sorted(problems, key=lambda p: (p.line or 0, p.col or 0))


def _boolean_key_reason(word: str, loc: Loc, value: Any) -> str:
    reason = f"YAML reads the key `{word}` as a boolean, not as a name"
    if loc and loc[-1] == "switch":
        route = value.value if isinstance(value, yaml.ScalarNode) and value.value else "router"
        return f"{reason}; a switch names its router's value with `route:` (route: {route})"
    return f'{reason}; quote it ("{word}": ...) if you mean the word'


_SHAPES: dict[Loc, str] = {
    ("models",): "a mapping from pool name to model, e.g. models: {{{examples}}}",
    ("agents",): "a mapping from agent name to agent, e.g. agents: {{{examples}}}",
}
"""What a top-level mapping looks like, for a spec that gives it as a list."""


def _shape_hint(loc: Loc, given: Any) -> str | None:
    """The expected shape of a mapping given as something else, from the names given."""
    given_text = "nothing" if given is None else f"a {type(given).__name__}"
    if len(loc) == 2 and loc[0] == "agents":
        return f"expected an agent, a mapping such as {loc[1]}: {{role: solver}}, not {given_text}"
    if len(loc) == 2 and loc[0] == "models":
        return f"expected a model, a mapping such as {loc[1]}: {{litellm: <provider>/{loc[1]}}}, not {given_text}"
    if loc not in _SHAPES:
        return None
    names = [g for g in given if isinstance(g, str)][:2] if isinstance(given, list) else []
    if loc == ("models",):
        names = names or ["qwen3-8b"]
        examples = ", ".join(f"{n}: {{litellm: <provider>/{n}}}" for n in names)
    else:
        names = names or ["solver"]
        examples = ", ".join(f"{n}: {{role: solver}}" for n in names)
    return f"expected {_SHAPES[loc].format(examples=examples)}, not {given_text}"


def _fields_of(loc: Loc) -> tuple[str, list[str]] | None:
    """What the mapping at `loc` is (`a switch`) and its fields, for "unknown field" hints."""
    blocks = {"fork": ("a fork", ForkBlock), "switch": ("a switch", SwitchBlock), "loop": ("a loop", LoopBlock)}
    found: tuple[str, type] | None = None
    if not loc:
        found = ("the top level", WorkflowSpec)
    elif loc == ("defaults",):
        found = ("defaults", ChoiceDefaults)
    elif len(loc) == 2 and loc[0] == "models":
        found = ("a model", ModelSpec)
    elif len(loc) == 2 and loc[0] == "agents":
        found = ("an agent", AgentSpec)
    elif len(loc) == 2 and loc[0] == "presets":
        found = ("a preset", Preference)
    elif len(loc) >= 2 and isinstance(loc[-2], int) and loc[-1] in blocks:
        found = blocks[str(loc[-1])]
    if found is None:
        return None
    what, model = found
    return what, [info.alias or name for name, info in model.model_fields.items()]


_SYNONYMS = {"on": "route", "when": "route", "router": "route", "name": "as", "prompts": "prompt",
             "input": "inputs", "model": "models", "budget": "budgets", "max_iter": "max_iters"}
"""Field names people try first, and the field they mean."""


def _unknown_field(loc: Loc) -> str:
    fields = _fields_of(loc[:-1])
    if fields is None:
        return "unknown field"
    what, names = fields
    given = str(loc[-1])
    close = [_SYNONYMS[given]] if _SYNONYMS.get(given) in names else difflib.get_close_matches(given, names, 1, 0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown field{hint} (the fields of {what}: {', '.join(names)})"


def _tool_field(given: str) -> str:
    names = [info.alias or name for name, info in ToolSpec.model_fields.items()]
    if given in AgentSpec.model_fields:
        return (f"a tool step has no {given}: it runs a registered tool in one configuration "
                f"(the fields of a tool step: {', '.join(names)})")
    return f"unknown field (the fields of a tool step: {', '.join(names)})"


def _reason(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    loc = _clean_loc(tuple(error["loc"]))
    if error["type"] == "extra_forbidden":
        if TOOL_TAG in error["loc"]:
            return _tool_field(str(loc[-1]))
        return _unknown_field(loc)
    if error["type"] == "missing":
        return "required field is missing"
    if error["type"] in ("dict_type", "model_type") and (shape := _shape_hint(loc, error.get("input"))):
        return shape
    if isinstance(error.get("input"), bool) and error["type"] in ("int_type", "float_type"):
        return f"{message}, not {str(error['input']).lower()}"
    return message


def load_spec(path: str | Path) -> tuple[WorkflowSpec, Locator]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise SpecError(str(path), [SpecProblem((), e.strerror or str(e))]) from None
    return load_spec_text(text, str(path))
