"""A mock of Customer.io's Track API that records every request and keeps Customer.io's state.

Public names (imported lazily, so `import mock_cio` stays cheap): `create_app` (the Flask
application factory, mock_cio/app.py), `MockCio` (the `app.extensions["mock_cio"]` handle),
`intercept` (serves `requests` calls to Customer.io in-process, mock_cio/intercept.py) and its
handle `Intercept`, and the errors `MockError` (root), `ApiError` (a request answered with an error), `StateError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mock_cio.errors import MockError

if TYPE_CHECKING:
    from mock_cio.app import create_app
    from mock_cio.intercept import Intercept, intercept
    from mock_cio.mock import MockCio
    from mock_cio.request_body import ApiError
    from mock_cio.state import StateError

__all__ = ["ApiError", "Intercept", "MockCio", "MockError", "StateError", "create_app", "intercept"]

_LAZY = {
    "create_app": "mock_cio.app",
    "MockCio": "mock_cio.mock",
    "ApiError": "mock_cio.request_body",
    "StateError": "mock_cio.state",
    "intercept": "mock_cio.intercept",
    "Intercept": "mock_cio.intercept",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mock_cio' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
