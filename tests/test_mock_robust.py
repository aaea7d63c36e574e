"""Issue 8: nothing applied unjournaled, nothing unbounded, nobody else in.

One test (or more) per defect of the reliability trial, each of which failed before the fix:

1. state ahead of the journal: lone surrogates, failed journal writes (injected, and a real full
   disk on a small tmpfs), SIGKILL; the property that the state always equals a replay of the
   journal, whatever the requests and faults;
2. unbounded memory: bodies read streamed with the route's cap (mock and Tracking API), `@replace`
   with `$` in the replacement, `@liquid` intermediates;
3. 5xx and HTML on bad input: v2 `type` of any JSON type, huge numbers, the Tracking API's deep
   arrays and impossible sentAt, the admin clock and ids, `%0A` in a path;
4. two servers on one `--db`;
5. the control plane: cross-origin writes, foreign Host names, `--host` off loopback;
6. secrets in the snapshot and the inspector.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from live_support import ROOT, launch, start_server
from mock_support import T0, basic, make

from mock_cio import create_app
from mock_cio.mock import MockCio
from mock_cio.remote import RemoteMock

AUTH = {"Authorization": basic()}
JSON_TYPE = {"Content-Type": "application/json"}
SURROGATE = b'{"first_name": "a\\ud800b", "\\udc00key": ["\\udfff"]}'


def _serve(mock: MockCio, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
    return mock.serve(method, "track.customer.io", path, "", {**AUTH, **JSON_TYPE, **(headers or {})}, body)


# ---------------------------------------------------------------------- 1. atomic requests


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/api/v1/customers/u1", SURROGATE),
        ("POST", "/api/v1/customers/u1/events", b'{"name": "n\\ud800", "data": {"x": "\\ud800"}}'),
        ("POST", "/api/v1/events", b'{"name": "n", "anonymous_id": "a\\udbff", "data": {"x": "\\ud800"}}'),
        (
            "POST",
            "/api/v2/entity",
            b'{"type": "person", "action": "identify", "identifiers": {"id": "u1"},'
            b' "attributes": {"x": "\\ud800"}}',
        ),  # fmt: skip
        (
            "POST",
            "/api/v2/batch",
            b'{"batch": [{"type": "person", "action": "event", "name": "e\\udc00",'
            b' "identifiers": {"id": "u\\ud800"}}]}',
        ),  # fmt: skip
    ],
)
def test_lone_surrogates_are_read_as_u_fffd_everywhere_and_survive_a_restart(
    tmp_path: Path, method: str, path: str, body: bytes
) -> None:
    db = str(tmp_path / "m.db")
    app = create_app({"CIO_DB": db, "CIO_NOW": T0})
    client = app.test_client()
    r = client.open(path, method=method, data=body, headers={**AUTH, **JSON_TYPE})
    assert r.status_code == 200, r.get_data(as_text=True)
    entry = client.get("/_mock/requests?limit=1").get_json()[0]
    assert "\ufffd" in json.dumps(entry["body"], ensure_ascii=False)
    assert any("U+FFFD" in note for note in entry["notes"])
    for view in ("/_mock/people", "/_mock/snapshot", "/_mock/anonymous_events", "/_mock/requests"):
        assert client.get(view).status_code == 200, view
    again = client.open(path, method=method, data=body, headers={**AUTH, **JSON_TYPE})
    assert again.status_code == 200  # later updates keep working
    before = app.extensions["mock_cio"].snapshot()
    assert "\ufffd" in json.dumps(before, ensure_ascii=False)
    app.extensions["mock_cio"].close()
    restarted = create_app({"CIO_DB": db, "CIO_NOW": T0}).extensions["mock_cio"]
    assert restarted.snapshot() == before
    restarted.close()


class _FailingDb:
    """A SQLite connection whose INSERT or COMMIT fails as on a full disk while `armed`."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self.armed: str | None = None  # "INSERT" or "COMMIT"

    def execute(self, sql: str, *args: Any) -> Any:
        if self.armed and sql.lstrip().upper().startswith(self.armed):
            raise sqlite3.OperationalError("database or disk is full")
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def _failing(mock: MockCio) -> _FailingDb:
    proxy = _FailingDb(mock.journal._db)
    mock.journal._db = proxy  # type: ignore[assignment]
    return proxy


@pytest.mark.parametrize("where", ["INSERT", "COMMIT"])
def test_a_failed_journal_write_answers_503_and_applies_nothing(tmp_path: Path, where: str) -> None:
    db = str(tmp_path / "m.db")
    mock = create_app({"CIO_DB": db, "CIO_NOW": T0}).extensions["mock_cio"]
    assert _serve(mock, "PUT", "/api/v1/customers/u1", b'{"a": 1}').status == 200
    before = mock.snapshot()
    proxy = _failing(mock)
    proxy.armed = where
    answer = _serve(mock, "PUT", "/api/v1/customers/u2", b'{"a": 2}')
    assert answer.status == 503 and "nothing was applied" in answer.body["meta"]["error"]
    answer = _serve(mock, "PUT", "/api/v1/customers/u1", b'{"a": 3}')
    assert answer.status == 503
    assert mock.snapshot() == before  # neither u2 nor a=3
    proxy.armed = None
    assert _serve(mock, "PUT", "/api/v1/customers/u3", b'{"a": 4}').status == 200
    after = mock.snapshot()
    assert [p["identifiers"]["id"] for p in after["site1"]["people"]] == ["u1", "u3"]
    mock.close()
    restarted = MockCio({"CIO_DB": db, "CIO_NOW": T0})
    assert restarted.snapshot() == after
    restarted.close()


def test_a_failed_write_of_a_new_workspace_creates_none(tmp_path: Path) -> None:
    mock = MockCio({"CIO_DB": str(tmp_path / "m.db"), "CIO_NOW": T0})
    proxy = _failing(mock)
    proxy.armed = "INSERT"
    assert _serve(mock, "PUT", "/api/v1/customers/u1", b"{}").status == 503
    assert mock.workspaces() == []
    proxy.armed = None
    with pytest.raises(Exception, match="journal write failed"):
        proxy.armed = "INSERT"
        mock.clock.advance(60)
    assert mock.clock.now() == T0  # the clock was put back
    mock.close()


# The property: any sequence of requests, good and bad, with faults injected into the journal's
# writes, leaves a state equal to a replay of the journal (a restart on the same file).
_ids = st.sampled_from(["u1", "u2", "a@x.io", "u\ud800"])
_values = st.one_of(
    st.integers(-(10**20), 10**20), st.text(max_size=5), st.just("\ud800"), st.none(), st.booleans()
)
_good = st.one_of(
    st.builds(lambda i, v: ("PUT", f"/api/v1/customers/{i}", {"attr": v}), _ids, _values),
    st.builds(lambda i, v: ("POST", f"/api/v1/customers/{i}/events", {"name": "e", "data": {"v": v}}), _ids, _values),
    st.builds(lambda i: ("DELETE", f"/api/v1/customers/{i}", None), _ids),
    st.builds(
        lambda i, v: ("POST", "/api/v2/entity",
                      {"type": "person", "action": "identify", "identifiers": {"id": i}, "attributes": {"b": v}}),
        _ids, _values,
    ),
    st.builds(lambda a: ("POST", "/api/v1/events", {"name": "anon", "anonymous_id": a}), st.sampled_from(["x", "y"])),
    st.builds(lambda i, a: ("PUT", f"/api/v1/customers/{i}", {"anonymous_id": a}), _ids, st.sampled_from(["x", "y"])),
)  # fmt: skip
_bad = st.sampled_from(
    [
        ("POST", "/api/v2/entity", {"type": {}, "action": "identify"}),
        ("POST", "/api/v2/entity", {"type": [], "action": []}),
        ("PUT", "/api/v1/customers/u1", b'{"a": 1e400}'),
        ("PUT", "/api/v1/customers/u1", b'{"a": ' + b"9" * 5000 + b"}"),
        ("PUT", "/api/v1/customers/u1", b'{"a": '),
        ("POST", "/api/v1/customers/u1/events", {"name": ""}),
        ("POST", "/api/v2/batch", {"batch": [{"type": "person", "action": "identify", "identifiers": {"id": "u9"}},
                                             {"type": "object"}]}),
    ]
)  # fmt: skip
_step = st.tuples(st.one_of(_good, _bad), st.sampled_from([None, None, None, "INSERT", "COMMIT"]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(_step, min_size=1, max_size=12))
def test_the_state_always_equals_a_replay_of_the_journal(
    steps: list[tuple[tuple[str, str, Any], str | None]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = str(Path(folder) / "m.db")
        mock = MockCio({"CIO_DB": db, "CIO_NOW": T0})
        proxy = _failing(mock)
        for n, ((method, path, body), fault) in enumerate(steps):
            raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
            before = mock.snapshot()
            proxy.armed = fault
            answer = _serve(mock, method, path, raw)
            proxy.armed = None
            assert answer.status < 500 or answer.status == 503, answer.body
            if answer.status == 503:
                assert mock.snapshot() == before  # a request that was not journaled changed nothing
            json.dumps(mock.snapshot(), ensure_ascii=False).encode("utf-8")  # always valid UTF-8 JSON
            mock.clock.advance(1 + n)
        expected = mock.snapshot()
        mock.close()
        replayed = MockCio({"CIO_DB": db, "CIO_NOW": T0})
        assert replayed.snapshot() == expected
        replayed.close()


def _acked_people(acked: list[str], snapshot: dict[str, Any]) -> None:
    people = {p["identifiers"].get("id"): p for p in snapshot["robust-site"]["people"]}
    for person in acked:
        assert person in people, f"acknowledged identify of {person} was lost"
        assert people[person]["attributes"]["name"] == "x\ufffd"


def test_sigkill_with_bad_input_mixed_in_keeps_state_equal_to_the_journal(tmp_path: Path) -> None:
    db = tmp_path / "kill.db"
    server = launch(tmp_path, db=db)
    acked: list[str] = []
    stop = threading.Event()
    enough = threading.Event()

    def worker() -> None:
        session = requests.Session()
        session.auth = ("robust-site", "k")
        i = 0
        while not stop.is_set():
            try:
                bad = session.post(server.url + "/api/v2/entity", data=b'{"type": {}, "action": []}',
                                   headers=JSON_TYPE, timeout=10)  # fmt: skip
                assert bad.status_code == 400
                r = session.put(server.url + f"/api/v1/customers/p{i}", data=b'{"name": "x\\ud800"}',
                                headers=JSON_TYPE, timeout=10)  # fmt: skip
            except requests.RequestException:
                return
            if r.status_code == 200:
                acked.append(f"p{i}")
            if len(acked) >= 150:
                enough.set()
            i += 1

    thread = threading.Thread(target=worker)
    try:
        thread.start()
        assert enough.wait(60)
        server.process.send_signal(signal.SIGKILL)
        assert server.process.wait(timeout=10) == -signal.SIGKILL
    finally:
        stop.set()
        thread.join(timeout=15)
        server.process.kill()
        server.process.wait(timeout=10)
        for stream in (server.process.stdout, server.process.stderr):
            if stream is not None:
                stream.close()
    with start_server(tmp_path, db=db) as restarted:
        first = RemoteMock(restarted.url).snapshot()
    _acked_people(acked, first)
    with start_server(tmp_path, db=db) as again:  # a second replay of the same journal: the same state
        assert RemoteMock(again.url).snapshot() == first


@pytest.fixture
def small_disk() -> Any:
    """A 2 MiB tmpfs (root only): where the journal runs out of room."""
    folder = tempfile.mkdtemp(prefix="cio-full-")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", folder],
                             capture_output=True, text=True, check=False)  # fmt: skip
    if mounted.returncode != 0:
        os.rmdir(folder)
        pytest.skip(
            f"cannot mount a small tmpfs for the disk-full test: {mounted.stderr.strip() or mounted.returncode}"
        )
    try:
        yield Path(folder)
    finally:
        subprocess.run(["umount", folder], check=False)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_full_disk_answers_503_and_every_acknowledged_request_survives(small_disk: Path) -> None:
    db = str(small_disk / "full.db")
    mock = MockCio({"CIO_DB": db, "CIO_NOW": T0})
    acked: list[str] = []
    refused = 0
    for i in range(4000):
        answer = _serve(
            mock, "PUT", f"/api/v1/customers/p{i}", b'{"name": "x\\ud800", "pad": "' + b"z" * 900 + b'"}'
        )
        if answer.status == 200:
            acked.append(f"p{i}")
        else:
            assert answer.status == 503, answer.body
            assert "nothing was applied" in answer.body["meta"]["error"]
            refused += 1
            if refused >= 20:
                break
    assert refused >= 20, "the disk never filled up"
    in_memory = mock.snapshot()
    assert len(in_memory["site1"]["people"]) == len(acked)  # nothing applied that was not journaled
    _acked_people_site1(acked, in_memory)
    with contextlib.suppress(sqlite3.Error):
        mock.close()
    restarted = MockCio({"CIO_DB": db, "CIO_NOW": T0})
    assert restarted.snapshot() == in_memory
    restarted.close()


def _acked_people_site1(acked: list[str], snapshot: dict[str, Any]) -> None:
    ids = [p["identifiers"]["id"] for p in snapshot["site1"]["people"]]
    assert ids == acked


# ---------------------------------------------------------------------- 2. bounds


class _Endless(io.RawIOBase):
    """A request body that never ends (a chunked upload that keeps going); counts what was read."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        size = 65536 if size is None or size < 0 else size
        self.read_bytes += size
        return b" " * size


def _environ(path: str, stream: Any, **extra: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.input": stream, "wsgi.url_scheme": "http",
        "HTTP_AUTHORIZATION": basic(), "CONTENT_TYPE": "application/json", **extra,
    }  # fmt: skip


def _call(app: Any, environ: dict[str, Any]) -> tuple[str, bytes]:
    status: list[str] = []
    body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    return status[0], body


@pytest.mark.parametrize(
    ("path", "limit"), [("/api/v1/customers/u1/events", 1024 * 1024), ("/api/v2/batch", 500 * 1024)]
)
def test_a_chunked_body_is_never_read_past_the_routes_limit(path: str, limit: int) -> None:
    app = create_app()
    stream = _Endless()
    status, body = _call(app.wsgi_app, _environ(path, stream, HTTP_TRANSFER_ENCODING="chunked"))
    assert status.startswith("400") and b"no Content-Length" in body
    assert stream.read_bytes <= limit + 64 * 1024
    assert app.extensions["mock_cio"].requests(limit=1)[0]["body_text"] is None


def test_a_declared_huge_body_is_not_read_at_all() -> None:
    app = create_app()
    stream = _Endless()
    status, body = _call(
        app.wsgi_app, _environ("/api/v1/customers/u1/events", stream, CONTENT_LENGTH=str(200 * 2**20))
    )
    assert status.startswith("400") and b"209715200 bytes" in body
    assert stream.read_bytes == 0


def test_the_tracking_api_reads_bodies_streamed_with_its_cap() -> None:
    from sandbox.live import create_live_app

    app = create_live_app({"TESTING": True})
    for extra in ({"HTTP_TRANSFER_ENCODING": "chunked"}, {"CONTENT_LENGTH": str(200 * 2**20)}):
        stream = _Endless()
        status, body = _call(app.wsgi_app, _environ("/v1/batch", stream, **extra))
        assert status.startswith("400"), status
        assert json.loads(body)["code"] == "payload_too_large"
        assert stream.read_bytes <= 500 * 1024 + 64 * 1024


def test_replace_with_dollar_patterns_is_linear_and_refuses_a_result_javascript_cannot_hold() -> None:
    from sandbox.errors import MappingError
    from sandbox.mapping.compile import _replace_literal

    text = "ab" * 500_000  # 1 MB: quadratic before (each `$&` copied the text before and after it)
    assert _replace_literal(text, "a", "[$&$$]", False, True, ()) == text.replace("a", "[a$]")
    assert _replace_literal("xay", "a", "$`|$'", False, True, ()) == "xx|yy"
    with pytest.raises(MappingError, match="Invalid string length"):
        _replace_literal(text, "a", "$`", False, True, ())  # 2.5e11 characters: never built


@given(
    text=st.text(alphabet="ab$&`'", max_size=30),
    pattern=st.text(alphabet="ab", min_size=1, max_size=2),
    replacement=st.text(alphabet="ab$&`'", max_size=6),
)
def test_replace_equals_javascripts_getsubstitution(text: str, pattern: str, replacement: str) -> None:
    """The fast path against a direct reading of GetSubstitution (one match at a time)."""
    from sandbox.mapping.compile import _replace_literal

    out, position = [], 0
    while (found := text.find(pattern, position)) >= 0:
        end = found + len(pattern)
        out.append(text[position:found])
        i = 0
        while i < len(replacement):
            two = replacement[i : i + 2]
            special = {"$$": "$", "$&": text[found:end], "$`": text[:found], "$'": text[end:]}
            if two in special:
                out.append(special[two])
                i += 2
            else:
                out.append(replacement[i])
                i += 1
        position = end
    out.append(text[position:])
    assert _replace_literal(text, pattern, replacement, False, True, ()) == "".join(out)


def test_liquid_intermediates_are_bounded_by_mapping_kits_memory_limit() -> None:
    from sandbox.mapping import liquid

    chain = " | ".join(['replace: "x", "xxxxxxxxxx"'] * 9)  # 10^9 characters before
    template = liquid.parse("{{ a | " + chain + " }}")
    with pytest.raises(liquid.LiquidTemplateError, match="memory alloc limit exceeded"):
        liquid.render(template, {"a": "x"})
    small = liquid.parse('{{ a | replace: "x", "yy" | append: "!" }}')
    assert liquid.render(small, {"a": "xx"}) == "yyyy!"


# ---------------------------------------------------------------------- 3. no 5xx on bad input


@pytest.mark.parametrize("kind", [{}, [], 1, None, True])
def test_v2_type_and_action_of_any_json_type_are_a_400(kind: Any) -> None:
    track = make()
    for body in (
        {"type": kind, "action": "identify"},
        {"type": "person", "action": kind, "identifiers": {"id": "u"}},
    ):
        r = track.post("/api/v2/entity", body)
        assert r.status_code == 400, r.get_data(as_text=True)
        r = track.post("/api/v2/batch", {"batch": [body]})
        assert r.status_code == 207 and r.json["errors"][0]["field"] in ("type", "action")
    assert track.mock.people() == []


@pytest.mark.parametrize("number", [b"9" * 5000, b"-" + b"9" * 400, b"1e400", b"-1e309"])
def test_numbers_that_do_not_fit_a_double_are_a_400_and_never_stored(number: bytes) -> None:
    track = make()
    for path, method in (("/api/v1/customers/u1", "PUT"), ("/api/v2/entity", "POST")):
        body = (
            b'{"type": "person", "action": "identify", "identifiers": {"id": "u1"}, "attributes": {"a": '
            + number
            + b"}}"
        )
        r = track.open(
            method, path, raw=body if "v2" in path else b'{"a": ' + number + b"}", headers=JSON_TYPE
        )
        assert r.status_code == 400 and "out of range" in r.get_data(as_text=True)
    assert track.mock.people() == []
    assert b"Infinity" not in track.client.get("/_mock/requests").get_data()


def test_the_tracking_api_answers_json_400_or_accepts_what_segment_accepts() -> None:
    from sandbox.live import create_live_app

    client = create_live_app({"TESTING": True}).test_client()
    key = {"Authorization": "Basic " + base64.b64encode(b"wk-secret-123:").decode(), **JSON_TYPE}
    surrogate = b'{"userId": "u\\ud800", "traits": {"name": "\\udc00"}}'
    r = client.post("/v1/identify", data=surrogate, headers=key)
    assert r.status_code == 200, r.get_data(as_text=True)
    deep = b'{"userId": "u", "event": "E", "properties": {"a": ' + b"[" * 600 + b"]" * 600 + b"}}"
    r = client.post("/v1/track", data=deep, headers=key)
    assert r.status_code == 400 and r.is_json and "nests deeper" in r.json["message"]
    skew = {"userId": "u", "sentAt": "9999-12-31T00:00:00Z", "originalTimestamp": "0001-01-01T00:00:00Z"}
    r = client.post("/v1/identify", json=skew, headers=key)
    assert r.status_code == 400 and r.is_json and "outside years 1-9999" in r.json["message"]
    page = client.get("/")
    assert page.status_code == 200
    assert b"wk-secret-123" not in page.get_data()
    events = client.get("/_mock/requests").get_json()
    assert events and all(e["status"] < 500 for e in events)


def test_the_admin_clock_and_ids_never_break_a_view(tmp_path: Path) -> None:
    db = str(tmp_path / "m.db")
    app = create_app({"CIO_DB": db})
    client = app.test_client()
    r = client.post("/_mock/clock", json={"advance": 1.2e42})
    assert r.status_code == 200 and r.get_json()["iso"] == "1.2e+42"
    assert client.post("/_mock/clock", json={"advance": 1e308}).status_code in (200, 400)
    assert client.post("/_mock/clock", json={"advance": 1e308}).status_code == 400  # inf: refused
    for view in ("/_mock/clock", "/_mock/snapshot", "/_mock/people"):
        assert client.get(view).status_code == 200
    app.extensions["mock_cio"].close()
    client = create_app({"CIO_DB": db}).test_client()
    assert client.get("/_mock/clock").status_code == 200  # and across a restart
    assert client.get("/_mock/requests/" + "9" * 40).status_code == 404
    r = client.get("/_mock/requests?before_id=" + "9" * 40)
    assert r.status_code == 400 and "at most" in r.get_json()["error"]
    assert client.get(f"/_mock/requests?after_id={2**63}").status_code == 400


def test_a_newline_in_a_path_gets_the_mocks_own_json_404() -> None:
    track = make()
    r = track.get("/api/v1/customers/a%0Ab/x")
    assert r.status_code == 404 and r.is_json and "no Track API route" in r.json["meta"]["error"]
    r = track.client.get("/_mock/people%0A/x")
    assert r.status_code in (200, 404) and r.is_json


# ---------------------------------------------------------------------- 4. one server per --db


def test_a_second_server_on_the_same_db_exits_2_naming_the_file_and_the_process(tmp_path: Path) -> None:
    db = tmp_path / "one.db"
    with start_server(tmp_path, db=db) as first:
        second = subprocess.run(
            [sys.executable, "-m", "mock_cio", "--port", "0", "--db", str(db)],
            cwd=ROOT, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert second.returncode == 2
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert str(db) in lines[0] and f"process {first.process.pid}" in lines[0]
        assert requests.get(first.url + "/_mock/clock", timeout=5).status_code == 200  # the first goes on


# ---------------------------------------------------------------------- 5. the control plane


@pytest.mark.parametrize(
    ("headers", "data", "status"),
    [
        ({"Content-Type": "text/plain"}, b'{"advance": 1}', 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"advance=1", 415),
        ({}, b"", 415),
        ({"Content-Type": "application/json", "Origin": "https://evil.example"}, b'{"advance": 1}', 403),
        ({"Content-Type": "application/json", "Origin": "null"}, b'{"advance": 1}', 403),
        ({"Content-Type": "application/json", "Origin": "http://localhost:3000"}, b'{"advance": 1}', 200),
        ({"Content-Type": "application/json"}, b'{"advance": 1}', 200),
        ({"X-Mock-Admin": "1"}, b"", 400),  # passes the check; an empty clock change is a 400
    ],
)
def test_cross_site_writes_are_refused(headers: dict[str, str], data: bytes, status: int) -> None:
    app = create_app({"CIO_NOW": T0})
    client = app.test_client()
    r = client.post("/_mock/clock", data=data, headers=headers)
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.is_json
    moved = app.extensions["mock_cio"].clock.now() != T0
    assert moved == (status == 200)
    for path in ("/_mock/reset", "/_mock/faults"):
        if status in (403, 415):
            assert client.post(path, data=data, headers=headers).status_code == status


def test_foreign_host_names_are_refused_on_the_control_plane_only() -> None:
    from sandbox.live import create_live_app

    live = create_live_app({"TESTING": True, "CIO_ALLOWED_HOSTS": ["sandbox.test"]})
    client = live.test_client()
    for path in ("/_mock/snapshot", "/", "/journal"):
        assert client.get(path, headers={"Host": "attacker.example:8787"}).status_code == 403, path
        for host in (
            "127.0.0.1:8787",
            "localhost",
            "[::1]:8787",
            "app.localhost",
            "10.1.2.3",
            "sandbox.test",
        ):
            assert client.get(path, headers={"Host": host}).status_code == 200, (path, host)
    track = client.put("/api/v1/customers/u1", json={}, headers={"Host": "anything.example", **AUTH})
    assert track.status_code == 200  # the Track API answers any host name, as clients are configured


def test_a_non_loopback_host_needs_allow_remote_and_warns(tmp_path: Path) -> None:
    refused = subprocess.run([sys.executable, "-m", "mock_cio", "--host", "0.0.0.0", "--port", "0", "--db", ":memory:"],
                             cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1 and "--allow-remote" in refused.stderr
    from mock_cio.control_plane import check_listen

    err = io.StringIO()
    check_listen("0.0.0.0", True, err)
    assert "warning" in err.getvalue()
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        check_listen(host, False)


# ---------------------------------------------------------------------- 6. secrets


def test_api_keys_are_redacted_in_the_snapshot_and_every_export(tmp_path: Path) -> None:
    app = create_app({"CIO_WORKSPACES": {"site1": {"api_key": "s3cret-key"}}, "CIO_NOW": T0})
    client = app.test_client()
    client.put("/api/v1/customers/u1", json={"a": 1}, headers={"Authorization": basic("site1", "s3cret-key")})
    for path in ("/_mock/snapshot", "/_mock/workspaces", "/_mock/requests", "/_mock/workspaces/site1"):
        text = client.get(path).get_data(as_text=True)
        assert "s3cret-key" not in text and base64.b64encode(b"site1:s3cret-key").decode() not in text, path
    assert app.extensions["mock_cio"].snapshot()["site1"]["settings"]["api_key"] == "<declared>"


def test_one_huge_chunk_is_refused_before_the_server_buffers_it() -> None:
    """A chunked body announcing a 4 GiB chunk: answered at once (the bytes are never sent)."""
    import socket

    from mock_cio.server import LiveServer

    with LiveServer(create_app(), port=0) as live:
        with socket.create_connection(("127.0.0.1", live.port), timeout=10) as conn:
            head = (
                "POST /api/v1/customers/u1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: {basic()}\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n\r\nFFFFFFFF\r\n"
            )
            conn.sendall(head.encode() + b"x" * 1000)
            received = b""
            while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
                chunk = conn.recv(65536)
                if not chunk:
                    break
                received += chunk
    assert received.startswith(b"HTTP/1.1 400"), received[:200]
    assert b"application/json" in received and b"cannot be longer than" in received
