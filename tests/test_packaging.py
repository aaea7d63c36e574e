"""Packaging: SPDX license with its file, classifiers, URLs, `--version`, and an sdist that holds
what installs (the packages, README, LICENSE) and not the test suite (README: "Packaging")."""

from __future__ import annotations

import email
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import setuptools

from sandbox.cli import main

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_license_is_an_spdx_expression_with_its_file() -> None:
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n") and "Permission is hereby granted, free of charge" in text
    # PEP 639: a license expression replaces the License :: classifiers (setuptools refuses both).
    assert not [c for c in PROJECT["classifiers"] if c.startswith("License ::")]


def test_metadata_a_user_looks_for() -> None:
    assert PROJECT["authors"] and all(a.get("name") for a in PROJECT["authors"])
    classifiers = PROJECT["classifiers"]
    assert "Framework :: Pytest" in classifiers and "Typing :: Typed" in classifiers
    minimum = PROJECT["requires-python"].removeprefix(">=")
    assert f"Programming Language :: Python :: {minimum}" in classifiers
    assert PROJECT["urls"] and all(url.startswith("https://") for url in PROJECT["urls"].values())
    assert (ROOT / "sandbox" / "py.typed").exists() and (ROOT / "mock_cio" / "py.typed").exists()


def test_version_flag(capsys) -> None:
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    expected = f"cio-sandbox {PROJECT['version']} (emulates @segment/action-destinations 3.497.0)\n"
    assert capsys.readouterr().out == expected
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout == expected


def test_the_sdist_holds_the_packages_and_not_the_suite(tmp_path: Path) -> None:
    """Built with the backend pip uses (setuptools >= 77, from the test extras) from a copy of the
    tree, so the checkout gets no build files."""
    assert tuple(int(p) for p in setuptools.__version__.split(".")[:1]) >= (77,), setuptools.__version__
    source = tmp_path / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", "node_modules", "__pycache__", "*.egg-info", ".hypothesis", ".*_cache", "build", "dist"
        ),
    )
    out = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"from setuptools import build_meta; build_meta.build_sdist({str(out)!r})",
        ],
        cwd=source,
        check=True,
        capture_output=True,
    )
    (archive,) = out.glob("cio_sandbox-*.tar.gz")
    with tarfile.open(archive) as tar:
        names = [name.split("/", 1)[1] for name in tar.getnames() if "/" in name]
        info = tar.extractfile(next(m for m in tar.getmembers() if m.name.endswith("/PKG-INFO")))
        assert info is not None
        metadata = email.message_from_bytes(info.read())
    for needed in (
        "LICENSE",
        "README.md",
        "pyproject.toml",
        "sandbox/__init__.py",
        "sandbox/py.typed",
        "sandbox/commands/lint.py",
        "mock_cio/pytest_plugin.py",
        "mock_cio/py.typed",
    ):
        assert needed in names, needed
    for left_out in ("tests/", "bench/", "fixtures/", "docs/", ".ci/"):
        assert not [n for n in names if n.startswith(left_out)], left_out
    assert metadata["License-Expression"] == "MIT"
    assert metadata["License-File"] == "LICENSE"
    assert metadata["Version"] == PROJECT["version"]


def test_the_readme_installs_from_a_checkout_or_git_not_from_pypi() -> None:
    """cio-sandbox is not on PyPI: the CI recipe must not tell users to `pip install cio-sandbox`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install cio-sandbox\n" not in readme and "- run: pip install cio-sandbox" not in readme
    assert "- run: pip install ./" in readme and "git+https://" in readme
    # the check example's hint keeps --config, as check prints it
    assert (
        "If the change is intended: cio-sandbox snapshot fixtures/scenarios --config changed.toml --out"
        in readme
    )
