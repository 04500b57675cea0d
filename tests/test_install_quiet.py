"""Installing prints no deprecation warning and says what it installs (issue 13,
point 10): `license` is an SPDX string (a `{text = ...}` table made setuptools
warn three times per install), and `make`'s install step prints one line first."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_license_is_an_spdx_string() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"
    assert "setuptools>=77" in project["build-system"]["requires"]  # the first to read the string form


def test_building_the_metadata_warns_of_nothing_deprecated(tmp_path: Path) -> None:
    """setuptools reads this pyproject.toml (in a copy holding only the package folders'
    __init__.py files, so nothing is written into the repository) with every warning shown."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copy(ROOT / "README.md", tmp_path)
    for package in project["tool"]["setuptools"]["packages"]:
        top, *rest = package.split(".")
        folder = project["tool"]["setuptools"]["package-dir"].get(".".join([top, *rest[:1]]))
        path = tmp_path / (folder if folder and len(rest) <= 1 else Path(*package.split(".")))
        path.mkdir(parents=True, exist_ok=True)
        (path / "__init__.py").touch()
    probe = ("from setuptools import build_meta\n"
             "print(build_meta.prepare_metadata_for_build_wheel('meta'))\n")
    (tmp_path / "meta").mkdir()
    done = subprocess.run([sys.executable, "-W", "always", "-c", probe], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "deprecat" not in (done.stdout + done.stderr).lower(), done.stderr
    metadata = next((tmp_path / "meta").glob("*.dist-info")) / "METADATA"
    assert "License-Expression: Apache-2.0" in metadata.read_text()


def test_make_says_what_it_installs_before_pip_goes_quiet() -> None:
    recipe = (ROOT / "Makefile").read_text().split("$(STAMP): pyproject.toml\n", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in recipe.splitlines()]
    first_pip = next(i for i, line in enumerate(lines) if "pip install" in line)
    assert any(line.startswith("@echo") and "installing flowcompile" in line for line in lines[:first_pip])
