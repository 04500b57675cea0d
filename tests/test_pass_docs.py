"""`flowcompile-opt --help` reads the built-in passes' summaries and options
from their source, without importing them, and gives exactly what the imported
classes give; what the reader cannot resolve falls back to the import."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from flowcompile.passes.registry import FLOW_PASSES, GENERIC_PASSES, available_passes, pass_options
from flowcompile.tools import pass_docs
from flowcompile.tools.opt import pass_doc, pass_summary


@pytest.mark.parametrize("name", [*FLOW_PASSES, *GENERIC_PASSES])
def test_the_source_gives_what_the_class_gives(name: str) -> None:
    factory = available_passes()[name]
    static = pass_docs.static_doc(name)
    assert static is not None, f"{name}: read statically, so --help does not import it"
    assert static == (pass_summary(factory), pass_options(factory()))


def test_help_imports_no_pass_and_no_numpy() -> None:
    probe = (
        "import sys\n"
        "from flowcompile.tools.opt import main\n"
        "sys.argv = ['flowcompile-opt', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ['numpy', 'flowcompile.profiling.profiler', 'flowcompile.proxy.search', 'litellm']\n"
        "heavy += [m for m in sys.modules if m.startswith('flowcompile.passes.') and m != 'flowcompile.passes.registry']\n"
        "sys.stderr.write(repr(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "profile{samples=32 dry-run}" in out.stdout
    assert out.stderr == "[]", out.stderr


def test_what_the_reader_cannot_resolve_is_imported(tmp_path, monkeypatch) -> None:
    (tmp_path / "fancy_pass_module.py").write_text(textwrap.dedent('''
        from dataclasses import dataclass, field
        from xdsl.passes import ModulePass

        @dataclass(frozen=True)
        class FancyPass(ModulePass):
            """Do fancy things."""

            name = "fancy"
            sizes: tuple[int, ...] = field(default_factory=lambda: (1, 2))
            """Sizes to try."""

            def apply(self, ctx, op):
                pass
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(FLOW_PASSES, "fancy", "fancy_pass_module:FancyPass")
    assert pass_docs.static_doc("fancy") is None  # a field(...) default: only the class knows
    summary, options = pass_doc("fancy", available_passes()["fancy"])
    assert summary == "Do fancy things" and [(o.name, o.default, o.help) for o in options] == [
        ("sizes", "1,2", "Sizes to try")
    ]
    assert pass_docs.static_doc("no-such-pass") is None
