"""Packaging: dialects/ and passes/ install inside the flowcompile namespace,
and the command-line tools start without importing litellm."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def repo_packages() -> set[str]:
    """Every package folder of the repository, by its installed name."""
    names = set()
    for init in ROOT.glob("**/__init__.py"):
        rel = init.parent.relative_to(ROOT)
        top = rel.parts[0]
        if top in ("flowcompile",):
            names.add(".".join(rel.parts))
        elif top in ("dialects", "passes"):
            names.add(".".join(("flowcompile", *rel.parts)))
    return names


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--quiet", "-w", str(out), str(ROOT)],
        check=True, capture_output=True, cwd=out,
    )
    (path,) = out.glob("flowcompile-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_has_no_top_level_passes_or_dialects(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert "passes" not in tops and "dialects" not in tops
    assert "flowcompile/passes/registry.py" in wheel.namelist()
    assert "flowcompile/dialects/flow.py" in wheel.namelist()


def test_wheel_holds_every_package_of_the_repository(wheel: zipfile.ZipFile) -> None:
    shipped = {
        name.rsplit("/", 1)[0].replace("/", ".")
        for name in wheel.namelist()
        if name.endswith("/__init__.py")
    }
    missing = repo_packages() - shipped
    assert not missing, f"add these to [tool.setuptools] packages: {sorted(missing)}"


def test_no_top_level_passes_module_outside_the_repo(tmp_path: Path) -> None:
    code = (
        "import importlib.util as u;"
        "print(u.find_spec('passes'), u.find_spec('dialects'), u.find_spec('flowcompile.passes') is not None)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert out.stdout.split() == ["None", "None", "True"]


@pytest.mark.parametrize(
    "argv",
    [["--help"], [str(ROOT / "examples" / "chain.mlir"), "-p", "strip-profiles"]],
    ids=["help", "strip-profiles"],
)
def test_opt_never_imports_litellm(argv: list[str], tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from flowcompile.tools.opt import run\n"
        "try:\n"
        f"    run({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('litellm' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"
