"""Bounded fuzzing of the three user-facing parsers: whatever the input, the tools
exit 0 or 1 and print a diagnostic, never a traceback or an "internal error".

* `flowcompile-opt` on mutated example IR (the MLIR parser, the verifier, the printer);
* `flowcompile-translate --import-yaml` on mutated example specs and on specs with a
  field replaced by an arbitrary value (the YAML loader, the spec schema, lowering);
* `flowcompile-opt -p` with arbitrary pass options (the pipeline and option parser,
  the option bounds), on small valid IR.

The tools run in this process (through their `guard_main`, as the console scripts
do), so an example costs milliseconds; each test runs a few dozen examples,
derandomized, so `make test` stays fast and reproducible. For a long local run:
`FLOWCOMPILE_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowcompile.tools import opt, translate
from flowcompile.tools.common import guard_main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
IR = {p.name: p.read_text() for p in sorted(EXAMPLES.glob("*.mlir"))}
SPECS = {p.name: p.read_text() for p in sorted(EXAMPLES.glob("*.yaml"))}
EXAMPLES_PER_TEST = int(os.environ.get("FLOWCOMPILE_FUZZ_EXAMPLES", "40"))

FUZZ = settings(
    max_examples=EXAMPLES_PER_TEST,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Pieces of the syntax, so that mutations reach past the lexer.
TOKENS = [
    "{", "}", "[", "]", "(", ")", "<", ">", '"', "%", "@", "#", "!", "=", ",", ":", "->", "\n", "\\", "\0",
    "flow.fork", "flow.agent", "flow.yield", "flow.return", "flow.loop", "flow.until", "flow.switch",
    "#flow.config<", "#flow.profile<", "!flow.msg", "models", "budgets", "samples", "-1", "1e999",
    "nan", "{query}", "{", "loc(", '"flow.agent"', "^bb0", "%0", "builtin.module", "-", "true",
]


@st.composite
def mutated(draw: st.DrawFn, sources: dict[str, str]) -> str:
    """One source text with a few edits: deletions, duplications, insertions, swaps."""
    text = sources[draw(st.sampled_from(sorted(sources)))]
    for _ in range(draw(st.integers(1, 4))):
        n = len(text)
        i = draw(st.integers(0, n))
        j = min(n, i + draw(st.integers(0, 40)))
        kind = draw(st.sampled_from(["delete", "duplicate", "insert", "replace"]))
        if kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            piece = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=8)))
            text = text[:i] + piece + (text[i:] if kind == "insert" else text[j:])
    return text


def tool(capsys: pytest.CaptureFixture[str], name: str, body) -> tuple[int, str]:  # noqa: ANN001
    capsys.readouterr()
    rc = guard_main(name, body)
    out = capsys.readouterr()
    return rc, out.out + out.err


def assert_clean(rc: int, output: str) -> None:
    assert rc in (0, 1), output
    assert "Traceback" not in output and "internal error" not in output, output


@FUZZ
@given(text=mutated(IR))
def test_mutated_ir_never_crashes_the_parser(tmp_path_factory, capsys, text: str) -> None:
    path = tmp_path_factory.mktemp("ir") / "fuzz.mlir"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    rc, output = tool(capsys, "flowcompile-opt", lambda: opt.run([str(path)]))
    assert_clean(rc, output)
    if rc == 1:  # a located diagnostic
        assert f"{path}:" in output, output


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
FIELDS = ["workflow", "models", "agents", "steps", "defaults", "description"]


@st.composite
def specs(draw: st.DrawFn) -> str:
    """An example spec, mutated as text, or (as JSON, which YAML reads) with one field replaced."""
    if draw(st.booleans()):
        return draw(mutated(SPECS))
    import yaml

    data = yaml.safe_load(SPECS[draw(st.sampled_from(sorted(SPECS)))])
    path: list[str] = [draw(st.sampled_from(FIELDS))]
    target = data
    while isinstance(target.get(path[-1]), dict) and target[path[-1]] and draw(st.booleans()):
        target = target[path[-1]]
        path.append(draw(st.sampled_from(sorted(target))))
    target[path[-1]] = draw(JSON)
    return json.dumps(data, allow_nan=True)


@FUZZ
@given(text=specs())
def test_arbitrary_specs_never_crash_the_importer(tmp_path_factory, capsys, text: str) -> None:
    path = tmp_path_factory.mktemp("spec") / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    rc, output = tool(capsys, "flowcompile-translate", lambda: translate.run(["--import-yaml", str(path)]))
    assert_clean(rc, output)
    if rc == 1:
        assert f"{path}:" in output, output


OPTION_NAMES = [
    "backend", "concurrency", "cache", "world", "trace", "retries", "timeout", "dataset", "samples", "seed",
    "judge", "recovery", "by-answers", "max-samples", "budget", "draws", "max-failures", "prior-strength",
    "k", "max-latency", "min-acc", "max-cost", "limit", "candidates", "keep", "nope",
]
VALUES = st.one_of(
    st.integers(-(2**66), 2**66).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["true", "false", "none", "sim", "litellm", "replay", "llm:ghost", '""', '"a b"', "1,2", "{", "}"]),
    st.text(alphabet=st.characters(codec="ascii", exclude_characters="\0"), max_size=6),
)
PASSES = ["profile", "compose", "enumerate", "pareto", "validate", "strip-profiles", "nope", ""]


@st.composite
def pipelines(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(PASSES))
        options = [f"{draw(st.sampled_from(OPTION_NAMES))}={draw(VALUES)}" for _ in range(draw(st.integers(0, 3)))]
        if name == "profile":
            options.append("dry-run=true")  # parse and check the options; call nothing
        parts.append(f"{name}{{{' '.join(options)}}}" if options or draw(st.booleans()) else name)
    return ",".join(parts)


@FUZZ
@given(spec=pipelines())
def test_arbitrary_pass_options_never_crash_the_driver(tmp_path_factory, capsys, monkeypatch, spec: str) -> None:
    folder = tmp_path_factory.mktemp("options")
    monkeypatch.chdir(folder)  # a `cache=` value may name a folder to create: keep it here
    path = folder / "chain.mlir"
    path.write_text(IR["chain.mlir"])
    rc, output = tool(capsys, "flowcompile-opt", lambda: opt.run([str(path), "-p", spec]))
    assert_clean(rc, output)
