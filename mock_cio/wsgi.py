"""The mock's HTTP adapter: a plain WSGI callable in front of the Flask app.

Where it sits: `create_app` installs `MockWsgi` as the Flask app's `wsgi_app`. Every request whose
path is not the admin API's (`/_mock…`) is turned straight into an `Incoming` (method, host, RAW
path, query, headers, body) and answered by `MockCio.handle`: the Track API, the App API and every
unknown path (a JSON 404, journaled). Only `/_mock…` goes through Flask (the admin API's views).

Why not a Flask view: the Track API does its own routing (on the raw path, mock_cio/routes.py)
and builds its own answer bytes, so Flask's request context, routing and Response object only added
cost (about two thirds of the per-request time of the live server, measured with bench/http_load.py).

The body is read with the cap of the route it is for (mock_cio/wsgi_body.py): a declared
`Content-Length` over it is not read at all (the mock answers 400 "too large" from the declared
length), and a chunked body is read in pieces only up to the cap + 1 bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from werkzeug.datastructures import EnvironHeaders

from mock_cio.mock import (
    JSON_TYPE,
    MAX_READ,
    MAX_UNROUTED_BODY,
    REQUEST_ID_HEADER,
    Answer,
    Incoming,
    MockCio,
    dumps,
)
from mock_cio.wsgi_body import read_body

WSGIApp = Callable[..., Iterable[bytes]]


def _reason(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def is_admin_path(path: str) -> bool:
    return path == "/_mock" or path.startswith("/_mock/")


def raw_target(environ: dict[str, Any]) -> tuple[str, str]:
    """The request's path as sent (still percent-encoded) and its query string."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw:
        from urllib.parse import quote

        raw = quote((environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1"))
    elif "://" in raw.split("?", 1)[0]:  # absolute-form request target: keep the path
        after = raw.split("://", 1)[1]
        raw = "/" + after.split("/", 1)[1] if "/" in after else "/"
    path, _, query = raw.partition("?")
    return path or "/", query or environ.get("QUERY_STRING", "")


def host_of(environ: dict[str, Any]) -> str:
    host = environ.get("HTTP_HOST")
    if host:
        return str(host)
    name, port = environ.get("SERVER_NAME", "localhost"), str(environ.get("SERVER_PORT", ""))
    default = "443" if environ.get("wsgi.url_scheme") == "https" else "80"
    return name if port in ("", default) else f"{name}:{port}"


def incoming_from(environ: dict[str, Any], mock: MockCio | None = None) -> Incoming:
    """The request as the pipeline takes it; its body read with the cap of the route it is for
    (`Route.limit`; `MAX_UNROUTED_BODY` for a path no route has, `MAX_READ` without a `mock`),
    streamed (wsgi_body.py): never more than the cap is held."""
    path, query = raw_target(environ)
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    limit = MAX_READ
    if mock is not None:
        route, _, _ = mock.router.match(method, path)
        limit = MAX_UNROUTED_BODY if route is None else route.limit
    read = read_body(environ, limit)
    return Incoming(method, host_of(environ), path, query, dict(EnvironHeaders(environ)), read.data,
                    read.oversized, read.declared, read.error)  # fmt: skip


def respond(answer: Answer, start_response: Callable[..., Any], *, head: bool = False) -> list[bytes]:
    """Send an Answer: its status, its headers and Content-Length, its bytes (none for HEAD)."""
    headers = list(answer.headers.items())
    if answer.status not in (204, 304):
        headers.append(("Content-Length", str(len(answer.content))))
    start_response(_reason(answer.status), headers)
    return [] if head or not answer.content else [answer.content]


class MockWsgi:
    """The mock's WSGI entry point: the admin API to Flask (`admin`), everything else to `mock`."""

    def __init__(self, mock: MockCio, admin: WSGIApp) -> None:
        self.mock = mock
        self.admin = admin

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if is_admin_path(environ.get("PATH_INFO") or "/"):
            return self.admin(environ, start_response)
        incoming = incoming_from(environ, self.mock)
        try:
            answer = self.mock.handle(incoming)
        except Exception as exc:  # a bug outside the pipeline (handle answers its own failures)
            answer = self._failed(incoming, exc)
        return respond(answer, start_response, head=incoming.method == "HEAD")

    def _failed(self, inc: Incoming, exc: Exception) -> Answer:
        """A JSON 500 for what escaped `MockCio.handle`, journaled as an error."""
        from mock_cio.auth import redact
        from mock_cio.journal import Entry

        message = f"internal error in the mock: {type(exc).__name__}: {exc}"
        body = {"meta": {"error": message}}
        entry = Entry(self.mock.clock.now(), inc.method, inc.host, inc.path, inc.query, redact(inc.headers),
                      status=500, response=body, outcome="error", reasons=[message])  # fmt: skip
        with self.mock.lock:
            entry_id = self.mock.journal.append(entry)
        headers = {REQUEST_ID_HEADER: str(entry_id), "Content-Type": JSON_TYPE}
        return Answer(500, body, headers, entry_id, dumps(body))
