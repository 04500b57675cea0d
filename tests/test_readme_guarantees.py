"""The README's "Guarantees" section names tests that exist: every file, and every
test function it names, is in `tests/`."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def guarantees() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Guarantees\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_every_guarantee_names_a_test_that_exists() -> None:
    section = guarantees()
    named = re.findall(r"`(tests/test_\w+\.py)(?:::(\w+))?`", section)
    assert len({f for f, _ in named}) >= 8, named
    for file, function in named:
        path = ROOT / file
        assert path.is_file(), file
        if function:
            assert re.search(rf"^def {function}\(", path.read_text(), re.MULTILINE), f"{file}::{function}"
    bullets = [b for b in section.split("\n- ")[1:]]
    assert bullets and all("tests/test_" in b for b in bullets)  # each guarantee says which test checks it
