"""Registries whose entries may be lazy "module:attribute" paths, imported on
first use so that importing a registry imports none of its entries' modules."""

from __future__ import annotations

import importlib
from typing import Any


def check_entry(entry: object, kind: str) -> None:
    """ValueError unless `entry` is an object or a "module:attr" path."""
    if isinstance(entry, str) and ":" not in entry:
        raise ValueError(f"lazy {kind} must look like 'module:attr', got {entry!r}")


def lookup(table: dict[str, Any], name: str, kind: str) -> Any:
    """`table[name]`, importing (and keeping) a lazy entry; ValueError naming
    the known entries for an unknown name."""
    try:
        found = table[name]
    except KeyError:
        raise ValueError(f"unknown {kind} {name!r}; known {kind}s: {', '.join(sorted(table))}") from None
    if isinstance(found, str):
        module_name, _, attr = found.partition(":")
        found = table[name] = getattr(importlib.import_module(module_name), attr)
    return found
