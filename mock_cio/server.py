"""The live server: any WSGI app (the mock, or the sandbox's combined app) on a real socket.

Where it sits: behind `python -m mock_cio` and `cio-sandbox serve`, which build a WSGI app and hand
it to `run()`. The server is cheroot (CherryPy's production WSGI server): ONE process, since the
mock's state lives in it, a pool of worker threads, HTTP/1.1 keep-alive (idle connections wait in a
selector, not in a thread; a connection sending requests back to back stays with its worker for
them, `_QuietServer.put_conn`) and TLS with keep-alive through its builtin `ssl` adapter. It is quiet:
no per-request log lines, the journal is the log.

Limits at the server level (`ServerLimits`): each read of a request (its headers or body) waits at
most `timeout` seconds and an idle keep-alive connection is closed after as long; at most
`max_connections` connections are kept alive at once (beyond that, a response closes its
connection) and at most as many accepted connections wait for a thread (beyond that, cheroot
answers 503); request headers are capped at `max_header_bytes`. Body sizes are the apps' business
(they read bodies with their own caps).

With TLS, a certificate for localhost, 127.0.0.1, ::1 and the Customer.io hosts is issued by a
local CA made with `trustme`; the CA is kept in a directory (`tls_dir`, by default the user's cache
directory) and reused, so a client trusts it once. Only the CA's certificate file needs trusting.

SIGINT and SIGTERM stop the server gracefully: it stops accepting, lets the requests in progress
finish (up to `shutdown_timeout`), closes the socket and calls `on_close` (the mock closes its
journal). Nothing acknowledged can be lost even on SIGKILL, because the mock commits each journal
entry before it answers.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import socket
import ssl
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, Any

from cheroot import wsgi
from cheroot.makefile import MakeFile, StreamReader, StreamWriter
from cheroot.server import HTTPConnection, HTTPRequest
from cheroot.ssl.builtin import BuiltinSSLAdapter

from mock_cio import control_plane
from mock_cio.errors import MockError, ServerError  # noqa: F401  (defined in mock_cio.errors; importable here too)

WSGIApp = Callable[..., Any]
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787
MAX_SERVER_BODY = 64 * 1024 * 1024
"""The most the server reads of any body (the apps' own caps are far smaller: 1 MB at most)."""
TLS_NAMES = (
    "localhost", "127.0.0.1", "::1", "track.customer.io", "track-eu.customer.io",
    "api.customer.io", "api-eu.customer.io",
)  # fmt: skip
"""The names the server certificate is valid for."""


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """The server-level limits (see the module's doc)."""

    threads: int = 16
    """Worker threads: requests served at once (the mock serialises state changes anyway)."""
    timeout: float = 10.0
    """Seconds one read of a request may wait, and an idle keep-alive connection may stay open."""
    max_connections: int = 256
    """Keep-alive connections held open at once, and accepted connections waiting for a thread."""
    max_header_bytes: int = 64 * 1024
    """The request line and headers together, in bytes (a larger request gets 413)."""
    shutdown_timeout: float = 5.0
    """Seconds a graceful stop waits for the requests in progress."""


@dataclass(frozen=True, slots=True)
class TlsFiles:
    ca: Path
    """The CA certificate to trust (`REQUESTS_CA_BUNDLE`, `NODE_EXTRA_CA_CERTS`, `verify=`)."""
    cert: Path
    key: Path


def default_tls_dir() -> Path:
    """Where the local CA lives between runs: `$XDG_CACHE_HOME/cio-sandbox/tls` (or ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cio-sandbox" / "tls"


def tls_files(directory: Path | str | None = None) -> TlsFiles:
    """The CA (made once, then reused) and a fresh server certificate in `directory`."""
    import trustme

    folder = Path(directory) if directory is not None else default_tls_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        ca_cert, ca_key = folder / "ca.pem", folder / "ca-key.pem"
        if ca_cert.exists() and ca_key.exists():
            ca = trustme.CA.from_pem(ca_cert.read_bytes(), ca_key.read_bytes())
        else:
            ca = trustme.CA(organization_name="cio-sandbox local CA")
            _write_private(ca_key, ca.private_key_pem.bytes())
            ca.cert_pem.write_to_path(str(ca_cert))
        leaf = ca.issue_cert(*TLS_NAMES, common_name="cio-sandbox")
        cert, key = folder / "server.pem", folder / "server-key.pem"
        cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        _write_private(key, leaf.private_key_pem.bytes())
    except (OSError, ValueError) as exc:
        raise ServerError(f"cannot prepare TLS files in {folder}: {exc}") from exc
    return TlsFiles(ca_cert, cert, key)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


class _LineReader(StreamReader):
    """cheroot's socket reader (pure-Python `_pyio`, which it keeps for `has_data`) with a fast
    `readline`: when the line is already in the buffer it is sliced out with one `find`, instead
    of `_pyio`'s peek/read loop under the buffer's lock (cheroot reads the request line and every
    header line this way: a third of its parsing time). Anything else (the line not buffered yet,
    or longer than `size`) goes to the reference `readline`; tests/test_live_server.py proves the
    two give the same lines and leave the same bytes behind."""

    def readline(self, size: int | None = -1) -> bytes:
        buffer, start = self._read_buf, self._read_pos  # type: ignore[attr-defined,has-type]
        stop = len(buffer) if size is None or size < 0 else min(len(buffer), start + size)
        end = buffer.find(b"\n", start, stop)
        if end < 0:
            return bytes(super().readline(-1 if size is None else size))
        end += 1
        self._read_pos = end
        self.bytes_read += end - start
        return bytes(buffer[start:end])


class _HeadWriter(StreamWriter):
    """cheroot's socket writer, able to hold the response head for the write that follows it:
    cheroot sends the head (status line and headers) only when the first body chunk is there
    (WSGI) and then writes the chunk, so a response cost two sends (two TLS records, two wake-ups
    of the client). `_Request` holds the head; the next write sends head and chunk at once, and
    the end of the response sends a head still held (HEAD, 204: no body)."""

    holding = False
    _held = b""

    def write(self, data: Any) -> int:
        if self.holding:
            self.holding = False
            self._held = bytes(data)
            return len(data)
        if self._held:
            held, self._held = self._held, b""
            super().write(held + bytes(data))
            return len(data)
        return int(super().write(data))

    def release(self) -> None:
        """Send the head still held, if any."""
        if self._held:
            held, self._held = self._held, b""
            super().write(held)


class _Request(HTTPRequest):
    """cheroot's request, its response head sent with the first body chunk (`_HeadWriter`)."""

    def send_headers(self) -> None:
        wfile = self.conn.wfile
        if isinstance(wfile, _HeadWriter):
            wfile.holding = True
        try:
            super().send_headers()
        finally:
            if isinstance(wfile, _HeadWriter):
                wfile.holding = False

    def respond(self) -> None:
        try:
            super().respond()
        finally:
            wfile = self.conn.wfile
            if isinstance(wfile, _HeadWriter):
                wfile.release()


class _Connection(HTTPConnection):
    """cheroot's connection with `_LineReader` as its request reader and `_HeadWriter` as its
    writer (plain and TLS alike)."""

    RequestHandlerClass = _Request

    def __init__(self, server: Any, sock: Any, makefile: Any = MakeFile) -> None:
        super().__init__(server, sock, makefile)
        if type(self.rfile) is StreamReader:
            self.rfile.__class__ = _LineReader
        if type(self.wfile) is StreamWriter:
            self.wfile.__class__ = _HeadWriter


_CLIENT_GONE = (ConnectionError, ssl.SSLEOFError)
"""What a client that went away while it was answered raises (cheroot logs it with a traceback: a
TLS client closing without close_notify, as load generators do at the end of a run)."""
LINGER_SECONDS = 0.005
"""How long a worker thread keeps waiting on the keep-alive connection it just answered before
handing it back to cheroot's selector (see `_QuietServer.put_conn`)."""
_LINGER_SLICE_MS = 1


class _QuietServer(wsgi.Server):
    """cheroot without its error log on stderr for what clients do (a reset connection, a plain
    HTTP request on the TLS port): those are the client's business, and the journal is the log.

    Keep-alive connections linger in their worker: cheroot hands every answered keep-alive
    connection back to its selector thread, which waits for the next request and queues the
    connection for a worker again, so a client sending requests back to back costs two thread
    hand-offs per request (selector wake-up, queue, condition, GIL). `put_conn` first waits up to
    `LINGER_SECONDS` on the connection in the worker that answered it (`poll`, without the GIL)
    and serves the next request there; only when nothing came, or when another connection is
    waiting for a worker, does the connection go back to the selector. Idle keep-alive
    connections still wait in the selector (not in threads), with its timeout."""

    ConnectionClass = _Connection

    def error_log(self, msg: str = "", level: int = 20, traceback: bool = False) -> None:
        if traceback and not isinstance(sys.exc_info()[1], _CLIENT_GONE):  # a bug in the server or an app
            super().error_log(msg, level, traceback)

    def put_conn(self, conn: Any) -> None:
        """Serve the connection's next requests in this worker while they come at once (see the
        class doc), then hand it back to cheroot. Runs in the worker's `finally`: it never raises
        but for a shutdown request (as the worker would)."""
        while self.ready and _next_request_soon(conn, self.requests):
            try:
                keep = conn.communicate()
            except (KeyboardInterrupt, SystemExit):
                conn.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - as cheroot's worker: drop the connection
                if not isinstance(exc, ConnectionError):
                    self.error_log(f"unhandled error on a connection: {exc!r}", traceback=True)
                conn.close()
                return
            if not keep:
                conn.close()
                return
        super().put_conn(conn)


def _next_request_soon(conn: Any, requests: Any) -> bool:
    """Whether `conn`'s next request is there, or arrives within `LINGER_SECONDS`, while no other
    connection waits for a worker thread."""
    if conn.rfile.has_data():
        return True
    sock = conn.socket
    pending = getattr(sock, "pending", None)  # TLS: bytes already decrypted
    if pending is not None and pending():
        return True
    try:
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN | select.POLLPRI)
    except (OSError, ValueError):  # closed meanwhile
        return False
    for _ in range(max(1, round(LINGER_SECONDS * 1000 / _LINGER_SLICE_MS))):
        if requests.qsize:
            return False  # another connection waits for a thread: give this one back
        try:
            if poller.poll(_LINGER_SLICE_MS):
                return True
        except OSError:
            return False
    return False


class LiveServer:
    """A started (listening) server; `serve_forever()` in this thread or `start()` in another."""

    def __init__(
        self,
        app: WSGIApp,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        tls: bool = False,
        tls_dir: Path | str | None = None,
        limits: ServerLimits | None = None,
    ) -> None:
        self.limits = limits = limits or ServerLimits()
        self.tls = tls_files(tls_dir) if tls else None
        self.server = _QuietServer(
            (host, port),
            app,
            numthreads=limits.threads,
            max=limits.threads,
            request_queue_size=128,
            # cheroot's annotations say int; its timeouts are socket timeouts, where floats work.
            timeout=limits.timeout,  # type: ignore[arg-type]
            shutdown_timeout=limits.shutdown_timeout,  # type: ignore[arg-type]
            accepted_queue_size=limits.max_connections,
            accepted_queue_timeout=limits.timeout,  # type: ignore[arg-type]
            server_name="mock-cio",
        )
        self.server.keep_alive_conn_limit = limits.max_connections
        self.server.max_request_header_size = limits.max_header_bytes
        # The apps cap every body themselves (streamed, mock_cio/wsgi_body.py); this caps what
        # cheroot buffers for ONE chunk of a chunked body before an app can stop it (the read then
        # fails and the app answers its JSON "too large"). A declared Content-Length over it is
        # refused by cheroot itself (413, text/plain).
        self.server.max_request_body_size = MAX_SERVER_BODY
        if self.tls is not None:
            self.server.ssl_adapter = BuiltinSSLAdapter(str(self.tls.cert), str(self.tls.key))
        try:
            self.server.prepare()
        except OSError as exc:
            reason = "address already in use" if _in_use(host, port) else (exc.strerror or str(exc))
            raise ServerError(f"cannot listen on {host}:{port}: {reason}") from exc
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self.server.bind_addr[0])

    @property
    def port(self) -> int:
        return int(self.server.bind_addr[1])

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def ca_path(self) -> Path | None:
        return None if self.tls is None else self.tls.ca

    def startup_line(self) -> str:
        line = f"mock Customer.io listening on {self.url}"
        if self.tls is not None:
            line += f" (TLS; trust the CA file {self.tls.ca})"
        return line

    def serve_forever(self) -> None:
        """Serve until `stop()` (from another thread or a signal handler's thread)."""
        self.server.serve()

    def stop(self) -> None:
        """Stop accepting, finish the requests in progress, close every connection and the socket."""
        self.server.stop()

    def start(self) -> LiveServer:
        """Serve in a daemon thread (tests, benchmarks); stop with `shutdown()`."""
        self._thread = threading.Thread(target=self.serve_forever, name="mock-cio-server", daemon=True)
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop serving and close the socket (from any thread but the serving one)."""
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout=self.limits.shutdown_timeout + 5)
            self._thread = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def _in_use(host: str, port: int) -> bool:
    """Whether something already listens on (host, port): the usual reason binding fails."""
    if port == 0:
        return False
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def run(
    app: WSGIApp,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    tls: bool = False,
    tls_dir: Path | str | None = None,
    out: IO[str] | None = None,
    on_close: Callable[[], None] | None = None,
    extra: str | Callable[[str], str] = "",
    limits: ServerLimits | None = None,
) -> int:
    """Serve `app` until SIGINT or SIGTERM; print one startup line (URL, CA path) first."""
    out = out if out is not None else sys.stdout
    live = LiveServer(app, host, port, tls=tls, tls_dir=tls_dir, limits=limits)
    stoppers: list[threading.Thread] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        if not stoppers:
            # stop() waits for the requests in progress; serve_forever() runs in this (main) thread.
            stoppers.append(threading.Thread(target=live.stop, daemon=True))
            stoppers[0].start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        tail = extra(live.url) if callable(extra) else extra  # a callable gets the URL (port 0)
        print(live.startup_line() + tail, file=out, flush=True)
        live.serve_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for stopper in stoppers:
            stopper.join()  # the requests in progress are answered before the journal closes
        live.stop()
        if on_close is not None:
            on_close()
    print("mock Customer.io stopped", file=sys.stderr, flush=True)
    return 0


# ---------------------------------------------------------------------- command-line options


DEFAULT_DB = "cio-sandbox.db"
"""The journal file when `--db` is not given (in the current directory); `--db :memory:` keeps none."""


def parse_workspace(text: str) -> tuple[str, dict[str, str]]:
    """`--workspace site:key[:region]` as `(site_id, {"api_key", "region"?})`."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise argparse.ArgumentTypeError(
            f"--workspace {text!r}: expected SITE_ID:API_KEY or SITE_ID:API_KEY:REGION (region us or eu)"
        )
    settings = {"api_key": parts[1]}
    if len(parts) == 3:
        region = parts[2].strip().lower()
        if region not in ("us", "eu"):
            raise argparse.ArgumentTypeError(
                f"--workspace {text!r}: region must be us or eu, got {parts[2]!r}"
            )
        settings["region"] = region
    return parts[0], settings


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--port must be a number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"--port must be between 0 and 65535, got {value}")
    return value


def _source_to(text: str) -> str:
    """--source-to, checked as the mock will read it (so the error names the flag)."""
    from mock_cio.source import parse_target

    try:
        parse_target(text, "--source-to")
    except MockError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--source-to: ")) from None
    return text


def _now(text: str) -> str:
    """--now, checked as the mock will read it (so the error names the flag)."""
    from mock_cio.clock import parse_time

    try:
        parse_time(text, "--now")
    except MockError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options `python -m mock_cio` and `cio-sandbox serve` share."""
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}; 0 picks a free one and prints it)")  # fmt: skip
    parser.add_argument("--db", default=DEFAULT_DB, metavar="FILE",
                        help=f"SQLite file for the journal and state (default ./{DEFAULT_DB}; "
                        "':memory:' keeps nothing); a restart on the same file restores everything")  # fmt: skip
    parser.add_argument("--tls", action="store_true",
                        help="serve https with a certificate from a local CA (prints the CA file to trust)")  # fmt: skip
    parser.add_argument("--tls-dir", metavar="DIR", default=None,
                        help=f"where the local CA is kept and reused (default {default_tls_dir()})")  # fmt: skip
    parser.add_argument("--workspace", action="append", type=parse_workspace, default=[],
                        metavar="SITE_ID:API_KEY[:REGION]",
                        help="declare a workspace's credentials (and region us/eu); repeatable. "
                        "Undeclared site ids are still accepted, each its own workspace")  # fmt: skip
    parser.add_argument("--now", metavar="TIME", default=None, type=_now,
                        help="start the mock clock frozen at TIME (Unix seconds or ISO-8601)")  # fmt: skip
    parser.add_argument("--source-to", metavar="URL", default=None, type=_source_to,
                        help="play Customer.io's Segment source: post an \"Email Sent\" track call for each "
                        "campaign entry to this Segment HTTP API (http(s)://[WRITE_KEY@]host:port; /v1/batch "
                        "when the URL has no path; the sandbox's own serve included)")  # fmt: skip
    control_plane.add_arguments(parser)  # --allow-remote, --allow-host
    defaults = ServerLimits()
    parser.add_argument("--threads", type=_positive_int("--threads"), default=defaults.threads,
                        help=f"worker threads (default {defaults.threads})")  # fmt: skip
    parser.add_argument("--timeout", type=_positive_float("--timeout"), default=defaults.timeout,
                        metavar="SECONDS", help="seconds one read of a request may wait, and an idle "
                        f"keep-alive connection stays open (default {defaults.timeout:g})")  # fmt: skip
    parser.add_argument("--max-connections", type=_positive_int("--max-connections"),
                        default=defaults.max_connections, metavar="N",
                        help=f"keep-alive connections held open at once (default {defaults.max_connections})")  # fmt: skip


def limits_from(args: argparse.Namespace) -> ServerLimits:
    """`ServerLimits` from the shared options."""
    return ServerLimits(threads=args.threads, timeout=args.timeout, max_connections=args.max_connections)


def _positive_int(option: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} must be a whole number, got {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{option} must be at least 1, got {value}")
        return value

    return parse


def _positive_float(option: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} must be a number of seconds, got {text!r}") from None
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"{option} must be more than 0 seconds, got {text}")
        return value

    return parse


def app_config(args: argparse.Namespace) -> dict[str, Any]:
    """`create_app` config from the shared options."""
    config: dict[str, Any] = {"CIO_DB": args.db}
    if args.workspace:
        config["CIO_WORKSPACES"] = dict(args.workspace)
    if args.now is not None:
        config["CIO_NOW"] = args.now
    if getattr(args, "source_to", None):
        config["CIO_SOURCE_TO"] = args.source_to
    config.update(control_plane.config_from(args))  # refuses a non-loopback --host unless allowed
    for key in ("CIO_SEGMENTS", "CIO_CAMPAIGNS"):  # JSON text: segment and campaign definitions
        if os.environ.get(key):
            config[key] = os.environ[key]
    return config
