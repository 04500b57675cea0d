"""`flowcompile-translate`: between flow IR and the formats around it.

`--import-yaml wf.yaml` lowers a workflow spec (YAML or JSON) into flow IR.
A bad spec gets one line per problem, `file:line:col: error: field.path:
reason`, and exit status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from flowcompile.tools.common import guard_main, print_module, read_input, write_output


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flowcompile-translate",
        description="Translate between workflow specs, flow IR and artifacts.",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--import-yaml",
        action="store_true",
        help="lower a YAML (or JSON) workflow spec into flow IR",
    )
    parser.add_argument("input_file", nargs="?", help="input file (default: stdin)")
    parser.add_argument("-o", "--output-file", help="write the output here")
    parser.add_argument(
        "--print-op-generic", action="store_true", help="print the generic op form"
    )
    return parser


def import_yaml(text: str, name: str, generic: bool = False) -> tuple[str | None, str]:
    """(IR text, "") on success, (None, diagnostics) on a bad spec."""
    from flowcompile.diagnostics import verify_located
    from flowcompile.frontend.load import SpecError, load_spec_text
    from flowcompile.frontend.lower import lower_spec

    try:
        spec, locator = load_spec_text(text, name)
        module = lower_spec(spec, locator, name)
    except SpecError as e:
        return None, str(e)
    if (problem := verify_located(module)) is not None:
        raise RuntimeError(f"the lowering produced invalid IR: {problem}")
    return print_module(module, generic=generic), ""


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    name, text = read_input(args.input_file)
    output, errors = import_yaml(text, name, args.print_op_generic)
    if output is None:
        sys.stderr.write(errors + "\n")
        return 1
    write_output(args.output_file, output)
    return 0


def main() -> None:
    sys.exit(guard_main("flowcompile-translate", lambda: run()))
