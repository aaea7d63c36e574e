"""The journal: every Track API request the mock received, accepted or rejected, in SQLite.

Where it sits: last step of a request. The HTTP layer builds one `Entry` per request (after the state
verb ran, or after the request was rejected), `Journal.append` writes and COMMITS it, and only then
is the response returned, so a killed server never loses an acknowledged request (docs/decisions.md §3.1).
The admin API reads it back (`GET /_mock/requests`) and a restart on the same file replays the
accepted entries through the same code path to rebuild the state.

Control rows (workspace configuration, clock changes, resets) share the entries' sequence so that a
replay sees them in the order they happened. They are never listed as requests.

Storage: `sqlite3` with one connection guarded by a lock (the live server is threaded; one
connection plus a lock measured faster than per-thread connections for these small writes, and
keeps the journal's order equal to the state's order). File databases use WAL with
`synchronous=NORMAL`: a commit is in the WAL file before the response leaves, which survives a
killed process (not a power cut).

Checkpoints (copying the WAL into the database file, with its two fsyncs) run in a background
thread on a second connection (`_Checkpointer`, every `CHECKPOINT_SECONDS`, PASSIVE: it never
blocks a writer), not in the commit that happens to cross SQLite's 1,000-page mark: that commit
holds the lock, so every concurrent request waited for the fsyncs (milliseconds) and the p99
latency of the live server was theirs. Durability is unchanged: a commit is in the WAL file before
it is answered, and a reopened journal reads the WAL.

A scratch journal (`Journal(path, durable=False)`, config `CIO_DB_DURABLE=False`) is a file that
nothing reopens: the in-process replay (`cio-sandbox run`) spills its journal to a temporary file
so that memory does not grow with the input, and deletes it at the end. Its durability would buy
nothing, so it is written with `synchronous=OFF`, committed every `GROUP_COMMIT` rows (and at
close), and holds back clock rows: a restart restores only the last clock row (requests replay at
their own `received_at`), so only the latest one is written, with each commit. Reads through the
same connection see every row at once, so the mock's answers and admin views are the same as with
a durable journal. A durable journal is never written this way.

One file, one process: a journal file is locked (`flock`, exclusive) for as long as a process has
it open, so a second server on the same `--db` stops at once with `JournalLocked` ("… is in use
by process N") instead of journaling into the same file and handing out the same cio_ids. Journals
of one process share the lock (tests and restarts within a process reopen a file).

`record` returns the entry it wrote as an `EntryView` made from the stored row, so the in-process
replay gets each journal entry without querying it back. A request body is stored as the JSON
text it was parsed from (`Entry.body_json`): decoding it gives the parsed body again, so it is
not encoded a second time.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mock_cio.errors import JournalError, JournalLocked, JournalLost  # noqa: F401  (defined in mock_cio.errors; importable here too)
from mock_cio.json_text import compact, loads

JSON = Any


_HELD: dict[tuple[int, int], list[int]] = {}
"""(device, inode) of each journal file this process has locked -> [fd, number of journals]."""
_HELD_LOCK = threading.Lock()


def _lock_file(path: str) -> tuple[int, int]:
    """Lock `path` for this process (created if missing); raise JournalLocked when another has it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise _open_error(path, sqlite3.OperationalError(exc.strerror or str(exc))) from None
    info = os.fstat(fd)
    key = (info.st_dev, info.st_ino)
    with _HELD_LOCK:
        held = _HELD.get(key)
        if held is not None:
            os.close(fd)  # opened before any SQLite connection of ours could lose a lock by it
            held[1] += 1
            return key
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            holder = _lock_holder(info.st_ino)
            who = f"process {holder}" if holder else "another process"
            raise JournalLocked(
                f"the journal {path} is in use by {who}: stop that server or choose another --db"
            ) from None
        _HELD[key] = [fd, 1]
    return key


def _unlock_file(key: tuple[int, int]) -> None:
    with _HELD_LOCK:
        held = _HELD.get(key)
        if held is None:
            return
        held[1] -= 1
        if held[1] <= 0:
            del _HELD[key]
            os.close(held[0])


def _lock_holder(inode: int) -> int | None:
    """The pid holding a flock on the file with `inode`, from /proc/locks (Linux), else None."""
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as locks:
            for line in locks:
                fields = line.split()
                if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5].rsplit(":", 1)[-1] == str(inode):
                    return int(fields[4]) if fields[4].isdigit() else None
    except OSError:
        pass
    return None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    received_at REAL NOT NULL,
    workspace TEXT,
    method TEXT,
    host TEXT,
    path TEXT,
    query TEXT,
    headers TEXT,
    body TEXT,
    body_text TEXT,
    body_base64 TEXT,
    status INTEGER,
    response TEXT,
    outcome TEXT,
    reasons TEXT,
    notes TEXT,
    changes TEXT
);
CREATE INDEX IF NOT EXISTS entries_kind ON entries (kind, id);
CREATE INDEX IF NOT EXISTS entries_workspace ON entries (workspace, id) WHERE kind = 'request';
CREATE INDEX IF NOT EXISTS entries_status ON entries (status, id) WHERE kind = 'request';
CREATE INDEX IF NOT EXISTS entries_received ON entries (received_at) WHERE kind = 'request';
"""

_COLUMNS = (
    "kind, received_at, workspace, method, host, path, query, headers, body, body_text, body_base64, "
    "status, response, outcome, reasons, notes, changes"
)
_INSERT = f"INSERT INTO entries ({_COLUMNS}) VALUES ({', '.join('?' * 17)})"
_INSERT_REQUEST = f"INSERT INTO entries ({_COLUMNS}, applied) VALUES ({', '.join('?' * 18)})"
_SELECT = f"SELECT id, {_COLUMNS} FROM entries"
_HISTORY = f"SELECT id, {_COLUMNS}, applied FROM entries"

GROUP_COMMIT = 256
"""Rows per transaction in a scratch journal (`durable=False`)."""
CHECKPOINT_SECONDS = 0.25
"""How often the background checkpointer of a durable file journal copies the WAL into the file."""
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000


def _dumps(value: JSON) -> str:
    if not value and isinstance(value, list):
        return "[]"
    return compact(value)


def _loads(text: str | None) -> JSON:
    return None if text is None else loads(text)


@dataclass(slots=True)
class Entry:
    """One journaled request, as the HTTP layer assembled it."""

    received_at: float
    method: str
    host: str
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    workspace: str | None = None
    body: JSON = None
    body_text: str | None = None
    body_base64: str | None = None
    status: int = 200
    response: JSON = None
    outcome: str = "accepted"
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    changes: list[JSON] = field(default_factory=list)
    applied: bool = False
    """Whether the request reached its handler (and so may have changed the state): a replay runs
    exactly these again. Not part of the admin API's entry view."""
    response_text: str | None = None
    """`response` already encoded as JSON (the answer's bytes), so it is encoded once."""
    body_json: str | None = None
    """The JSON text `body` was parsed from (the request's own bytes), stored as is: reading it
    back gives `body` again, without encoding the parsed body a second time."""


@dataclass(frozen=True, slots=True)
class Control:
    """A persisted admin change that affects state: `action` is `workspace`, `clock` or `reset`."""

    id: int
    at: float
    action: str
    args: dict[str, JSON]


@dataclass(frozen=True, slots=True)
class Query:
    """Filters of `GET /_mock/requests` (all optional)."""

    workspace: str | None = None
    status: int | str | None = None
    """An exact status (`400`) or a class (`"4xx"`)."""
    path: str | None = None
    """A path prefix (`/api/v2/`)."""
    since: float | None = None
    outcome: str | None = None
    before_id: int | None = None
    after_id: int | None = None
    limit: int | None = None


def _open_error(path: str, exc: sqlite3.Error) -> JournalError:
    """Why `path` cannot hold a journal, in the user's terms rather than SQLite's."""
    target = Path(path)
    if target.is_dir():
        reason = "is a directory; give a file name (e.g. cio-sandbox.db)"
    elif not target.parent.is_dir():
        reason = f"the directory {str(target.parent)!r} does not exist"
    elif isinstance(exc, sqlite3.DatabaseError) and "not a database" in str(exc):
        reason = "is not a SQLite database (a journal from cio-sandbox serve, or a new file name)"
    else:
        reason = f"cannot open the journal ({exc})"
    return JournalError(f"--db {path}: {reason}")


def _check_is_a_journal(db: sqlite3.Connection, path: str) -> None:
    """A SQLite file of something else (tables, none of them the journal's) is refused rather than
    given the journal's tables: `--db` pointing at the wrong file must not change it."""
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    if tables and "entries" not in tables and not all(t.startswith(("sqlite_", "sandbox_")) for t in tables):
        shown = ", ".join(sorted(tables)[:5])
        raise JournalError(
            f"--db {path}: is a SQLite database of something else (tables: {shown}), not a journal"
        )


class Journal:
    """The SQLite journal of one mock: `path` is a file name or `":memory:"`."""

    def __init__(self, path: str = ":memory:", *, durable: bool = True) -> None:
        self.path = path
        self.durable = durable
        self.lock = threading.RLock()
        self._uncommitted = 0
        self._last_id = 0
        self._committed_id = 0
        """Rows up to this id are committed (`sync`)."""
        self.commits = 0
        """Transactions committed so far (group commit makes it less than the rows written)."""
        self.epoch = 0
        """Counts failed writes: rows written in an earlier epoch and not committed are lost."""
        self._lost_reason = ""
        self._failing = False
        self.on_failure: Callable[[], None] | None = None
        """Called (under the lock) after a failed write ended the transaction: the mock rebuilds
        its state from what the journal holds."""
        self._pending_clock: tuple[float, dict[str, JSON]] | None = None
        in_memory = path == ":memory:" or path.startswith("file::memory:") or path == ""
        self._checkpointer: _Checkpointer | None = None
        """Started at the first commit of a durable file journal; stopped by `close`."""
        self._checkpoints = durable and not in_memory
        self._lock_key = None if in_memory else _lock_file(path)
        try:
            self._db = self._open(path, durable, in_memory)
        except BaseException as exc:
            if self._lock_key is not None:
                _unlock_file(self._lock_key)
            if isinstance(exc, sqlite3.Error):
                raise _open_error(path, exc) from None
            raise

    @staticmethod
    def _open(path: str, durable: bool, in_memory: bool) -> sqlite3.Connection:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if not in_memory:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={'NORMAL' if durable else 'OFF'}")
            if durable:  # checkpoints run in `_Checkpointer`, outside the commit (and its lock)
                db.execute("PRAGMA wal_autocheckpoint=0")
        _check_is_a_journal(db, path)
        db.executescript(_SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(entries)")}
        if "applied" not in columns:  # a journal written before `applied` was recorded
            db.execute("ALTER TABLE entries ADD COLUMN applied INTEGER")
        return db

    def close(self) -> None:
        checkpointer, self._checkpoints = self._checkpointer, False
        if checkpointer is not None:
            checkpointer.stop()  # before the last connection closes (which checkpoints the rest)
        with self.lock:
            try:
                self.commit()
                self._db.close()
            finally:
                if self._lock_key is not None:
                    _unlock_file(self._lock_key)
                    self._lock_key = None

    # ------------------------------------------------------------------ writing

    def append(self, entry: Entry) -> int:
        """Write and commit one request entry; returns its id."""
        return self.record(entry).id

    def record(self, entry: Entry, *, sync: bool = True) -> EntryView:
        """Write and commit one request entry; return it as `get` would, read from the row just
        written (no query; JSON columns are decoded when first read). With `sync=False` the row is
        written but its commit is left to `sync(id)`, which the caller runs before it answers."""
        if entry.body is None:
            body = None
        elif entry.body_json is not None:
            body = entry.body_json
        else:
            body = _dumps(entry.body)
        response: str | None
        if entry.response_text is not None:
            response = entry.response_text
        else:
            response = None if entry.response is None else _dumps(entry.response)
        row = (
            "request",
            entry.received_at,
            entry.workspace,
            entry.method,
            entry.host,
            entry.path,
            entry.query,
            _dumps(entry.headers),
            body,
            entry.body_text,
            entry.body_base64,
            entry.status,
            response,
            entry.outcome,
            _dumps(entry.reasons),
            _dumps(entry.notes),
            _dumps(entry.changes),
        )
        with self.lock:
            entry_id = self._insert((*row, int(entry.applied)), _INSERT_REQUEST)
            if sync:
                self.sync(entry_id)
        return EntryView((entry_id, *row))

    def sync(self, entry_id: int, epoch: int | None = None) -> None:
        """Group commit: make sure entry `entry_id` (and everything written before it) is committed.
        Concurrent requests share one commit: each writes its row under the lock, releases it,
        then syncs; the first to get the lock back commits every row written so far, and the
        others find theirs committed already. Nothing is answered before its commit, so an
        acknowledged request survives SIGKILL as before. A scratch journal commits on its own
        schedule (`GROUP_COMMIT`) and ignores this.

        `epoch` is `self.epoch` as it was when the row was written: when a write failed since
        (and took the open transaction, this row with it), `JournalLost` is raised."""
        if not self.durable:
            return
        with self.lock:
            if epoch is not None and epoch != self.epoch:
                raise JournalLost(self._lost_reason)
            if self._committed_id < entry_id:
                self._commit()

    def _insert(self, row: tuple[JSON, ...], sql: str = _INSERT) -> int:
        """One row, in the open transaction (begun by the first row after a commit). A durable
        journal commits at `sync` (group commit); a scratch one every `GROUP_COMMIT` rows. The
        caller holds the lock. A failed write ends the transaction (`_failed`)."""
        try:
            if not self._uncommitted:
                self._db.execute("BEGIN")
            entry_id = self._db.execute(sql, row).lastrowid or 0
        except (sqlite3.Error, OSError) as exc:
            self._failed(exc)
            raise
        self._uncommitted += 1
        self._last_id = entry_id
        if not self.durable:
            if self._uncommitted >= GROUP_COMMIT:
                self._commit()
        return entry_id

    def commit(self) -> None:
        """Commit what a scratch journal has not committed yet (a durable one has nothing)."""
        with self.lock:
            self._commit()

    def _commit(self) -> None:
        pending, self._pending_clock = self._pending_clock, None
        if pending is not None:
            if not self._uncommitted:
                self._db.execute("BEGIN")
            self._db.execute(_INSERT, _control_row(pending[0], "clock", pending[1]))
            self._uncommitted += 1
        if self._uncommitted:
            try:
                self._db.execute("COMMIT")
            except (sqlite3.Error, OSError) as exc:
                self._failed(exc)
                raise
            self._uncommitted = 0
            self.commits += 1
            if self._checkpointer is None and self._checkpoints:
                self._checkpointer = _Checkpointer(self.path)
                weakref.finalize(self, self._checkpointer.stop_soon)  # a journal never closed
        self._committed_id = self._last_id

    def _failed(self, exc: BaseException) -> None:
        """A write or commit failed (a full disk): end the transaction, so the journal holds what
        was committed, start a new epoch (rows written in the old one are lost: `sync` says so)
        and let the owner rebuild what it derived from them (`on_failure`). The caller holds
        the lock."""
        if self._db.in_transaction and self.durable:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        if not self._db.in_transaction:
            self._uncommitted = 0
            self._last_id = self._committed_id
        self.epoch += 1
        self._lost_reason = f"journal write failed ({type(exc).__name__}: {exc})"
        if self.on_failure is not None and not self._failing:
            self._failing = True
            try:
                self.on_failure()
            finally:
                self._failing = False

    def control(self, at: float, action: str, args: dict[str, JSON]) -> int:
        """Persist an admin change that affects state, in sequence with the requests. Returns its id,
        or 0 for a clock row a scratch journal holds back (see `_pending_clock`)."""
        if action == "clock" and not self.durable:
            # A restart restores the LAST clock row only (requests replay at their own
            # received_at), so a scratch journal writes just the latest one, at each commit.
            with self.lock:
                self._pending_clock = (at, args)
            return 0
        with self.lock:
            control_id = self._insert(_control_row(at, action, args))
            self.sync(control_id)
            return control_id

    def reset(self, controls: list[tuple[float, str, dict[str, JSON]]]) -> None:
        """Forget every entry and write `controls` (at, action, args) instead, in ONE transaction:
        a failure leaves the journal as it was."""
        with self.lock:
            self._commit()
            self._pending_clock = None
            self._db.execute("BEGIN")
            try:
                self._db.execute("DELETE FROM entries")
                last = self._last_id
                for at, action, args in controls:
                    last = self._db.execute(_INSERT, _control_row(at, action, args)).lastrowid or last
                self._db.execute("COMMIT")
                self._last_id = self._committed_id = last
                self._uncommitted = 0
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def clear(self) -> None:
        """Forget every entry and control row (ids keep growing: AUTOINCREMENT)."""
        with self.lock:
            self._pending_clock = None
            self._db.execute("DELETE FROM entries")
            if self.durable:
                self._commit()

    # ------------------------------------------------------------------ reading

    def count(self, query: Query | None = None) -> int:
        where, params = _where(query or Query())
        with self.lock:
            return self._db.execute(f"SELECT count(*) FROM entries WHERE {where}", params).fetchone()[0]

    def requests(self, query: Query | None = None) -> list[dict[str, JSON]]:
        """Entries matching `query`, newest first (oldest first with `after_id`)."""
        query = query or Query()
        where, params = _where(query)
        order = "ASC" if query.after_id is not None and query.before_id is None else "DESC"
        limit = DEFAULT_LIMIT if query.limit is None else query.limit
        sql = f"{_SELECT} WHERE {where} ORDER BY id {order} LIMIT ?"
        with self.lock:
            rows = self._db.execute(sql, (*params, limit)).fetchall()
        return [_entry_dict(row) for row in rows]

    def get(self, entry_id: int) -> dict[str, JSON] | None:
        with self.lock:
            row = self._db.execute(f"{_SELECT} WHERE kind = 'request' AND id = ?", (entry_id,)).fetchone()
        return None if row is None else _entry_dict(row)

    def history(self, workspace: str | None = None) -> Iterator[dict[str, JSON] | Control]:
        """Every row in sequence (or those of one `workspace`: its requests and settings):
        request entries (as dicts, with `applied`) and `Control`s, for a replay."""
        with self.lock:
            if not self._failing:  # after a failed write: read what is there, commit nothing
                self._commit()
            if workspace is None:
                rows = self._db.execute(f"{_HISTORY} ORDER BY id ASC").fetchall()
            else:
                rows = self._db.execute(
                    f"{_HISTORY} WHERE workspace = ? ORDER BY id ASC", (workspace,)
                ).fetchall()
        for row in rows:
            if row[1] == "control":
                yield Control(row[0], row[2], row[4], loads(row[9]))
            else:
                item = _entry_dict(row[:18])
                item["applied"] = None if row[18] is None else bool(row[18])
                yield item


class _Checkpointer:
    """A daemon thread that checkpoints the WAL of a durable journal file every
    `CHECKPOINT_SECONDS` on its own connection (PASSIVE: it copies what no reader needs and never
    waits for, nor blocks, the journal's writes; the next write after a complete checkpoint starts
    the WAL over). SQLite releases the GIL meanwhile. A checkpoint that fails (a full disk) is
    tried again at the next tick; the WAL keeps every commit until then."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="journal-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error:
            return  # the journal's own auto-checkpoint is off: its close() still checkpoints
        try:
            while not self._stop.wait(CHECKPOINT_SECONDS):
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    pass
        finally:
            db.close()

    def stop_soon(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _control_row(at: float, action: str, args: dict[str, JSON]) -> tuple[JSON, ...]:
    return ("control", at, args.get("site_id"), action) + (None,) * 4 + (_dumps(args),) + (None,) * 8


def _where(query: Query) -> tuple[str, list[JSON]]:
    clauses = ["kind = 'request'"]
    params: list[JSON] = []
    if query.workspace is not None:
        clauses.append("workspace = ?")
        params.append(query.workspace)
    status = query.status
    if isinstance(status, int):
        clauses.append("status = ?")
        params.append(status)
    elif isinstance(status, str):
        low = int(status[0]) * 100
        clauses.append("status >= ? AND status < ?")
        params.extend((low, low + 100))
    if query.path:
        clauses.append("substr(path, 1, ?) = ?")
        params.extend((len(query.path), query.path))
    if query.since is not None:
        clauses.append("received_at >= ?")
        params.append(query.since)
    if query.outcome is not None:
        clauses.append("outcome = ?")
        params.append(query.outcome)
    if query.before_id is not None:
        clauses.append("id < ?")
        params.append(query.before_id)
    if query.after_id is not None:
        clauses.append("id > ?")
        params.append(query.after_id)
    return " AND ".join(clauses), params


_JSON_COLUMNS = {"headers": 8, "body": 9, "response": 13, "reasons": 15, "notes": 16, "changes": 17}
_PLAIN_COLUMNS = {
    "id": 0, "received_at": 2, "workspace": 3, "method": 4, "host": 5, "path": 6, "query": 7,
    "body_text": 10, "body_base64": 11, "status": 12, "outcome": 14,
}  # fmt: skip
_KEYS = tuple(
    ("id", "received_at", "workspace", "method", "host", "path", "query", "headers", "body", "body_text",
     "body_base64", "status", "response", "outcome", "reasons", "notes", "changes")
)  # fmt: skip


class EntryView(Mapping[str, JSON]):
    """One journal entry as `Journal.record` wrote it: a read-only mapping equal to what `get`
    returns for it, made from the stored row (`(id, kind, received_at, ...)`). Its JSON columns are
    decoded when first read, so the values never share objects with the mock's state, and a
    caller that reads only `outcome` and `changes` decodes only `changes`."""

    __slots__ = ("_row", "_decoded")

    def __init__(self, row: tuple[JSON, ...]) -> None:
        self._row = row
        self._decoded: dict[str, JSON] = {}

    @property
    def id(self) -> int:
        return int(self._row[0])

    def __getitem__(self, key: str) -> JSON:
        index = _PLAIN_COLUMNS.get(key)
        if index is not None:
            return self._row[index]
        index = _JSON_COLUMNS[key]  # KeyError for an unknown key, as a dict
        decoded = self._decoded
        if key not in decoded:
            decoded[key] = _loads(self._row[index])
        return decoded[key]

    def get(self, key: str, default: JSON = None) -> JSON:
        if key in _PLAIN_COLUMNS or key in _JSON_COLUMNS:
            return self[key]
        return default

    def __contains__(self, key: object) -> bool:
        return key in _PLAIN_COLUMNS or key in _JSON_COLUMNS

    def __iter__(self) -> Iterator[str]:
        return iter(_KEYS)

    def __len__(self) -> int:
        return len(_KEYS)

    def to_dict(self) -> dict[str, JSON]:
        """A plain dict, as `Journal.get` returns."""
        return {key: self[key] for key in _KEYS}


def _entry_dict(row: tuple[JSON, ...]) -> dict[str, JSON]:
    (entry_id, _kind, received_at, workspace, method, host, path, query, headers, body, body_text,
     body_base64, status, response, outcome, reasons, notes, changes) = row  # fmt: skip
    return {
        "id": entry_id,
        "received_at": received_at,
        "workspace": workspace,
        "method": method,
        "host": host,
        "path": path,
        "query": query,
        "headers": _loads(headers),
        "body": _loads(body),
        "body_text": body_text,
        "body_base64": body_base64,
        "status": status,
        "response": _loads(response),
        "outcome": outcome,
        "reasons": _loads(reasons),
        "notes": _loads(notes),
        "changes": _loads(changes),
    }
