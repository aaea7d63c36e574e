"""The journal: SQLite storage, filters and paging, thread safety, and restart on the same file."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_cio import create_app
from mock_cio.journal import Entry, Journal, Query
from tests.mock_support import T0, Track, basic, make


def entry(i: int, **kw) -> Entry:
    fields = {"workspace": "s1", "status": 200, "body": {"i": i}}
    fields.update(kw)
    return Entry(T0 + i, "POST", "track.customer.io", f"/api/v1/customers/u{i}/events", **fields)


def test_append_returns_increasing_ids_and_round_trips() -> None:
    journal = Journal()
    ids = [journal.append(entry(i, notes=[f"n{i}"], changes=[{"kind": "x"}])) for i in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    newest = journal.requests(Query(limit=1))[0]
    assert newest["id"] == ids[-1] and newest["body"] == {"i": 2} and newest["notes"] == ["n2"]
    assert journal.get(ids[0])["changes"] == [{"kind": "x"}]


@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_bodies_round_trip_exactly(body: object) -> None:
    journal = Journal()
    journal.append(Entry(T0, "PUT", "h", "/p", body=body))
    assert journal.requests()[0]["body"] == body


def test_filters_and_paging() -> None:
    journal = Journal()
    for i in range(30):
        journal.append(entry(i, workspace="a" if i % 2 else "b", status=400 if i % 3 == 0 else 200))
    assert journal.count() == 30
    assert journal.count(Query(workspace="a")) == 15
    assert journal.count(Query(status=400)) == 10
    assert journal.count(Query(status="4xx")) == 10
    assert journal.count(Query(status="2xx")) == 20
    assert journal.count(Query(since=T0 + 25)) == 5
    assert journal.count(Query(path="/api/v1/customers/u1")) == 11  # u1, u10..u19
    page1 = journal.requests(Query(limit=10))
    page2 = journal.requests(Query(limit=10, before_id=page1[-1]["id"]))
    assert [e["body"]["i"] for e in page1 + page2] == list(range(29, 9, -1))
    forward = journal.requests(Query(limit=5, after_id=page1[0]["id"] - 5))
    assert [e["body"]["i"] for e in forward] == [25, 26, 27, 28, 29]


def test_control_rows_are_not_requests() -> None:
    journal = Journal()
    journal.append(entry(0))
    journal.control(T0, "clock", {"frozen": T0, "offset": 0.0})
    assert journal.count() == 1 and len(journal.requests()) == 1
    kinds = [type(item).__name__ for item in journal.history()]
    assert kinds == ["dict", "Control"]


def test_paging_through_100k_entries() -> None:
    """Keyset pages through a large journal (how fast: bench/suite_budgets.py)."""
    journal = Journal()
    for i in range(100_000):
        journal.append(entry(i, workspace="a" if i % 10 else "b"))
    before = None
    seen: list[int] = []
    for _ in range(20):
        page = journal.requests(Query(limit=50, before_id=before, workspace="a"))
        assert len(page) == 50 and all(e["workspace"] == "a" for e in page)
        seen.extend(e["id"] for e in page)
        before = page[-1]["id"]
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 1000
    assert journal.count(Query(workspace="b")) == 10_000


def test_entry_is_committed_before_the_response(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    track = Track(create_app({"CIO_DB": str(db), "CIO_NOW": T0}))
    track.put("/api/v1/customers/u1", {"a": 1})
    # A second connection (another process, after a SIGKILL) sees the committed row at once.
    other = Journal(str(db))
    assert other.count() == 1 and other.requests()[0]["status"] == 200


def _traffic(track: Track) -> None:
    track.put("/api/v1/customers/u1", {"email": "u1@example.com", "plan": "pro"})
    track.post("/api/v1/events", {"name": "Viewed", "anonymous_id": "a1"})
    track.mock.clock.advance(120)
    track.put("/api/v1/customers/u1", {"anonymous_id": "a1"})
    track.post("/api/v1/customers/u1/events", {"name": "Bought", "id": "e1", "timestamp": "bad"})
    track.post("/api/v1/customers/u1/events", {"name": "Bought", "id": "e1"})
    track.put("/api/v1/customers/u1/devices", {"device": {"id": "t1", "platform": "ios"}})
    track.post("/api/v2/batch", {"batch": [
        {"type": "object", "action": "identify", "identifiers": {"object_type_id": "1", "object_id": "acme"},
         "cio_relationships": [{"identifiers": {"id": "u1"}}]},
        {"type": "person", "action": "event", "identifiers": {"id": "u2"}},
        {"type": "person", "action": "identify", "identifiers": {"id": "u2"}, "attributes": {"x": 1}},
    ]})  # fmt: skip
    track.put("/api/v1/customers/u3", {"b": 2}, headers={"Authorization": basic("site2", "k")})
    track.post("/api/v1/customers/u3/suppress", headers={"Authorization": basic("site2", "k")})
    track.put("/api/v1/customers/u1", raw=b"not json", headers={"Content-Type": "application/json"})
    track.post("/api/v1/metrics", {"delivery_id": "d", "metric": "opened"})
    track.mock.clock.advance(31 * 86400)
    track.post("/api/v1/events", {"name": "Late", "anonymous_id": "a2"})
    track.post("/api/v1/merge_customers", {"primary": {"id": "u1"}, "secondary": {"id": "u2"}})


def test_restart_on_the_same_file_restores_journal_state_and_clock(tmp_path: Path) -> None:
    db = str(tmp_path / "mock.db")
    first = Track(create_app({"CIO_DB": db, "CIO_NOW": T0}))
    first.mock.configure_workspace("site3", region="eu", anonymous_merge=False)
    _traffic(first)
    journal, snapshot, clock = first.mock.requests(limit=1000), first.mock.snapshot(), first.mock.clock.now()
    assert snapshot["site1"]["people"] and journal
    first.mock.close()

    second = Track(create_app({"CIO_DB": db, "CIO_NOW": T0}))
    assert second.mock.requests(limit=1000) == journal
    assert json.dumps(second.mock.snapshot(), sort_keys=True) == json.dumps(snapshot, sort_keys=True)
    assert second.mock.clock.now() == clock
    assert second.mock.workspace("site3")["settings"]["anonymous_merge"] is False
    # and it keeps working where it left off
    second.put("/api/v1/customers/u9", {})
    assert second.mock.person("u9") is not None
    assert second.mock.requests(limit=1)[0]["id"] > journal[0]["id"]


def test_restart_after_reset_restores_the_reset_state(tmp_path: Path) -> None:
    db = str(tmp_path / "mock.db")
    first = Track(create_app({"CIO_DB": db, "CIO_NOW": T0}))
    first.put("/api/v1/customers/u1", {})
    first.mock.configure_workspace("site1", api_key="key1", rate_limit=100)
    first.mock.reset()
    first.put("/api/v1/customers/u2", {})
    snapshot = first.mock.snapshot()
    first.mock.close()
    second = Track(create_app({"CIO_DB": db, "CIO_NOW": T0}))
    assert second.mock.snapshot() == snapshot
    assert second.mock.person("u1") is None and second.mock.person("u2") is not None
    assert second.mock.workspace("site1")["settings"]["api_key"] == "<declared>"
    assert len(second.mock.requests()) == 1


def test_restart_restores_a_running_clock_offset(tmp_path: Path) -> None:
    db = str(tmp_path / "mock.db")
    first = create_app({"CIO_DB": db}).extensions["mock_cio"]
    first.clock.set(T0, running=True)
    first.close()
    second = create_app({"CIO_DB": db}).extensions["mock_cio"]
    assert abs(second.clock.now() - T0) < 5


@pytest.mark.parametrize("db", [":memory:", "file"])
def test_eight_threads_journal_every_request(tmp_path: Path, db: str) -> None:
    path = str(tmp_path / "t.db") if db == "file" else ":memory:"
    app = create_app({"CIO_DB": path, "CIO_NOW": T0})
    mock = app.extensions["mock_cio"]
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        client = app.test_client()
        headers = {"Authorization": basic(f"site{n % 2}", "k")}
        try:
            for i in range(100):
                r = client.post(f"/api/v1/customers/u{n}/events", json={"name": f"e{i}", "id": f"{n}-{i}"},
                                headers=headers)  # fmt: skip
                assert r.status_code == 200
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert mock.journal_count() == 800
    assert sum(len(p["events"]) for p in mock.people()) == 800
    ids = [e["id"] for e in mock.requests(limit=1000)]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 800


def test_time_ordering_through_the_admin_clock() -> None:
    track = make()
    track.post("/api/v1/customers/u1/events", {"name": "first"})
    track.mock.clock.advance(10)
    track.post("/api/v1/customers/u1/events", {"name": "second"})
    track.mock.clock.set("2030-01-01T00:00:00Z")
    track.post("/api/v1/customers/u1/events", {"name": "third"})
    times = [e["received_at"] for e in reversed(track.mock.requests())]
    assert times == [T0, T0 + 10, 1893456000.0]
    assert [e["received_at"] for e in track.mock.person("u1")["events"]] == times
    assert [e["id"] for e in track.mock.requests(since=T0 + 5)] == [e["id"] for e in track.mock.requests()][
        :2
    ]


# -- group commit (durable journals) ------------------------------------------------------------


def _committed_ids(path) -> set[int]:
    """What another connection sees: only committed rows."""
    import sqlite3

    other = sqlite3.connect(str(path))
    try:
        return {row[0] for row in other.execute("SELECT id FROM entries WHERE kind = 'request'")}
    finally:
        other.close()


def test_group_commit_one_commit_covers_every_row_written_before_it(tmp_path) -> None:
    from mock_cio.journal import Entry, Journal

    journal = Journal(str(tmp_path / "g.db"))
    first = journal.record(Entry(1.0, "PUT", "h", "/a"), sync=False).id
    second = journal.record(Entry(2.0, "PUT", "h", "/b"), sync=False).id
    assert _committed_ids(tmp_path / "g.db") == set()  # written, not committed: not answered yet
    before = journal.commits
    journal.sync(second)
    assert _committed_ids(tmp_path / "g.db") == {first, second}
    assert journal.commits == before + 1
    journal.sync(first)  # already committed by the other's commit: no second commit
    assert journal.commits == before + 1
    third = journal.append(Entry(3.0, "PUT", "h", "/c"))  # append (and record by default) commit at once
    assert third in _committed_ids(tmp_path / "g.db")
    journal.close()


def test_every_answer_is_committed_before_it_returns_under_concurrency(tmp_path) -> None:
    import threading

    from mock_cio.mock import MockCio

    db = tmp_path / "c.db"
    mock = MockCio({"CIO_DB": str(db)})
    headers = {"Authorization": "Basic czE6azE=", "Content-Type": "application/json"}
    missing: list[int] = []

    def client(n: int) -> None:
        for i in range(25):
            answer = mock.serve("PUT", "track.customer.io", f"/api/v1/customers/c{n}-{i}", "", headers, b"{}")
            assert answer.status == 200
            if answer.entry_id not in _committed_ids(db):
                missing.append(answer.entry_id)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert missing == []
    assert len(_committed_ids(db)) == 200
    assert mock.journal.commits <= 200 + len(mock.workspaces()) + 1  # never more than one per row
    mock.close()


def test_a_durable_journal_is_checkpointed_in_the_background_and_close_stops_it(tmp_path) -> None:
    # Checkpoints run in a thread of their own (mock_cio/journal.py, _Checkpointer), not in a
    # commit: the WAL's commits reach the database file without another write, below SQLite's
    # own 1,000-page auto-checkpoint (which the journal turns off), and close() stops the thread.
    import os
    import threading
    import time

    from mock_cio.journal import Entry, Journal

    path = tmp_path / "w.db"
    journal = Journal(str(path))
    size = os.path.getsize(path)
    for i in range(40):
        journal.append(Entry(float(i), "PUT", "h", f"/api/v1/customers/u{i}", body={"n": "x" * 400}))
    deadline = time.monotonic() + 10
    while os.path.getsize(path) < size + 16384 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.path.getsize(path) >= size + 16384, "the WAL was not checkpointed into the file"
    checkpointer = journal._checkpointer
    assert checkpointer is not None and checkpointer._thread.is_alive()
    journal.close()
    assert not checkpointer._thread.is_alive()
    before = threading.active_count()
    scratch = Journal(str(tmp_path / "s.db"), durable=False)  # a scratch journal starts none
    scratch.append(Entry(1.0, "PUT", "h", "/a"))
    scratch.commit()
    assert scratch._checkpointer is None and threading.active_count() == before
    scratch.close()
