"""The layers of DESIGN.md ("Dependencies run one way"), checked on the source.

Every module of flowcompile/, dialects/ and passes/ is parsed with `ast`; its
imports, at module level and inside functions, are checked against RULES. A
crossing that is not fixed yet is an entry of EXCEPTIONS with its reason, and
an exception that no longer happens fails too, so the list only shrinks.

An import inside a function is allowed only with a `# lazy: <why>` comment
(on its line, or on a comment line right above a run of imports): imports are
at module level unless their cost is the point (`flowcompile-opt --help` must
import no xDSL, litellm takes seconds to import).
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"flowcompile": "flowcompile", "dialects": "flowcompile.dialects", "passes": "flowcompile.passes"}
"""Source folder -> the package it installs as (pyproject.toml's package-dir)."""

STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


@dataclass(frozen=True)
class Rule:
    who: tuple[str, ...]
    """The importing modules (package prefixes)."""
    only: tuple[str, ...] | None = None
    """If set, the only packages they may import, beside the standard library and themselves."""
    never: tuple[str, ...] = ()
    """Packages they must not import."""
    but: tuple[str, ...] = ()
    """Importers under `who` the rule does not cover."""


# The rules, as DESIGN.md says them.
RULES = {
    "dialects/ knows only xDSL: no pass, backend, store or command line":
        Rule(who=("flowcompile.dialects",), only=("flowcompile.dialects", "xdsl")),
    "the mathematics (composition rules, frontiers, hypervolume, statistics) is plain numpy and knows no IR":
        Rule(who=("flowcompile.proxy",), only=("flowcompile.proxy", "numpy")),
    "backends (the sim is one) know messages, models and budgets, never the IR or the passes":
        Rule(who=("flowcompile.backends", "flowcompile.sim"),
             never=("xdsl", "flowcompile.dialects", "flowcompile.passes", "flowcompile.compiler",
                    "flowcompile.frontend", "flowcompile.runtime", "flowcompile.profiling", "flowcompile.tools")),
    "tool steps know strings and params, never the IR: the standard library and how free text reads":
        Rule(who=("flowcompile.steps",), only=("flowcompile.steps", "flowcompile.backends.reader")),
    "passes use the dialect, the mathematics, the store and the backend registry, never the driver or the tools":
        Rule(who=("flowcompile.passes",), never=("flowcompile.tools", "flowcompile.compiler", "flowcompile.api")),
    "nothing imports the command-line tools, which sit on top of everything":
        Rule(who=("flowcompile",), never=("flowcompile.tools",), but=("flowcompile.tools",)),
    "litellm is imported only inside the litellm backend":
        Rule(who=("flowcompile",), never=("litellm",), but=("flowcompile.backends.litellm_backend",)),
    "passes are run by the driver (compiler, api, tools); the library talks to them through the IR":
        Rule(who=("flowcompile",), never=("flowcompile.passes",),
             but=("flowcompile.passes", "flowcompile.compiler", "flowcompile.api", "flowcompile.tools")),
    "the sim is a backend like any other, reached through the backend registry by name":
        Rule(who=("flowcompile",), never=("flowcompile.sim",),
             but=("flowcompile.sim", "flowcompile.backends", "flowcompile.api", "flowcompile.tools")),
}

# Crossings not fixed yet: (importer, imported) -> why it is still there.
EXCEPTIONS = {
    ("flowcompile.evaluation", "flowcompile.passes.proxy_model"):
        "the IR -> proxy translation (build_model) lives in passes/; it should move beside the proxy",
    ("flowcompile.artifact", "flowcompile.passes.strip_profiles"):
        "the workflow hash drops the measurement attributes that passes/invalidation.py tabulates",
    ("flowcompile.diagnostics", "flowcompile.passes.registry"):
        "the pass-option diagnostics name the registry's options",
    ("flowcompile.frontend.specdoc", "flowcompile.sim.world"):
        "the spec documentation quotes the default world's models",
    ("flowcompile.serve", "flowcompile.sim.server"):
        "`serve` of a sim workflow starts the sim's server",
}


@dataclass(frozen=True)
class Import:
    importer: str
    module: str
    line: int
    in_function: bool
    lazy: bool
    """Marked `# lazy: ...`."""


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = [*FOLDERS[rel.parts[0]].split("."), *rel.parts[1:]]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(name: str, source: str, is_package: bool = False) -> list[Import]:
    """Every import in `source` (the module `name`), with relative imports resolved."""
    lines = source.splitlines()
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        previous: ast.stmt | None = None
        run_is_lazy = False  # a `# lazy:` comment line covers the run of imports right below it
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                above = lines[child.lineno - 2].strip() if child.lineno > 1 else ""
                follows = isinstance(previous, (ast.Import, ast.ImportFrom)) and previous.end_lineno == child.lineno - 1
                run_is_lazy = above.startswith("# lazy:") or (follows and run_is_lazy)
                lazy = run_is_lazy or "# lazy:" in lines[child.lineno - 1]
                if isinstance(child, ast.Import):
                    targets = [a.name for a in child.names]
                else:
                    base = child.module or ""
                    if child.level:
                        package = name.split(".") if is_package else name.split(".")[:-1]
                        package = package[: len(package) - (child.level - 1)]
                        base = ".".join([*package, base] if base else package)
                    # `from flowcompile import api` imports the module flowcompile.api
                    targets = [f"{base}.{a.name}" if base == "flowcompile" else base for a in child.names]
                found.extend(Import(name, t, child.lineno, in_function, lazy) for t in dict.fromkeys(targets))
            if isinstance(child, ast.stmt):
                previous = child
            visit(child, nested)

    visit(ast.parse(source), False)
    return found


def all_imports() -> list[Import]:
    out = []
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            out.extend(imports_of(module_name(path), path.read_text(encoding="utf-8"), path.name == "__init__.py"))
    return out


def under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def crossings(imports: list[Import]) -> dict[tuple[str, str], str]:
    """(importer, imported) -> the rule it breaks."""
    out = {}
    for imp in imports:
        for text, rule in RULES.items():
            if not under(imp.importer, rule.who) or under(imp.importer, rule.but):
                continue
            top = imp.module.split(".")[0]
            if rule.only is not None and top not in STDLIB and not under(imp.module, rule.only):
                out[imp.importer, imp.module] = text
            if under(imp.module, rule.never) and not (
                    imp.module == "flowcompile" or under(imp.importer, tuple(p for p in rule.never))):
                out[imp.importer, imp.module] = text
    return out


IMPORTS = all_imports()


def test_the_scan_sees_the_source() -> None:
    names = {imp.importer for imp in IMPORTS}
    assert {"flowcompile.dialects.flow", "flowcompile.passes.profile", "flowcompile.proxy.search",
            "flowcompile.tools.cli", "flowcompile.backends.litellm_backend"} <= names
    assert any(imp.in_function for imp in IMPORTS) and any(imp.lazy for imp in IMPORTS)
    # function-level litellm imports are seen
    assert any(imp.module == "litellm" and imp.in_function for imp in IMPORTS)


@pytest.mark.parametrize("rule", list(RULES))
def test_layer_rule(rule: str) -> None:
    broken = {pair for pair, text in crossings(IMPORTS).items() if text == rule and pair not in EXCEPTIONS}
    assert not broken, f"{rule}: {sorted(broken)}"


def test_every_exception_still_happens() -> None:
    """A crossing that was fixed leaves EXCEPTIONS too."""
    assert not set(EXCEPTIONS) - set(crossings(IMPORTS))


def test_function_level_imports_say_why() -> None:
    hidden = [f"{imp.importer}:{imp.line} imports {imp.module}" for imp in IMPORTS
              if imp.in_function and not imp.lazy and (imp.module.startswith("flowcompile") or
                                                       imp.module.split(".")[0] in ("litellm", "xdsl"))]
    assert not hidden, "move to module level, or say `# lazy: <why>`:\n" + "\n".join(hidden)


SIM_PROTOCOL = re.compile(r"<<\(?plan|\[sim-query|sim-branch")
"""How the sim's text protocol is spelled: its reply tags and its query and branch markers."""


def test_the_sim_protocol_is_spelled_only_in_the_sim() -> None:
    """No module outside flowcompile/sim copies the sim's protocol (as the runtime
    once copied its tag pattern to read replies): the sim's reader reads it."""
    spelled = [
        str(path.relative_to(ROOT))
        for folder in FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
        if not path.is_relative_to(ROOT / "flowcompile" / "sim") and SIM_PROTOCOL.search(path.read_text("utf-8"))
    ]
    assert not spelled, f"the sim's protocol outside flowcompile/sim: {spelled}"
    assert SIM_PROTOCOL.search((ROOT / "flowcompile" / "sim" / "protocol.py").read_text("utf-8"))
    assert SIM_PROTOCOL.search('_TAG_RE = re.compile(r"<<(plan|answer|verdict|route):...")')


def test_the_checker_catches_each_kind_of_crossing() -> None:
    """The scan and the rules reject what they should (so a green run means something)."""
    source = (
        "import numpy\n"
        "from flowcompile.tools.common import print_module\n"
        "def f():\n"
        "    from flowcompile.passes import registry\n"
        "    import litellm  # lazy: slow\n"
    )
    found = imports_of("flowcompile.dialects.flow", source)
    assert [(i.module, i.in_function, i.lazy) for i in found] == [
        ("numpy", False, False), ("flowcompile.tools.common", False, False),
        ("flowcompile.passes", True, False), ("litellm", True, True)]
    broken = crossings(found)
    assert set(broken) == {("flowcompile.dialects.flow", m)
                           for m in ("numpy", "flowcompile.tools.common", "flowcompile.passes", "litellm")}
    proxy = crossings(imports_of("flowcompile.proxy.model", "from xdsl.ir import Attribute\nimport math\n"))
    assert set(proxy) == {("flowcompile.proxy.model", "xdsl.ir")}
    sim = crossings(imports_of("flowcompile.sim.engine", "from flowcompile.dialects.flow import AgentOp\n"))
    assert set(sim) == {("flowcompile.sim.engine", "flowcompile.dialects.flow")}
    runtime = crossings(imports_of("flowcompile.runtime.executor", "from flowcompile.sim.protocol import find_tags\n"))
    assert runtime == {("flowcompile.runtime.executor", "flowcompile.sim.protocol"):
                       "the sim is a backend like any other, reached through the backend registry by name"}
    relative = imports_of("flowcompile.proxy", "from .frontier import x\n", is_package=True)
    assert relative[0].module == "flowcompile.proxy.frontier"
    marked = imports_of("flowcompile.api", "def f():\n    # lazy: start-up\n    from flowcompile.a import (\n"
                        "        b,\n    )\n    from flowcompile.c import d\n    x = 1\n    from flowcompile.e import f\n")
    assert [i.lazy for i in marked] == [True, True, False]
