"""The attempt loop: events replayed through Segment's delivery rules, in virtual time.

It wraps the replay engine (`sandbox.replay.engine.Replayer`) without changing what it builds:
the engine traces each event (subscriptions, mapping, requests) into a capturing target, and
this loop sends each request to the real target as Segment would — at the event's arrival, then
again after each retryable failure (`rules.decide`), until it is delivered or dropped. Time is
virtual: every attempt moves the mock's clock to its own moment (`Target.set_clock`), so four
hours of retries replay in milliseconds and the mock's 30-day, 5-minute and 72-hour rules see
the times the requests really arrive. Attempts from different events interleave in time order
(a priority queue), as Segment's retries interleave with new traffic.

Batch mode: each window of events is planned as the engine plans it (`sandbox.pipeline.plan`);
when a batch fails with a retryable status its events wait for their retry, and the batch sent
then is formed anew from the events of that subscription and window due by that moment (stream
batching: a retried batch may hold different events).

Determinism: the backoff's jitter comes from `random.Random(seed)`, drawn once per failed
attempt in attempt order, so a seed gives the same attempts and the same report.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.actions.request import CioRequest
from sandbox.delivery import rules
from sandbox.delivery.report import DeliveryReport, EventFate
from sandbox.js.values import JSON, Event
from sandbox.replay.config import Config
from sandbox.replay.engine import (
    BATCH_WINDOW,
    Answer,
    BatchRecord,
    BatchWindow,
    Delivery,
    EventClock,
    EventRecord,
    Invalid,
    Record,
    Replayer,
    Target,
)
from sandbox.replay.events import Located

LATENCY_HEADER = "x-mock-latency"
"""The mock's answer latency in mock seconds (mock_cio.faults); absent means an instant answer."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt of one request: its number (1 = first), when it was sent (virtual seconds),
    how long the answer took, the status Segment saw (408 for a timeout) and what it decided."""

    number: int
    sent_at: float
    latency: float
    status: int
    decision: str
    reason: str
    retry_at: float | None

    def to_dict(self) -> dict[str, JSON]:
        return {
            "number": self.number,
            "sent_at": self.sent_at,
            "latency": self.latency,
            "seen_status": self.status,
            "decision": self.decision,
            "reason": self.reason,
            "retry_at": self.retry_at,
        }


class _Capture:
    """A target that answers nothing: the engine traces into it, the loop sends for real."""

    name = "capture"

    def __init__(self) -> None:
        self.at = 0.0

    def send(self, request: CioRequest) -> Answer:
        return Answer(0, None, {}, None)

    def now(self) -> float:
        return self.at

    def set_clock(self, t: float) -> None:
        self.at = t

    def views(self) -> dict[str, JSON]:
        return {}

    def workspaces(self) -> list[dict[str, JSON]]:
        return []

    def close(self) -> None:
        pass


@dataclass(slots=True)
class _Event:
    """An event while some of its requests are still under way."""

    index: int
    event: Event
    arrival: float
    where: str | None = None
    trace: Any = None
    open: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    attempts: int = 0
    dropped: str | None = None
    last_sent: float | None = None
    delivered_at: float | None = None
    rejected_items: int = 0


@dataclass(slots=True)
class _Job:
    """One request (single mode) or one batch request under way."""

    position: int
    subscription: str
    action: str
    request: CioRequest | None
    indexes: tuple[int, ...]
    first_at: float
    attempt: int = 0
    window: int | None = None  # batch mode: the window's start
    reserved: bool = False  # its send slot is taken (the pacer held it back)


@dataclass(slots=True)
class _Window:
    start: int
    events: list[Event]
    arrival: float
    fates: dict[int, _Event]
    records: dict[int, list[Delivery]] = field(default_factory=dict)
    invalid: dict[int, list[Invalid]] = field(default_factory=dict)
    open: int = 0
    matched: int = 0
    due: dict[int, list[tuple[float, int, int]]] = field(default_factory=dict)
    """subscription position -> [(due time, event index, attempts so far)] waiting to be re-batched."""


class DeliveryLoop:
    """Replays events into `target` with Segment's delivery rules. `seed` seeds the backoff's
    jitter; `rate` caps the send rate (requests/second, backfill planning: every event is then
    available at the start and waits its turn); `explain` as for `Replayer`."""

    def __init__(
        self,
        config: Config,
        target: Target,
        *,
        clock: str = "events",
        explain: bool = True,
        seed: int = 0,
        rate: float | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.target = target
        self.clock_mode = clock
        self.capture = _Capture()
        self.replayer = Replayer(config, self.capture, clock="mock", explain=explain)
        self.rng = rng if rng is not None else random.Random(seed)
        self.pacer = rules.Pacer(rate)
        self.rate = rate
        self.report = DeliveryReport(rate=rate)
        self._clock = EventClock()
        self._start: float | None = None
        self._heap: list[tuple[float, int, _Job]] = []
        self._seq = 0
        self._set: float | None = None
        self._pending: dict[int, _Event] = {}
        self._windows: dict[int, _Window] = {}

    # -- the stream ------------------------------------------------------------------------------

    def run(self, events: Iterable[Located | Event], *, batch: bool = False) -> Iterator[Record]:
        """Yield each event's record (single mode) or each window's (batch mode) once every
        request in it is delivered or dropped; records come in the order they finish."""
        if batch:
            yield from self._run_batches(events)
        else:
            heap = self._heap
            for index, item in enumerate(events):
                event, where = _unpack(item, index)
                arrival = self._arrival(event)
                if heap and heap[0][0] <= arrival:
                    yield from self._drain(arrival)
                done = self._accept(event, index, arrival, where)
                if done is not None:
                    yield done
                if heap and heap[0][0] <= arrival:
                    yield from self._drain(arrival)
        yield from self._drain(float("inf"))

    def _arrival(self, event: Mapping[str, JSON]) -> float:
        if self._start is None:
            self._start = self.target.now() if self.clock_mode == "mock" else None
        if self.rate is not None or self.clock_mode == "mock":  # a backfill: all there at the start
            if self._start is None:
                self._start = self._clock.time_for(event)
            return self._start
        return self._clock.time_for(event)

    def _accept(self, event: Event, index: int, arrival: float, where: str | None) -> Record | None:
        """Trace the event and send its first attempts. Everything queued before is later than
        `arrival` (drained first), so while no send rate holds requests back the first attempts
        go out at once, in order, as they would after a trip through the queue."""
        self.capture.at = arrival
        traced = self.replayer.replay(event, index=index, now=arrival, where=where)
        fate = _Event(index, event, arrival, where, traced.trace)
        if not traced.deliveries:
            return self._finish_event(fate)
        self._pending[index] = fate
        jobs = [
            _Job(d.subscription_index, d.subscription, d.action, d.request, (index,), arrival)
            for d in traced.deliveries
        ]
        fate.open = len(jobs)
        pacer = self.pacer
        if pacer.cap is not None or pacer.rate is not None:
            for job in jobs:
                self._push(arrival, job)
            return None
        done = None
        for job in jobs:
            pacer.reserve(arrival)
            done = self._attempt(job, arrival) or done
        return done

    def _run_batches(self, events: Iterable[Located | Event]) -> Iterator[Record]:
        window: list[Event] = []
        start = 0
        arrival = 0.0
        for index, item in enumerate(events):
            event, _ = _unpack(item, index)
            arrival = self._arrival(event)
            window.append(event)
            if len(window) == BATCH_WINDOW:
                yield from self._drain(arrival)
                yield from self._accept_window(window, start, arrival)
                start += len(window)
                window = []
        if window:
            yield from self._drain(arrival)
            yield from self._accept_window(window, start, arrival)

    def _accept_window(self, events: list[Event], offset: int, arrival: float) -> Iterator[Record]:
        from sandbox.pipeline import plan

        win = _Window(offset, events, arrival, {})
        settings = self.config.settings
        for position, sub in enumerate(self.config.subscriptions):
            batching = sub.effective_mapping.get("enable_batching") is True
            for line in plan(events, settings, [sub], batch=batching, now=arrival):
                indexes = line.event_index if isinstance(line.event_index, tuple) else (line.event_index,)
                indexes = tuple(offset + i for i in indexes)
                for i in indexes:
                    win.fates.setdefault(i, _Event(i, events[i - offset], arrival))
                if line.error is not None:  # one event, or a whole chunk the mapping failed on
                    win.invalid.setdefault(position, []).extend(
                        Invalid(line.subscription, line.action, line.error, i) for i in indexes
                    )
                    continue
                win.open += 1
                for i in indexes:
                    win.fates[i].open += 1
                self._push(
                    arrival,
                    _Job(position, line.subscription, line.action, line.request, indexes, arrival,
                         window=offset),
                )  # fmt: skip
        win.matched = len(win.fates)
        self._windows[offset] = win
        yield from self._drain(arrival)
        if win.open == 0 and offset in self._windows:  # nothing was sent (or all of it is done)
            del self._windows[offset]
            yield self._finish_window(win)

    # -- attempts --------------------------------------------------------------------------------

    def _push(self, at: float, job: _Job) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, job))

    def _drain(self, until: float) -> list[Record]:
        """Send every queued attempt due by `until`, in time order; the records they complete."""
        heap = self._heap
        done: list[Record] = []
        while heap and heap[0][0] <= until:
            at, _, job = heapq.heappop(heap)
            if job.request is None:  # a batch retry: form the batch now
                done.extend(self._rebatch(job, at))
                continue
            if not job.reserved:
                slot = self.pacer.reserve(at)
                if slot > at:
                    job.reserved = True
                    self._push(slot, job)
                    continue
            job.reserved = False
            record = self._attempt(job, at)
            if record is not None:
                done.append(record)
        return done

    def _move(self, t: float) -> None:
        if t != self._set:
            self.target.set_clock(t)
            self._set = t

    def _attempt(self, job: _Job, at: float) -> Record | None:
        assert job.request is not None
        self._move(at)
        answer = self.target.send(job.request)
        job.attempt += 1
        latency = _latency(answer.headers)
        seen = rules.seen_status(answer.status, latency)
        if 200 <= seen <= 299:  # the common case, without a draw: decide() says deliver (tested)
            decision = rules.DELIVER
        else:
            decision = rules.decide(
                answer.status,
                latency=latency,
                sent_at=at,
                first_sent_at=job.first_at,
                attempt=job.attempt,
                u=self.rng.random(),
                wait_at_least=rules.retry_after(answer.headers.get("retry-after")),
            )
        self.pacer.answered(seen)
        attempt = Attempt(job.attempt, at, latency, seen, decision.kind, decision.reason, decision.retry_at)
        delivery = Delivery(
            job.subscription, job.position, job.action, job.request, answer, job.indexes, attempt=attempt
        )
        self.report.attempt(decision, at)
        if job.window is None:
            fate = self._pending[job.indexes[0]]
            fate.deliveries.append(delivery)
            self._note(fate, at, decision, job.attempt)
            if decision.kind == "retry":
                assert decision.retry_at is not None
                self._push(decision.retry_at, job)
                return None
            fate.open -= 1
            if fate.open == 0:
                del self._pending[fate.index]
                return self._finish_event(fate)
            return None
        win = self._windows[job.window]
        win.records.setdefault(job.position, []).append(delivery)
        items = _rejected_items(answer) if decision.kind == "deliver" else set()
        for offset, i in enumerate(job.indexes):
            fate = win.fates[i]
            self._note(fate, at, decision, job.attempt)
            if offset in items:
                fate.rejected_items += 1
            if decision.kind == "retry":
                assert decision.retry_at is not None
                win.due.setdefault(job.position, []).append((decision.retry_at, i, job.attempt))
            else:
                fate.open -= 1
        if decision.kind == "retry":
            assert decision.retry_at is not None
            self._push(
                decision.retry_at,
                _Job(job.position, job.subscription, job.action, None, job.indexes, job.first_at,
                     job.attempt, job.window),
            )  # fmt: skip
            return None
        win.open -= 1
        if win.open == 0:
            del self._windows[win.start]
            return self._finish_window(win)
        return None

    def _note(self, fate: _Event, at: float, decision: rules.Decision, attempt: int) -> None:
        fate.attempts = max(fate.attempts, attempt)
        fate.last_sent = at
        if decision.kind == "drop" and fate.dropped is None:
            fate.dropped = decision.reason
        elif decision.kind == "deliver":
            fate.delivered_at = at if fate.delivered_at is None else max(fate.delivered_at, at)

    def _rebatch(self, job: _Job, at: float) -> Iterator[Record]:
        """A batch retry is due: the events of this subscription and window due by `at` go out
        together, re-planned now (stream batching: the batch may differ from the one that failed)."""

        assert job.window is not None
        win = self._windows[job.window]
        waiting = win.due.get(job.position, [])
        ready = [w for w in waiting if w[0] <= at]
        win.due[job.position] = [w for w in waiting if w[0] > at]
        win.open -= 1  # this job is replaced by the batches planned now
        self._plan_retry(win, job, ready, at)
        if win.open == 0:
            del self._windows[win.start]
            yield self._finish_window(win)

    def _plan_retry(self, win: _Window, job: _Job, ready: list[tuple[float, int, int]], at: float) -> None:
        from sandbox.pipeline import plan

        if not ready:  # already sent with an earlier batch
            return
        sub = self.config.subscriptions[job.position]
        tries = {i: n for _, i, n in ready}
        first = {i: win.fates[i].arrival for _, i, _ in ready}
        events = [win.events[i - win.start] for i in sorted(tries)]
        order = sorted(tries)
        batching = sub.effective_mapping.get("enable_batching") is True
        covered: set[int] = set()
        for line in plan(events, self.config.settings, [sub], batch=batching, now=at):
            local = line.event_index if isinstance(line.event_index, tuple) else (line.event_index,)
            indexes = tuple(order[i] for i in local)
            covered.update(indexes)
            if line.error is not None or line.request is None:
                for i in indexes:
                    win.fates[i].open -= 1
                    win.fates[i].dropped = win.fates[i].dropped or "payload invalid on retry"
                continue
            win.open += 1
            self._push(
                at,
                _Job(job.position, line.subscription, line.action, line.request, indexes,
                     min(first[i] for i in indexes), max(tries[i] for i in indexes), job.window),
            )  # fmt: skip
        for i in order:  # planned into nothing this time: Segment cannot send it again
            if i not in covered:
                win.fates[i].dropped = win.fates[i].dropped or "payload invalid on retry"

    # -- records ---------------------------------------------------------------------------------

    def _finish_event(self, fate: _Event) -> EventRecord:
        self._count(fate)
        return EventRecord(
            fate.index, fate.event, fate.trace, tuple(fate.deliveries), fate.arrival, fate.where
        )

    def _finish_window(self, win: _Window) -> BatchWindow:
        for index in sorted(win.fates):
            self._count(win.fates[index])
        records: list[BatchRecord] = []
        for position, sub in enumerate(self.config.subscriptions):
            deliveries = tuple(win.records.get(position, ()))
            invalid = tuple(win.invalid.get(position, ()))
            if deliveries or invalid:
                covered = sorted(
                    {i for d in deliveries for i in d.event_indexes} | {i.event_index for i in invalid}
                )
                records.append(
                    BatchRecord(sub.name, sub.partnerAction, tuple(covered), deliveries, invalid, win.arrival)
                )
        return BatchWindow(win.start, len(win.events), win.matched, tuple(records), win.arrival)

    def _count(self, fate: _Event) -> None:
        if fate.attempts == 0:
            return
        self.report.event(
            EventFate(
                index=fate.index,
                event=fate.event,
                arrival=fate.arrival,
                attempts=fate.attempts,
                dropped=fate.dropped,
                delivered_at=fate.delivered_at,
                rejected_items=fate.rejected_items,
            )
        )


def _unpack(item: Located | Event, index: int) -> tuple[Event, str | None]:
    if isinstance(item, Located):
        return item.event, item.where
    from sandbox.pipeline import check_event  # the one "an event must be a JSON object" check

    return check_event(item, f"event {index}"), None


def _latency(headers: Mapping[str, str]) -> float:
    value = headers.get(LATENCY_HEADER)
    if value is None:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        return 0.0
    return seconds if seconds >= 0 else 0.0


def _rejected_items(answer: Answer) -> set[int]:
    """The batch items a 207 answer lists as failed (`errors[].batch_index`)."""
    if answer.status != 207 or not isinstance(answer.body, dict):
        return set()
    errors = answer.body.get("errors")
    if not isinstance(errors, list):
        return set()
    out: set[int] = set()
    for error in errors:
        if isinstance(error, dict) and isinstance(error.get("batch_index"), int):
            out.add(error["batch_index"])
    return out
