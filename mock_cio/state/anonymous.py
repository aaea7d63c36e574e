"""Anonymous activity: the merge window as small pure functions, and the store of unclaimed events.

Where it sits: `WorkspaceState.track` stores an event with an `anonymous_id` and no person here;
`WorkspaceState.identify` with an `anonymous_id` attribute claims the id and moves the claimable
events to the person. The rules (docs/decisions.md §2.6, docs/track-api.md §5):

- an anonymous event is kept 30 days after its receipt, then deleted (`expired`);
- a claim at time T takes every stored event with that id received in [T − 30 days, T + 5 minutes]
  (`claimable`); events received later than T + 5 minutes stay anonymous until another claim;
- a merged event "can trigger campaigns" iff the merge happened at most 72 hours after the event's
  own timestamp (`can_trigger`); a merge before the timestamp (a future-dated event) can trigger.

All bounds are inclusive, and `expired` is exactly "no longer claimable by a claim made now".
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from .verb_io import JSON

RETENTION: Final = 30 * 86_400
"""Seconds an unclaimed anonymous event is kept after its receipt."""

LATE_WINDOW: Final = 5 * 60
"""Seconds after a claim during which newly received events with the claimed id still merge."""

TRIGGER_WINDOW: Final = 72 * 3_600
"""Seconds after an event's timestamp within which merging it still lets it trigger campaigns."""


def claimable(event_received_at: float, identify_at: float) -> bool:
    """Whether a claim made at `identify_at` takes an event received at `event_received_at`."""
    return identify_at - RETENTION <= event_received_at <= identify_at + LATE_WINDOW


def expired(received_at: float, now: float) -> bool:
    """Whether an unclaimed event received at `received_at` is deleted by `now`."""
    return received_at < oldest_kept(now)


def oldest_kept(now: float) -> float:
    """The earliest receipt time of an unclaimed event still kept at `now` (`expired` is
    "received before it"); non-decreasing in `now`."""
    return now - RETENTION


def expires_at(received_at: float) -> float:
    """The last moment an unclaimed event still exists (it is gone just after)."""
    return received_at + RETENTION


def can_trigger(merge_time: float, event_timestamp: float) -> bool:
    """Whether an event merged at `merge_time` may trigger campaigns."""
    return merge_time - event_timestamp <= TRIGGER_WINDOW


@dataclass(frozen=True, slots=True)
class AnonymousEvent:
    """An event stored without a person. `anonymous_id` is None for a legacy "anonymous invite"
    (no id, `data.recipient`): it can never be claimed and only expires."""

    seq: int
    anonymous_id: str | None
    id: str | None
    name: str
    type: str
    timestamp: int
    received_at: float
    data: JSON


class AnonymousStore:
    """Unclaimed anonymous events by `anonymous_id`, with a heap on receipt time for expiry.

    Events taken by a claim stay in the heap and are skipped when they surface (lazy deletion),
    so storing, claiming and expiring are all O(log n) per event.
    """

    __slots__ = ("_by_id", "_heap", "_seq")

    def __init__(self) -> None:
        self._by_id: dict[str | None, dict[int, AnonymousEvent]] = {}
        self._heap: list[tuple[float, int, str | None]] = []
        self._seq = 0

    def add(self, *, anonymous_id: str | None, event_id: str | None, name: str, type: str,
            timestamp: int, received_at: float, data: JSON) -> AnonymousEvent:  # fmt: skip
        self._seq += 1
        event = AnonymousEvent(self._seq, anonymous_id, event_id, name, type, timestamp, received_at, data)
        self._by_id.setdefault(anonymous_id, {})[event.seq] = event
        heapq.heappush(self._heap, (received_at, event.seq, anonymous_id))
        return event

    def take(self, anonymous_id: str, claim_at: float) -> list[AnonymousEvent]:
        """Remove and return, in receipt order, the events with `anonymous_id` a claim at `claim_at` takes."""
        events = self._by_id.get(anonymous_id)
        if not events:
            return []
        taken = [e for e in events.values() if claimable(e.received_at, claim_at)]
        for event in taken:
            del events[event.seq]
        if not events:
            del self._by_id[anonymous_id]
        return taken

    def expire(self, now: float) -> dict[str | None, int]:
        """Delete every event that has expired by `now`; return how many per anonymous_id."""
        dropped: dict[str | None, int] = {}
        heap = self._heap
        while heap and expired(heap[0][0], now):
            _, seq, anonymous_id = heapq.heappop(heap)
            events = self._by_id.get(anonymous_id)
            if events is not None and events.pop(seq, None) is not None:
                dropped[anonymous_id] = dropped.get(anonymous_id, 0) + 1
                if not events:
                    del self._by_id[anonymous_id]
        return dropped

    def __iter__(self) -> Iterator[AnonymousEvent]:
        """Every stored event, in receipt order (then arrival order)."""
        everything = [e for events in self._by_id.values() for e in events.values()]
        return iter(sorted(everything, key=lambda e: (e.received_at, e.seq)))

    def __len__(self) -> int:
        return sum(len(events) for events in self._by_id.values())

    def count(self, anonymous_id: str | None) -> int:
        return len(self._by_id.get(anonymous_id, ()))

    @property
    def next_seq(self) -> int:
        return self._seq
