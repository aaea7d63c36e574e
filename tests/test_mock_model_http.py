"""A Hypothesis state machine: the mock over HTTP (intercept + requests) against a dict model.

Where the state-level machine (test_mock_state_model.py) calls `WorkspaceState` verbs, this one
goes through everything a user touches: the Track API v1 routes (identify, events, anonymous
events, delete, suppress, unsuppress, merge_customers), the admin API over HTTP for the clock and
every view (`RemoteMock` pointed at the intercepted host, which serves `/_mock/` too), and the
journal. The model is docs/decisions.md §2 written independently: people by id, attributes set and
removed by null/"", event-id dedup, anonymous events merged within 30 days before / 5 minutes
after a claim, the 72-hour "can trigger" flag, suppression blocks, merges keep the primary's values.

After every step: each answer was 200 and journaled as accepted with the answer's entry id, and
the people and anonymous events equal the model. At the end, a restart on the same SQLite file
gives the same snapshot.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import mock_cio
from mock_cio.remote import RemoteMock

T0 = 1_700_000_000
DAY = 86_400
US = "https://track.customer.io"
AUTH = ("site", "key")


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
steps = st.sampled_from([0, 1, 299, 300, 301, 3600, 3 * DAY, 3 * DAY + 1]) | st.sampled_from(
    [30 * DAY - 1, 30 * DAY, 30 * DAY + 1]
)


@dataclass
class Event:
    name: str
    timestamp: int
    merged: bool
    can_trigger: bool


@dataclass
class Person:
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)


@dataclass
class Anonymous:
    anonymous_id: str
    name: str
    received_at: float


class HttpVersusModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="mock-model-"))
        self.app = mock_cio.create_app({"CIO_NOW": T0, "CIO_DB": str(self.folder / "journal.db")})
        self.cio = mock_cio.intercept(self.app).start()
        # trust_env off: requests otherwise scans the environment for proxies on every call,
        # which costs more than the mock's answer.
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.auth = AUTH
        admin_session = requests.Session()
        admin_session.trust_env = False
        self.admin = RemoteMock(US, session=admin_session)  # the admin API, through the interceptor
        self.now = T0
        self.names = 0
        self.sent = 0
        self.people: dict[str, Person] = {}
        self.anonymous: list[Anonymous] = []
        self.claims: dict[str, tuple[str, float]] = {}
        self.blocked: set[str] = set()
        self.seen: set[str] = set()

    # ------------------------------------------------------------------ plumbing

    def send(self, method: str, path: str, body: dict[str, Any]) -> None:
        response = self.session.request(method, US + path, json=body)
        self.sent += 1
        assert response.status_code == 200, (method, path, body, response.text)
        assert response.text == "{}\n"
        entry = self.cio.request(int(response.headers["X-Mock-Request-Id"]))
        assert entry is not None
        assert (entry["method"], entry["path"], entry["body"]) == (method, path, body)
        assert (entry["status"], entry["outcome"], entry["received_at"]) == (200, "accepted", self.now)

    def name(self) -> str:
        self.names += 1
        return f"n{self.names}"

    def release_claims(self, uid: str) -> None:
        self.claims = {a: c for a, c in self.claims.items() if c[0] != uid}

    # ------------------------------------------------------------------ rules

    @rule(seconds=steps)
    def advance(self, seconds: int) -> None:
        clock = self.admin.clock.advance(seconds)
        self.now += seconds
        assert clock["now"] == self.now

    @rule(uid=ids, attrs=attributes)
    def identify(self, uid: str, attrs: dict[str, Any]) -> None:
        self._identify(uid, attrs, None)

    @rule(uid=ids, attrs=attributes, anonymous_id=anonymous_ids)
    def claim(self, uid: str, attrs: dict[str, Any], anonymous_id: str) -> None:
        self._identify(uid, attrs, anonymous_id)

    def _identify(self, uid: str, attrs: dict[str, Any], anonymous_id: str | None) -> None:
        body = dict(attrs) if anonymous_id is None else {**attrs, "anonymous_id": anonymous_id}
        self.send("PUT", f"/api/v1/customers/{uid}", body)
        if uid in self.blocked:
            return
        person = self.people.setdefault(uid, Person())
        for key, value in body.items():
            if value is None or value == "":
                person.attributes.pop(key, None)
            else:
                person.attributes[key] = value
        if anonymous_id is None:
            return
        held = self.claims.get(anonymous_id)
        if held is not None and held[0] != uid:
            return
        self.claims[anonymous_id] = (uid, self.now)
        keep = []
        for event in self.anonymous:
            if event.anonymous_id == anonymous_id and claimable(event.received_at, self.now):
                stamp = int(event.received_at)
                person.events.append(Event(event.name, stamp, True, can_trigger(self.now, stamp)))
            else:
                keep.append(event)
        self.anonymous = keep

    @rule(uid=ids, event_id=event_ids)
    def track(self, uid: str, event_id: str | None) -> None:
        name = self.name()
        body: dict[str, Any] = {"name": name} if event_id is None else {"name": name, "id": event_id}
        self.send("POST", f"/api/v1/customers/{uid}/events", body)
        if event_id in self.seen or uid in self.blocked:
            return
        if event_id is not None:
            self.seen.add(event_id)
        self.people.setdefault(uid, Person()).events.append(Event(name, int(self.now), False, True))

    @rule(anonymous_id=anonymous_ids, event_id=event_ids)
    def track_anonymous(self, anonymous_id: str, event_id: str | None) -> None:
        name = self.name()
        body: dict[str, Any] = {"name": name, "anonymous_id": anonymous_id}
        if event_id is not None:
            body["id"] = event_id
        self.send("POST", "/api/v1/events", body)
        if event_id in self.seen:
            return
        if event_id is not None:
            self.seen.add(event_id)
        held = self.claims.get(anonymous_id)
        if held is not None and claimable(self.now, held[1]):
            self.people[held[0]].events.append(Event(name, int(self.now), True, True))
        else:
            self.anonymous.append(Anonymous(anonymous_id, name, self.now))

    @rule(uid=ids)
    def delete(self, uid: str) -> None:
        self.send("DELETE", f"/api/v1/customers/{uid}", {})
        if self.people.pop(uid, None) is not None:
            self.release_claims(uid)

    @rule(uid=ids)
    def suppress(self, uid: str) -> None:
        self.send("POST", f"/api/v1/customers/{uid}/suppress", {})
        if self.people.pop(uid, None) is not None:
            self.release_claims(uid)
        self.blocked.add(uid)

    @rule(uid=ids)
    def unsuppress(self, uid: str) -> None:
        self.send("POST", f"/api/v1/customers/{uid}/unsuppress", {})
        self.blocked.discard(uid)

    @precondition(lambda self: len(self.people) >= 1)
    @rule(primary=ids, secondary=ids)
    def merge(self, primary: str, secondary: str) -> None:
        body = {"primary": {"id": primary}, "secondary": {"id": secondary}}
        self.send("POST", "/api/v1/merge_customers", body)
        if primary in self.blocked or secondary in self.blocked or primary == secondary:
            return
        into, other = self.people.get(primary), self.people.get(secondary)
        if into is None or other is None:
            return
        for key, value in other.attributes.items():
            into.attributes.setdefault(key, value)
        into.events.extend(
            Event(e.name, e.timestamp, e.merged, False)
            for e in other.events
            if e.timestamp >= self.now - 30 * DAY
        )
        self.claims = {
            a: (primary, at) if uid == secondary else (uid, at) for a, (uid, at) in self.claims.items()
        }
        del self.people[secondary]

    # ------------------------------------------------------------------ invariants

    @invariant()
    def views_match_the_model(self) -> None:
        actual = {
            v["identifiers"]["id"]: (
                v["attributes"],
                [
                    (e["name"], e["timestamp"], e["merged_from_anonymous"], e["can_trigger"])
                    for e in v["events"]
                ],
            )
            for v in self.admin.people()
        }
        expected = {
            uid: (p.attributes, [(e.name, e.timestamp, e.merged, e.can_trigger) for e in p.events])
            for uid, p in self.people.items()
        }
        assert actual == expected
        # One lookup by path per step, in turn, so each id is looked up both present and absent.
        uid = f"u{self.sent % 3}"
        found = self.admin.person(uid)
        assert (found is None) == (uid not in self.people)
        actual_anonymous = [(e["anonymous_id"], e["name"]) for e in self.admin.anonymous_events()]
        expected_anonymous = [
            (e.anonymous_id, e.name) for e in self.anonymous if not expired(e.received_at, self.now)
        ]
        assert actual_anonymous == expected_anonymous
        assert self.cio.mock.journal_count() == self.sent

    def teardown(self) -> None:
        try:
            assert self.admin.journal_count(outcome="accepted") == self.sent
            before = self.cio.snapshot()
            self.cio.stop()
            self.cio.mock.close()
            # The same config: CIO_NOW is the clock's start; what the admin API set is in the file.
            restarted = mock_cio.create_app({"CIO_NOW": T0, "CIO_DB": str(self.folder / "journal.db")})
            mock = restarted.extensions["mock_cio"]
            try:
                assert json.dumps(mock.snapshot(), sort_keys=True) == json.dumps(before, sort_keys=True)
                assert mock.clock.now() == self.now
            finally:
                mock.close()
        finally:
            self.cio.stop()
            self.session.close()
            shutil.rmtree(self.folder, ignore_errors=True)


TestHttpVersusModel = HttpVersusModel.TestCase
# Each step costs about five HTTP round trips through the interceptor; 25 steps (not 50) keep the
# ci profile near half a minute. Runs still reach every edge (steps include 30-day jumps), and the
# state-level machine (test_mock_state_model.py) explores long runs of the same rules.
TestHttpVersusModel.settings = settings(TestHttpVersusModel.settings, stateful_step_count=25)
