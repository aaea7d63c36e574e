"""The Flask application factory: the Track API on both hosts, plus the `/_mock/` admin API.

Where it sits: the entry point of the mock. `create_app(config)` builds one `MockCio` (state,
journal, clock, faults: mock.py) and stores it in `app.extensions["mock_cio"]`; every Track API
request goes through one catch-all view that hands the raw request to `MockCio.handle`. Two apps
never share state.

Config keys (docs/contracts.md): `CIO_DB` (a file, or `":memory:"`, the default), `CIO_WORKSPACES`
(declared workspaces: `{site_id: {api_key, region, anonymous_merge, rate_limit}}`), `CIO_NOW`
(initial clock, Unix seconds or ISO-8601, frozen there; default: real time, running), and also
`CIO_ONLY_DECLARED` (reject site_ids nobody declared), `CIO_DEFAULT_REGION` (region of hosts that
are not a Customer.io host, default `us`), `CIO_METRICS_SITE_ID` (workspace of credential-less
metrics), `CIO_DB_DURABLE` (default true; false for a scratch journal file: journal.py).

The view is only the HTTP adapter: `MockCio.handle` builds the answer (status, headers, bytes);
in-process callers reach the same pipeline through `MockCio.serve`, without Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from mock_cio.mock import JSON_TYPE as _JSON_TYPE
from mock_cio.mock import MAX_READ, REQUEST_ID_HEADER, Incoming, MockCio, dumps

__all__ = ["MAX_READ", "REQUEST_ID_HEADER", "create_app", "json_response"]

_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create a mock Customer.io Track API with empty (or, from a `CIO_DB` file, restored) state."""
    app = Flask("mock_cio")
    app.config.update(CIO_DB=":memory:", CIO_WORKSPACES=None, CIO_NOW=None, MAX_CONTENT_LENGTH=MAX_READ)
    if config is not None:
        app.config.update(config)
    app.extensions["mock_cio"] = MockCio(app.config)
    from mock_cio.admin import bp as admin_bp

    app.register_blueprint(admin_bp, url_prefix="/_mock")
    app.add_url_rule("/", "track", _track, methods=_METHODS, defaults={"_path": ""})
    app.add_url_rule("/<path:_path>", "track", _track, methods=_METHODS)
    app.register_error_handler(Exception, _on_error)
    return app


def _mock() -> MockCio:
    from flask import current_app

    return current_app.extensions["mock_cio"]


def _track(_path: str) -> Response:
    """Every Track API route: hand the raw request to MockCio.handle."""
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or (request.script_root + request.path)
    path, _, query = raw.partition("?")
    if not query:
        query = environ.get("QUERY_STRING", "")
    oversized = None
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        body, oversized = b"", request.content_length or MAX_READ + 1
    incoming = Incoming(request.method, request.host, path, query, dict(request.headers), body, oversized)
    answer = _mock().handle(incoming)
    if answer.body is None:
        return Response(status=answer.status, headers=answer.headers)
    return Response(answer.content, status=answer.status, headers=answer.headers)


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response with Customer.io's content type (a 204 has no body)."""
    if body is None:
        return Response(status=status, headers=dict(headers or {}))
    return Response(dumps(body), status=status, headers=dict(headers or {}), content_type=_JSON_TYPE)


def _on_error(exc: Exception) -> Response:
    """Anything that escaped a view: still JSON (and journaled, for a Track API path)."""
    if isinstance(exc, HTTPException):
        status, message = exc.code or 500, exc.description or exc.name
    else:
        status, message = 500, f"internal error in the mock: {type(exc).__name__}: {exc}"
    if request.path.startswith("/_mock"):
        return json_response(status, {"error": message})
    incoming = Incoming(request.method, request.host, request.path, request.query_string.decode("latin-1"),
                        dict(request.headers), b"")  # fmt: skip
    mock = _mock()
    from mock_cio.auth import redact
    from mock_cio.journal import Entry

    entry = Entry(mock.clock.now(), incoming.method, incoming.host, incoming.path, incoming.query,
                  redact(incoming.headers), status=status, response={"meta": {"error": message}},
                  outcome="error" if status >= 500 else "rejected", reasons=[message])  # fmt: skip
    with mock.lock:
        entry_id = mock.journal.append(entry)
    return json_response(status, {"meta": {"error": message}}, {REQUEST_ID_HEADER: str(entry_id)})
