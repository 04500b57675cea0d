"""`flowcompile-translate`: between flow IR and the formats around it.

`--import-yaml wf.yaml` lowers a workflow spec (YAML or JSON) into flow IR.
A bad spec gets one line per problem, `file:line:col: error: field.path:
reason`, and exit status 1. `--export-json in.mlir` writes the config set the
`pareto` pass emitted as the versioned JSON artifact (`flowcompile.artifact`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from flowcompile.tools.common import guard_main, print_module, read_input, user_errors_exit_1, write_output


def build_parser() -> argparse.ArgumentParser:
    parser = user_errors_exit_1(
        argparse.ArgumentParser(description="Translate between workflow specs, flow IR and artifacts."),
        "flowcompile-translate",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--import-yaml",
        action="store_true",
        help="lower a YAML (or JSON) workflow spec into flow IR",
    )
    mode.add_argument(
        "--export-json",
        action="store_true",
        help="write a flow.config_set as the JSON artifact",
    )
    parser.add_argument(
        "--config-set", metavar="NAME", help="with --export-json: which config set"
    )
    parser.add_argument("input_file", nargs="?", help="input file (default: stdin)")
    parser.add_argument("-o", "--output-file", help="write the output here")
    parser.add_argument(
        "--print-op-generic", action="store_true", help="print the generic op form"
    )
    return parser


def import_yaml(text: str, name: str, generic: bool = False) -> tuple[str | None, str]:
    """(IR text, "") on success, (None, diagnostics) on a bad spec."""
    # lazy: `flowcompile-translate --help` imports no xDSL
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


def export_json(text: str, name: str, config_set: str | None) -> tuple[str | None, str]:
    """(JSON text, "") on success, (None, diagnostics) otherwise."""
    # lazy: `flowcompile-translate --help` imports no xDSL
    from xdsl.context import Context
    from xdsl.dialects.builtin import Builtin
    from xdsl.utils.exceptions import ParseError

    # lazy: `flowcompile-translate --help` imports no xDSL
    from flowcompile.artifact import ArtifactError, dumps, from_config_set
    from flowcompile.diagnostics import from_parse_error, parse_located, verify_located
    from flowcompile.dialects.flow import Flow

    ctx = Context()
    ctx.load_dialect(Builtin)
    ctx.load_dialect(Flow)
    try:
        module = parse_located(ctx, text, name)
    except ParseError as e:
        return None, str(from_parse_error(e))
    if (problem := verify_located(module)) is not None:
        return None, str(problem)
    try:
        return dumps(from_config_set(module, config_set)), ""
    except ArtifactError as e:
        return None, f"{name}: error: {e}"


def _wrong_kind(name: str, export: bool) -> str | None:
    """A diagnostic for a spec given to --export-json or IR given to --import-yaml."""
    lower = name.lower()
    if export and lower.endswith((".yaml", ".yml")):
        return (f"{name}:1:1: error: this is a workflow spec; --export-json reads compiled flow IR: "
                f"`flowcompile compile {name}` writes the IR and the artifact")
    if not export and lower.endswith(".mlir"):
        return (f"{name}:1:1: error: this is flow IR; --import-yaml reads a YAML workflow spec "
                "(flowcompile-opt reads IR)")
    return None


def run(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    name, text = read_input(args.input_file)
    if (hint := _wrong_kind(name, args.export_json)) is not None:
        sys.stderr.write(hint + "\n")
        return 1
    if args.export_json:
        output, errors = export_json(text, name, args.config_set)
    else:
        output, errors = import_yaml(text, name, args.print_op_generic)
    if output is None:
        sys.stderr.write(errors + "\n")
        return 1
    write_output(args.output_file, output)
    return 0


def main() -> None:
    sys.exit(guard_main("flowcompile-translate", lambda: run()))
