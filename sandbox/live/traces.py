"""The trace store: what the live server did with each Segment event, kept for the inspector.

It sits at the end of the live flow (Tracking API → transform core → mock → here). Each row is one
Segment event with its whole story as JSON: the event, every subscription matched or not and why,
the mapped payload, the requests, the mock's answers and the journal entries they became. It lives
in the same SQLite file as the mock's journal (`--db`), in its own tables, so one file holds a
session. Reads page by id (keyset), so a page costs the same with ten rows or ten million.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sandbox.errors import InputError
from sandbox.js.values import JSON

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sandbox_traces (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at REAL NOT NULL,
    message_id TEXT,
    type TEXT,
    name TEXT,
    user_id TEXT,
    anonymous_id TEXT,
    status TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sandbox_traces_message ON sandbox_traces (message_id, received_at);
CREATE INDEX IF NOT EXISTS sandbox_traces_user ON sandbox_traces (user_id, id);
CREATE INDEX IF NOT EXISTS sandbox_traces_anonymous ON sandbox_traces (anonymous_id, id);
CREATE INDEX IF NOT EXISTS sandbox_traces_status ON sandbox_traces (status, id);
CREATE INDEX IF NOT EXISTS sandbox_traces_type ON sandbox_traces (type, id);
"""

# What a stored event's `status` says, worst first: the inspector colours rows by it.
STATUSES = ("refused", "rejected", "error", "duplicate", "delivered", "unmatched")
"""`refused`: the Tracking API itself refused the call (bad JSON, no write key, a track without
`event`, ...), so nothing ran; the record keeps the reason and the raw body."""


@dataclass(frozen=True, slots=True)
class TracePage:
    """One page of traces, newest first. `next_before` is the cursor of the next page, or None."""

    items: tuple[dict[str, JSON], ...]
    next_before: int | None


class TraceStore:
    """Trace rows in SQLite. Safe to share between the server's threads (one connection, one lock)."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        if path != ":memory:":
            # The mock writes its journal to the same file from its own connection.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, record: Mapping[str, Any]) -> int:
        """Store one trace record; return its id. The record needs `received_at`, `event` and
        `status`; everything else in it is kept as it is."""
        return self.add_many([record])[0]

    def add_many(self, records: Sequence[Mapping[str, Any]]) -> list[int]:
        rows = [_row(record) for record in records]
        ids: list[int] = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for row in rows:
                    cursor = self._db.execute(
                        "INSERT INTO sandbox_traces (received_at, message_id, type, name, user_id,"
                        " anonymous_id, status, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        row,
                    )
                    ids.append(int(cursor.lastrowid or 0))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return ids

    def get(self, trace_id: int) -> dict[str, JSON] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, record FROM sandbox_traces WHERE id = ?", (trace_id,)
            ).fetchone()
        return None if row is None else _record(row)

    def page(
        self,
        *,
        before: int | None = None,
        limit: int = 50,
        status: str | None = None,
        type: str | None = None,
        user: str | None = None,
    ) -> TracePage:
        """Newest first, `limit` rows with id < `before`. `user` matches userId or anonymousId."""
        where: list[str] = []
        params: list[Any] = []
        if before is not None:
            where.append("id < ?")
            params.append(before)
        if status:
            where.append("status = ?")
            params.append(status)
        if type:
            where.append("type = ?")
            params.append(type)
        if user:
            where.append("(user_id = ? OR anonymous_id = ?)")
            params.extend((user, user))
        sql = "SELECT id, record FROM sandbox_traces"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit + 1)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        items = tuple(_record(row) for row in rows[:limit])
        more = len(rows) > limit
        return TracePage(items, int(items[-1]["id"]) if more and items else None)

    def for_ids(
        self, user_ids: Iterable[str], anonymous_ids: Iterable[str] = (), limit: int = 50
    ) -> list[dict[str, JSON]]:
        """The newest traces sent by any of these users or anonymous ids (a person's page)."""
        users, anons = sorted(set(user_ids)), sorted(set(anonymous_ids))
        clauses, params = [], []
        if users:
            clauses.append(f"user_id IN ({','.join('?' * len(users))})")
            params.extend(users)
        if anons:
            clauses.append(f"anonymous_id IN ({','.join('?' * len(anons))})")
            params.extend(anons)
        if not clauses:
            return []
        sql = f"SELECT id, record FROM sandbox_traces WHERE {' OR '.join(clauses)} ORDER BY id DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, (*params, limit)).fetchall()
        return [_record(row) for row in rows]

    def seen_message_id(self, message_id: str, since: float) -> bool:
        """Whether an event with this messageId arrived at or after `since` (Segment's dedup window)."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM sandbox_traces WHERE message_id = ? AND received_at >= ? AND status != 'duplicate' LIMIT 1",
                (message_id, since),
            ).fetchone()
        return row is not None

    def latest_id(self) -> int | None:
        with self._lock:
            row = self._db.execute("SELECT MAX(id) FROM sandbox_traces").fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sandbox_traces")


def _row(record: Mapping[str, Any]) -> tuple[Any, ...]:
    event = record.get("event")
    if not isinstance(event, Mapping):
        raise InputError("a trace record needs the Segment event as an object under 'event'")
    status = record.get("status")
    if status not in STATUSES:
        raise InputError(f"a trace record's status must be one of {', '.join(STATUSES)}, got {status!r}")
    received_at = record.get("received_at")
    if isinstance(received_at, bool) or not isinstance(received_at, (int, float)):
        raise InputError("a trace record needs received_at as Unix seconds")
    kind = event.get("type")
    name = event.get("event") if kind == "track" else event.get("name")
    return (
        float(received_at),
        _text(event.get("messageId")),
        _text(kind),
        _text(name),
        _text(event.get("userId")),
        _text(event.get("anonymousId")),
        status,
        json.dumps({k: v for k, v in record.items() if k != "id"}, separators=(",", ":"), default=str),
    )


def _record(row: tuple[Any, ...]) -> dict[str, JSON]:
    record = json.loads(row[1])
    record["id"] = row[0]
    return record


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return value if isinstance(value, str) else json.dumps(value)
