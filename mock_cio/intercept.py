"""In-process use of the mock: `requests` calls to Customer.io are answered by a mock app, no port.

Where it sits: between code under test (the official `customerio` client, `sandbox.actions.request.send`,
anything built on `requests`) and the Flask app of mock_cio/app.py. `intercept()` activates a
`responses.RequestsMock` whose callbacks match Customer.io's Track and App API hosts, US and EU
(any method, http or https) and hand each prepared request to the app as a WSGI call. `responses` patches
`HTTPAdapter.send`, so sessions a client builds itself (the `customerio` client mounts its own
adapter with urllib3 `Retry`) are intercepted too, and `responses` applies that `Retry` policy to
the mock's answers, as urllib3 would.

Requests to any other host are refused with `requests.ConnectionError` (responses' message lists
what the interceptor serves), so a test can never reach the network by accident. Pass
`passthrough=True` to let every other host through, or a tuple of URL prefixes (or compiled
patterns) to let only those through.

    with mock_cio.intercept() as cio:
        CustomerIO("site", "key").identify("u1", plan="pro")
        assert cio.person("u1")["attributes"] == {"plan": "pro"}
"""

from __future__ import annotations

import functools
import inspect
import io
import re
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, ParamSpec, TypeVar
from urllib.parse import unquote, urlsplit

import responses
from flask import Flask
from requests import PreparedRequest

from mock_cio import assertions
from mock_cio.errors import InterceptError  # noqa: F401  (defined in mock_cio.errors; importable here too)
from mock_cio.mock import MockCio

JSON = Any
P = ParamSpec("P")
R = TypeVar("R")

HOSTS: tuple[str, ...] = (
    "track.customer.io",
    "track-eu.customer.io",
    "api.customer.io",
    "api-eu.customer.io",
)
"""The hosts served by default: Customer.io's Track API and its App API (transactional sends), US and EU."""
METHODS: tuple[str, ...] = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def intercept(
    app: Flask | None = None,
    *,
    hosts: Iterable[str] = HOSTS,
    passthrough: bool | Iterable[str | re.Pattern[str]] = False,
    faults: JSON = None,
    **config: JSON,
) -> Intercept:
    """Serve `requests` calls to Customer.io from a mock app: a context manager and a decorator.

    `app` is an existing mock app (`mock_cio.create_app(...)`); without it a fresh one is built from
    `config` (`CIO_NOW=...`, `CIO_WORKSPACES=...`, see docs/contracts.md). `hosts` are the host
    names (optionally `host:port`) to serve; `passthrough` lets other hosts reach the network.
    `faults` is a fault profile (`mock_cio.faults.FaultProfile`: rate_limit, error_rate,
    timeout_rate, latency, outages, seed), the same shape as the admin API's and the config file's.
    """
    if app is not None and config:
        raise InterceptError("pass either an app or config keys for a new app, not both")
    handle = Intercept(app, hosts=tuple(hosts), passthrough=passthrough, config=config)
    if faults is not None:
        from mock_cio.faults import FaultProfile

        handle._faults = FaultProfile.from_dict(faults)  # a bad profile fails here, not later
    return handle


class Intercept:
    """The handle of an interception: the admin views as Python, plus the assertion helpers.

    Every view returns the JSON the admin API serves under `/_mock/` (docs/contracts.md).
    """

    def __init__(
        self,
        app: Flask | None,
        *,
        hosts: tuple[str, ...] = HOSTS,
        passthrough: bool | Iterable[str | re.Pattern[str]] = False,
        config: Mapping[str, JSON] | None = None,
    ) -> None:
        if not hosts:
            raise InterceptError("hosts must name at least one host to serve")
        for host in hosts:
            if not isinstance(host, str) or not re.fullmatch(r"[A-Za-z0-9.-]+(:\d+)?", host):
                raise InterceptError(f"hosts: {host!r} is not a host name (like 'track.customer.io')")
        self._given_app = app
        self._config = dict(config or {})
        self._hosts = hosts
        self._passthrough = passthrough
        self._app: Flask | None = app
        self._mocker: responses.RequestsMock | None = None
        self._faults: JSON = None

    # ------------------------------------------------------------------ activation

    def start(self) -> Intercept:
        """Begin intercepting (what `with` does); builds the app now if none was given."""
        if self._mocker is not None:
            raise InterceptError("this interceptor is already active")
        if self._app is None:
            from mock_cio.app import create_app

            self._app = create_app(self._config)
        if self._faults is not None:
            self.mock.set_fault_profile(self._faults)
            self._faults = None
        mocker = responses.RequestsMock(assert_all_requests_are_fired=False)
        pattern = re.compile(
            r"https?://(?:" + "|".join(re.escape(h) for h in self._hosts) + r")(?::\d+)?(?:[/?#].*)?",
            re.IGNORECASE,
        )
        forward = _forwarder(self._app)
        for method in METHODS:
            mocker.add_callback(method, pattern, callback=forward, content_type=None)
        if self._passthrough is True:
            mocker.add_passthru(re.compile(r".*"))
        elif self._passthrough:
            for prefix in self._passthrough:
                mocker.add_passthru(prefix)
        mocker.start()
        self._mocker = mocker
        return self

    def stop(self) -> None:
        """Stop intercepting; the app (and its state) stays readable through this handle."""
        if self._mocker is None:
            return
        mocker, self._mocker = self._mocker, None
        mocker.stop()
        mocker.reset()

    @property
    def active(self) -> bool:
        return self._mocker is not None

    def __enter__(self) -> Intercept:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __call__(self, func: Callable[P, R]) -> Callable[P, R]:
        """Decorate `func`: each call runs inside a fresh interception (a fresh app, unless one
        was given). If `func` has a parameter named `cio`, the handle is passed as `cio=`."""
        if inspect.iscoroutinefunction(func):
            raise InterceptError("intercept() cannot decorate a coroutine function")
        wants_handle = "cio" in inspect.signature(func).parameters

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            fresh = Intercept(
                self._given_app, hosts=self._hosts, passthrough=self._passthrough, config=self._config
            )
            with fresh:
                if wants_handle:
                    kwargs["cio"] = fresh
                return func(*args, **kwargs)

        if wants_handle:  # pytest must not look for a `cio` fixture
            signature = inspect.signature(func)
            wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
                parameters=[p for name, p in signature.parameters.items() if name != "cio"]
            )
        return wrapper

    # ------------------------------------------------------------------ the mock

    @property
    def app(self) -> Flask:
        if self._app is None:
            raise InterceptError("the interceptor has not started yet: use it in a `with` block first")
        return self._app

    @property
    def mock(self) -> MockCio:
        """The app's `MockCio` (state, journal, clock, faults)."""
        return self.app.extensions["mock_cio"]

    @property
    def clock(self) -> Any:
        """The mock clock: `.now()`, `.set(t)`, `.advance(seconds)`, `.to_dict()`."""
        return self.mock.clock

    @property
    def calls(self) -> Any:
        """The `responses` call list (prepared requests and responses) of the active interception."""
        if self._mocker is None:
            raise InterceptError("the interceptor is not active")
        return self._mocker.calls

    def requests(self, *args: JSON, **filters: JSON) -> list[dict[str, JSON]]:
        """Journal entries, newest first (workspace, status, path, since, limit, outcome)."""
        return self.mock.requests(*args, **filters)

    def request(self, entry_id: int) -> dict[str, JSON] | None:
        return self.mock.request(entry_id)

    def people(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        return self.mock.people(site_id)

    def person(self, identifier: str, site_id: str | None = None) -> dict[str, JSON] | None:
        """A person by `cio_<cio_id>`, id or email; None when there is no such person."""
        return self.mock.person(identifier, site_id)

    def anonymous_events(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        return self.mock.anonymous_events(site_id)

    def objects(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        return self.mock.objects(site_id)

    def metrics(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        return self.mock.metrics(site_id)

    def workspaces(self) -> list[dict[str, JSON]]:
        return self.mock.workspaces()

    def snapshot(self) -> dict[str, JSON]:
        return self.mock.snapshot()

    def reset(self) -> dict[str, JSON]:
        """Forget people, events, objects and the journal (workspace settings and clock stay)."""
        return self.mock.reset()

    def configure_workspace(self, site_id: str, **settings: JSON) -> dict[str, JSON]:
        """Declare or change a workspace: api_key, region, anonymous_merge, rate_limit, ..."""
        return self.mock.configure_workspace(site_id, **settings)

    def inject_fault(
        self, status: int | None = None, count: int = 1, latency: float | None = None, body: JSON = None
    ) -> dict[str, JSON]:
        """The next `count` Track API requests answer `status` (and/or wait `latency` seconds)."""
        return self.mock.inject_fault(status=status, count=count, latency=latency, body=body)

    def set_faults(self, profile: JSON, seed: int | None = None) -> dict[str, JSON]:
        """Put a fault profile in force (`{}` removes it): the shape of `intercept(faults=...)`."""
        return self.mock.set_fault_profile(profile, seed=seed)

    # ------------------------------------------------------------------ assertions

    def assert_person(self, identifier: str, **expected: JSON) -> dict[str, JSON]:
        __tracebackhide__ = True  # pytest shows the failure at the caller (the test), not here
        return assertions.assert_person(self, identifier, **expected)

    def assert_no_person(self, identifier: str, site_id: str | None = None) -> None:
        __tracebackhide__ = True  # pytest shows the failure at the caller (the test), not here
        assertions.assert_no_person(self, identifier, site_id=site_id)

    def assert_no_rejections(self, **filters: JSON) -> None:
        __tracebackhide__ = True  # pytest shows the failure at the caller (the test), not here
        assertions.assert_no_rejections(self, **filters)

    def assert_requests(self, **expected: JSON) -> list[dict[str, JSON]]:
        __tracebackhide__ = True  # pytest shows the failure at the caller (the test), not here
        return assertions.assert_requests(self, **expected)

    def assert_event(self, identifier: str | None, name: str, **expected: JSON) -> list[dict[str, JSON]]:
        __tracebackhide__ = True  # pytest shows the failure at the caller (the test), not here
        return assertions.assert_event(self, identifier, name, **expected)


def _forwarder(app: Flask) -> Callable[[PreparedRequest], tuple[int, dict[str, str], bytes]]:
    """A `responses` callback that runs one prepared request through `app` as a WSGI call."""
    wsgi = app.wsgi_app

    def forward(req: PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        environ = _environ(req)
        captured: list[Any] = []
        written: list[bytes] = []  # PEP 3333's legacy write() callable, kept in order before the body

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            captured[:] = [status, headers]
            return written.append

        chunks = wsgi(environ, start_response)
        try:
            body = b"".join([*written, *chunks])
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        status, headers = captured
        out: dict[str, str] = {}
        for name, value in headers:
            out[name] = f"{out[name]}, {value}" if name in out else value
        return int(status.split(" ", 1)[0]), out, body

    return forward


def _environ(req: PreparedRequest) -> dict[str, Any]:
    """The WSGI environ of a prepared request, as a real server would build it (PEP 3333)."""
    url = urlsplit(req.url or "")
    body = _body_bytes(req.body)
    raw_path = url.path or "/"
    raw_uri = raw_path + (f"?{url.query}" if url.query else "")
    scheme = url.scheme or "https"
    host = url.hostname or ""
    port = str(url.port or (443 if scheme == "https" else 80))
    environ: dict[str, Any] = {
        "REQUEST_METHOD": (req.method or "GET").upper(),
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(raw_path).encode("utf-8").decode("latin-1"),
        "QUERY_STRING": url.query,
        "RAW_URI": raw_uri,
        "REQUEST_URI": raw_uri,
        "SERVER_NAME": host,
        "SERVER_PORT": port,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": url.netloc,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in req.headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key not in ("CONTENT_LENGTH", "HOST", "TRANSFER_ENCODING"):  # the body is whole here
            environ[f"HTTP_{key}"] = value
    return environ


def _body_bytes(body: Any) -> bytes:
    """A prepared request's body as bytes (requests gives bytes, str, a file or an iterator)."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)


class _CallableModule(types.ModuleType):
    """This module, callable as `intercept()`.

    `mock_cio.intercept` names both this module and the function: once anything imports the
    module (the pytest plugin always does), the import system binds the package attribute to the
    module, so the module itself must behave like the function.
    """

    def __call__(self, app: Flask | None = None, **kwargs: Any) -> Intercept:
        return intercept(app, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
