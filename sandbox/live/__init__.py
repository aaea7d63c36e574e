"""The live server: one Flask app where Segment's side and Customer.io's side meet over HTTP.

`create_live_app(config)` composes three things on one port:

- the mock Customer.io (`mock_cio.create_app`), mounted whole for its own paths (`/api/…`,
  `/auth`, `/_mock/…`), so its journal, auth and error handling are exactly the mock's;
- Segment's HTTP Tracking API (`/v1/…`, `segment_api`), which runs each event through the
  transform core into that same mock and stores the trace (`session`, `traces`);
- the inspector (`/`, `inspector`), which reads the traces and the mock's admin views.

`cio-sandbox serve` builds this app and runs it; tests run it in a thread on port 0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from flask import Flask

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
    virtual time: sandbox.live.delivery); `SANDBOX_WRITE_KEYS` lists the write keys to accept (default: any).
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
        deliver=_deliverer(mock_app, cfg.get("SANDBOX_CONFIG"), cfg.get("SANDBOX_DELIVERY") or "once"),
        write_keys=_write_keys(cfg.get("SANDBOX_WRITE_KEYS")),
    )
    app.extensions["sandbox_live"] = live
    app.register_blueprint(segment_api.bp)
    app.register_blueprint(inspector.bp)
    app.wsgi_app = MockMount(app.wsgi_app, mock_app.wsgi_app, on_reset=store.clear)  # type: ignore[method-assign]
    return app


class MockMount:
    """WSGI dispatch by path: the mock's paths go to the mock app, the rest to the live app.

    `POST /_mock/reset` resets the whole sandbox: once the mock has answered it with 200,
    `on_reset` runs too (the live app clears its traces), so the inspector never shows events
    whose effects the mock has forgotten.
    """

    def __init__(
        self, live: Callable[..., Any], mock: Callable[..., Any], on_reset: Callable[[], None] | None = None
    ) -> None:
        self.live = live
        self.mock = mock
        self.on_reset = on_reset

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        if not (path in MOCK_PATHS or path.startswith(MOCK_PREFIXES)):
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
    mock_app: Flask, sandbox_config: Any, delivery: str = "once"
) -> Callable[[dict[str, Any], float], dict[str, Any]]:
    from sandbox.live.delivery import make_deliverer  # noqa: PLC0415 - imports the replay engine

    return make_deliverer(mock_app, sandbox_config, delivery)
