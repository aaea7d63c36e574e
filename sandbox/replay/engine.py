"""The replay engine: Segment events through the transform core into a mock Customer.io, with the story.

The flow for one event: `sandbox.pipeline.trace` (which subscriptions matched and why, the mapped
payload, the requests; the pipeline's one match → resolve → validate → perform step; batch mode
uses `sandbox.pipeline.plan_subscription`) → each request delivered to a target mock → its answer and journal entry →
an `EventRecord`. `Replayer.run` does this over a stream of events without keeping them (batch
mode keeps one window of events), and a `Summary` (sandbox.replay.summary) adds the records up.

Targets:
- `InProcessTarget`: a `mock_cio.create_app()` app's mock called through `MockCio.serve`, with no
  socket, no thread, no WSGI and no interception layer: the fastest path that still runs every
  line of the mock's request pipeline (routing on the raw path, auth, limits, state, journal), the
  same code its Flask view runs.
- `HttpTarget`: a running mock (`cio-sandbox serve`) over HTTP, with `requests.Session`.

The mock's clock: with `clock="events"` the clock follows the events (each event is received at
its `receivedAt`, else its `timestamp`, never going back), starting at the first event's time or
`DEFAULT_START`: a replay then depends on nothing but its input, and the 30-day, 5-minute and
72-hour rules play out as they would have. `clock="mock"` leaves the mock's clock alone.

The live server (`sandbox.live`) calls `Replayer.replay(event, now=...)` for each event it receives.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol
from urllib.parse import quote, urlsplit

from sandbox.actions.presets import Subscription
from sandbox.actions.request import CioRequest
from sandbox.errors import InputError, SandboxError
from sandbox.js.values import JSON, MISSING, Event
from sandbox.pipeline import EventTrace, check_event, error_dict, plan_subscription, trace
from sandbox.replay.config import Config
from sandbox.replay.events import Located

DEFAULT_START = 1704067200.0
"""2024-01-01T00:00:00Z: the mock's clock when no event says what time it is."""

BATCH_WINDOW = 1000
"""Events read ahead in batch mode: batches are cut within one window, so memory stays bounded."""

REQUEST_ID_HEADER = "X-Mock-Request-Id"
REGION_HEADER = "X-Mock-Region"
REDACTED = "Basic <redacted>"

ClockMode = Literal["events", "mock"]


# -- what a replay produces ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    """What the mock answered one request: status, JSON body (None if none or not JSON), the
    response headers, and the journal entry it wrote (None when it cannot be found)."""

    status: int
    body: JSON
    headers: Mapping[str, str]
    journal: Mapping[str, JSON] | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One request sent to the mock and its answer. `subscription_index` is the subscription's
    position in the trace (names need not be unique outside a config file); `event_indexes` lists
    the events in the request (several for a batch request)."""

    subscription: str
    subscription_index: int
    action: str
    request: CioRequest
    answer: Answer
    event_indexes: tuple[int, ...]
    attempt: Any = None
    """With `run --delivery segment`: the `sandbox.delivery.loop.Attempt` this request was."""

    @property
    def status(self) -> int:
        return self.answer.status

    @property
    def outcome(self) -> str:
        """`accepted`, `partial` (a 207 batch) or `rejected`, as the journal says; from the status
        when there is no journal entry."""
        journal = self.answer.journal
        if journal is not None and isinstance(journal.get("outcome"), str):
            return str(journal["outcome"])
        if self.status == 207:
            return "partial"
        return "accepted" if 200 <= self.status < 300 else "rejected"

    @property
    def reasons(self) -> tuple[str, ...]:
        journal = self.answer.journal
        if journal is not None:
            return tuple(str(r) for r in journal.get("reasons") or ())
        if self.outcome == "accepted":
            return ()
        return (_reason_from_body(self.answer.body) or f"HTTP {self.status}",)

    @property
    def notes(self) -> tuple[str, ...]:
        journal = self.answer.journal
        return tuple(str(n) for n in journal.get("notes") or ()) if journal is not None else ()

    @property
    def changes(self) -> tuple[Mapping[str, JSON], ...]:
        journal = self.answer.journal
        return tuple(journal.get("changes") or ()) if journal is not None else ()

    def to_dict(self) -> dict[str, JSON]:
        """JSON for traces and `--json`: the request (credentials redacted), the answer, the journal's
        verdict (outcome, reasons, notes, changes) and the journal entry's id."""
        req = self.request
        headers = {k: (REDACTED if k.lower() == "authorization" else v) for k, v in req.headers.items()}
        journal = self.answer.journal
        return {
            "subscription": self.subscription,
            "action": self.action,
            "event_indexes": list(self.event_indexes),
            "request": {"method": req.method, "url": req.url, "headers": headers, "body": req.body},
            "response": {"status": self.status, "body": self.answer.body},
            "outcome": self.outcome,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "changes": [dict(c) for c in self.changes],
            "journal_id": journal.get("id") if journal is not None else None,
            **({"attempt": self.attempt.to_dict()} if self.attempt is not None else {}),
        }


@dataclass(frozen=True, slots=True)
class Invalid:
    """A payload the destination refused before sending (validation, mapping): never reached the mock."""

    subscription: str
    action: str
    error: SandboxError
    event_index: int

    @property
    def message(self) -> str:
        """The error's message (what the summary groups refusals by)."""
        return getattr(self.error, "message", None) or str(self.error)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "subscription": self.subscription,
            "action": self.action,
            "event_index": self.event_index,
            "error": error_dict(self.error),
        }


@dataclass(frozen=True, slots=True)
class EventRecord:
    """The story of one event in single mode: the trace (every subscription matched or not, why,
    payload, requests), what each request got, and when the mock received it."""

    index: int
    event: Event
    trace: EventTrace
    deliveries: tuple[Delivery, ...]
    received_at: float
    where: str | None = None

    @property
    def matched(self) -> bool:
        return any(s.matched for s in self.trace.subscriptions)

    @property
    def invalid(self) -> tuple[Invalid, ...]:
        return tuple(
            Invalid(s.subscription.name, s.action, s.error, self.index)
            for s in self.trace.subscriptions
            if s.error is not None
        )

    def deliveries_for(self, subscription_index: int) -> tuple[Delivery, ...]:
        return tuple(d for d in self.deliveries if d.subscription_index == subscription_index)

    def to_dict(self) -> dict[str, JSON]:
        subs = []
        for position, sub in enumerate(self.trace.subscriptions):
            subs.append(
                {
                    "name": sub.subscription.name,
                    "action": sub.action,
                    "matched": sub.matched,
                    "checks": [
                        {"text": c.text, "passed": c.passed, "actual": _plain(c.actual)} for c in sub.checks
                    ],
                    "payload": _plain(sub.payload),
                    "error": error_dict(sub.error) if sub.error is not None else None,
                    "deliveries": [d.to_dict() for d in self.deliveries_for(position)],
                }
            )
        out: dict[str, JSON] = {"index": self.index, "received_at": self.received_at, "event": self.event}
        if self.where is not None:
            out["where"] = self.where
        out["subscriptions"] = subs
        return out


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """Batch mode: what one window of events became for one subscription — its requests (each
    covering several events) and the events it refused."""

    subscription: str
    action: str
    event_indexes: tuple[int, ...]
    deliveries: tuple[Delivery, ...]
    invalid: tuple[Invalid, ...]
    received_at: float

    def to_dict(self) -> dict[str, JSON]:
        return {
            "subscription": self.subscription,
            "action": self.action,
            "event_indexes": list(self.event_indexes),
            "received_at": self.received_at,
            "invalid": [i.to_dict() for i in self.invalid],
            "deliveries": [d.to_dict() for d in self.deliveries],
        }


@dataclass(frozen=True, slots=True)
class BatchWindow:
    """Batch mode: one window of events (`start` is its first event's index) and what each
    subscription made of it. `matched` counts the window's events that some subscription took."""

    start: int
    events: int
    matched: int
    records: tuple[BatchRecord, ...]
    received_at: float

    @property
    def deliveries(self) -> tuple[Delivery, ...]:
        return tuple(d for r in self.records for d in r.deliveries)

    @property
    def invalid(self) -> tuple[Invalid, ...]:
        return tuple(i for r in self.records for i in r.invalid)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "start": self.start,
            "events": self.events,
            "matched": self.matched,
            "received_at": self.received_at,
            "records": [r.to_dict() for r in self.records],
        }


Record = EventRecord | BatchWindow


# -- targets ---------------------------------------------------------------------------------------


class Target(Protocol):
    """Where requests go: a mock Customer.io, with its clock and its admin views."""

    name: str

    def send(self, request: CioRequest) -> Answer: ...

    def now(self) -> float: ...

    def set_clock(self, t: float) -> None: ...

    def views(self) -> dict[str, JSON]:
        """`people`, `objects`, `anonymous_events` and `metrics`, as the admin API serves them."""
        ...

    def workspaces(self) -> list[dict[str, JSON]]: ...

    def close(self) -> None: ...


class InProcessTarget:
    """A mock in this process (a MockCio of its own, or a given Flask app's), called through
    `MockCio.serve` (no socket, no WSGI, no interception): the request as a client would send it
    to Customer.io's host."""

    name = "in-process mock"

    def __init__(
        self, app: Any = None, config: Mapping[str, Any] | None = None, *, journal_on_disk: bool = False
    ) -> None:
        """`journal_on_disk=True` keeps the mock's journal in a temporary SQLite file (removed by
        `close`) instead of memory, so a long replay's memory does not grow with its journal. That
        file is scratch space (`CIO_DB_DURABLE=False`): nothing ever reopens it, so it is written
        without syncs and committed in groups; the journal reads the same through the mock."""
        self._folder: str | None = None
        if app is not None:
            self.mock = app.extensions["mock_cio"]
            return
        from mock_cio import MockCio  # the CLI's side of the sandbox/mock meeting point

        settings = dict(config or {})
        if journal_on_disk and "CIO_DB" not in settings:
            import tempfile

            self._folder = tempfile.mkdtemp(prefix="cio-sandbox-")
            settings["CIO_DB"] = f"{self._folder}/journal.db"
            settings.setdefault("CIO_DB_DURABLE", False)
        # The mock itself, without a Flask app around it: `send` calls MockCio.serve, never a route
        # (create_app would build the same MockCio from the same settings, and import Flask).
        self.mock = MockCio(settings)

    def send(self, request: CioRequest) -> Answer:
        parts = urlsplit(request.url)
        host = parts.hostname or "track.customer.io"
        headers = {_title(name): value for name, value in request.headers.items()}
        body = request.body_bytes() or b""
        got = self.mock.serve(request.method, host, parts.path or "/", parts.query, headers, body)
        answer_headers = {name.lower(): value for name, value in got.headers.items()}
        return Answer(got.status, _json_or_none(got.content, answer_headers), answer_headers, got.entry)

    def now(self) -> float:
        return float(self.mock.clock.now())

    def set_clock(self, t: float) -> None:
        self.mock.clock.move(t)

    def views(self) -> dict[str, JSON]:
        mock = self.mock
        return {
            "people": mock.people(),
            "objects": mock.objects(),
            "anonymous_events": mock.anonymous_events(),
            "metrics": mock.metrics() if hasattr(mock, "metrics") else [],
        }

    def workspaces(self) -> list[dict[str, JSON]]:
        views = getattr(self.mock, "workspaces", None)
        return list(views()) if views is not None else []

    def automation(self) -> dict[str, JSON]:
        """Members per segment, entries per campaign, warnings (mock_cio/automation.py)."""
        return self.mock.automation.summary()

    def close(self) -> None:
        if self._folder is not None:
            import shutil

            closer = getattr(self.mock, "close", None)
            if closer is not None:
                closer()
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


class HttpTarget:
    """A running mock (`cio-sandbox serve`) at `base_url`: each request goes to the same path there,
    with `X-Mock-Region` saying which Customer.io host it was meant for."""

    def __init__(self, base_url: str, session: Any = None, timeout: float = 30.0) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self.name = self.base_url
        self.session = session if session is not None else requests.Session()
        self.timeout = timeout
        self._errors = (requests.RequestException,)

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            return self.session.request(method, self.base_url + path, timeout=self.timeout, **kw)
        except self._errors as exc:
            raise InputError(f"cannot reach the mock: {exc}", self.base_url) from None

    def _admin(self, method: str, path: str, **kw: Any) -> JSON:
        response = self._call(method, path, **kw)
        if response.status_code >= 400:
            raise InputError(
                f"{method} {path} answered {response.status_code}: {response.text[:200]}", self.base_url
            )
        return response.json() if response.content else None

    def send(self, request: CioRequest) -> Answer:
        parts = urlsplit(request.url)
        headers = dict(request.headers)
        headers[REGION_HEADER] = "eu" if parts.hostname and parts.hostname.startswith("track-eu") else "us"
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = self._call(request.method, path, headers=headers, data=request.body_bytes())
        resp_headers = {k.lower(): v for k, v in response.headers.items()}
        journal: Mapping[str, JSON] | None = None
        entry_id = resp_headers.get(REQUEST_ID_HEADER.lower())
        if entry_id is not None:
            got = self._call("GET", f"/_mock/requests/{quote(entry_id)}")
            journal = got.json() if got.status_code == 200 else None
        else:
            got = self._call("GET", "/_mock/requests", params={"limit": 1})
            items = got.json() if got.status_code == 200 else []
            journal = _if_same(items[0] if isinstance(items, list) and items else None, request)
        return Answer(
            response.status_code, _json_or_none(response.content, resp_headers), resp_headers, journal
        )

    def now(self) -> float:
        data = self._admin("GET", "/_mock/clock")
        return float(data["now"]) if isinstance(data, dict) else 0.0

    def set_clock(self, t: float) -> None:
        self._admin("POST", "/_mock/clock", json={"now": t})

    def automation(self) -> dict[str, JSON]:
        """Members per segment, entries per campaign, warnings, through the admin API."""
        segments = self._admin("GET", "/_mock/segments") or []
        campaigns = self._admin("GET", "/_mock/campaigns") or []
        warnings = self._admin("GET", "/_mock/automation/warnings") or []
        return {
            "segments": {str(s["id"]): {"name": s["name"], "members": s["members"]} for s in segments},
            "campaigns": {str(c["id"]): {"name": c["name"], "entries": c["entries"]} for c in campaigns},
            "warnings": [w["message"] for w in warnings],
        }

    def views(self) -> dict[str, JSON]:
        return {
            "people": self._admin("GET", "/_mock/people"),
            "objects": self._admin("GET", "/_mock/objects"),
            "anonymous_events": self._admin("GET", "/_mock/anonymous_events"),
            "metrics": self._optional("/_mock/metrics"),
        }

    def workspaces(self) -> list[dict[str, JSON]]:
        data = self._optional("/_mock/workspaces")
        return data if isinstance(data, list) else []

    def _optional(self, path: str) -> JSON:
        response = self._call("GET", path)
        return response.json() if response.status_code == 200 else []

    def close(self) -> None:
        self.session.close()


# -- the engine ------------------------------------------------------------------------------------


class EventClock:
    """The mock's time for each event: its `receivedAt`, else its `timestamp`, never earlier than
    the previous event's; before any dated event, `start` (default: `DEFAULT_START`)."""

    def __init__(self, start: float | None = None) -> None:
        self.current: float | None = start

    def time_for(self, event: Mapping[str, JSON]) -> float:
        return self.advance(event_time(event))

    def advance(self, at: float | None) -> float:
        """The time for an event whose own time (`event_time`) is `at`."""
        if self.current is None:
            self.current = at if at is not None else DEFAULT_START
        elif at is not None and at > self.current:
            self.current = at
        return self.current


def event_time(event: Mapping[str, JSON]) -> float | None:
    """When Segment received the event (unix seconds), from `receivedAt` or `timestamp`."""
    for key in ("receivedAt", "timestamp"):
        value = event.get(key)
        if isinstance(value, str) and value:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                continue
            if moment.tzinfo is None:  # zone-less is UTC (docs/decisions.md §1.4)
                moment = moment.replace(tzinfo=UTC)
            return moment.timestamp()
    return None


class Replayer:
    """Replays events into a target with one configuration. Not thread-safe: one caller at a time
    (the live server holds its lock around `replay`).

    `explain=False` records only the subscriptions that matched, without their FQL checks and
    payloads (`run` without --records): the requests, answers and summary are the same."""

    def __init__(
        self, config: Config, target: Target, *, clock: ClockMode = "events", explain: bool = True
    ) -> None:
        self.config = config
        self.target = target
        self.clock_mode = clock
        self.explain = explain
        self.clock = EventClock()
        self._subscriptions: tuple[Subscription, ...] = config.subscriptions
        self._compiled = config.compiled  # FQL parsed and mappings validated once, when it was read
        self._last_set: float | None = None

    # single events

    def replay(
        self, event: Event, *, index: int = 0, now: float | None = None, where: str | None = None
    ) -> EventRecord:
        """Trace one event, deliver its requests, and return its record. `now` is the time the mock
        receives it (the caller has set the mock's clock); without it, the clock mode decides."""
        if now is None:
            now = self._receive(event)
        try:
            traced = trace(event, self.config.settings, self._compiled, now=now, explain=self.explain)
        except InputError as exc:
            raise InputError(exc.message, where or f"event {index}") from None
        deliveries: list[Delivery] = []
        for position, sub in enumerate(traced.subscriptions):
            for request in sub.requests:
                answer = self.target.send(request)
                deliveries.append(
                    Delivery(sub.subscription.name, position, sub.action, request, answer, (index,))
                )
        return EventRecord(index, event, traced, tuple(deliveries), now, where)

    def _receive(self, event: Mapping[str, JSON]) -> float:
        if self.clock_mode == "mock":
            return self.target.now()
        at = self.clock.time_for(event)
        if at != self._last_set:
            self.target.set_clock(at)
            self._last_set = at
        return at

    # streams

    def run(self, events: Iterable[Located | Event], *, batch: bool = False) -> Iterator[Record]:
        """Replay a stream of events in order, yielding a record per event (single mode) or per
        subscription and window (batch mode). Records are not kept."""
        if not batch:
            for index, item in enumerate(events):
                if isinstance(item, Located):
                    yield self.replay(item.event, index=index, where=item.where)
                else:
                    yield self.replay(_event(item, index), index=index)
            return
        window: list[Event] = []
        start = 0
        for index, item in enumerate(events):
            window.append(item.event if isinstance(item, Located) else _event(item, index))
            if len(window) == BATCH_WINDOW:
                yield from self._batch_window(window, start)
                start += len(window)
                window = []
        if window:
            yield from self._batch_window(window, start)

    def _batch_window(self, events: Sequence[Event], offset: int) -> Iterator[BatchWindow]:
        """One window in batch mode: subscriptions with enable_batching get one request per chunk
        (pipeline.plan's batch mode), the others one per event; the mock receives the window at the
        time of its last event."""
        now = self.target.now() if self.clock_mode == "mock" else self._receive_window(events)
        settings = self.config.settings
        records: list[BatchRecord] = []
        for position, compiled in enumerate(self._compiled):
            sub = compiled.subscription
            batching = compiled.mapping.get("enable_batching") is True
            deliveries: list[Delivery] = []
            invalid: list[Invalid] = []
            for line in plan_subscription(compiled, events, settings, batching, now=now):
                indexes = line.event_index if isinstance(line.event_index, tuple) else (line.event_index,)
                indexes = tuple(offset + i for i in indexes)
                if line.error is not None:  # one event, or a whole chunk the mapping failed on
                    invalid.extend(Invalid(line.subscription, line.action, line.error, i) for i in indexes)
                else:
                    assert line.request is not None
                    answer = self.target.send(line.request)
                    deliveries.append(
                        Delivery(line.subscription, position, line.action, line.request, answer, indexes)
                    )
            if deliveries or invalid:
                covered = sorted(
                    {i for d in deliveries for i in d.event_indexes} | {i.event_index for i in invalid}
                )
                records.append(
                    BatchRecord(
                        sub.name, sub.partnerAction, tuple(covered), tuple(deliveries), tuple(invalid), now
                    )
                )
        matched = len({i for r in records for i in r.event_indexes})
        yield BatchWindow(offset, len(events), matched, tuple(records), now)

    def _receive_window(self, events: Sequence[Event]) -> float:
        at = DEFAULT_START
        for event in events:
            at = self.clock.time_for(event)
        if at != self._last_set:
            self.target.set_clock(at)
            self._last_set = at
        return at


# -- helpers ---------------------------------------------------------------------------------------


def _event(item: Any, index: int) -> Event:
    return check_event(item, f"event {index}")


_TITLED: dict[str, str] = {}


def _title(name: str) -> str:
    """A header name as an HTTP server shows it (`content-type` → `Content-Type`)."""
    titled = _TITLED.get(name)
    if titled is None:
        titled = "-".join(part.capitalize() for part in name.split("-"))
        if len(_TITLED) < 256:
            _TITLED[name] = titled
    return titled


def _json_or_none(raw: bytes, headers: Mapping[str, str]) -> JSON:
    if not raw or "json" not in headers.get("content-type", ""):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _if_same(entry: Mapping[str, JSON] | None, request: CioRequest) -> Mapping[str, JSON] | None:
    """The newest journal entry, if it is this request (another client may have come in between)."""
    if entry is None:
        return None
    path = urlsplit(request.url).path
    if (
        entry.get("method") != request.method
        or entry.get("path") != path
        or entry.get("body") != request.body
    ):
        return None
    return entry


def _reason_from_body(body: JSON) -> str | None:
    """The message of a Customer.io error body (v1 `meta.errors`/`meta.error`, v2 `errors[].message`)."""
    if not isinstance(body, dict):
        return None
    meta = body.get("meta")
    if isinstance(meta, dict):
        if isinstance(meta.get("error"), str):
            return str(meta["error"])
        errors = meta.get("errors")
        if isinstance(errors, list) and errors:
            return "; ".join(str(e) for e in errors)
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
    return None


def _plain(value: Any) -> JSON:
    """Trace values as JSON: MISSING (JS undefined) becomes absent (None inside lists)."""
    if value is MISSING:
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not MISSING}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
