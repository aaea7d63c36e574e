"""The live server: one Flask app where Segment's side and Customer.io's side meet over HTTP.

`create_live_app(config)` composes three things on one port:

- the mock Customer.io (`mock_cio.create_app`), mounted whole for every path its route table
  knows (the Track API, the App API's `/v1/send/…`, `/unsubscribe/…`, `/push/events`, `/auth`)
  and for `/api/…` and `/_mock/…`, so its journal, auth and error handling are exactly the mock's
  and every route `python -m mock_cio` serves is served the same here;
- Segment's HTTP Tracking API (`/v1/…`, `segment_api`), which runs each event through the
  transform core into that same mock and stores the trace (`session`, `traces`);
- the inspector (`/`, `inspector`), which reads the traces and the mock's admin views.

Any other path or method answers JSON, never an HTML page (with CORS headers under `/v1/`, so a
browser SDK sees the error instead of a CORS failure); a refused `/v1/…` call is kept for the
inspector like every other Tracking API call.

`cio-sandbox serve` builds this app and runs it; tests run it in a thread on port 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from sandbox.live import inspector, segment_api
from sandbox.live.session import LiveSandbox
from sandbox.live.traces import TraceStore

__all__ = ["MOCK_PREFIXES", "create_live_app"]

# Paths the mock answers. Everything else is Segment's API or the inspector.
MOCK_PREFIXES = ("/api/", "/_mock/")
MOCK_PATHS = ("/_mock", "/auth")


def create_live_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the live server's app.

    config keys: the mock's (`CIO_DB`, `CIO_WORKSPACES`, `CIO_NOW`, ...) are passed to
    `mock_cio.create_app` as they are; `SANDBOX_CONFIG` is the sandbox configuration (settings
    and subscriptions, as `sandbox.replay.config` loads it; default: the 15 automatic presets with the
    default settings); `SANDBOX_DELIVERY` is `once` (default) or `segment` (Segment's retries, in
    virtual time: sandbox.live.delivery) and `SANDBOX_SEED` its jitter's seed (default 0);
    `SANDBOX_WRITE_KEYS` lists the write keys to accept (default: any).
    The trace store shares `CIO_DB`'s file (its own tables).
    """
    from mock_cio import create_app  # noqa: PLC0415 - the one place where sandbox meets mock_cio

    cfg = dict(config or {})
    mock_app = create_app({k: v for k, v in cfg.items() if k.startswith("CIO_") or k == "TESTING"})
    app = Flask(__name__)
    app.config.update({k: v for k, v in cfg.items() if not k.startswith("CIO_")})
    app.json.sort_keys = False  # type: ignore[attr-defined]
    store = TraceStore(str(cfg.get("CIO_DB", ":memory:")))
    live = LiveSandbox(
        mock_app=mock_app,
        store=store,
        deliver=_deliverer(
            mock_app,
            cfg.get("SANDBOX_CONFIG"),
            cfg.get("SANDBOX_DELIVERY") or "once",
            int(cfg.get("SANDBOX_SEED") or 0),
        ),
        write_keys=_write_keys(cfg.get("SANDBOX_WRITE_KEYS")),
    )
    app.extensions["sandbox_live"] = live
    app.register_blueprint(segment_api.bp)
    app.register_blueprint(inspector.bp)
    app.register_error_handler(HTTPException, _json_error)
    app.after_request(_tracking_api_cors)
    router = mock_app.extensions["mock_cio"].router
    app.wsgi_app = MockMount(  # type: ignore[method-assign]
        app.wsgi_app, mock_app.wsgi_app, on_reset=store.clear, known=lambda path: router.knows(path)
    )
    return app


def _json_error(error: HTTPException) -> Response | tuple[Response, int]:
    """No route (404) or no such method (405) outside the inspector's views: JSON, never HTML. On
    the Tracking API's `/v1/…` it is Segment-style and kept for the inspector as refused."""
    code = error.code or 500
    if request.path.startswith("/v1/"):
        if code == 404:
            message = f"no Tracking API endpoint {request.path}; see the README for the paths served"
        elif code == 405:
            message = f"{request.path} takes POST, not {request.method}"
        else:
            message = error.description or error.name
        failure = segment_api.TrackingApiError(
            message, status=code, code="not_found" if code == 404 else "invalid_request"
        )
        if request.method not in ("OPTIONS", "HEAD", "GET"):
            return segment_api.refuse(failure, None, request.get_data(cache=False))
        return jsonify({"success": False, "code": failure.code, "message": message}), code
    body = {"error": error.description if code != 404 else f"no route for {request.method} {request.path}"}
    response = jsonify(body)
    response.status_code = code
    allowed = getattr(error, "valid_methods", None)
    if code == 405 and allowed:
        response.headers["Allow"] = ", ".join(allowed)
    return response


def _tracking_api_cors(response: Response) -> Response:
    if request.path.startswith("/v1/"):
        response.headers.update(segment_api.CORS_HEADERS)
    return response


class MockMount:
    """WSGI dispatch by path: the mock's paths go to the mock app, the rest to the live app.

    `POST /_mock/reset` resets the whole sandbox: once the mock has answered it with 200,
    `on_reset` runs too (the live app clears its traces), so the inspector never shows events
    whose effects the mock has forgotten.
    """

    def __init__(
        self,
        live: Callable[..., Any],
        mock: Callable[..., Any],
        on_reset: Callable[[], None] | None = None,
        known: Callable[[str], bool] | None = None,
    ) -> None:
        self.live = live
        self.mock = mock
        self.on_reset = on_reset
        self.known = known
        """Whether the mock's route table has a route for this raw path (any method)."""

    def is_mock_path(self, environ: dict[str, Any]) -> bool:
        path = environ.get("PATH_INFO", "") or "/"
        if path in MOCK_PATHS or path.startswith(MOCK_PREFIXES):
            return True
        if self.known is None:
            return False
        raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or path
        return self.known(raw.split("?", 1)[0])

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        if not self.is_mock_path(environ):
            return self.live(environ, start_response)
        if (
            self.on_reset is None
            or path.rstrip("/") != "/_mock/reset"
            or environ.get("REQUEST_METHOD") != "POST"
        ):
            return self.mock(environ, start_response)
        statuses: list[str] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        body = list(self.mock(environ, capture))
        if statuses and statuses[-1].startswith("200"):
            self.on_reset()
        return body


def _write_keys(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _deliverer(
    mock_app: Flask, sandbox_config: Any, delivery: str = "once", seed: int = 0
) -> Callable[[dict[str, Any], float], dict[str, Any]]:
    from sandbox.live.delivery import make_deliverer  # noqa: PLC0415 - imports the replay engine

    return make_deliverer(mock_app, sandbox_config, delivery, seed)
