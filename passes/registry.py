"""The pass registry: every pass `flowcompile-opt -p` can run, by name.

Adding a pass is one module in this folder plus one line in `FLOW_PASSES`.
Passes outside the repository register through the `flowcompile.passes`
entry-point group (`name = "package.module:PassClass"`). Factories import their
module only when the pass is used, so `--help` stays fast.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # xdsl.passes costs half a second; the CLI reads the bounds below at startup
    from xdsl.passes import ModulePass
    from xdsl.utils.arg_spec import ArgSpec

PassFactory = Callable[[], "type[ModulePass]"]

FLOW_PASSES: dict[str, str] = {
    "profile": "flowcompile.passes.profile:ProfilePass",
    "retarget": "flowcompile.passes.retarget:RetargetPass",
    "compose": "flowcompile.passes.compose:ComposePass",
    "enumerate": "flowcompile.passes.enumerate:EnumeratePass",
    "validate": "flowcompile.passes.validate:ValidatePass",
    "pareto": "flowcompile.passes.pareto:ParetoPass",
    "strip-profiles": "flowcompile.passes.strip_profiles:StripProfilesPass",
}
"""The flow passes, in pipeline order; each also gets a `--<name>` flag."""

GENERIC_PASSES: dict[str, str] = {
    "canonicalize": "xdsl.transforms.canonicalize:CanonicalizePass",
    "cse": "xdsl.transforms.common_subexpression_elimination:CommonSubexpressionElimination",
    "dce": "xdsl.transforms.dead_code_elimination:DeadCodeElimination",
}
"""xDSL's cleanups that are meaningful on flow IR (agents have unknown effects,
so cse and dce never merge or drop an LLM call)."""

GENERIC_SUMMARIES: dict[str, str] = {
    "cse": "Merge identical pure ops (never an LLM call)",
    "dce": "Erase unused pure ops (never an LLM call)",
}
"""One-line help for the generic passes whose class has no docstring."""

ENTRY_POINT_GROUP = "flowcompile.passes"


def _lazy(target: str) -> PassFactory:
    def load() -> type[ModulePass]:
        module, _, attr = target.partition(":")
        return getattr(importlib.import_module(module), attr)

    return load


def plugin_passes() -> dict[str, PassFactory]:
    """Passes registered by installed packages under `flowcompile.passes`."""
    return {ep.name: ep.load for ep in entry_points(group=ENTRY_POINT_GROUP)}


def flow_pass_names() -> list[str]:
    return [*FLOW_PASSES, *(n for n in plugin_passes() if n not in FLOW_PASSES)]


def available_passes() -> dict[str, PassFactory]:
    """Every pass by name: flow passes, plugins, then the generic cleanups."""
    passes = {name: _lazy(target) for name, target in FLOW_PASSES.items()}
    for name, factory in plugin_passes().items():
        passes.setdefault(name, factory)
    passes.update((n, _lazy(t)) for n, t in GENERIC_PASSES.items())
    return passes


# Option bounds ---------------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    """The values a numeric option accepts: `low` (excluded when `low_open`) to `high`."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False

    def problem(self, value: float) -> str | None:
        """Why `value` is out of bounds, or None."""
        if math.isnan(value):
            return "must be a number"
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return f"must be {'>' if self.low_open else '>='} {self.low:g}"
        if self.high is not None and value > self.high:
            return f"must be <= {self.high:g}"
        return None


MAX_QUERIES = 100_000
"""Query counts at most: a dataset is read whole and a simulated one generated
before the first call, so `samples=10**8` would exhaust memory (found by the
fuzz run: 23 GB) rather than say what is wrong."""

OPTION_BOUNDS: dict[str, Bound] = {
    "concurrency": Bound(1),
    "retries": Bound(1),
    "timeout": Bound(0),
    "samples": Bound(0, MAX_QUERIES),
    "max_samples": Bound(0, MAX_QUERIES),
    "budget": Bound(0),
    "draws": Bound(0),
    "candidates": Bound(1),
    "keep": Bound(1),
    "prior_strength": Bound(0),
    "limit": Bound(1),
    "k": Bound(1),
    "max_latency": Bound(0),
    "min_acc": Bound(0, 1),
    "max_cost": Bound(0),
    "max_failures": Bound(0, 1),
    "min_value": Bound(0, 1),
    "shrink": Bound(0, 1, low_open=True),
}
"""The numeric options' bounds, by option: an option means the same in every
pass that has it (PASS_OPTION_BOUNDS holds the exceptions). The one place these
rules live: the drivers check every pass against it before it runs, and the
`flowcompile` commands derive their options' ranges from it."""

UNBOUNDED_OPTIONS = frozenset({"seed"})
"""Numeric options that take any value."""

PASS_OPTION_BOUNDS: dict[tuple[str, str], Bound] = {
    ("validate", "samples"): Bound(1, MAX_QUERIES),  # validation needs a query; profile's 0 means "all"
}


class OptionError(ValueError):
    """A pass option out of its bounds; the message names the option."""


def option_bound(pass_name: str, option: str) -> Bound | None:
    """The bound of `option` (a field name, snake_case) of the pass named `pass_name`."""
    return PASS_OPTION_BOUNDS.get((pass_name, option), OPTION_BOUNDS.get(option))


def check_options(pass_: ModulePass) -> None:
    """Raise OptionError naming the first option of `pass_` out of its bounds."""
    if not dataclasses.is_dataclass(pass_):
        return
    for field in dataclasses.fields(pass_):
        value = getattr(pass_, field.name)
        bound = option_bound(pass_.name, field.name)
        if bound is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if (problem := bound.problem(value)) is not None:
            option, shown = field.name.replace("_", "-"), value if isinstance(value, int) else f"{value:g}"
            raise OptionError(f"option {option}={shown}: {problem}")


# Pipelines -------------------------------------------------------------------


class PipelineError(ValueError):
    """A pass pipeline that does not parse, or names an unknown pass or option."""


def did_you_mean(word: str, choices: list[str]) -> str:
    """`; did you mean 'x'?` for the closest of `choices`, or ''."""
    import difflib

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


_PLAIN_VALUE = re.compile(r"[-+]?[0-9]+(\.[0-9]*([eE][-+]?[0-9]+)?)?|[A-Za-z0-9_-]+")
"""Values xDSL's pipeline lexer reads unquoted: numbers and identifiers."""


def quote_bare_values(spec: str) -> str:
    """Quote option values that xDSL's lexer would reject unquoted (`cache=out/x.db`),
    as mlir-opt reads a value up to the next space or `}`; quoted values, numbers,
    identifiers and everything outside `{...}` are left as they are."""
    out: list[str] = []
    i, depth = 0, 0
    while i < len(spec):
        c = spec[i]
        if c == '"' or (c == "[" and depth == 0):
            end = _literal_end(spec, i)
            out.append(spec[i:end])
            i = end
            continue
        depth += {"{": 1, "}": -1}.get(c, 0)
        out.append(c)
        i += 1
        if c == "=" and depth == 1:
            i = _copy_value(spec, i, out)
    return "".join(out)


def _literal_end(spec: str, start: int) -> int:
    """The index after the string literal (or `[...]` pipeline) at `start`."""
    close = '"' if spec[start] == '"' else "]"
    i = start + 1
    while i < len(spec) and spec[i] != close:
        i += 2 if spec[i] == "\\" else 1
    return min(i + 1, len(spec))


def _copy_value(spec: str, i: int, out: list[str]) -> int:
    """Copy one `value(,value)*` from `spec[i:]` into `out`, quoting bare elements."""
    while True:
        if i < len(spec) and spec[i] == '"':
            end = _literal_end(spec, i)
            out.append(spec[i:end])
        else:
            end = i
            while end < len(spec) and spec[end] not in ' \t\n,}"':
                end += 1
            element = spec[i:end]
            plain = not element or _PLAIN_VALUE.fullmatch(element)
            out.append(element if plain else '"' + element.replace("\\", "\\\\").replace('"', '\\"') + '"')
        i = end
        if i < len(spec) and spec[i] == ",":
            out.append(",")
            i += 1
            continue
        return i


def parse_pipeline(spec: str, passes: dict[str, PassFactory] | None = None) -> list[ModulePass]:
    """The passes of a `-p` pipeline (`profile{samples=32},compose`), options checked
    against each pass's fields and bounds; PipelineError naming the culprit, with
    a "did you mean" where a name is close to a known one."""
    # lazy: `flowcompile-opt --help` reads the registry without xDSL (tests/test_startup.py)
    from xdsl.utils.arg_spec import parse_pipeline as parse_specs
    from xdsl.utils.exceptions import ArgSpecParseError

    passes = available_passes() if passes is None else passes
    try:
        specs = list(parse_specs(quote_bare_values(spec)))
    except ArgSpecParseError as e:  # a BaseException in xDSL 0.74
        raise PipelineError(_spec_error(e, spec)) from None
    result = []
    for arg_spec in specs:
        if arg_spec.name not in passes:
            raise PipelineError(
                f"unknown pass '{arg_spec.name}'{did_you_mean(arg_spec.name, list(passes))} "
                f"(passes: {', '.join(passes)})"
            )
        cls = passes[arg_spec.name]()
        _check_option_names(cls, arg_spec.parameters)
        arg_spec = _flags_as_true(cls, arg_spec.normalize_parameter_names())
        try:
            pass_ = cls.from_pass_spec(arg_spec)
        except ValueError as e:
            raise PipelineError(f"{cls.name}: {_option_type_problem(cls, arg_spec.parameters) or e}") from None
        try:
            check_options(pass_)
        except OptionError as e:
            raise PipelineError(f"{cls.name}: {e}") from None
        result.append(pass_)
    return result


def _flags_as_true(cls: type[ModulePass], spec: ArgSpec) -> ArgSpec:
    """A bool option given without a value (`dry-run`) is true, as in mlir-opt."""
    # lazy: `flowcompile-opt --help` reads the registry without xDSL (tests/test_startup.py)
    from xdsl.utils.arg_spec import ArgSpec

    hints = _field_types(cls)
    parameters = {k: ((True,) if not v and hints.get(k) is bool else v) for k, v in spec.parameters.items()}
    return ArgSpec(spec.name, parameters)


def _spec_error(error: BaseException, spec: str) -> str:
    """xDSL's `pass-pipeline:1:15` + message, as `column 15 of '<spec>': message`."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    where = re.search(r"pass-pipeline:\d+:(\d+)", str(error))
    message = lines[-1].strip() if lines else "cannot parse"
    if "Unknown token" in message and where:
        before = spec[: int(where.group(1)) - 1]
        inside = before.count("{") > before.count("}")
        message += (
            "; quote a value that holds spaces or braces: cache=\"my dir/c.db\"" if inside
            else "; a pipeline is pass names, comma-separated, each with optional {options}"
        )
    return f"column {where.group(1)} of '{spec}': {message}" if where else f"'{spec}': {message}"


def _check_option_names(cls: type[ModulePass], given: dict[str, object]) -> None:
    names = [o.name for o in pass_options(cls)]
    for key in given:
        if key.replace("_", "-") not in names:
            shown = key.replace("_", "-")
            listed = ", ".join(names) if names else "none"
            raise PipelineError(
                f"{cls.name}: unknown option '{shown}'{did_you_mean(shown, names)} (options: {listed})"
            )


def _option_type_problem(cls: type[ModulePass], given: dict[str, tuple[object, ...]]) -> str | None:
    """Which given option has a value of the wrong type, and what it takes."""
    # lazy: `flowcompile-opt --help` reads the registry without xDSL (tests/test_startup.py)
    from xdsl.utils.hints import isa

    options = {o.name: o for o in pass_options(cls)}
    hints = _field_types(cls)
    for key, values in given.items():
        name = key.replace("_", "-")
        kind = hints.get(name.replace("-", "_"))
        if kind is None:
            continue
        fits = (len(values) == 1 and isa(values[0], kind)) or isa(values, kind)
        if not fits and not (not values and type(None) in getattr(kind, "__args__", ())):
            shown = ",".join(json.dumps(v) if isinstance(v, str) else str(v).lower() if isinstance(v, bool)
                             else str(v) for v in values)
            return f"option {name}={shown}: expected {options[name].type}"
    return None


def _field_types(cls: type) -> dict[str, object]:
    from typing import get_type_hints

    return get_type_hints(cls)


@dataclass(frozen=True)
class OptionDoc:
    """One pass option as a user types it: dashed name, type, default, one-line help."""

    name: str
    type: str
    default: str
    help: str


def pass_options(cls: type[ModulePass]) -> list[OptionDoc]:
    """The options of a pass, from its dataclass fields and their attribute docstrings."""
    if not dataclasses.is_dataclass(cls):
        return []
    hints = _field_types(cls)
    docs = _attribute_docs(cls)
    options = []
    for field in dataclasses.fields(cls):
        if field.name == "name" or not field.init:
            continue
        default = field.default
        if default is dataclasses.MISSING and field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        options.append(OptionDoc(
            field.name.replace("_", "-"),
            _type_name(hints.get(field.name, field.type)),
            "required" if default is dataclasses.MISSING else _value_text(default),
            docs.get(field.name, ""),
        ))
    return options


def _type_name(kind: object) -> str:
    """`int`, `float`, `bool`, `str`, `int,...` for tuples; `X | None` as optional X."""
    args = [a for a in getattr(kind, "__args__", ()) if a is not type(None)]
    origin = getattr(kind, "__origin__", None)
    if origin is tuple and args:
        return f"{_type_name(args[0])},..."
    if args and origin is not tuple:
        names = [_type_name(a) for a in args]
        return "float" if set(names) == {"float", "int"} else " | ".join(dict.fromkeys(names))
    return {"str": "string"}.get(getattr(kind, "__name__", str(kind)), getattr(kind, "__name__", str(kind)))


def _value_text(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple):
        return ",".join(_value_text(v) for v in value) or "unset"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _attribute_docs(cls: type) -> dict[str, str]:
    """The first line of each field's attribute docstring, over the class's bases."""
    import ast
    import inspect
    import textwrap

    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for stmt, after in zip(body, body[1:]):
            if (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                text = " ".join(after.value.value.split())
                docs[stmt.target.id] = _first_sentence(text)
    return docs


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.;])(\s|$)", text)
    return (match.group(1) if match else text).rstrip(".;")
