"""The IR's text: how every part of FlowCompile prints a module.

It knows only xDSL, so the driver, the artifact and the tools share one printer
without any of them importing another's layer.
"""

from __future__ import annotations

from io import StringIO
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xdsl.dialects.builtin import ModuleOp


def print_module(
    module: ModuleOp,
    *,
    generic: bool = False,
    debuginfo: bool = False,
    properties_as_attributes: bool = False,
) -> str:
    """The module's text as flowcompile-opt prints it."""
    from xdsl.printer import Printer  # lazy: `flowcompile-opt --help` imports this module and no xDSL

    out = StringIO()
    Printer(
        stream=out,
        print_generic_format=generic,
        print_debuginfo=debuginfo,
        print_properties_as_attributes=properties_as_attributes,
    ).print_op(module)
    out.write("\n")
    return out.getvalue()
