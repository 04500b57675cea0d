"""examples/demo.sh tells one story from the repository root (`make demo` runs
it; it takes minutes, so this checks its text, not its run)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "examples" / "demo.sh"


def test_the_demo_runs_from_the_repository_root():
    text = DEMO.read_text(encoding="utf-8")
    assert 'cd "$(dirname "$0")/.."' in text
    assert "../" not in text.replace('"$(dirname "$0")/.."', ""), "paths must be valid from the root"
    assert re.search(r"^out=out/", text, re.MULTILINE)


def test_every_file_the_demo_reads_exists_from_the_root():
    text = DEMO.read_text(encoding="utf-8")
    specs = re.search(r"for spec in ([\w ]+); do", text).group(1).split()
    read = {f"examples/{s}.yaml" for s in specs} | set(re.findall(r"\b(examples/\w+\.yaml)\b", text))
    assert "examples/chain.yaml" in read
    assert [path for path in sorted(read) if not (ROOT / path).is_file()] == []


def test_each_accuracy_the_demo_prints_says_what_it_is():
    sections = re.split(r'^echo "== ', DEMO.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]
    by_number = {s.split(".", 1)[0]: s for s in sections}
    assert "estimate" in by_number["2"] and "validation" in by_number["2"]
    assert "validation" in by_number["3"] and "-k 8" in by_number["3"]  # why its front differs
    assert "1/3" in by_number["4"], "a 3-query accuracy is called a glimpse, not a measurement"
    assert "held-out" in by_number["5"] and "95% interval" in by_number["5"]


def test_the_demo_is_valid_bash():
    assert subprocess.run(["bash", "-n", str(DEMO)], capture_output=True).returncode == 0
