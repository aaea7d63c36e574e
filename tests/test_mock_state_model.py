"""A Hypothesis state machine: mock_cio.state against a small dict model of docs/decisions.md §2.

The model knows people by id only, keeps every anonymous event it ever received (an expired event can
never be claimed again, because the clock only moves forward) and hides expired ones when compared.
After each step, the state's people (attributes, events, manual segments) and anonymous events must
equal the model's; at the end, replaying the same calls into a fresh state must give an equal snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from mock_cio.state import CioState, Ident, WorkspaceState

T0 = 1_700_000_000.0
DAY = 86_400


# The model's own statement of the rules, independent of mock_cio.state.anonymous.
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
# Segment ids as the state accepts them: integers, or digit strings as a URL path holds them.
segment_ids = st.sampled_from([1, "1", 2, "02"])
attributes = st.dictionaries(st.sampled_from(["plan", "city", "age"]), attribute_values, max_size=3)
# Mostly short steps, so that claims meet events around the 5-minute and 72-hour edges; a few
# long ones reach the 30-day edge.
steps = st.sampled_from([0, 1, 60, 299, 300, 301, 3600, 3 * DAY - 1, 3 * DAY, 3 * DAY + 1]) | st.sampled_from(
    [30 * DAY - 1, 30 * DAY, 30 * DAY + 1]
)


@dataclass
class ModelEvent:
    name: str
    timestamp: int
    received_at: float
    merged: bool
    can_trigger: bool


@dataclass
class ModelPerson:
    attributes: dict[str, object] = field(default_factory=dict)
    events: list[ModelEvent] = field(default_factory=list)
    segments: set[int] = field(default_factory=set)


@dataclass
class ModelAnonymous:
    anonymous_id: str
    name: str
    received_at: float


class StateVersusModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = CioState()
        self.ws = self.state.workspace("site")
        self.calls: list[Callable[[WorkspaceState], object]] = []
        self.now = T0
        self.names = 0
        self.people: dict[str, ModelPerson] = {}
        self.anonymous: list[ModelAnonymous] = []
        self.claims: dict[str, tuple[str, float]] = {}
        self.blocked: set[str] = set()
        self.seen: set[str] = set()

    def _call(self, fn: Callable[[WorkspaceState], object]) -> None:
        self.calls.append(fn)
        fn(self.ws)

    def _name(self) -> str:
        self.names += 1
        return f"n{self.names}"

    def _release_claims(self, uid: str) -> None:
        self.claims = {a: c for a, c in self.claims.items() if c[0] != uid}

    # ------------------------------------------------------------------ rules

    @rule(seconds=steps)
    def advance(self, seconds: int) -> None:
        self.now += seconds

    @rule(uid=ids, attrs=attributes)
    def identify(self, uid: str, attrs: dict) -> None:
        self._identify(uid, attrs, None)

    @rule(uid=ids, attrs=attributes, anonymous_id=anonymous_ids)
    def claim(self, uid: str, attrs: dict, anonymous_id: str) -> None:
        self._identify(uid, attrs, anonymous_id)

    def _identify(self, uid: str, attrs: dict, anonymous_id: str | None) -> None:
        now = self.now
        body = dict(attrs) if anonymous_id is None else {**attrs, "anonymous_id": anonymous_id}
        self._call(lambda ws: ws.identify(Ident("id", uid), body, now))
        if uid in self.blocked:
            return
        person = self.people.setdefault(uid, ModelPerson())
        for name, value in body.items():
            if value is None or value == "":
                person.attributes.pop(name, None)
            else:
                person.attributes[name] = value
        if anonymous_id is None:
            return
        held = self.claims.get(anonymous_id)
        if held is not None and held[0] != uid:
            return
        self.claims[anonymous_id] = (uid, now)
        keep = []
        for event in self.anonymous:
            if event.anonymous_id == anonymous_id and claimable(event.received_at, now):
                stamp = int(event.received_at)
                person.events.append(
                    ModelEvent(event.name, stamp, event.received_at, True, can_trigger(now, stamp))
                )
            else:
                keep.append(event)
        self.anonymous = keep

    @rule(uid=ids, event_id=event_ids)
    def track(self, uid: str, event_id: str | None) -> None:
        now, name = self.now, self._name()
        self._call(lambda ws: ws.track(Ident("id", uid), now, name=name, event_id=event_id))
        if event_id in self.seen or uid in self.blocked:
            return
        if event_id is not None:
            self.seen.add(event_id)
        self.people.setdefault(uid, ModelPerson()).events.append(ModelEvent(name, int(now), now, False, True))

    @rule(anonymous_id=anonymous_ids, event_id=event_ids)
    def track_anonymous(self, anonymous_id: str, event_id: str | None) -> None:
        now, name = self.now, self._name()
        self._call(lambda ws: ws.track(None, now, name=name, event_id=event_id, anonymous_id=anonymous_id))
        if event_id in self.seen:
            return
        if event_id is not None:
            self.seen.add(event_id)
        held = self.claims.get(anonymous_id)
        if held is not None and claimable(now, held[1]):
            self.people[held[0]].events.append(ModelEvent(name, int(now), now, True, True))
        else:
            self.anonymous.append(ModelAnonymous(anonymous_id, name, now))

    @rule(uid=ids)
    def delete(self, uid: str) -> None:
        now = self.now
        self._call(lambda ws: ws.delete_person(Ident("id", uid), now))
        if self.people.pop(uid, None) is not None:
            self._release_claims(uid)

    @rule(uid=ids)
    def suppress(self, uid: str) -> None:
        now = self.now
        self._call(lambda ws: ws.suppress(Ident("id", uid), now))
        if self.people.pop(uid, None) is not None:
            self._release_claims(uid)
        self.blocked.add(uid)

    @rule(uid=ids)
    def unsuppress(self, uid: str) -> None:
        now = self.now
        self._call(lambda ws: ws.unsuppress(Ident("id", uid), now))
        self.blocked.discard(uid)

    @rule(segment=segment_ids, uids=st.lists(ids, min_size=1, max_size=3))
    def add_to_segment(self, segment: int | str, uids: list[str]) -> None:
        now = self.now
        self._call(lambda ws: ws.add_to_segment(segment, [Ident("id", uid) for uid in uids], now))
        for uid in uids:
            if uid in self.people:  # nobody is created; a suppressed id has no person
                self.people[uid].segments.add(int(segment))

    @rule(segment=segment_ids, uids=st.lists(ids, min_size=1, max_size=3))
    def remove_from_segment(self, segment: int | str, uids: list[str]) -> None:
        now = self.now
        self._call(lambda ws: ws.remove_from_segment(segment, [Ident("id", uid) for uid in uids], now))
        for uid in uids:
            if uid in self.people:
                self.people[uid].segments.discard(int(segment))

    @rule(primary=ids, secondary=ids)
    def merge(self, primary: str, secondary: str) -> None:
        now = self.now
        self._call(lambda ws: ws.merge(Ident("id", primary), Ident("id", secondary), now))
        if primary in self.blocked or secondary in self.blocked or primary == secondary:
            return
        into, other = self.people.get(primary), self.people.get(secondary)
        if into is None or other is None:
            return
        for name, value in other.attributes.items():
            into.attributes.setdefault(name, value)
        into.segments |= other.segments
        into.events.extend(
            ModelEvent(e.name, e.timestamp, e.received_at, e.merged, False)
            for e in other.events
            if e.timestamp >= now - 30 * DAY
        )
        self.claims = {
            a: (primary, at) if uid == secondary else (uid, at) for a, (uid, at) in self.claims.items()
        }
        del self.people[secondary]

    # ------------------------------------------------------------------ invariants

    @invariant()
    def people_match_the_model(self) -> None:
        actual = {
            view["identifiers"]["id"]: (
                view["attributes"],
                [
                    (e["name"], e["timestamp"], e["merged_from_anonymous"], e["can_trigger"])
                    for e in view["events"]
                ],
            )
            for view in self.state.people()
        }
        expected = {
            uid: (p.attributes, [(e.name, e.timestamp, e.merged, e.can_trigger) for e in p.events])
            for uid, p in self.people.items()
        }
        assert actual == expected
        assert [v["identifiers"]["id"] for v in self.state.people()] == list(self.people)

    @invariant()
    def segments_match_the_model(self) -> None:
        actual = {view["identifiers"]["id"]: view.get("segments", []) for view in self.state.people()}
        assert actual == {uid: sorted(p.segments) for uid, p in self.people.items()}

    @invariant()
    def anonymous_events_match_the_model(self) -> None:
        actual = [(e["anonymous_id"], e["name"]) for e in self.state.anonymous_events(now=self.now)]
        expected = [(e.anonymous_id, e.name) for e in self.anonymous if not expired(e.received_at, self.now)]
        assert actual == expected

    def teardown(self) -> None:
        replayed = CioState()
        ws = replayed.workspace("site")
        for call in self.calls:
            call(ws)
        assert json.dumps(replayed.snapshot(), sort_keys=True) == json.dumps(
            self.state.snapshot(), sort_keys=True
        )


TestStateVersusModel = StateVersusModel.TestCase
