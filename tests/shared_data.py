"""Reference data that lives beside the checkout, in ../shared, and is never copied into it.

CI has `../shared` next to the checkout (repo_root.parent / "shared"): `spec/` holds Customer.io's
published Track API OpenAPI document, `conformance/` the destination's own test cases as data.
`CIO_SANDBOX_SHARED` names another folder; from a git worktree, the main checkout's neighbour is
used. A missing file fails the test that needs it with a message saying where it was looked for.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _candidates() -> list[Path]:
    named = os.environ.get("CIO_SANDBOX_SHARED")
    if named:
        return [Path(named)]
    found = [ROOT.parent / "shared"]
    git = ROOT / ".git"
    if git.is_file():  # a worktree: ".git" says "gitdir: <main checkout>/.git/worktrees/<name>"
        text = git.read_text(encoding="utf-8").strip()
        if text.startswith("gitdir:"):
            gitdir = Path(text.partition(":")[2].strip())
            for parent in gitdir.parents:
                if parent.name == ".git":
                    found.append(parent.parent.parent / "shared")
                    break
    return found


def shared_path(kind: str, name: str) -> Path:
    """`../shared/<kind>/<name>` (kind: "spec" or "conformance"); fails the test if it is absent."""
    places = [folder / kind / name for folder in _candidates()]
    for place in places:
        if place.is_file():
            return place
    pytest.fail(
        f"reference data {kind}/{name} not found (looked in {', '.join(str(p) for p in places)}); "
        "it lives in ../shared beside the checkout, or set CIO_SANDBOX_SHARED to the folder holding it",
        pytrace=False,
    )


def shared_json(kind: str, name: str) -> Any:
    return json.loads(shared_path(kind, name).read_text(encoding="utf-8"))
