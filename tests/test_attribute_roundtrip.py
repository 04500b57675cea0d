"""Custom printers keep every discardable attribute: extra attributes on every
op of the dialect survive generic -> custom -> parse -> custom, unchanged in
value and type (issue 10, item 2)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from xdsl.context import Context
from xdsl.dialects.builtin import (
    ArrayAttr,
    Builtin,
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    UnitAttr,
    f32,
    f64,
    i32,
    i64,
)
from xdsl.ir import Attribute, Operation
from xdsl.parser import Parser
from xdsl.printer import Printer

from flowcompile.dialects.flow import Flow
from flowcompile.dialects.syntax import float_array, int_array

# Every op of the dialect, with and without operands and optional parts.
SOURCE = """
flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {pool = {m = #flow.model<provider = "openai/m">}} {
  %0 = flow.agent @a(%q) {role = "solver", models = ["m"], budgets = [0, 1024], recovery = 0.25}
  %1, %2 = flow.fork {
    flow.yield %0
  } {
    flow.yield %q
  }
  %3 = flow.fork @f attributes {samples = [1, 3]} {
    %4 = flow.agent @s(%0) {role = "solver", models = ["m"], budgets = [0]}
    flow.yield %4
  }
  %5 = flow.vote(%1, %2, %3) {method = "majority"}
  %6 = flow.switch %5 attributes {probs = [0.25, 0.75]} case "x" {
    flow.yield %5
  } case "y" {
    flow.yield %0
  }
  %7 = flow.loop @l iter(%c = %6) attributes {max_iters = [1, 2]} {
    %8 = flow.agent @critic(%c) {role = "critic", models = ["m"], budgets = [0]}
    flow.until %8, %c
  }
  %9 = flow.tool @t(%7, %q) {tool = "extract_answer", params = {number = true, k = 2, rate = 0.5, pattern = "(x)"}}
  flow.return %9
}
flow.workflow @empty() {
  flow.return
}
flow.config_set @p for @w {points = [#flow.point<acc = 0.5, lat = 1.0, assign = {a = #flow.config<model = "m", budget = 0>}>]}
"""

EXTRA: dict[str, Attribute] = {
    "note": StringAttr("kept?"),
    "test.count": IntegerAttr(3, i64),
    "test.narrow": IntegerAttr(3, i32),
    "test.rate": FloatAttr(2.0, f64),
    "test.single": FloatAttr(0.5, f32),
    "test.flag": UnitAttr(),
    "test.ints": int_array([1, 2]),
    "test.floats": float_array([0.5]),
    "test.nested": DictionaryAttr({"ints": int_array([1]), "rate": FloatAttr(1.0, f64)}),
    "test.mixed": ArrayAttr([IntegerAttr(1, i64), int_array([2])]),
}
"""Extra attributes of the kinds the compact printer shortens, and others."""


def _context() -> Context:
    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(Flow)
    return ctx


def _parse(text: str) -> ModuleOp:
    module = Parser(_context(), text).parse_module()
    module.verify()
    return module


def _print(op: Operation, generic: bool = False) -> str:
    out = StringIO()
    Printer(stream=out, print_generic_format=generic).print_op(op)
    return out.getvalue()


def _flow_ops(module: ModuleOp) -> list[Operation]:
    return [op for op in module.walk() if op.name.startswith("flow.")]


def _with_extra_attributes() -> str:
    """SOURCE in generic form, with EXTRA on every flow op."""
    module = _parse(SOURCE)
    for op in _flow_ops(module):
        op.attributes.update(EXTRA)
    return _print(module, generic=True)


def test_source_has_every_op_of_the_dialect() -> None:
    # a new op must be added to SOURCE, or the round trip below does not cover it
    assert {op.name for op in _flow_ops(_parse(SOURCE))} == {op.name for op in Flow.operations}


def test_custom_form_round_trips_extra_attributes_on_every_op() -> None:
    generic = _parse(_with_extra_attributes())
    custom = _print(generic)
    reparsed = _parse(custom)
    assert _print(reparsed) == custom
    for before, after in zip(_flow_ops(generic), _flow_ops(reparsed), strict=True):
        assert before.name == after.name
        for key, value in EXTRA.items():
            assert after.attributes.get(key) == value, (after.name, key)
        assert after.attributes == before.attributes, after.name
        assert after.properties == before.properties, after.name


@pytest.mark.parametrize("op_name", sorted(op.name for op in Flow.operations))
def test_every_op_prints_its_attributes(op_name: str) -> None:
    # custom printers and declarative formats alike (flow.yield, flow.return,
    # flow.until and flow.config_set are declarative)
    custom = _print(_parse(_with_extra_attributes()))
    pattern = re.compile(rf"^(%\S+( = |, ))*{re.escape(op_name)}\b")
    lines = [line.strip() for line in custom.splitlines() if pattern.match(line.strip())]
    assert lines and all('note = "kept?"' in line for line in lines), lines


def test_declared_lists_stay_short_and_others_keep_their_type() -> None:
    custom = _print(_parse(_with_extra_attributes()))
    # declared dense arrays print bare, as they are written...
    assert "budgets = [0, 1024]" in custom and "probs = [0.25, 0.75]" in custom
    # ...an undeclared one keeps its type, which a bare list would lose
    assert "test.ints = array<i64: 1, 2>" in custom
