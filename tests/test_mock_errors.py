"""Every error mock_cio raises on purpose is a MockError, defined once in mock_cio.errors and still
importable from the module that raises it."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import mock_cio.errors as errors

OLD_HOMES = {
    "ApiError": "mock_cio.request_body",
    "V2Invalid": "mock_cio.request_body",
    "AuthError": "mock_cio.auth",
    "StateError": "mock_cio.state",
    "ClockError": "mock_cio.clock",
    "FaultError": "mock_cio.faults",
    "AdminError": "mock_cio.admin",
    "JournalError": "mock_cio.journal",
    "InterceptError": "mock_cio.intercept",
    "RemoteMockError": "mock_cio.remote",
    "ServerError": "mock_cio.server",
    "JournalLocked": "mock_cio.journal",
    "JournalLost": "mock_cio.journal",
    "JournalWriteError": "mock_cio.mock",
    "SegmentError": "mock_cio.segments.conditions",
    "RemoteRefused": "mock_cio.control_plane",
}
PACKAGE = Path(errors.__file__).parent


def test_every_error_is_a_mock_error_importable_from_its_old_home() -> None:
    for name, module in OLD_HOMES.items():
        error = getattr(errors, name)
        assert issubclass(error, errors.MockError), name
        assert getattr(importlib.import_module(module), name) is error, (name, module)


def test_no_other_module_defines_an_exception() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = {b.id for b in node.bases if isinstance(b, ast.Name)}
                assert not bases & {"Exception", "ValueError", "MockError"}, f"{path}: {node.name}"


def test_admin_does_not_import_the_app() -> None:
    """The app factory imports the admin blueprint, never the other way round."""
    tree = ast.parse((PACKAGE / "admin.py").read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "mock_cio.app" not in imported
