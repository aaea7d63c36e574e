"""The one model of Customer.io's people state, for the two state machines that check the mock
against it: tests/test_mock_state_model.py (the state's verbs) and tests/test_mock_model_http.py
(the same through the Track API and the admin API over HTTP).

It restates docs/decisions.md's rules independently of mock_cio.state: people by id, attributes set
and removed by null/"", event-id dedup, anonymous events claimed within 30 days before / 5 minutes
after a claim, the 72-hour "can trigger" flag, suppression blocks, merges keep the primary's values,
manual segments. It keeps every anonymous event it received (an expired one can never be claimed
again, because the clock only moves forward) and hides the expired ones in `anonymous_view`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

DAY = 86_400


def claimable(received_at: float, claim_at: float) -> bool:
    return claim_at - 30 * DAY <= received_at <= claim_at + 5 * 60


def expired(received_at: float, now: float) -> bool:
    return now - received_at > 30 * DAY


def can_trigger(merge_time: float, timestamp: float) -> bool:
    return merge_time - timestamp <= 72 * 3600


ids = st.sampled_from(["u0", "u1", "u2"])
anonymous_ids = st.sampled_from(["a0", "a1"])
event_ids = st.none() | st.sampled_from(["e0", "e1", "e2", "e3"])
attribute_values = st.none() | st.sampled_from(["", "x", "y", 1, True, 0])
attributes = st.dictionaries(st.sampled_from(["plan", "city", "age"]), attribute_values, max_size=3)
# Segment ids as the state accepts them: integers, or digit strings as a URL path holds them.
segment_ids = st.sampled_from([1, "1", 2, "02"])
# Mostly short steps, so that claims meet events around the 5-minute and 72-hour edges; a few
# long ones reach the 30-day edge.
steps = st.sampled_from([0, 1, 60, 299, 300, 301, 3600, 3 * DAY - 1, 3 * DAY, 3 * DAY + 1]) | st.sampled_from(
    [30 * DAY - 1, 30 * DAY, 30 * DAY + 1]
)


@dataclass
class ModelEvent:
    name: str
    timestamp: int
    merged: bool
    can_trigger: bool


@dataclass
class ModelPerson:
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[ModelEvent] = field(default_factory=list)
    segments: set[int] = field(default_factory=set)


@dataclass
class ModelAnonymous:
    anonymous_id: str
    name: str
    received_at: float


@dataclass
class CioModel:
    now: float
    people: dict[str, ModelPerson] = field(default_factory=dict)
    anonymous: list[ModelAnonymous] = field(default_factory=list)
    claims: dict[str, tuple[str, float]] = field(default_factory=dict)  # anonymous id → (uid, when)
    blocked: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)
    names: int = 0

    def name(self) -> str:
        """A fresh event name."""
        self.names += 1
        return f"n{self.names}"

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def _release_claims(self, uid: str) -> None:
        self.claims = {a: c for a, c in self.claims.items() if c[0] != uid}

    def identify(self, uid: str, body: dict[str, Any]) -> None:
        """`body` with an `anonymous_id` claims that id's anonymous events."""
        if uid in self.blocked:
            return
        now = self.now
        person = self.people.setdefault(uid, ModelPerson())
        for key, value in body.items():
            if value is None or value == "":
                person.attributes.pop(key, None)
            else:
                person.attributes[key] = value
        anonymous_id = body.get("anonymous_id")
        if not isinstance(anonymous_id, str) or not anonymous_id:
            return
        held = self.claims.get(anonymous_id)
        if held is not None and held[0] != uid:
            return
        self.claims[anonymous_id] = (uid, now)
        keep = []
        for event in self.anonymous:
            if event.anonymous_id == anonymous_id and claimable(event.received_at, now):
                stamp = int(event.received_at)
                person.events.append(ModelEvent(event.name, stamp, True, can_trigger(now, stamp)))
            else:
                keep.append(event)
        self.anonymous = keep

    def track(self, uid: str, name: str, event_id: str | None) -> None:
        if event_id in self.seen or uid in self.blocked:
            return
        if event_id is not None:
            self.seen.add(event_id)
        self.people.setdefault(uid, ModelPerson()).events.append(ModelEvent(name, int(self.now), False, True))

    def track_anonymous(self, anonymous_id: str, name: str, event_id: str | None) -> None:
        if event_id in self.seen:
            return
        if event_id is not None:
            self.seen.add(event_id)
        held = self.claims.get(anonymous_id)
        if held is not None and claimable(self.now, held[1]):
            self.people[held[0]].events.append(ModelEvent(name, int(self.now), True, True))
        else:
            self.anonymous.append(ModelAnonymous(anonymous_id, name, self.now))

    def delete(self, uid: str) -> None:
        if self.people.pop(uid, None) is not None:
            self._release_claims(uid)

    def suppress(self, uid: str) -> None:
        self.delete(uid)
        self.blocked.add(uid)

    def unsuppress(self, uid: str) -> None:
        self.blocked.discard(uid)

    def add_to_segment(self, segment: int | str, uids: list[str]) -> None:
        for uid in uids:
            if uid in self.people:  # nobody is created; a suppressed id has no person
                self.people[uid].segments.add(int(segment))

    def remove_from_segment(self, segment: int | str, uids: list[str]) -> None:
        for uid in uids:
            if uid in self.people:
                self.people[uid].segments.discard(int(segment))

    def merge(self, primary: str, secondary: str) -> None:
        if primary in self.blocked or secondary in self.blocked or primary == secondary:
            return
        into, other = self.people.get(primary), self.people.get(secondary)
        if into is None or other is None:
            return
        for key, value in other.attributes.items():
            into.attributes.setdefault(key, value)
        into.segments |= other.segments
        into.events.extend(
            ModelEvent(e.name, e.timestamp, e.merged, False)
            for e in other.events
            if e.timestamp >= self.now - 30 * DAY
        )
        self.claims = {
            a: (primary, at) if uid == secondary else (uid, at) for a, (uid, at) in self.claims.items()
        }
        del self.people[secondary]

    # what the mock's views must show

    def people_view(self) -> dict[str, tuple[dict[str, Any], list[tuple[str, int, bool, bool]]]]:
        return {
            uid: (p.attributes, [(e.name, e.timestamp, e.merged, e.can_trigger) for e in p.events])
            for uid, p in self.people.items()
        }

    def anonymous_view(self) -> list[tuple[str, str]]:
        return [(e.anonymous_id, e.name) for e in self.anonymous if not expired(e.received_at, self.now)]


def people_of(
    views: list[dict[str, Any]],
) -> dict[str, tuple[dict[str, Any], list[tuple[str, int, bool, bool]]]]:
    """The mock's person views in the shape of `CioModel.people_view`."""
    return {
        v["identifiers"]["id"]: (
            v["attributes"],
            [(e["name"], e["timestamp"], e["merged_from_anonymous"], e["can_trigger"]) for e in v["events"]],
        )
        for v in views
    }
