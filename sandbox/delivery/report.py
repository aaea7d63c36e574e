"""What Segment's delivery did to the events of a replay: the `delivery` block of `run`'s summary.

`DeliveryReport.event` takes each event's fate as the attempt loop closes it (records are not
kept, except the few numbers the window checks need for anonymous events and their identifies).

Counts: `attempts` (HTTP requests sent, retries included), `retried` (events that needed more
than one attempt of some request), `delivered`, `dropped` by reason, `delivered_late` (an event
whose delivering attempt went out after its arrival: retried, or held by the send rate) with
the largest delay, `reported_delivered_but_rejected` (batch items Segment counts as delivered
because their batch was answered 207, though Customer.io refused them), and `missed_windows`:
events that the delay pushed past a Customer.io window they would have met if sent on arrival —
an anonymous event sent more than 5 minutes after the identify that claims its anonymousId
(it stays anonymous), and an event sent more than 72 hours after its timestamp (it no longer
triggers campaigns).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sandbox.delivery.rules import Decision
from sandbox.js.values import JSON, Event

MERGE_WINDOW = 5 * 60.0
"""Seconds after an identify's claim during which anonymous events still merge (Customer.io)."""
TRIGGER_WINDOW = 72 * 3600.0
"""Seconds after an event's timestamp within which it may trigger campaigns (Customer.io)."""
ANONYMOUS_TYPES = ("track", "page", "screen")


@dataclass(frozen=True, slots=True)
class EventFate:
    """One event's delivery: `attempts` is the most attempts any of its requests took; `dropped`
    the reason of the first drop (None when every request was delivered); `delivered_at` when its
    last delivered request was sent; `rejected_items` how many of its batch items a 207 refused."""

    index: int
    event: Event
    arrival: float
    attempts: int
    dropped: str | None
    delivered_at: float | None
    rejected_items: int = 0


@dataclass(slots=True)
class DeliveryReport:
    rate: float | None = None
    attempts: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    events: int = 0
    delivered: int = 0
    retried: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    dropped_indexes: list[int] = field(default_factory=list)
    late: int = 0
    max_delay: float = 0.0
    rejected_items: int = 0
    late_72h: int = 0
    first_sent: float | None = None
    last_sent: float | None = None
    _claims: dict[str, tuple[float, float]] = field(default_factory=dict)
    _anonymous: list[tuple[str, float, float]] = field(default_factory=list)
    other_mode: dict[str, JSON] | None = None

    def attempt(self, decision: Decision, sent_at: float) -> None:
        self.attempts += 1
        self.decisions[decision.kind] += 1
        if self.rate is not None:  # the backfill's span
            if self.first_sent is None or sent_at < self.first_sent:
                self.first_sent = sent_at
            if self.last_sent is None or sent_at > self.last_sent:
                self.last_sent = sent_at

    def event(self, fate: EventFate) -> None:
        self.events += 1
        if fate.attempts > 1:
            self.retried += 1
        if fate.dropped is not None:
            self.dropped[fate.dropped] += 1
            if len(self.dropped_indexes) < 100:
                self.dropped_indexes.append(fate.index)
            return
        self.delivered += 1
        self.rejected_items += fate.rejected_items
        sent = fate.delivered_at if fate.delivered_at is not None else fate.arrival
        delay = sent - fate.arrival
        if delay > 0:  # only a delayed event can miss a window it would have met on arrival
            self.late += 1
            self.max_delay = max(self.max_delay, delay)
            stamp = _timestamp(fate.event)
            if stamp is not None and sent - stamp > TRIGGER_WINDOW >= fate.arrival - stamp:
                self.late_72h += 1
        self._windows(fate.event, sent, fate.arrival, delay > 0)

    def _windows(self, event: Event, sent: float, arrival: float, delayed: bool) -> None:
        """Claims (identify with userId and anonymousId) are kept; anonymous events only when
        delayed: one sent on arrival cannot be later than 5 minutes after a claim that came
        within 5 minutes of it."""
        anonymous_id = event.get("anonymousId")
        if not isinstance(anonymous_id, str) or not anonymous_id:
            return
        user_id = event.get("userId")
        if event.get("type") == "identify" and user_id not in (None, ""):
            claim = self._claims.get(anonymous_id)
            if claim is None or sent < claim[0]:
                self._claims[anonymous_id] = (sent, arrival)
        elif delayed and user_id in (None, "") and event.get("type") in ANONYMOUS_TYPES:
            self._anonymous.append((anonymous_id, sent, arrival))

    @property
    def missed_merge(self) -> int:
        """Anonymous events sent more than 5 minutes after their claim that would have merged if
        sent on arrival."""
        missed = 0
        for anonymous_id, sent, arrival in self._anonymous:
            claim = self._claims.get(anonymous_id)
            if claim is None:
                continue
            claimed_at, claim_arrival = claim
            if sent > claimed_at + MERGE_WINDOW and arrival <= claim_arrival + MERGE_WINDOW:
                missed += 1
        return missed

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {
            "model": "segment",
            "attempts": self.attempts,
            "events": self.events,
            "delivered": self.delivered,
            "retried": self.retried,
            "dropped": self.dropped_total,
            "dropped_by_reason": dict(sorted(self.dropped.items(), key=lambda x: (-x[1], x[0]))),
            "dropped_events": sorted(self.dropped_indexes),
            "delivered_late": {"count": self.late, "max_delay_seconds": round(self.max_delay, 3)},
            "reported_delivered_but_rejected": self.rejected_items,
            "missed_windows": {"anonymous_merge": self.missed_merge, "trigger_72h": self.late_72h},
        }
        if self.rate is not None:
            out["backfill"] = self.backfill()
        return out

    def backfill(self) -> dict[str, JSON]:
        span = 0.0 if self.first_sent is None or self.last_sent is None else self.last_sent - self.first_sent
        out: dict[str, JSON] = {"rate": self.rate, "seconds": round(span, 3), "attempts": self.attempts}
        if self.other_mode is not None:
            out["other_mode"] = self.other_mode
        return out

    def render(self) -> str:
        rows = [
            _row(
                "delivery",
                f"Segment's model: {_n(self.attempts)} attempts · {_n(self.delivered)} events delivered"
                f" · {_n(self.retried)} retried · {_n(self.dropped_total)} dropped",
            )
        ]
        for reason, count in sorted(self.dropped.items(), key=lambda x: (-x[1], x[0])):
            rows.append(_row("", f"{_n(count)}× dropped: {reason}"))
        if self.late:
            rows.append(
                _row("late", f"{_n(self.late)} delivered late (largest delay {_duration(self.max_delay)})")
            )
        if self.rejected_items:
            rows.append(
                _row(
                    "207",
                    f"{_n(self.rejected_items)} batch item(s) Segment reports delivered, "
                    "though Customer.io rejected them",
                )
            )
        if self.missed_merge or self.late_72h:
            rows.append(
                _row(
                    "windows",
                    f"{_n(self.missed_merge)} anonymous event(s) missed the 5-minute merge window"
                    f" · {_n(self.late_72h)} past the 72-hour trigger window",
                )
            )
        if self.rate is not None:
            plan = self.backfill()
            text = f"at {self.rate:g} req/s: {_duration(float(plan['seconds'] or 0))} for {_n(self.attempts)} requests"
            other = self.other_mode
            if other is not None:
                text += (
                    f" · {other['mode']} mode: {_n(int(other['requests']))} requests,"
                    f" about {_duration(float(other['seconds']))}"
                )
            rows.append(_row("backfill", text))
        return "\n".join(rows) + "\n"


def _timestamp(event: Event) -> float | None:
    value = event.get("timestamp")
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def _n(value: int) -> str:
    return f"{value:,}"


def _row(label: str, text: str) -> str:
    return f"  {label:<10} {text}"
