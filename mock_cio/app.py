"""The Flask application factory: the Track API on both hosts, plus the `/_mock/` admin API.

Where it sits: the entry point of the mock. `create_app(config)` builds one `MockCio` (state,
journal, clock, faults: mock.py) and stores it in `app.extensions["mock_cio"]`; every Track API
request goes straight from WSGI to `MockCio.handle` (mock_cio/wsgi.py: no Flask view, no Flask
request); only the admin API (`/_mock/…`) is Flask's. Two apps never share state.

Config keys (docs/contracts.md): `CIO_DB` (a file, or `":memory:"`, the default), `CIO_WORKSPACES`
(declared workspaces: `{site_id: {api_key, region, anonymous_merge, rate_limit}}`), `CIO_NOW`
(initial clock, Unix seconds or ISO-8601, frozen there; default: real time, running), and also
`CIO_ONLY_DECLARED` (reject site_ids nobody declared), `CIO_DEFAULT_REGION` (region of hosts that
are not a Customer.io host, default `us`), `CIO_METRICS_SITE_ID` (workspace of credential-less
metrics), `CIO_DB_DURABLE` (default true; false for a scratch journal file: journal.py).

mock_cio/wsgi.py is only the HTTP adapter: `MockCio.handle` builds the answer (status, headers, bytes);
in-process callers reach the same pipeline through `MockCio.serve`, without Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, NotFound

from mock_cio.admin import bp as admin_bp
from mock_cio.admin import json_response
from mock_cio.mock import MAX_READ, REQUEST_ID_HEADER, MockCio
from mock_cio.wsgi import MockWsgi

__all__ = ["MAX_READ", "REQUEST_ID_HEADER", "create_app", "json_response"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create a mock Customer.io Track API with empty (or, from a `CIO_DB` file, restored) state."""
    app = Flask("mock_cio")
    app.config.update(CIO_DB=":memory:", CIO_WORKSPACES=None, CIO_NOW=None, MAX_CONTENT_LENGTH=MAX_READ)
    if config is not None:
        app.config.update(config)
    app.extensions["mock_cio"] = MockCio(app.config)
    app.register_blueprint(admin_bp, url_prefix="/_mock")
    app.register_error_handler(Exception, _on_error)
    app.wsgi_app = MockWsgi(app.extensions["mock_cio"], app.wsgi_app)  # type: ignore[method-assign]
    return app


def _on_error(exc: Exception) -> Response:
    """Anything that escaped an admin view: still JSON. (Track API requests never reach Flask:
    mock_cio/wsgi.py answers them, and `MockCio.handle` turns every failure into a JSON answer.)"""
    if isinstance(exc, NotFound):  # a path no admin rule matches (a %0A in it)
        return json_response(404, {"error": f"no admin route {request.method} {request.path!r} "
                                            "(see /_mock/openapi.json)"})  # fmt: skip
    if isinstance(exc, HTTPException):
        status, message = exc.code or 500, exc.description or exc.name
    else:
        status, message = 500, f"internal error in the mock: {type(exc).__name__}: {exc}"
    return json_response(status, {"error": message})
