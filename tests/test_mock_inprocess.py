"""`MockCio.serve` (the in-process entry point) against the Flask view, the journal's `EntryView`,
bodies stored as sent, and scratch journals (`CIO_DB_DURABLE=False`)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mock_cio import create_app
from mock_cio.journal import GROUP_COMMIT, Entry, EntryView, Journal
from mock_cio.mock import MAX_READ, REQUEST_ID_HEADER, MockCio
from tests.mock_support import T0, US, basic

HOST = "track.customer.io"
AUTH = basic("site1", "key1")

# (method, raw path, raw query, headers, body bytes): valid and invalid requests of every kind
# the pipeline tells apart (routes, auth, parsing, limits, v1/v2 flavours, percent-encoding).
_JSON = {"Authorization": AUTH, "Content-Type": "application/json"}
REQUESTS: list[tuple[str, str, str, dict[str, str], bytes]] = [
    ("PUT", "/api/v1/customers/u1", "", _JSON, b'{"email": "u1@example.com", "plan": "pro"}'),
    ("POST", "/api/v1/customers/u1/events", "", _JSON, b'{"name": "viewed", "data": {"n": 1e2}}'),
    ("PUT", "/api/v1/customers/a%2Fb", "", _JSON, b'{"name": "caf\\u00e9"}'),
    ("POST", "/api/v2/entity", "", _JSON,
     b'{"type": "person", "identifiers": {"id": "u2"}, "action": "event", "name": "x"}'),
    ("POST", "/api/v2/entity", "", _JSON, b'{"type": "person", "identifiers": {}, "action": "event"}'),
    ("POST", "/api/v2/batch", "", _JSON, b'{"batch": [{"type": "person", "identifiers": {"id": "u3"}, '
     b'"action": "identify", "attributes": {"a": 1}}, {"type": "nope"}]}'),
    ("PUT", "/api/v1/customers/u1", "", _JSON, b"{not json"),
    ("PUT", "/api/v1/customers/u1", "", _JSON, b"\xff\xfe"),
    ("PUT", "/api/v1/customers/u1", "", {"Authorization": AUTH}, b'{"a": 1}'),
    ("PUT", "/api/v1/customers/u1", "", {"Authorization": AUTH, "Content-Type": "text/plain"}, b"hi"),
    ("PUT", "/api/v1/customers/u1", "", {"Content-Type": "application/json"}, b"{}"),
    ("PUT", "/api/v1/customers/u1", "", {"Authorization": "Basic !!!"}, b"{}"),
    ("GET", "/api/v1/customers/u1", "", _JSON, b""),
    ("POST", "/api/v9/nothing", "x=1&y=", _JSON, b"{}"),
    ("DELETE", "/api/v1/customers/u1", "", {"Authorization": AUTH}, b""),
    ("POST", "/push/events", "", {"Content-Type": "application/json"},
     b'{"delivery_id": "d1", "event": "opened", "timestamp": 1700000000}'),
    ("PUT", "/api/v1/customers/u1", "", _JSON, b"[" * 70 + b"]" * 70),
]  # fmt: skip


def _flask(app: Any, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Any:
    target = path + (f"?{query}" if query else "")
    return app.test_client().open(target, method=method, data=body, headers=headers, base_url=US)


def _comparable(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry without what legitimately differs between two mocks: the id, header spelling, and
    the headers the test client adds by itself (User-Agent; Content-Length also on empty bodies)."""
    out = dict(entry)
    out.pop("id")
    added = ("content-length", "user-agent")
    out["headers"] = {k.lower(): v for k, v in out["headers"].items() if k.lower() not in added}
    return out


def _pair() -> tuple[Any, MockCio]:
    return create_app({"CIO_NOW": T0}), create_app({"CIO_NOW": T0}).extensions["mock_cio"]


def test_serve_answers_and_journals_like_the_flask_view() -> None:
    app, direct = _pair()
    for method, path, query, headers, body in REQUESTS:
        over_http = _flask(app, method, path, query, headers, body)
        answer = direct.serve(method, HOST, path, query, headers, body)
        where = f"{method} {path} {body[:30]!r}"
        assert answer.status == over_http.status_code, where
        assert answer.content == over_http.data, where
        assert answer.headers[REQUEST_ID_HEADER] == str(answer.entry_id), where
        for name, value in answer.headers.items():
            assert over_http.headers[name] == value, where
        http_entry = app.extensions["mock_cio"].request(int(over_http.headers[REQUEST_ID_HEADER]))
        assert _comparable(direct.request(answer.entry_id)) == _comparable(http_entry), where
    assert direct.snapshot() == app.extensions["mock_cio"].snapshot()


def test_serve_adds_host_and_length_as_a_client_does_and_refuses_what_http_would_not_read() -> None:
    mock = create_app({"CIO_NOW": T0}).extensions["mock_cio"]
    answer = mock.serve("PUT", HOST, "/api/v1/customers/u1", "", _JSON, b'{"a": 1}')
    headers = mock.request(answer.entry_id)["headers"]
    assert headers["Host"] == HOST and headers["Content-Length"] == "8"
    assert headers["Authorization"] == "Basic site_id=site1 api_key=[redacted]"
    big = mock.serve("PUT", HOST, "/api/v1/customers/u1", "", _JSON, b" " * (MAX_READ + 1))
    assert big.status == 400
    assert mock.request(big.entry_id)["reasons"] == [
        f"request body cannot be longer than {1024 * 1024} bytes (got {MAX_READ + 1} bytes)"
    ]


def test_answer_entry_is_the_committed_journal_entry() -> None:
    mock = create_app({"CIO_NOW": T0}).extensions["mock_cio"]
    for method, path, query, headers, body in REQUESTS:
        answer = mock.serve(method, HOST, path, query, headers, body)
        assert isinstance(answer.entry, EntryView)
        stored = mock.request(answer.entry_id)
        assert answer.entry == stored and dict(answer.entry) == stored
        assert answer.entry.to_dict() == stored and list(answer.entry) == list(stored)


def test_entry_view_values_never_share_objects_with_the_state() -> None:
    mock = create_app({"CIO_NOW": T0}).extensions["mock_cio"]
    body = b'{"nested": {"x": 1}}'
    answer = mock.serve("PUT", HOST, "/api/v1/customers/u1", "", _JSON, body)
    assert answer.entry is not None
    changes = answer.entry["changes"]
    new = next(c for c in changes if c.get("name") == "nested")["new"]
    new["x"] = 2  # changing what the caller got changes neither the state nor the journal
    assert mock.person("u1")["attributes"]["nested"] == {"x": 1}
    assert answer.entry["body"] == {"nested": {"x": 1}}
    assert answer.entry.get("no such key", "default") == "default" and "outcome" in answer.entry


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=20,
)


@given(
    attributes=st.dictionaries(st.text(min_size=1, max_size=10), JSON_VALUES, max_size=5),
    ascii_only=st.booleans(),
    indent=st.sampled_from([None, 1]),
)
def test_a_body_is_journaled_as_sent_and_reads_back_as_parsed(
    attributes: dict[str, Any], ascii_only: bool, indent: int | None
) -> None:
    """The journal keeps the client's own JSON text; reading it gives the parsed body exactly,
    whatever the spelling (escapes, spaces, exponents)."""
    text = json.dumps(attributes, ensure_ascii=ascii_only, indent=indent).encode("utf-8", "surrogatepass")
    journal = Journal()
    parsed = json.loads(text)
    view = journal.record(
        Entry(
            T0,
            "PUT",
            HOST,
            "/api/v1/customers/u1",
            body=parsed,
            body_json=text.decode("utf-8", "surrogatepass"),
        )
    )
    assert view["body"] == parsed
    assert journal.get(view.id)["body"] == parsed


def test_journal_bodies_keep_number_spelling_out_of_the_value() -> None:
    mock = create_app({"CIO_NOW": T0}).extensions["mock_cio"]
    answer = mock.serve("POST", HOST, "/api/v1/customers/u1/events", "", _JSON,
                        b'{"name": "caf\\u00e9", "data": {"n": 1e2, "big": 12345678901234567890}}')  # fmt: skip
    body = mock.request(answer.entry_id)["body"]
    assert body == {"name": "café", "data": {"n": 100.0, "big": 12345678901234567890}}


# -- scratch journals ------------------------------------------------------------------------------


def _requests(mock: MockCio, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        mock.clock.move(T0 + i)
        body = json.dumps({"name": "viewed", "data": {"i": i}}).encode()
        answer = mock.serve("POST", HOST, f"/api/v1/customers/u{i % 7}/events", "", _JSON, body)
        assert answer.status == 200


def test_scratch_journal_syncs_nothing_and_commits_in_groups(tmp_path: Path) -> None:
    path = str(tmp_path / "scratch.db")
    mock = create_app({"CIO_DB": path, "CIO_DB_DURABLE": False, "CIO_NOW": T0}).extensions["mock_cio"]
    assert mock.journal._db.execute("PRAGMA synchronous").fetchone()[0] == 0  # OFF
    _requests(mock, GROUP_COMMIT + 10)
    # Reads through the mock see every entry, committed or not.
    assert mock.journal_count() == GROUP_COMMIT + 10
    assert mock.requests(limit=1)[0]["body"]["data"] == {"i": GROUP_COMMIT + 9}
    # Another connection sees only what is committed: one whole group of rows (the workspace's
    # control row and requests) and the clock row written with it.
    other = sqlite3.connect(path)
    rows = other.execute(
        "SELECT count(*), count(kind = 'control' AND method = 'clock' OR NULL) FROM entries"
    ).fetchone()
    assert rows == (GROUP_COMMIT + 1, 1)
    mock.close()
    assert (
        other.execute("SELECT count(*) FROM entries WHERE kind = 'request'").fetchone()[0]
        == GROUP_COMMIT + 10
    )
    other.close()


def test_scratch_journal_after_close_restarts_to_the_same_state_and_clock(tmp_path: Path) -> None:
    path = str(tmp_path / "scratch.db")
    mock = create_app({"CIO_DB": path, "CIO_DB_DURABLE": False, "CIO_NOW": T0}).extensions["mock_cio"]
    _requests(mock, 40)
    mock.configure_workspace("site2", region="eu")
    _requests(mock, 5, start=40)
    snapshot, clock = mock.snapshot(), mock.clock.to_dict()
    mock.close()
    rows = (
        sqlite3.connect(path)
        .execute("SELECT count(*) FROM entries WHERE kind = 'control' AND method = 'clock'")
        .fetchone()
    )
    assert rows[0] == 1  # only the latest clock row is written: a restart restores only the last one
    again = create_app({"CIO_DB": path}).extensions["mock_cio"]
    assert again.snapshot() == snapshot
    assert again.clock.to_dict() == clock
    again.close()


def test_durable_journal_commits_each_request_and_each_clock_move(tmp_path: Path) -> None:
    path = str(tmp_path / "durable.db")
    mock = create_app({"CIO_DB": path, "CIO_NOW": T0}).extensions["mock_cio"]
    assert mock.journal._db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL (WAL)
    _requests(mock, 3)
    other = sqlite3.connect(path)  # what a restart after SIGKILL would find
    assert other.execute("SELECT count(*) FROM entries WHERE kind = 'request'").fetchone()[0] == 3
    assert (
        other.execute("SELECT count(*) FROM entries WHERE kind = 'control' AND method = 'clock'").fetchone()[
            0
        ]
        == 3
    )
    other.close()
    mock.close()


def test_reset_forgets_a_held_back_clock_row_and_keeps_the_clock(tmp_path: Path) -> None:
    path = str(tmp_path / "scratch.db")
    mock = create_app({"CIO_DB": path, "CIO_DB_DURABLE": False, "CIO_NOW": T0}).extensions["mock_cio"]
    _requests(mock, 3)
    mock.reset()
    clock = mock.clock.to_dict()
    mock.close()
    again = create_app({"CIO_DB": path}).extensions["mock_cio"]
    assert again.clock.to_dict() == clock and again.journal_count() == 0
    again.close()
