"""The live server's trace store: keyset pages, filters, the dedup lookup, and a file shared with
another connection (the mock's journal lives in the same SQLite file)."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.errors import InputError
from sandbox.live.traces import STATUSES, TraceStore


def record(i: int, *, status: str = "delivered", kind: str = "track", user: str | None = "u1", anon=None):
    event = {"type": kind, "messageId": f"m{i}", "event": f"E{i}", "properties": {"i": i}}
    if user:
        event["userId"] = user
    if anon:
        event["anonymousId"] = anon
    return {"received_at": 1700000000.0 + i, "event": event, "status": status, "subscriptions": []}


def test_add_and_get_round_trip():
    store = TraceStore()
    rec = record(1)
    trace_id = store.add(rec)
    assert store.get(trace_id) == {**rec, "id": trace_id}
    assert store.get(trace_id + 1) is None


@given(st.lists(st.sampled_from(STATUSES), min_size=0, max_size=40), st.integers(1, 7))
def test_pages_cover_every_row_once_newest_first(statuses, size):
    """Walking the cursor visits every stored row exactly once, in descending id order."""
    store = TraceStore()
    ids = store.add_many([record(i, status=s) for i, s in enumerate(statuses)])
    seen: list[int] = []
    before = None
    while True:
        page = store.page(before=before, limit=size)
        seen.extend(int(r["id"]) for r in page.items)
        assert len(page.items) <= size
        if page.next_before is None:
            break
        before = page.next_before
    assert seen == sorted(ids, reverse=True)


@given(st.lists(st.tuples(st.sampled_from(STATUSES), st.sampled_from(["track", "page"])), max_size=30))
def test_filters_agree_with_a_plain_scan(rows):
    store = TraceStore()
    ids = store.add_many([record(i, status=s, kind=k) for i, (s, k) in enumerate(rows)])
    for status in STATUSES:
        expected = [i for i, (s, _) in zip(ids, rows, strict=True) if s == status][::-1]
        assert [r["id"] for r in store.page(status=status, limit=100).items] == expected
    expected = [i for i, (_, k) in zip(ids, rows, strict=True) if k == "page"][::-1]
    assert [r["id"] for r in store.page(type="page", limit=100).items] == expected


def test_user_filter_matches_user_id_or_anonymous_id():
    store = TraceStore()
    a = store.add(record(1, user=None, anon="anon-1"))
    b = store.add(record(2, user="u1", anon="anon-1"))
    store.add(record(3, user="u2"))
    assert [r["id"] for r in store.page(user="anon-1").items] == [b, a]
    assert [r["id"] for r in store.for_ids(["u1"], ["anon-1"])] == [b, a]
    assert store.for_ids([], []) == []


def test_seen_message_id_respects_the_window_and_ignores_duplicates():
    store = TraceStore()
    store.add(record(5))  # m5 at 1700000005
    assert store.seen_message_id("m5", since=1700000000)
    assert not store.seen_message_id("m5", since=1700000006)
    assert not store.seen_message_id("m6", since=0)
    dup = record(6, status="duplicate")
    store.add(dup)
    assert not store.seen_message_id("m6", since=0)


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ({"received_at": 1.0, "status": "delivered"}, "Segment event"),
        ({"received_at": 1.0, "status": "sent", "event": {}}, "status must be one of"),
        ({"received_at": "now", "status": "delivered", "event": {}}, "received_at"),
    ],
)
def test_bad_records_are_refused_with_a_reason(bad, needle):
    with pytest.raises(InputError, match=needle):
        TraceStore().add(bad)


def test_a_failed_batch_stores_nothing():
    store = TraceStore()
    with pytest.raises(InputError):
        store.add_many([record(1), {"received_at": 1.0, "status": "delivered"}])
    assert store.page().items == ()


def test_the_file_is_shared_with_another_connection(tmp_path):
    """Same file as the mock's journal: our tables beside theirs, both readable after reopening."""
    path = str(tmp_path / "session.db")
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE journal (id INTEGER PRIMARY KEY, body TEXT)")
    other.execute("INSERT INTO journal (body) VALUES ('x')")
    other.commit()
    store = TraceStore(path)
    trace_id = store.add(record(1))
    store.close()
    again = TraceStore(path)
    assert again.get(trace_id)["event"]["messageId"] == "m1"
    assert other.execute("SELECT COUNT(*) FROM journal").fetchone()[0] == 1


def test_pages_of_100k_rows():
    """First, deep and filtered pages of a large store (how fast: bench/suite_budgets.py)."""
    store = TraceStore()
    store.add_many([record(i, status=STATUSES[i % len(STATUSES)]) for i in range(100_000)])
    page = store.page(limit=50)
    deep = store.page(before=1000, limit=50)
    filtered = store.page(status="rejected", before=50_000, limit=50)
    assert len(page.items) == len(deep.items) == len(filtered.items) == 50
