"""`MockCio`: one mock Customer.io — state, journal, clock, faults — and the request pipeline.

Where it sits: the Flask app (app.py) turns each Track API request into an `Incoming` and calls
`MockCio.handle`, which runs the whole flow and returns an `Answer` (status, headers, the body's
bytes, the journal entry); in-process callers (the replay engine's `InProcessTarget`) call
`MockCio.serve` with the raw request instead, which runs the same `handle` without Flask or WSGI:

    fault? → route → credentials and region → rate limit → body → handler → state verb
           → journal entry committed → answer

The state verb and the journal write happen under one lock, so the journal's order is the order in
which the state changed; a restart on the same database replays the entries whose handler ran
(`applied`), in that order and with their recorded receipt times, through the same handlers
(`_replay`): the handlers are deterministic, so a request they rejected half-way replays to the
same half-way change. Admin changes that affect state (workspace settings, the clock, reset) are
written to the same database.

Atomic requests: a request's state change and its journal entry happen together or not at all.
Everything that can fail on the client's input is checked before the state is touched (the body is
decoded with lone surrogates read as U+FFFD and numbers bounded to a double, request_body.py), and
when writing the entry fails after the verb ran (a full disk, an I/O error), the workspace the
verb changed is rebuilt from the journal (`_rebuild`) and the request is answered
`503 {"meta": {"error": "journal write failed ...: nothing was applied"}}`, so the state always
equals a replay of the journal.

The admin API (admin.py), the in-process interceptor and the pytest plugin use the public methods
below; each returns the JSON the admin API serves.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from mock_cio import auth
from mock_cio.app_api import ROUTES as APP_API_ROUTES
from mock_cio.app_api import check_bearer
from mock_cio.app_api_reads import read_routes
from mock_cio.automation import AutomationControl
from mock_cio.clock import Clock, parse_time
from mock_cio.errors import JournalWriteError, MockError  # noqa: F401  (defined in mock_cio.errors; importable here too)
from mock_cio.faults import LATENCY_HEADER, RATE_LIMITED, Faults, RateLimiter
from mock_cio.journal import Control, Entry, Journal, JournalLost, Query
from mock_cio.json_text import compact
from mock_cio.request_body import (
    ApiError,
    Body,
    journal_body,
    parse_body,
    reject,
    too_large,
    without_lone_surrogates,
)
from mock_cio.routes import Call, Reply, Route, Router
from mock_cio.segments import Automation, read_campaigns, read_segments
from mock_cio.segments.definitions import campaign_from, segment_from
from mock_cio.source import EVENT as SOURCE_EVENT
from mock_cio.source import Outbox, parse_target, source_event
from mock_cio.state import CioState, StateError, WorkspaceSettings, WorkspaceState
from mock_cio.state.verb_io import Outcome
from mock_cio.track_v1 import ROUTES as V1_ROUTES
from mock_cio.track_v2 import ROUTES as V2_ROUTES

JSON = Any
REPLAYED = ("accepted", "partial")
REQUEST_ID_HEADER = "X-Mock-Request-Id"
"""Response header naming the journal entry of a Track API request (docs/contracts.md)."""
JSON_TYPE = "application/json; charset=utf-8"
_REGION = auth.REGION_HEADER.lower()
MAX_READ = 8 * 1024 * 1024
"""In-process bodies larger than this are not handed on (over HTTP each route's own limit caps the
read: `Route.limit`, wsgi_body.py)."""
MAX_UNROUTED_BODY = 64 * 1024
"""The most read of a body sent to a path that is no Track API route (it is answered 404 anyway)."""
_SUCCESS_HEADERS = {
    "Cache-Control": "no-cache, no-store, must-revalidate, max-age=0",
    "Access-Control-Allow-Origin": "*",
}


@dataclass(frozen=True, slots=True)
class Incoming:
    """A Track API request as received: `path` is the RAW (percent-encoded) path."""

    method: str
    host: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    oversized: int | None = None
    """The declared length of a body too large to read, else None."""
    declared: bool = True
    """Whether `oversized` is the declared length (else the body ran past the limit unannounced)."""
    unreadable: str | None = None
    """Why the body could not be read (a broken chunked encoding), else None."""

    @property
    def content_type(self) -> str | None:
        return _header(self.headers, "content-type")


@dataclass(frozen=True, slots=True)
class Answer:
    """The response to one Track API request, ready for any adapter: `headers` are the response's
    own (`X-Mock-Request-Id` always, `Content-Type` when there is a body), `content` the body's
    bytes (`dumps(body)`, empty for a 204) and `entry_id` the journal entry it committed."""

    status: int
    body: JSON
    headers: dict[str, str] = field(default_factory=dict)
    entry_id: int = 0
    content: bytes = b""
    entry: Mapping[str, JSON] | None = None
    """The journal entry committed for this request, equal to `MockCio.request(entry_id)`."""


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers by lower-case name; of two spellings of one name the first wins, as in `_header`."""
    return {name.lower(): value for name, value in reversed(list(headers.items()))}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def normalize_workspaces(value: JSON) -> dict[str, dict[str, JSON]]:
    """`CIO_WORKSPACES`: `{site_id: {settings}}` or `[{"site_id": …, settings…}]`."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(k): dict(v or {}) for k, v in value.items()}
    if isinstance(value, list | tuple):
        out: dict[str, dict[str, JSON]] = {}
        for index, item in enumerate(value):
            if not isinstance(item, Mapping) or not item.get("site_id"):
                raise StateError(f"CIO_WORKSPACES[{index}] must be an object with a site_id")
            settings = dict(item)
            out[str(settings.pop("site_id"))] = settings
        return out
    raise StateError("CIO_WORKSPACES must be an object keyed by site_id or a list of objects with site_id")


class ClockControl:
    """`MockCio.clock`: the mock clock; `set`/`advance` are persisted with the journal."""

    def __init__(self, mock: MockCio) -> None:
        self._mock = mock

    def now(self) -> float:
        return self._mock._clock.now()

    def set(self, t: JSON, *, running: bool = False) -> dict[str, JSON]:
        self.move(t, running=running)
        return self.to_dict()

    def move(self, t: JSON, *, running: bool = False) -> None:
        """`set` without building the admin view (the replay engine moves the clock per event)."""
        with self._mock.lock:
            before = self._mock._clock.state()
            self._mock._clock.set(t, running=running)
            self._mock._save_clock(before)
            self._mock.emit_source(self._mock._clock_moved(self._mock.state))

    def advance(self, seconds: JSON) -> dict[str, JSON]:
        with self._mock.lock:
            before = self._mock._clock.state()
            self._mock._clock.advance(seconds)
            self._mock._save_clock(before)
            self._mock.emit_source(self._mock._clock_moved(self._mock.state))
        return self.to_dict()

    def to_dict(self) -> dict[str, JSON]:
        return self._mock._clock.to_dict()


class MockCio:
    """One mock Customer.io (the Flask app's `extensions["mock_cio"]`)."""

    def __init__(self, config: Mapping[str, JSON] | None = None) -> None:
        config = dict(config or {})
        self.declared = normalize_workspaces(config.get("CIO_WORKSPACES"))
        self.only_declared = bool(config.get("CIO_ONLY_DECLARED", False))
        self.default_region: auth.Region = config.get("CIO_DEFAULT_REGION") or "us"
        if self.default_region not in ("us", "eu"):
            raise StateError(f"CIO_DEFAULT_REGION must be 'us' or 'eu', got {self.default_region!r}")
        self.metrics_site_id: str | None = config.get("CIO_METRICS_SITE_ID")
        start = config.get("CIO_NOW")
        self._clock = Clock(None if start is None else parse_time(start, "CIO_NOW"))
        self.clock = ClockControl(self)
        self.journal = Journal(
            str(config.get("CIO_DB") or ":memory:"), durable=bool(config.get("CIO_DB_DURABLE", True))
        )
        self.lock = self.journal.lock
        self.faults = Faults()
        if config.get("CIO_FAULTS") is not None:  # a fault profile (faults.py), seeded
            self.faults.set_profile(config["CIO_FAULTS"], seed=config.get("CIO_FAULTS_SEED"))
        self.limiter = RateLimiter()
        self.router = Router([*V1_ROUTES, *V2_ROUTES, *APP_API_ROUTES, *read_routes(self)])
        self.state = CioState(self.declared)
        self._declared_automation = (
            read_segments(config.get("CIO_SEGMENTS")),
            read_campaigns(config.get("CIO_CAMPAIGNS")),
        )
        self.engine = Automation(*self._declared_automation)
        """Segments and campaigns (mock_cio/segments/), fed after every verb and clock move."""
        self.automation = AutomationControl(self)
        self.source: Outbox | None = None
        """Where campaign entries' source events are posted (`CIO_SOURCE_TO`, mock_cio/source.py)."""
        if config.get("CIO_SOURCE_TO"):
            url, key = parse_target(config["CIO_SOURCE_TO"], "CIO_SOURCE_TO")
            self.source = Outbox(url, key, self._source_failed)
        self.source_events = self.source is not None or bool(config.get("CIO_SOURCE_EVENTS"))
        """Whether campaign entries add their source events to the journal."""
        self._replay()
        self.journal.on_failure = self._rebuild_all  # a lost transaction: state = journal again

    # ------------------------------------------------------------------ the request pipeline

    def serve(
        self,
        method: str,
        host: str,
        path: str,
        query: str = "",
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> Answer:
        """The in-process entry point (no Flask, no WSGI, no socket): one Track API request as a
        client sends it, answered by `handle`, the same pipeline the Flask view runs. `path` is the
        raw (percent-encoded) path, `query` the raw query string, `headers` as sent (`Host` and
        `Content-Length` are added when absent, as an HTTP client adds them, so the journal shows
        the same headers either way). A body over `MAX_READ` bytes is not read, as over HTTP."""
        if not (path.isascii() and query.isascii()):  # a str no HTTP request can carry: no surrogates
            path, query = without_lone_surrogates(path), without_lone_surrogates(query)
        given = headers if headers is not None else {}
        names = {name.lower() for name in given}
        sent: dict[str, str] = {}
        if "host" not in names:
            sent["Host"] = host
        if body and "content-length" not in names:
            sent["Content-Length"] = str(len(body))
        sent.update(given)
        if len(body) > MAX_READ:
            return self.handle(Incoming(method, host, path, query, sent, b"", len(body)))
        return self.handle(Incoming(method, host, path, query, sent, body))

    def handle(self, inc: Incoming) -> Answer:
        """Answer one Track API request and journal it (committed before this returns)."""
        now = self._clock.now()
        entry = Entry(now, inc.method, inc.host, inc.path, inc.query, auth.redact(inc.headers))
        extra: dict[str, str] = {}  # response headers a fault profile adds
        try:
            route, call = self._prepare(inc, entry, now, extra)
        except Exception as exc:
            with self.lock:
                answer = self._finish(entry, inc, _failure(exc), extra)
                epoch = self.journal.epoch
            return self._synced(answer, epoch)
        # The verb and the journal write share one lock: the journal's order is the state's order.
        with self.lock:
            if call.state is not self.state:  # a reset happened meanwhile: use the new state
                call.state = self.state
                call.ws = None if call.ws is None else self.state.workspace(call.ws.site_id)
            entry.applied = True
            emitted: list[dict[str, JSON]] = []
            try:
                reply = _run(route, call)
                if call.ws is not None:
                    reply.result = self.engine.after_request(call.ws, now, reply.result)
                    if self.source_events:
                        reply.result, emitted = self._source_events(call.ws, reply.result)
            except Exception as exc:
                reply = _failure(exc)
            answer = self._finish(entry, inc, reply, extra, None if call.ws is None else call.ws.site_id)
            epoch = self.journal.epoch
        # Committed before it is answered; outside the lock, so concurrent requests share a commit.
        answer = self._synced(answer, epoch)
        if emitted and self.source is not None and answer.entry_id and answer.status != 503:
            self.source.post(emitted)
        return answer

    def _source_events(self, ws: WorkspaceState, outcome: Outcome) -> tuple[Outcome, list[dict[str, JSON]]]:
        """A `source_event` change after each `campaign_entered` of `outcome` (mock_cio/source.py)."""
        changes: list[dict[str, JSON]] = []
        notes: list[str] = []
        emitted: list[dict[str, JSON]] = []
        for change in outcome.changes:
            changes.append(change)
            if change.get("kind") != "campaign_entered":
                continue
            event = self._source_for(ws, change)
            if event is None:
                notes.append(
                    f"campaign {change['campaign']}: no {SOURCE_EVENT!r} source event for person "
                    f"{change['person']}: they have neither id nor email"
                )
                continue
            emitted.append(event)
            changes.append(
                {
                    "kind": "source_event",
                    "person": change["person"],
                    "campaign": change["campaign"],
                    "event": event,
                }
            )
        if not emitted and not notes:
            return outcome, []
        return Outcome(outcome.notes + tuple(notes), tuple(changes)), emitted

    def _source_for(self, ws: WorkspaceState, change: Mapping[str, JSON]) -> dict[str, JSON] | None:
        person = ws.people.by_cio_id(change["person"])
        campaign = self.engine.campaigns.get(change["campaign"])
        identifiers = person.identifiers if person is not None else {}
        return source_event(ws.site_id, change, identifiers, campaign.name if campaign else "")

    def emit_source(self, out: Mapping[str, list[dict[str, JSON]]]) -> None:
        """The source events of campaign entries no request caused (a clock move, a definition put
        through the admin API; `out`: changes by site_id): journaled as one `source` control row
        (replays ignore it), then posted. Never raises: the clock or definition change stands."""
        if not self.source_events:
            return
        events: list[dict[str, JSON]] = []
        for site_id, changes in out.items():
            ws = self.state.get(site_id)
            if ws is None:
                continue
            for change in changes:
                if change.get("kind") == "campaign_entered":
                    event = self._source_for(ws, change)
                    if event is not None:
                        events.append(event)
        if not events:
            return
        try:
            self.journal.control(self._clock.now(), "source", {"events": events})
        except JOURNAL_ERRORS:
            pass  # the events are still posted; the failed write is the journal's to report
        if self.source is not None:
            self.source.post(events)

    def _source_failed(self, failure: dict[str, JSON]) -> None:
        """A failed post of source events: journaled as a `source` control row (replays ignore it)."""
        self.journal.control(self._clock.now(), "source", {"failed": failure})

    def _synced(self, answer: Answer, epoch: int) -> Answer:
        """`answer` once its entry is committed; a 503 when the commit failed or a failed write
        took the entry's transaction with it (the state was rebuilt from the journal then)."""
        if not answer.entry_id:
            return answer  # not journaled (`_finish` answered the failure)
        try:
            self.journal.sync(answer.entry_id, epoch)
        except (*JOURNAL_ERRORS, JournalLost) as exc:
            return _unjournaled(exc)
        return answer

    def _prepare(self, inc: Incoming, entry: Entry, now: float, extra: dict[str, str]) -> tuple[Route, Call]:
        """Everything before the state: fault, route, workspace, rate limit, body (raises ApiError)."""
        fault = self.faults.take()
        if fault is not None:
            if fault.latency:
                time.sleep(fault.latency)
                entry.notes.append(f"fault injected: {fault.latency} s latency")
            if fault.status is not None:
                entry.workspace = _site_id_of(_lowered(inc.headers).get("authorization"))
                raise ApiError(fault.status, fault.body, [f"fault injected: status {fault.status}"])
        route, args, allowed = self.router.match(inc.method, inc.path)
        if route is None:
            if allowed:
                raise ApiError(405, {"meta": {"error": f"Method {inc.method} not allowed on {inc.path}"}},
                               [f"method {inc.method} not allowed (allowed: {', '.join(allowed)})"])  # fmt: skip
            raise ApiError(404, {"meta": {"error": f"Not found: no Track API route for {inc.method} {inc.path}"}},
                           [f"no Track API route for {inc.method} {inc.path}"])  # fmt: skip
        lowered = _lowered(inc.headers)
        called = auth.host_region(inc.host, lowered.get(_REGION), self.default_region)
        ws = self._workspace(route, lowered.get("authorization"), entry, called)
        injected = self.faults.check(now, None if ws is None else ws.site_id)
        if injected is not None:
            extra.update(injected.headers)
            if injected.status is not None:
                raise ApiError(injected.status, injected.body, [injected.note])
            extra[LATENCY_HEADER] = f"{injected.latency:.6g}"
            if injected.note:
                entry.notes.append(injected.note)
        if ws is not None and not self.limiter.allow(ws.site_id, ws.settings.rate_limit):
            raise ApiError(
                429, RATE_LIMITED, [f"rate limit of {ws.settings.rate_limit} requests/second exceeded"]
            )
        if inc.unreadable is not None:
            raise reject(route.flavour, inc.unreadable, reason="invalid_body", field="body")
        if inc.oversized is not None:
            message = too_large(route.flavour, route.limit, inc.oversized, declared=inc.declared)
            raise reject(route.flavour, message, reason="too_large", field="body")
        content_type = lowered.get("content-type")
        if not content_type and inc.body.strip():
            entry.notes.append("no content-type header: body read as JSON")
        read_notes: list[str] = []
        body = parse_body(inc.body, content_type, flavour=route.flavour, limit=route.limit, notes=read_notes)
        entry.body = body
        if body is not None and not read_notes:
            entry.body_json = inc.body.decode("utf-8")  # parsed: valid UTF-8 JSON, stored as sent
        entry.notes.extend(read_notes)  # a body read with U+FFFD is journaled as read (encoded anew)
        return route, Call(self.state, ws, now, args, _query(inc.query), body, called)

    def _workspace(
        self, route: Route, header: str | None, entry: Entry, called: auth.Region
    ) -> WorkspaceState | None:
        """The workspace the request is for (`header`: its Authorization); raises ApiError(401)
        when it may not be used."""
        if route.auth == "optional" and not header:
            return self._fallback_workspace(entry)
        if route.auth == "bearer":  # the App API: its key names no workspace the mock knows
            check_bearer(header)
            return self._fallback_workspace(entry)
        try:
            creds = auth.credentials(header)
            with self.lock:
                ws = self.state.get(creds.site_id)
                note = auth.check(
                    creds,
                    declared_key=None if ws is None else ws.settings.api_key,
                    region=called if ws is None else ws.settings.region,
                    called=called,
                    known=ws is not None,
                    only_declared=self.only_declared,
                )
                if ws is None:
                    ws = self._create_workspace(creds.site_id, called)
        except auth.AuthError as exc:
            if route.auth == "optional":
                entry.notes.append(f"credentials ignored ({exc}): this route needs none")
                return self._fallback_workspace(entry)
            entry.workspace = _site_id_of(header)
            raise ApiError(401, auth.UNAUTHORIZED, [str(exc)]) from None
        entry.workspace = ws.site_id
        if note:
            entry.notes.append(note)
        return ws

    def _fallback_workspace(self, entry: Entry) -> WorkspaceState | None:
        ws: WorkspaceState | None
        with self.lock:
            if self.metrics_site_id:
                ws = self.state.get(self.metrics_site_id) or self._create_workspace(
                    self.metrics_site_id, self.default_region
                )
            else:
                ws = next(iter(self.state.workspaces.values()), None)
        if ws is not None:
            entry.workspace = ws.site_id
            entry.notes.append(f"no credentials needed: recorded in workspace {ws.site_id!r}")
        return ws

    def _create_workspace(self, site_id: str, region: str) -> WorkspaceState:
        """A workspace created on first use takes the region of the host it was first called on.
        Journaled first: when the write fails, no workspace was created (ApiError 503)."""
        settings = WorkspaceSettings(region=region)  # type: ignore[arg-type]
        try:
            self.journal.control(
                self._clock.now(), "workspace", {"site_id": site_id, "settings": settings.to_dict()}
            )
        except JOURNAL_ERRORS as exc:
            raise ApiError(503, _journal_failed(exc), [_journal_failed(exc)["meta"]["error"]]) from None
        self.state.configure(site_id, region=region)
        return self.state.workspace(site_id)

    def _finish(
        self,
        entry: Entry,
        inc: Incoming,
        reply: Reply,
        extra: Mapping[str, str] | None = None,
        touched: str | None = None,
    ) -> Answer:
        """Journal the request (its commit is `_synced`'s) and build its answer. The caller holds
        the lock. When the entry cannot be written, the state is put back as the journal has it
        (a failed write rebuilds it all: `_journal_failed`; a bug rebuilds the workspace the
        handler `touched`) and the answer is a 503 that nothing was applied (500 for a bug)."""
        try:
            entry.status = reply.status
            entry.response = reply.body
            entry.outcome = reply.outcome
            entry.reasons = reply.reasons
            entry.notes.extend(reply.result.notes)
            entry.changes = list(reply.result.changes)
            if entry.body is None and inc.body:
                shown: Body = journal_body(inc.body)
                entry.body_text, entry.body_base64 = shown.text, shown.base64
            content = b"" if reply.body is None else dumps(reply.body)
            if reply.body is not None:
                entry.response_text = content[:-1].decode("utf-8")  # encoded once: answer and journal
            written = self.journal.record(entry, sync=False)  # handle() syncs
        except Exception as exc:
            if not isinstance(exc, JOURNAL_ERRORS) and entry.applied and touched is not None:
                self._rebuild(touched)
            return _unjournaled(exc)
        headers = dict(_SUCCESS_HEADERS) if reply.status < 400 else {}
        headers[REQUEST_ID_HEADER] = str(written.id)
        if extra:
            headers.update(extra)
        if reply.body is not None:
            headers["Content-Type"] = JSON_TYPE
        return Answer(reply.status, reply.body, headers, written.id, content, written)

    # ------------------------------------------------------------------ restart

    def _replay(self) -> None:
        """Rebuild the state (and clock) from the database: control rows and applied requests."""
        for item in self.journal.history():
            if isinstance(item, Control):
                self._apply_control(self.state, item)
            else:
                self._replay_entry(self.state, item)

    def _replay_entry(self, state: CioState, item: Mapping[str, JSON]) -> None:
        """Run one journaled request again, if its handler ran the first time (entries written
        before `applied` was journaled: if it was accepted)."""
        applied = item.get("applied")
        if item["workspace"] is None or not (item["outcome"] in REPLAYED if applied is None else applied):
            return
        route, args, _ = self.router.match(item["method"], item["path"])
        if route is None:
            return
        ws = state.workspace(item["workspace"])
        headers = item["headers"] or {}
        region = auth.host_region(item["host"], _lowered(headers).get(_REGION), self.default_region)
        call = Call(state, ws, item["received_at"], args, _query(item["query"]), item["body"], region)
        try:
            reply = _run(route, call)
            self.engine.after_request(ws, item["received_at"], reply.result)
        except Exception:  # noqa: BLE001 - it failed the same way the first time (deterministic)
            return

    def _rebuild_all(self) -> None:
        """The journal lost its open transaction (a failed write, journal.py `_failed`): rebuild
        the whole state (and clock) from what it holds, so the state equals a replay of the
        journal again. Called under the lock."""
        self.state = CioState(self.declared)
        self.engine = Automation(*self._declared_automation)
        self._replay()

    def _rebuild(self, site_id: str) -> None:
        """Put one workspace back as the journal has it (a bug after its verb ran: the journal
        is intact, the entry was not written; workspaces are independent). Under the lock."""
        declared = self.declared.get(site_id)
        state = CioState({site_id: declared} if declared is not None else None)
        for item in self.journal.history(workspace=site_id):
            if isinstance(item, Control):
                self._apply_control(state, item)
            else:
                self._replay_entry(state, item)
        ws = state.get(site_id)
        if ws is None:
            self.state.workspaces.pop(site_id, None)
        else:
            self.state.workspaces[site_id] = ws

    def _apply_control(self, state: CioState, control: Control) -> None:
        if control.action == "workspace":
            state.configure(control.args["site_id"], **control.args["settings"])
        elif control.action == "clock":
            self._clock.restore(control.args)
            self._clock_moved(state)
        elif control.action in ("segment", "campaign"):
            self._apply_definition(state, control)

    def _apply_definition(self, state: CioState, control: Control) -> None:
        """A journaled `PUT`/`DELETE /_mock/segments|campaigns/<id>`, at its time."""
        number, definition = control.args["id"], control.args["definition"]
        if control.action == "segment":
            if definition is None:
                if number in self.engine.segments:
                    self.engine.delete_segment(number, state, control.at)
            else:
                self.engine.put_segment(segment_from(definition, "journal"), state, control.at)
        elif definition is None:
            if number in self.engine.campaigns:
                self.engine.delete_campaign(number)
        else:
            self.engine.put_campaign(campaign_from(definition, "journal"), state, control.at)

    def _clock_moved(self, state: CioState) -> dict[str, list[dict[str, JSON]]]:
        """Segments that depend on the time are evaluated again at the clock's new time (the
        changes, by site_id)."""
        return self.engine.clock_moved(state, self._clock.now())

    def _save_clock(self, before: Mapping[str, float | None] | None = None) -> None:
        """Persist the clock; when that fails, put it back as it was (`before`) and raise."""
        try:
            self.journal.control(self._clock.now(), "clock", dict(self._clock.state()))
        except JOURNAL_ERRORS as exc:
            if before is not None:
                self._clock.restore(dict(before))
            raise JournalWriteError(_journal_failed(exc)["meta"]["error"]) from None

    # ------------------------------------------------------------------ the admin API's methods

    def requests(
        self,
        workspace: str | None = None,
        status: int | str | None = None,
        path: str | None = None,
        since: float | str | None = None,
        limit: int | None = None,
        *,
        before_id: int | None = None,
        after_id: int | None = None,
        outcome: str | None = None,
    ) -> list[dict[str, JSON]]:
        """Journal entries, newest first (see `journal.Query`)."""
        return self.journal.requests(
            _journal_query(workspace, status, path, since, limit, before_id, after_id, outcome)
        )

    def journal_count(
        self,
        workspace: str | None = None,
        status: int | str | None = None,
        path: str | None = None,
        since: float | str | None = None,
        *,
        outcome: str | None = None,
    ) -> int:
        return self.journal.count(_journal_query(workspace, status, path, since, None, None, None, outcome))

    def request(self, entry_id: int) -> dict[str, JSON] | None:
        return self.journal.get(entry_id)

    def people(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        with self.lock:
            return self.state.people(site_id)

    def person(self, identifier: str, site_id: str | None = None) -> dict[str, JSON] | None:
        """A person; with segments or campaigns defined, `automation` holds their data-driven
        segments, campaign entries, membership history and timestamp warnings."""
        with self.lock:
            view = self.state.person(identifier, site_id)
            if view is not None and self.engine.active:
                view["automation"] = self.automation.person(
                    view["identifiers"]["cio_id"] and "cio_" + view["cio_id"], view["workspace"]
                )
            return view

    def anonymous_events(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        with self.lock:
            return self.state.anonymous_events(site_id, now=self._clock.now())

    def objects(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        with self.lock:
            return self.state.objects(site_id)

    def metrics(self, site_id: str | None = None) -> list[dict[str, JSON]]:
        with self.lock:
            return self.state.metrics(site_id)

    def workspaces(self) -> list[dict[str, JSON]]:
        with self.lock:
            return self.state.workspace_views()

    def workspace(self, site_id: str) -> dict[str, JSON] | None:
        with self.lock:
            return next((w for w in self.state.workspace_views() if w["site_id"] == site_id), None)

    def configure_workspace(self, site_id: str, **settings: JSON) -> dict[str, JSON]:
        """Create or change a workspace (api_key, region, anonymous_merge, rate_limit, …); persisted."""
        if not isinstance(site_id, str) or not site_id:
            raise StateError(f"site_id must be a non-empty string, got {site_id!r}")
        with self.lock:
            existing = self.state.get(site_id)
            before = None if existing is None else existing.settings
            self.state.configure(site_id, **settings)
            full = self.state.workspace(site_id).settings.to_dict()
            try:
                self.journal.control(self._clock.now(), "workspace", {"site_id": site_id, "settings": full})
            except JOURNAL_ERRORS as exc:
                if existing is None:
                    self.state.workspaces.pop(site_id, None)
                else:
                    existing.settings = before  # type: ignore[assignment]
                raise JournalWriteError(_journal_failed(exc)["meta"]["error"]) from None
        view = self.workspace(site_id)
        assert view is not None
        return view

    def inject_fault(
        self, status: int | None = None, count: int = 1, latency: float | None = None, body: JSON = None
    ) -> dict[str, JSON]:
        return self.faults.inject(status=status, count=count, latency=latency, body=body)

    def clear_faults(self) -> dict[str, JSON]:
        return self.faults.clear()

    def set_fault_profile(self, profile: JSON, seed: int | None = None) -> dict[str, JSON]:
        """Put a fault profile in force (`mock_cio.faults.FaultProfile`; `{}` or None removes it)."""
        return self.faults.set_profile(profile, seed=seed)

    def fault_profile(self) -> dict[str, JSON]:
        return self.faults.profile_dict()

    def reset(self) -> dict[str, JSON]:
        """Forget people, events, objects and the journal; keep workspace settings, the clock; clear faults."""
        with self.lock:
            kept = {site_id: ws.settings.to_dict() for site_id, ws in self.state.workspaces.items()}
            at = self._clock.now()
            try:
                self.journal.reset(
                    [(at, "workspace", {"site_id": s, "settings": v}) for s, v in kept.items()]
                    + [(at, "clock", dict(self._clock.state()))]
                    + self.automation.control_rows(at)
                )
            except JOURNAL_ERRORS as exc:
                raise JournalWriteError(_journal_failed(exc)["meta"]["error"]) from None
            self.state = CioState()
            for site_id, settings in kept.items():
                self.state.configure(site_id, **settings)
        self.faults.clear()
        self.faults.restart_profile()
        self.limiter.clear()
        return {"reset": True, "workspaces": sorted(kept)}

    def snapshot(self) -> dict[str, JSON]:
        """The whole state, canonical (equal after a restart on the same database)."""
        with self.lock:
            return self.state.snapshot()

    def close(self) -> None:
        if self.source is not None:
            self.source.close()
        self.journal.close()


def _run(route: Route, call: Call) -> Reply:
    """Call a handler; a StateError becomes the route's 400 body."""
    try:
        return route.handler(call)
    except StateError as exc:
        raise reject(route.flavour, str(exc)) from None


def _failure(exc: Exception) -> Reply:
    """The reply for a request that did not get through: its ApiError, or a JSON 500 for a bug."""
    if isinstance(exc, ApiError):
        return Reply(exc.status, exc.body, "rejected", list(exc.reasons))
    body = _internal(exc)
    return Reply(500, body, "error", [body["meta"]["error"]])


JOURNAL_ERRORS = (sqlite3.Error, OSError)
"""What a failed journal write raises (a full disk is `sqlite3.OperationalError`)."""


def _unjournaled(exc: BaseException) -> Answer:
    """The answer to a request whose entry could not be journaled (so nothing was applied)."""
    journal = isinstance(exc, (*JOURNAL_ERRORS, JournalLost))
    body = _journal_failed(exc) if journal else _internal(exc)
    return Answer(503 if journal else 500, body, {"Content-Type": JSON_TYPE}, 0, dumps(body), None)


def _journal_failed(exc: BaseException) -> dict[str, JSON]:
    return {"meta": {"error": f"journal write failed ({type(exc).__name__}: {exc}): nothing was applied; "
                     "retry when the journal's disk has room"}}  # fmt: skip


def _internal(exc: BaseException) -> dict[str, JSON]:
    return {"meta": {"error": f"internal error in the mock: {type(exc).__name__}: {exc}"}}


def _query(text: str) -> dict[str, str]:
    return dict(parse_qsl(text, keep_blank_values=True)) if text else {}


def _site_id_of(header: str | None) -> str | None:
    try:
        return auth.credentials(header).site_id
    except auth.AuthError:
        return None


def _journal_query(
    workspace: str | None,
    status: int | str | None,
    path: str | None,
    since: float | str | None,
    limit: int | None,
    before_id: int | None,
    after_id: int | None,
    outcome: str | None,
) -> Query:
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if isinstance(status, int) and not 100 <= status <= 599:
        raise StateError(f"status must be an HTTP status code (100-599) or a class (4xx), got {status!r}")
    if isinstance(status, str) and not (
        len(status) == 3 and status[0] in "12345" and status[1:].lower() == "xx"
    ):
        raise StateError(f"status must be a code (400) or a class (4xx), got {status!r}")
    return Query(
        workspace=workspace,
        status=status,
        path=path,
        since=None if since is None else parse_time(since, "since"),
        outcome=outcome,
        before_id=before_id,
        after_id=after_id,
        limit=limit,
    )


def dumps(body: JSON) -> bytes:
    """A response body as Customer.io sends it: compact JSON and a newline (`{}` is 3 bytes)."""
    return (compact(body) + "\n").encode("utf-8")
