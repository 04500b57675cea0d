"""Pass summaries and options for `flowcompile-opt --help`, read from the pass
modules' source without importing them.

The pass modules import numpy, the profiler and the proxy at the top (about
0.3 s), which `--help` and every run that does not use them would pay. This
reader parses a pass class and its bases with `ast` and gives what
`registry.pass_options` and `opt.pass_summary` give from the imported class;
whatever it cannot resolve statically (a `field(...)` default, an annotation
beyond builtins, a generated docstring) makes it answer None, and the caller
imports the pass. tests/test_pass_docs.py checks both agree on every pass.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import sys
from functools import cache
from pathlib import Path
from typing import Any

from flowcompile.passes.registry import (
    FLOW_PASSES,
    GENERIC_PASSES,
    GENERIC_SUMMARIES,
    OptionDoc,
    _first_sentence,  # pyright: ignore[reportPrivateUsage]
    _type_name,  # pyright: ignore[reportPrivateUsage]
    _value_text,  # pyright: ignore[reportPrivateUsage]
)

_ROOTS = {"ModulePass", "ABC", "object"}
"""Bases that contribute no option (xDSL's ModulePass declares only ClassVars)."""
_BUILTINS = {"int": int, "float": float, "str": str, "bool": bool, "tuple": tuple, "None": None}
_MISSING = object()


class _Unknown(Exception):
    """Something only importing the pass can tell."""


def static_doc(name: str) -> tuple[str, list[OptionDoc]] | None:
    """(summary, options) of the built-in pass `name`, or None when only an import can tell."""
    target = FLOW_PASSES.get(name) or GENERIC_PASSES.get(name)
    if target is None:
        return None
    module, _, attr = target.partition(":")
    try:
        chain = _class_chain(module, attr)
        return _summary(name, chain[-1]), _options(chain)
    except (_Unknown, OSError, SyntaxError):
        return None


@cache
def _module_tree(module: str) -> ast.Module:
    spec = _find_spec(module)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        raise _Unknown(module)
    return ast.parse(Path(spec.origin).read_text(encoding="utf-8"))


def _find_spec(fullname: str) -> importlib.machinery.ModuleSpec | None:
    """The module's spec without importing it or its parent packages (which
    `importlib.util.find_spec` would: xdsl.transforms' __init__ is heavy)."""
    if fullname in sys.modules:
        return sys.modules[fullname].__spec__
    parent, _, _ = fullname.rpartition(".")
    path = None
    if parent:
        parent_spec = _find_spec(parent)
        if parent_spec is None or parent_spec.submodule_search_locations is None:
            return None
        path = list(parent_spec.submodule_search_locations)
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        if find is not None and (spec := find(fullname, path)) is not None:
            return spec
    return None


def _class_chain(module: str, name: str) -> list[tuple[str, ast.ClassDef]]:
    """(module, class) from the root-most base to `name`, single inheritance of
    option classes only (other bases must be ModulePass or ABC)."""
    tree = _module_tree(module)
    node = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)
    if node is None:
        where = _imported(tree, name)
        if where is None:
            raise _Unknown(f"{module}.{name}")
        return _class_chain(*where)
    chain: list[tuple[str, ast.ClassDef]] = []
    bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
    if len(bases) != len(node.bases):
        raise _Unknown(f"{module}.{name}: base expression")
    for base in bases:
        if base not in _ROOTS:
            if chain:
                raise _Unknown(f"{module}.{name}: two option bases")
            chain = _class_chain(module, base)
    return [*chain, (module, node)]


def _imported(tree: ast.Module, name: str) -> tuple[str, str] | None:
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return node.module, alias.name
    return None


def _is_dataclass(node: ast.ClassDef) -> bool:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if (isinstance(target, ast.Name) and target.id == "dataclass") or (
            isinstance(target, ast.Attribute) and target.attr == "dataclass"
        ):
            return True
    return False


def _summary(name: str, last: tuple[str, ast.ClassDef]) -> str:
    doc = ast.get_docstring(last[1], clean=False)
    if doc is None:
        if _is_dataclass(last[1]):  # dataclass writes a signature as __doc__
            raise _Unknown("generated docstring")
        return GENERIC_SUMMARIES.get(name, "run this pass")
    doc = doc.strip()
    return doc.splitlines()[0].rstrip(".") if doc else GENERIC_SUMMARIES.get(name, "run this pass")


def _options(chain: list[tuple[str, ast.ClassDef]]) -> list[OptionDoc]:
    if not any(_is_dataclass(node) for _, node in chain):
        return []
    fields: dict[str, tuple[str, Any]] = {}  # in dataclass order: a redefinition keeps its place
    docs: dict[str, str] = {}
    for module, node in chain:
        body = node.body
        for stmt, after in zip(body, [*body[1:], None]):
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                continue
            annotation = ast.unparse(stmt.annotation)
            if annotation.startswith(("ClassVar", "typing.ClassVar")):
                continue
            if (isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)):
                docs[stmt.target.id] = _first_sentence(" ".join(after.value.value.split()))
            if _is_dataclass(node):
                default = _MISSING if stmt.value is None else _value(module, stmt.value)
                fields[stmt.target.id] = (annotation, default)
    options = []
    for name, (annotation, default) in fields.items():
        if name == "name":
            continue
        try:
            kind = eval(annotation, {"__builtins__": {}}, _BUILTINS)  # noqa: S307 - builtins only
        except Exception as e:  # noqa: BLE001 - a name beyond the builtins
            raise _Unknown(annotation) from e
        options.append(OptionDoc(
            name.replace("_", "-"), _type_name(kind),
            "required" if default is _MISSING else _value_text(default), docs.get(name, ""),
        ))
    return options


def _value(module: str, node: ast.expr) -> Any:
    """A literal default, or a module constant (here or imported) holding one."""
    if isinstance(node, ast.Name):
        tree = _module_tree(module)
        for stmt in tree.body:
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
            if any(isinstance(t, ast.Name) and t.id == node.id for t in targets) and stmt.value is not None:
                return _value(module, stmt.value)
        where = _imported(tree, node.id)
        if where is None:
            raise _Unknown(node.id)
        return _value(where[0], ast.Name(where[1]))
    try:
        return ast.literal_eval(node)
    except ValueError as e:
        raise _Unknown(ast.unparse(node)) from e
