"""The live server: `python -m mock_cio` and `cio-sandbox serve` as processes, and LiveServer in-thread."""

from __future__ import annotations

import signal
import socket
import ssl
import subprocess
import sys
import time

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from live_support import ROOT, STARTUP, launch, start_server

import mock_cio
from mock_cio.remote import RemoteMock, RemoteMockError
from mock_cio.server import LiveServer, ServerError, parse_workspace, tls_files

T0 = 1_700_000_000
AUTH = ("s1", "k1")


def test_http_startup_line_and_free_port(tmp_path):
    with start_server(tmp_path) as server:
        assert server.line == f"mock Customer.io listening on {server.url}, journal {tmp_path / 'mock.db'}"
        assert server.url.startswith("http://127.0.0.1:") and server.port > 0
        r = requests.put(f"{server.url}/api/v1/customers/u1", json={"a": 1}, auth=AUTH)
        assert (r.status_code, r.text) == (200, "{}\n")
        assert RemoteMock(server.url).person("u1")["attributes"] == {"a": 1}


def test_tls_certificate_is_valid_for_every_name_and_the_ca_is_reused(tmp_path):
    with start_server(tmp_path, "--tls") as server:
        assert server.url.startswith("https://127.0.0.1:")
        assert server.ca == tmp_path / "tls" / "ca.pem"
        first_ca = server.ca.read_bytes()
        context = ssl.create_default_context(cafile=str(server.ca))
        for name in ("localhost", "127.0.0.1", "track.customer.io", "track-eu.customer.io"):
            with socket.create_connection(("127.0.0.1", server.port)) as raw:
                with context.wrap_socket(raw, server_hostname=name) as tls:
                    assert tls.version() in ("TLSv1.2", "TLSv1.3")
        with pytest.raises(ssl.SSLCertVerificationError):
            with socket.create_connection(("127.0.0.1", server.port)) as raw:
                context.wrap_socket(raw, server_hostname="example.com")
        r = requests.get(f"{server.url}/api/v1/accounts/region", auth=AUTH, verify=str(server.ca))
        assert r.status_code == 200
    with start_server(tmp_path, "--tls") as again:
        assert again.ca.read_bytes() == first_ca  # trust it once


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_graceful_stop_and_restart_restores_everything(tmp_path, sig):
    with start_server(tmp_path, "--now", str(T0)) as server:
        requests.put(f"{server.url}/api/v1/customers/u1", json={"plan": "pro"}, auth=AUTH)
        requests.post(f"{server.url}/api/v1/customers/u1/events", json={"name": "e"}, auth=AUTH)
        remote = RemoteMock(server.url)
        remote.clock.advance(3600)
        before = remote.snapshot()
        journal = remote.requests()
        assert server.stop(sig) == 0
        assert "mock Customer.io stopped" in server.process.stderr.read()
    with start_server(tmp_path) as restarted:
        remote = RemoteMock(restarted.url)
        assert remote.snapshot() == before
        assert remote.requests() == journal
        assert remote.clock.now() == T0 + 3600


def test_declared_workspaces_and_now(tmp_path):
    with start_server(
        tmp_path, "--workspace", "s1:k1", "--workspace", "s2:k2:EU", "--now", "2024-01-01T00:00:00Z"
    ) as server:
        assert (
            requests.put(f"{server.url}/api/v1/customers/u1", json={}, auth=("s1", "bad")).status_code == 401
        )
        assert requests.put(f"{server.url}/api/v1/customers/u1", json={}, auth=AUTH).status_code == 200
        remote = RemoteMock(server.url)
        regions = {w["site_id"]: w["settings"]["region"] for w in remote.workspaces()}
        assert regions == {"s1": "us", "s2": "eu"}
        assert remote.requests()[0]["received_at"] == 1_704_067_200


def test_memory_db(tmp_path):
    with start_server(tmp_path, db=":memory:") as server:  # type: ignore[arg-type]
        assert server.line.endswith(", journal :memory:")
        assert requests.put(f"{server.url}/api/v1/customers/u1", json={}, auth=AUTH).status_code == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "x"], "--port must be a number"),
        (["--port", "70000"], "--port must be between 0 and 65535"),
        (["--workspace", "s1"], "expected SITE_ID:API_KEY"),
        (["--workspace", "s1:k:mars"], "region must be us or eu"),
        (["--now", "yesterday"], "neither Unix seconds nor an ISO-8601 time"),
    ],
)
def test_bad_options_exit_2_with_a_message(args, message):
    result = subprocess.run([sys.executable, "-m", "mock_cio", "--db", ":memory:", *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=30)  # fmt: skip
    assert result.returncode == 2
    assert message in result.stderr


def test_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "mock_cio", "--db", ":memory:", "--port", str(port)],
                                cwd=ROOT, capture_output=True, text=True, timeout=30)  # fmt: skip
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_cio_sandbox_serve_runs_the_same_server(tmp_path):
    command = [sys.executable, "-m", "sandbox", "serve", "--port", "0", "--db", str(tmp_path / "s.db"),
               "--tls", "--tls-dir", str(tmp_path / "tls")]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline().strip()  # type: ignore[union-attr]
        match = STARTUP.match(line)
        assert match is not None, line
        url, ca = match.group("url"), match.group("ca")
        r = requests.put(f"{url}/api/v1/customers/u1", json={"a": 1}, auth=AUTH, verify=ca)
        assert r.status_code == 200
        assert RemoteMock(url, verify=ca).person("u1")["attributes"] == {"a": 1}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.communicate(timeout=10)


def test_in_thread_live_server(tmp_path):
    app = mock_cio.create_app({"CIO_NOW": T0})
    with LiveServer(app, port=0, tls=True, tls_dir=tmp_path) as live:
        assert (
            live.startup_line()
            == f"mock Customer.io listening on {live.url} (TLS; trust the CA file {live.ca_path})"
        )
        session = requests.Session()
        ca = str(live.ca_path)
        for i in range(20):  # keep-alive: one connection, many requests
            assert (
                session.put(f"{live.url}/api/v1/customers/u{i}", json={}, auth=AUTH, verify=ca).status_code
                == 200
            )
        assert len(app.extensions["mock_cio"].people()) == 20
        with pytest.raises(ServerError, match="cannot listen"):
            LiveServer(app, port=live.port)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{live.url}/_mock/clock", verify=str(live.ca_path), timeout=2)


def test_remote_mock_errors_carry_the_server_message(tmp_path):
    with start_server(tmp_path) as server:
        remote = RemoteMock(server.url)
        assert remote.person("nobody") is None
        assert remote.request(999_999) is None
        with pytest.raises(RemoteMockError, match="advance must be a finite number"):
            remote._call("POST", "/clock", {"advance": "soon"})
        remote.configure_workspace("s9", api_key="k9")
        remote.inject_fault(status=503)
        assert requests.put(f"{server.url}/api/v1/customers/u1", json={}, auth=AUTH).status_code == 503
    with pytest.raises(RemoteMockError, match="GET"):
        RemoteMock(server.url, timeout=1).people()


def test_parse_workspace():
    assert parse_workspace("s:k") == ("s", {"api_key": "k"})
    assert parse_workspace("s:k:EU") == ("s", {"api_key": "k", "region": "eu"})


def test_tls_files_reuse_the_ca_and_refuse_an_unusable_directory(tmp_path):
    first = tls_files(tmp_path)
    ca, leaf = first.ca.read_bytes(), first.cert.read_bytes()
    second = tls_files(tmp_path)
    assert second.ca.read_bytes() == ca
    assert second.cert.read_bytes() != leaf  # a fresh leaf each start
    assert (tmp_path / "ca-key.pem").stat().st_mode & 0o777 == 0o600
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ServerError, match="cannot prepare TLS files"):
        tls_files(blocker / "tls")


def test_killed_server_releases_nothing_it_acknowledged(tmp_path):
    # The short version of test_mock_load's SIGKILL test: one acknowledged request survives.
    server = launch(tmp_path)
    try:
        r = requests.put(f"{server.url}/api/v1/customers/u1", json={"a": 1}, auth=AUTH)
        entry_id = int(r.headers["X-Mock-Request-Id"])
        server.process.kill()
        server.process.wait(timeout=10)
    finally:
        server.process.kill()
        server.process.communicate(timeout=10)
    with start_server(tmp_path) as again:
        assert RemoteMock(again.url).request(entry_id)["body"] == {"a": 1}


def _keep_alive_round(url: str, context: ssl.SSLContext | None, count: int = 100) -> None:
    """`count` requests over ONE connection: each answer keeps it open (no `Connection: close`)."""
    import http.client

    port = int(url.rsplit(":", 1)[1])
    if context is None:
        conn: http.client.HTTPConnection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    conn.connect()
    first = conn.sock
    auth = "Basic " + __import__("base64").b64encode(b"s1:k1").decode()
    try:
        for i in range(count):
            conn.request("PUT", f"/api/v1/customers/k{i}", body=b'{"n":1}',
                         headers={"Authorization": auth, "Content-Type": "application/json"})  # fmt: skip
            response = conn.getresponse()
            assert response.status == 200, response.read()
            assert response.read() == b"{}\n"
            assert (response.getheader("Connection") or "").lower() != "close", f"request {i}"
            assert response.version == 11
            assert conn.sock is first, f"request {i} needed a new connection"
    finally:
        conn.close()


@pytest.mark.parametrize("tls", [False, True], ids=["plain", "tls"])
def test_keep_alive_100_requests_on_one_connection(tmp_path, tls):
    with start_server(tmp_path, *(["--tls"] if tls else [])) as server:
        context = ssl.create_default_context(cafile=str(server.ca)) if tls else None
        _keep_alive_round(server.url, context)
        assert len(RemoteMock(server.url, verify=str(server.ca) if tls else True).people()) == 100


def test_server_limits_idle_timeout_and_header_cap(tmp_path):
    from mock_cio.server import ServerLimits

    app = mock_cio.create_app({"CIO_NOW": T0})
    limits = ServerLimits(timeout=0.5, max_header_bytes=4096)
    with LiveServer(app, port=0, limits=limits) as live:
        for sent in (
            b"GET /_mock/clock HTTP/1.1\r\nHost: localhost\r\n\r\n",
            b"GET /_mock/clock HTTP/1.1\r\n",
        ):
            # An idle keep-alive connection is closed after `timeout`; so is a request left unfinished.
            with socket.create_connection(("127.0.0.1", live.port), timeout=5) as conn:
                conn.sendall(sent)
                began, received = time.monotonic(), b""
                while chunk := conn.recv(65536):
                    received += chunk
                assert 0.3 < time.monotonic() - began < 4.5
                assert received.startswith(b"HTTP/1.1 200") == sent.endswith(b"\r\n\r\n")
        r = requests.get(f"{live.url}/_mock/clock", headers={"X-Big": "x" * 8000}, timeout=5)
        assert r.status_code in (413, 431)
        assert requests.get(f"{live.url}/_mock/clock", timeout=5).status_code == 200


def _read_answer(conn: socket.socket, buffer: bytearray) -> bytes:
    """One HTTP answer (head and Content-Length body) from `conn`; `buffer` keeps what follows."""
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        assert chunk, "the server closed the connection"
        buffer += chunk
    end = buffer.index(b"\r\n\r\n") + 4
    head = bytes(buffer[:end])
    length = int(
        next(
            line.split(b":")[1] for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")
        )
    )
    while len(buffer) < end + length:
        chunk = conn.recv(65536)
        assert chunk, "the server closed the connection inside an answer"
        buffer += chunk
    answer = bytes(buffer[: end + length])
    del buffer[: end + length]
    return answer


def test_an_idle_keep_alive_connection_does_not_hold_the_only_worker(tmp_path):
    # A worker waits a moment on the connection it answered (mock_cio/server.py, put_conn) and
    # then hands it back: with ONE worker thread, a second connection is still served at once,
    # pipelined requests are all answered, and the first connection still works afterwards.
    from mock_cio.server import ServerLimits

    app = mock_cio.create_app({"CIO_NOW": T0})
    request = b"GET /_mock/clock HTTP/1.1\r\nHost: localhost\r\n\r\n"
    with LiveServer(app, port=0, limits=ServerLimits(threads=1, timeout=30)) as live:
        with (
            socket.create_connection(("127.0.0.1", live.port), timeout=5) as idle,
            socket.create_connection(("127.0.0.1", live.port), timeout=5) as busy,
        ):
            idle_buffer, busy_buffer = bytearray(), bytearray()
            idle.sendall(request)
            assert _read_answer(idle, idle_buffer).startswith(b"HTTP/1.1 200")
            for _ in range(20):  # each within the 5 s socket timeout, not after idle's 30 s
                busy.sendall(request * 3)
                for _ in range(3):
                    assert _read_answer(busy, busy_buffer).startswith(b"HTTP/1.1 200")
            idle.sendall(request)
            assert _read_answer(idle, idle_buffer).startswith(b"HTTP/1.1 200")


@given(
    data=st.lists(st.binary(max_size=40), max_size=12).map(b"\n".join),
    sizes=st.lists(st.one_of(st.none(), st.integers(-1, 45)), min_size=1, max_size=12),
    bufsize=st.sampled_from([1, 7, 64, 8192]),
)
def test_the_fast_readline_equals_cheroots(data, sizes, bufsize):
    # mock_cio/server.py's _LineReader: the same lines, then the same bytes left, as cheroot's
    # StreamReader (the reference), for any bytes, readline sizes and buffer sizes.
    from cheroot.makefile import StreamReader

    from mock_cio.server import _LineReader

    def run(reader_class: type) -> tuple[list[bytes], bytes, int]:
        a, b = socket.socketpair()
        try:
            a.sendall(data)
            a.shutdown(socket.SHUT_WR)
            reader = reader_class(b, "rb", bufsize)
            lines = [reader.readline() if size is None else reader.readline(size) for size in sizes]
            rest = reader.read()
            return lines, rest, reader.bytes_read
        finally:
            a.close()
            b.close()

    assert run(_LineReader) == run(StreamReader)


def test_a_response_head_and_its_body_leave_in_one_send(tmp_path):
    # mock_cio/server.py's _HeadWriter: the head cheroot writes is held for the body chunk that
    # follows (one send, one TLS record); a response without a body (HEAD) still gets its head.
    from mock_cio.server import _HeadWriter

    sends: list[bytes] = []
    a, b = socket.socketpair()
    try:
        writer = _HeadWriter(a, "wb")
        writer.raw.write = lambda data: sends.append(bytes(data)) or len(data)  # type: ignore[method-assign]
        writer.holding = True
        assert writer.write(b"HTTP/1.1 200 OK\r\n\r\n") == 19
        assert sends == []
        assert writer.write(b"{}\n") == 3
        assert sends == [b"HTTP/1.1 200 OK\r\n\r\n{}\n"]
        assert writer.write(b"more") == 4 and sends[-1] == b"more"
        writer.holding = True
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        writer.release()
        assert sends[-1] == b"HTTP/1.1 204 No Content\r\n\r\n"
        assert writer.bytes_written == sum(map(len, sends))
    finally:
        a.close()
        b.close()
    app = mock_cio.create_app({"CIO_NOW": T0})
    with (
        LiveServer(app, port=0) as live,
        socket.create_connection(("127.0.0.1", live.port), timeout=5) as conn,
    ):
        buffer = bytearray()
        conn.sendall(b"HEAD /_mock/clock HTTP/1.1\r\nHost: localhost\r\n\r\n")
        while b"\r\n\r\n" not in buffer:
            chunk = conn.recv(65536)
            assert chunk, "no head for HEAD"
            buffer += chunk
        assert buffer.startswith(b"HTTP/1.1 200")
        del buffer[:]
        conn.sendall(b"GET /_mock/clock HTTP/1.1\r\nHost: localhost\r\n\r\n")  # the connection still works
        assert _read_answer(conn, buffer).startswith(b"HTTP/1.1 200")
