"""The command line of `flowcompile-opt`: its arguments and its `--help`,
declared without importing xDSL.

`flowcompile-opt --help` must start no slower than `xdsl-opt --help` (issue 13;
bench/startup.py measures it). xDSL's opt driver, which `flowcompile.tools.opt`
subclasses, imports the builtin dialect, the parser and the printer (most of
xdsl-opt's own start-up), none of which help, `--version` or a usage error need.
So the console script starts here: those runs parse with `build_parser` and
exit without importing xDSL; every other run goes on to the driver, whose
`register_all_arguments` is `add_arguments`, the one declaration of the flags.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from flowcompile.passes.registry import (
    FLOW_PASSES,
    GENERIC_PASSES,
    GENERIC_SUMMARIES,
    OptionDoc,
    PassFactory,
    available_passes,
    pass_options,
)
from flowcompile.tools.common import guard_main, user_errors_exit_1
from flowcompile.tools.pass_docs import static_doc

DESCRIPTION = "flowcompile-opt: the flow dialect's optimizer driver"
EARLY_EXITS = frozenset({"-h", "--help", "-v", "--version"})
"""Flags that end the run inside argparse: with one of these, the light parser
answers the whole run."""


class _AppendPipeline(argparse.Action):
    """Collect `-p SPEC` and `--<pass>` flags into one ordered pipeline."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None):
        items = list(getattr(namespace, self.dest) or [])
        items.append(values if self.const is None else self.const)
        setattr(namespace, self.dest, items)


def pass_summary(factory: PassFactory) -> str:
    """The first line of a pass's docstring, for --help."""
    cls = factory()
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else GENERIC_SUMMARIES.get(cls.name, "run this pass")


def pass_doc(name: str, factory: PassFactory) -> tuple[str, list[OptionDoc]]:
    """(summary, options) of a pass: read from its source when it is built in,
    so that --help imports no pass (and none of numpy, the profiler, the proxy)."""
    if (doc := static_doc(name)) is not None:
        return doc
    return pass_summary(factory), pass_options(factory())


def pass_reference(passes: dict[str, PassFactory]) -> str:
    """Every pass with its options (as typed in `-p`), type, default and help."""
    lines = ["passes and their options (-p 'name{option=value ...}', e.g. 'profile{samples=32 dry-run}'):"]
    for name, factory in passes.items():
        summary, options = pass_doc(name, factory)
        lines.append(f"  {name:<16} {summary}")
        for option in options:
            typed = f"{option.name}={option.type}"
            lines.append(f"      {typed:<24} default {option.default:<10} {option.help}".rstrip())
    return "\n".join(lines) + "\n"


def add_arguments(arg_parser: argparse.ArgumentParser, passes: dict[str, PassFactory]) -> None:
    """Declare every flowcompile-opt flag on `arg_parser`, given the passes by name."""
    user_errors_exit_1(arg_parser, "flowcompile-opt")
    # Pass summaries and the reference are built only when --help prints them:
    # reading the passes' source costs a run that needs none of it.
    flags: list[argparse.Action] = []
    usage = arg_parser.format_help

    def format_help() -> str:
        for flag in flags:
            flag.help = f"{pass_doc(flag.const, passes[flag.const])[0]} (appends '{flag.const}')"
        return usage() + "\n" + pass_reference(passes)

    arg_parser.format_help = format_help
    arg_parser.add_argument("input_file", nargs="?", help="input .mlir (default: stdin)")
    arg_parser.add_argument("-o", "--output-file", help="write the output here")
    arg_parser.add_argument(
        "-p",
        "--passes",
        dest="pipeline",
        action=_AppendPipeline,
        metavar="PIPELINE",
        help="comma-separated passes with options, e.g. "
        "'strip-profiles,cse'. Available: " + ", ".join(passes),
    )
    # The flow passes and plugins (as registry.flow_pass_names), from the
    # passes already found: each entry-point scan costs 30 ms.
    for name in [n for n in passes if n not in GENERIC_PASSES or n in FLOW_PASSES]:
        flags.append(arg_parser.add_argument(
            f"--{name}",
            dest="pipeline",
            action=_AppendPipeline,
            nargs=0,
            const=name,
            help=f"appends '{name}'",
        ))
    arg_parser.add_argument(
        "--print-ir-after-all",
        action="store_true",
        help="print the IR to stderr after every pass",
    )
    arg_parser.add_argument(
        "--split-input-file",
        action="store_true",
        help="process each '// -----' chunk on its own",
    )
    arg_parser.add_argument(
        "--verify-diagnostics",
        action="store_true",
        help="check the diagnostics against '// expected-error @+N {{...}}' "
        "annotations: every expected one must appear, and no other",
    )
    arg_parser.add_argument(
        "--print-op-generic", action="store_true", help="print the generic op form"
    )
    arg_parser.add_argument(
        "--print-properties-as-attributes",
        action="store_true",
        help="with --print-op-generic: print properties in the attribute "
        "dictionary, for MLIR tools older than 17",
    )
    arg_parser.add_argument(
        "--print-debuginfo", action="store_true", help="print op locations"
    )
    arg_parser.add_argument(
        "--allow-unregistered-dialect",
        action="store_true",
        help="accept ops of dialects other than builtin and flow",
    )
    arg_parser.add_argument("-t", "--target", default="mlir", help=argparse.SUPPRESS)
    arg_parser.add_argument(
        "--disable-verify", action="store_true", help=argparse.SUPPRESS
    )
    arg_parser.add_argument(
        "--syntax-highlight", action="store_true", help=argparse.SUPPRESS
    )
    arg_parser.add_argument(
        "-v", "--version", action="version", version="flowcompile-opt 0.1.0"
    )


def build_parser(passes: dict[str, PassFactory] | None = None) -> argparse.ArgumentParser:
    """flowcompile-opt's parser, as the driver builds it (xDSLOptMain makes the
    parser with the description and hands it to `add_arguments`)."""
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    add_arguments(parser, available_passes() if passes is None else passes)
    return parser


def early_exit(args: Sequence[str]) -> bool:
    """Whether `args` ask only for help or the version (before any `--`)."""
    for arg in args:
        if arg == "--":
            return False
        if arg in EARLY_EXITS:
            return True
    return False


def _parse_only(args: list[str]) -> int:
    build_parser().parse_args(args)  # prints and exits on help, version and usage errors
    return -1  # the flags asked for more than help (say `-p -h`): the driver decides


def main(args: Sequence[str] | None = None) -> None:
    """The `flowcompile-opt` console script."""
    argv = list(sys.argv[1:] if args is None else args)
    if early_exit(argv):
        status = guard_main("flowcompile-opt", lambda: _parse_only(argv))
        if status != -1:
            sys.exit(status)
    # lazy: `flowcompile-opt --help` imports no xDSL (tests/test_startup.py)
    from flowcompile.tools.opt import run

    sys.exit(guard_main("flowcompile-opt", lambda: run(argv)))
