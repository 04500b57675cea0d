"""The spec reference cannot drift: docs/spec.md is generated from the pydantic
models, every field has a description, and every YAML block of the README and
of the reference loads (or is marked as a fragment of a named example)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from flowcompile.frontend import specdoc
from flowcompile.frontend.load import load_spec, load_spec_text
from flowcompile.frontend.lower import lower_spec

ROOT = Path(__file__).resolve().parent.parent
FRAGMENT = re.compile(r"<!-- fragment of (?P<file>\S+) -->\n$")


def yaml_blocks(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, text, the example it is a fragment of or None) per ```yaml block."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for m in re.finditer(r"^```yaml\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
        fragment = FRAGMENT.search(text[: m.start()])
        blocks.append((text.count("\n", 0, m.start()) + 1, m.group(1), fragment.group("file") if fragment else None))
    return blocks


def test_the_reference_is_generated_from_the_models():
    assert (ROOT / "docs" / "spec.md").read_text(encoding="utf-8") == specdoc.render(), (
        "docs/spec.md is stale: python -m flowcompile.frontend.specdoc > docs/spec.md"
    )


def test_every_spec_field_has_a_description():
    assert specdoc.undocumented_fields() == []


def test_an_undocumented_field_is_found(monkeypatch):
    from pydantic.fields import FieldInfo

    from flowcompile.frontend.spec import AgentSpec

    fields = dict(AgentSpec.model_fields)
    fields["role"] = FieldInfo(annotation=str)
    monkeypatch.setattr(AgentSpec, "model_fields", fields)
    assert specdoc.undocumented_fields() == ["AgentSpec.role"]


def test_every_field_is_in_the_reference():
    text = specdoc.render()
    for model in specdoc.SECTIONS:
        for name, info in model.model_fields.items():
            assert f"| `{info.alias or name}` |" in text, f"{model.__name__}.{name}"


@pytest.mark.parametrize("doc", ["README.md", "docs/spec.md"])
def test_every_yaml_block_loads(doc):
    blocks = yaml_blocks(ROOT / doc)
    assert blocks, f"{doc} has no yaml block"
    for line, text, fragment_of in blocks:
        if fragment_of is not None:
            continue
        spec, locator = load_spec_text(text, f"{doc}:{line}")
        lower_spec(spec, locator, f"{doc}:{line}")


def test_readme_fragments_match_the_example_they_abridge():
    fragments = [(line, text, of) for line, text, of in yaml_blocks(ROOT / "README.md") if of]
    assert fragments, "the README's refine excerpt is marked as a fragment"
    for line, text, of in fragments:
        full, _ = load_spec(ROOT / of)
        part = yaml.safe_load(text)
        assert list(part["agents"]) == list(full.agents), f"README.md:{line}"
        assert len(part["steps"]) == len(full.steps), f"README.md:{line}"


def test_every_reference_example_lowers():
    for name, text in specdoc.EXAMPLES.items():
        spec, locator = load_spec_text(text, f"{name}.yaml")
        assert lower_spec(spec, locator, name).ops.first is not None
