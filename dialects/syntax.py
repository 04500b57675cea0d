"""Assembly helpers shared by the `flow` dialect's attributes and ops.

Two syntaxes recur in the dialect:

* keyword structs, `#flow.profile<acc = 0.83, acc_n = 200, lat = 1.92>`, whose
  fields print by name, in a fixed order, optional ones only when present;
* op dictionaries that mix inherent properties and discardable attributes,
  `{role = "solver", budgets = [0, 1024], profiles = {...}}`, where the integer
  and float arrays an op declares print as plain lists rather than
  `array<i64: 0, 1024>`, floats as the shortest literal that round-trips, and
  every other attribute as MLIR prints it, so none is lost or changes type.

Both stay valid MLIR: the generic form (`--print-op-generic`) still prints
dense arrays and typed floats the way upstream tools expect.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from xdsl.dialects.builtin import (
    ArrayAttr,
    DenseArrayBase,
    DictionaryAttr,
    FloatAttr,
    FloatData,
    IntAttr,
    IntegerAttr,
    NoneAttr,
    StringAttr,
    UnitAttr,
    f64,
    i64,
)
from xdsl.ir import Attribute, ParametrizedAttribute
from xdsl.irdl import AnyAttr, AttrConstraint, IRDLOperation, VerificationContext
from xdsl.parser import AttrParser, Parser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException

FieldKind = Literal["float", "int", "str", "floats", "ints", "attr"]
"""`floats`/`ints`: a list of numbers, `[0.05, 0.4]`, stored as a dense f64/i64 array."""

ABSENT = NoneAttr()
"""An absent optional field: one shared value (attributes are immutable, and
building one per field is most of the cost of writing a large frontier)."""


def format_float(value: float) -> str:
    """The shortest decimal that parses back to `value`, as an MLIR float literal.

    Python's `repr` is the shortest round-tripping form, but MLIR requires a
    `.` in every float literal (`4e-07` is not one, `4.0e-07` is).
    """
    if not math.isfinite(value):
        raise ValueError(f"non-finite float {value!r} has no literal form")
    text = repr(float(value))
    mantissa, _, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + ("e" + exponent if exponent else "")


@dataclass(frozen=True)
class Field:
    """One named field of a keyword-struct attribute: a typed parameter.

    Its kind follows from the parameter's type: `FloatData` (a float),
    `IntAttr`, `StringAttr`, an f64 or i64 `DenseArrayBase` (a list of numbers,
    `[0.05, 0.4]`), else any attribute; `| NoneAttr` makes it optional.
    """

    name: str
    param: str
    kind: FieldKind
    optional: bool

    @staticmethod
    def of(param: str, constr: AttrConstraint) -> Field:
        def accepts(attr: Attribute) -> bool:
            try:
                constr.verify(attr, VerificationContext())
            except VerifyException:
                return False
            return True

        if isinstance(constr, AnyAttr):
            return Field(param.removesuffix("_"), param, "attr", False)
        kind = next((k for k, sample in _SAMPLES.items() if accepts(sample)), "attr")
        return Field(param.removesuffix("_"), param, kind, accepts(NoneAttr()))


@functools.cache
def struct_fields(cls: type[ParametrizedAttribute]) -> Mapping[str, Field]:
    """The fields of a keyword-struct attribute class, by name, in parameter order."""
    fields = (Field.of(p, d.constr) for p, d in cls.get_irdl_definition().parameters)
    return {f.name: f for f in fields}


def field_to_attr(kind: FieldKind, value: Any) -> Attribute:
    if value is None:
        return ABSENT
    if kind == "float":
        return FloatData(float(value))
    if kind == "int":
        return IntAttr(int(value))
    if kind == "str":
        return StringAttr(str(value))
    if kind == "floats":
        return float_array(value)
    if kind == "ints":
        return int_array([int(v) for v in value])
    assert isinstance(value, Attribute)
    return value


def attr_to_field(attr: Attribute) -> object:
    if isinstance(attr, NoneAttr):
        return None
    if isinstance(attr, FloatData | IntAttr | StringAttr):
        return attr.data
    if isinstance(attr, DenseArrayBase):
        return array_values(attr)
    return attr


def list_values(attr: DenseArrayBase | NoneAttr) -> list[float] | list[int] | None:
    """The numbers of an optional list field (None when absent)."""
    return None if isinstance(attr, NoneAttr) else array_values(attr)


def parse_keyword_struct(
    parser: AttrParser, by_name: Mapping[str, Field], attr_name: str
) -> list[Attribute]:
    """Parse `<k = v, ...>` with the given fields, in any order, each at most once."""
    values: dict[str, Attribute] = {}

    def parse_entry() -> None:
        start = parser.pos
        key = parser.parse_identifier(f" (a field of #{attr_name})")
        field = by_name.get(key)
        if field is None:
            known = ", ".join(by_name)
            parser.raise_error(
                f"#{attr_name} has no field '{key}' (fields: {known})", start, parser.pos
            )
        if key in values:
            parser.raise_error(f"field '{key}' given twice", start, parser.pos)
        parser.parse_punctuation("=")
        values[key] = _parse_field_value(parser, field)

    start = parser.pos
    parser.parse_comma_separated_list(parser.Delimiter.ANGLE, parse_entry)
    missing = [k for k, f in by_name.items() if not f.optional and k not in values]
    if missing:
        parser.raise_error(
            f"#{attr_name} is missing field(s) {', '.join(missing)}", start, parser.pos
        )
    return [values.get(k, ABSENT) for k in by_name]


def _parse_field_value(parser: AttrParser, field: Field) -> Attribute:
    if field.kind == "float":
        return FloatData(float(parser.parse_number()))
    if field.kind == "int":
        return IntAttr(parser.parse_integer(allow_boolean=False))
    if field.kind == "str":
        return StringAttr(parser.parse_str_literal())
    if field.kind == "floats":
        numbers = parser.parse_comma_separated_list(parser.Delimiter.SQUARE, parser.parse_number)
        return float_array([float(v) for v in numbers])
    if field.kind == "ints":
        integers = parser.parse_comma_separated_list(
            parser.Delimiter.SQUARE, lambda: parser.parse_integer(allow_boolean=False)
        )
        return int_array(integers)
    return parser.parse_attribute()


def print_keyword_struct(
    printer: Printer, fields: Mapping[str, Field], params: Sequence[Attribute]
) -> None:
    """Print `<k = v, ...>`, skipping optional fields that are absent."""
    present = [
        (f, p) for f, p in zip(fields.values(), params, strict=True) if not isinstance(p, NoneAttr)
    ]
    with printer.in_angle_brackets():
        printer.print_list(present, lambda fp: _print_field(printer, *fp))


def _print_field(printer: Printer, field: Field, param: Attribute) -> None:
    printer.print_string(f"{field.name} = ")
    if isinstance(param, FloatData):
        printer.print_string(format_float(param.data))
    elif isinstance(param, IntAttr):
        printer.print_string(str(param.data))
    elif isinstance(param, StringAttr):
        printer.print_string_literal(param.data)
    elif isinstance(param, DenseArrayBase) and param.elt_type in (i64, f64):
        # a number list prints bare, `[0.05, 0.4]`, as it is written
        printer.print_string("[" + ", ".join(format_number(v) for v in param.iter_values()) + "]")
    else:
        printer.print_attribute(param)


def check_list(
    what: str, values: Sequence[float] | Sequence[int] | None, low: float = 0.0, high: float = math.inf
) -> None:
    """`check_range` on every element, naming it `what[i]` (None passes)."""
    for i, value in enumerate(values or ()):
        check_range(f"{what}[{i}]", value, low, high)


def check_range(
    what: str,
    value: float | FloatData | IntAttr | NoneAttr | None,
    low: float = 0.0,
    high: float = math.inf,
) -> None:
    """Raise a VerifyException unless `low <= value <= high` (None and an absent
    field pass; a field is checked by its value)."""
    if isinstance(value, FloatData | IntAttr):
        value = value.data
    if value is None or isinstance(value, NoneAttr):
        return
    if not math.isfinite(value):
        bound = f"[{low:g}, {high:g}]" if high != math.inf else f"[{low:g}, inf)"
        raise VerifyException(f"{what} must be in {bound}, got {value}")
    if not (low <= value <= high):
        bound = f"in [{low:g}, {high:g}]" if high != math.inf else f">= {low:g}"
        raise VerifyException(f"{what} must be {bound}, got {format_number(value)}")


def format_number(value: float | int) -> str:
    return str(value) if isinstance(value, int) else format_float(value)


# Op dictionaries ------------------------------------------------------------


def int_array(values: Sequence[int]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, list(values))


def float_array(values: Sequence[float]) -> DenseArrayBase:
    return DenseArrayBase.from_list(f64, [float(v) for v in values])


_SAMPLES: dict[FieldKind, Attribute] = {
    "float": FloatData(0.0),
    "int": IntAttr(0),
    "str": StringAttr(""),
    "floats": float_array([]),
    "ints": int_array([]),
}
"""A value of each field kind, to tell a parameter's kind from its constraint."""


def array_values(attr: DenseArrayBase) -> list[int] | list[float]:
    return list(attr.iter_values())  # pyright: ignore[reportReturnType]


def int_values(attr: DenseArrayBase) -> list[int]:
    return [int(v) for v in attr.iter_values()]


def _as_dense_array(attr: Attribute, element: Literal["int", "float"]) -> Attribute:
    """Turn a parsed `[1, 2]` (an ArrayAttr of typed literals) into a dense array."""
    if not isinstance(attr, ArrayAttr):
        return attr
    if element == "int":
        ints = [a.value.data for a in attr.data if isinstance(a, IntegerAttr)]
        return int_array(ints) if len(ints) == len(attr.data) else attr
    kinds = IntegerAttr | FloatAttr
    numbers = [float(a.value.data) for a in attr.data if isinstance(a, kinds)]
    return float_array(numbers) if len(numbers) == len(attr.data) else attr


def _as_float(attr: Attribute) -> Attribute:
    if isinstance(attr, IntegerAttr) and attr.type == i64:
        return FloatAttr(float(attr.value.data), f64)
    return attr


@dataclass(frozen=True)
class OpDictSpec:
    """How the lists and numbers an op's dictionary declares are stored."""

    int_arrays: frozenset[str] = frozenset()
    float_arrays: frozenset[str] = frozenset()
    floats: frozenset[str] = frozenset()

    def normalize(self, key: str, value: Attribute) -> Attribute:
        if key in self.int_arrays:
            return _as_dense_array(value, "int")
        if key in self.float_arrays:
            return _as_dense_array(value, "float")
        if key in self.floats:
            return _as_float(value)
        return value

    def bare_list(self, key: str) -> bool:
        """Whether `key`'s dense array may print as `[1, 2]`: only where
        `normalize` turns the parsed list back into a dense array."""
        return key in self.int_arrays or key in self.float_arrays


NO_LISTS = OpDictSpec()


def parse_op_dict(
    parser: Parser,
    op_type: type[IRDLOperation],
    spec: OpDictSpec = NO_LISTS,
    *,
    keyword: str | None = None,
) -> tuple[dict[str, Attribute], dict[str, Attribute]]:
    """Parse an optional `{...}` (after `keyword`, if one is given) and split it
    into the properties `op_type` declares and discardable attributes."""
    if keyword is not None and not parser.parse_optional_keyword(keyword):
        return {}, {}
    declared = op_type.get_irdl_definition().properties
    properties: dict[str, Attribute] = {}
    attributes: dict[str, Attribute] = {}
    for key, value in parser.parse_optional_attr_dict().items():
        target = properties if key in declared else attributes
        target[key] = spec.normalize(key, value)
    return properties, attributes


def print_op_dict(
    printer: Printer,
    op: IRDLOperation,
    spec: OpDictSpec = NO_LISTS,
    *,
    keyword: str | None = None,
    skip: Sequence[str] = ("sym_name",),
) -> None:
    """Print ` {k = v, ...}` (or ` keyword {...}`): the op's properties but
    `skip`, in the order the op declares them, then its discardable attributes;
    floats in short form and the dense arrays `spec` names as bare lists, so
    that `parse_op_dict` with the same spec gives them back."""
    declared = op.get_irdl_definition().properties
    entries = {k: op.properties[k] for k in declared if k in op.properties and k not in skip}
    entries.update(op.attributes)
    if not entries:
        return
    printer.print_string(f" {keyword} " if keyword else " ")
    with printer.in_braces():
        printer.print_list(
            entries.items(), lambda kv: _print_entry(printer, *kv, spec.bare_list(kv[0]))
        )


def _print_entry(printer: Printer, key: str, value: Attribute, bare_list: bool = False) -> None:
    printer.print_identifier_or_string_literal(key)
    if isinstance(value, UnitAttr):
        return
    printer.print_string(" = ")
    print_compact(printer, value, bare_list)


def print_compact(printer: Printer, value: Attribute, bare_list: bool = False) -> None:
    """Print an attribute, with i64/f64 scalars as bare literals and, when
    `bare_list`, an i64/f64 dense array as `[1, 2]`. Elsewhere a dense array
    keeps `array<i64: 1, 2>`: a bare list would parse back as an `ArrayAttr`."""
    if (
        bare_list
        and isinstance(value, DenseArrayBase)
        and value.elt_type in (i64, f64)
        and all(math.isfinite(v) for v in value.iter_values())
    ):
        items = [format_number(v) for v in value.iter_values()]
        printer.print_string("[" + ", ".join(items) + "]")
    elif (
        isinstance(value, FloatAttr)
        and value.type == f64
        and math.isfinite(value.value.data)
    ):
        printer.print_string(format_float(value.value.data))
    elif isinstance(value, IntegerAttr) and value.type == i64:
        printer.print_string(str(value.value.data))
    elif isinstance(value, ArrayAttr) and any(
        isinstance(v, FloatAttr | IntegerAttr) for v in value.data
    ):
        printer.print_string("[")
        printer.print_list(value.data, lambda v: print_compact(printer, v))
        printer.print_string("]")
    elif isinstance(value, DictionaryAttr):
        with printer.in_braces():
            printer.print_list(
                value.data.items(), lambda kv: _print_entry(printer, *kv)
            )
    else:
        printer.print_attribute(value)


def string_list(attr: ArrayAttr[StringAttr]) -> list[str]:
    return [s.data for s in attr.data]

