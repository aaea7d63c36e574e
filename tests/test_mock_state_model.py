"""A Hypothesis state machine: mock_cio.state's verbs against the people model (tests/cio_model.py).

After each step, the state's people (attributes, events, manual segments) and anonymous events must
equal the model's; at the end, replaying the same calls into a fresh state must give an equal snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from cio_model import (
    CioModel,
    anonymous_ids,
    attributes,
    event_ids,
    ids,
    people_of,
    segment_ids,
    steps,
)
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from mock_cio.state import CioState, Ident, WorkspaceState

T0 = 1_700_000_000.0


class StateVersusModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.state = CioState()
        self.ws = self.state.workspace("site")
        self.calls: list[Callable[[WorkspaceState], object]] = []
        self.model = CioModel(T0)

    def _call(self, fn: Callable[[WorkspaceState], object]) -> None:
        self.calls.append(fn)
        fn(self.ws)

    # ------------------------------------------------------------------ rules

    @rule(seconds=steps)
    def advance(self, seconds: int) -> None:
        self.model.advance(seconds)

    @rule(uid=ids, attrs=attributes)
    def identify(self, uid: str, attrs: dict) -> None:
        self._identify(uid, dict(attrs))

    @rule(uid=ids, attrs=attributes, anonymous_id=anonymous_ids)
    def claim(self, uid: str, attrs: dict, anonymous_id: str) -> None:
        self._identify(uid, {**attrs, "anonymous_id": anonymous_id})

    def _identify(self, uid: str, body: dict) -> None:
        now = self.model.now
        self._call(lambda ws: ws.identify(Ident("id", uid), body, now))
        self.model.identify(uid, body)

    @rule(uid=ids, event_id=event_ids)
    def track(self, uid: str, event_id: str | None) -> None:
        now, name = self.model.now, self.model.name()
        self._call(lambda ws: ws.track(Ident("id", uid), now, name=name, event_id=event_id))
        self.model.track(uid, name, event_id)

    @rule(anonymous_id=anonymous_ids, event_id=event_ids)
    def track_anonymous(self, anonymous_id: str, event_id: str | None) -> None:
        now, name = self.model.now, self.model.name()
        self._call(lambda ws: ws.track(None, now, name=name, event_id=event_id, anonymous_id=anonymous_id))
        self.model.track_anonymous(anonymous_id, name, event_id)

    @rule(uid=ids)
    def delete(self, uid: str) -> None:
        now = self.model.now
        self._call(lambda ws: ws.delete_person(Ident("id", uid), now))
        self.model.delete(uid)

    @rule(uid=ids)
    def suppress(self, uid: str) -> None:
        now = self.model.now
        self._call(lambda ws: ws.suppress(Ident("id", uid), now))
        self.model.suppress(uid)

    @rule(uid=ids)
    def unsuppress(self, uid: str) -> None:
        now = self.model.now
        self._call(lambda ws: ws.unsuppress(Ident("id", uid), now))
        self.model.unsuppress(uid)

    @rule(segment=segment_ids, uids=st.lists(ids, min_size=1, max_size=3))
    def add_to_segment(self, segment: int | str, uids: list[str]) -> None:
        now = self.model.now
        self._call(lambda ws: ws.add_to_segment(segment, [Ident("id", uid) for uid in uids], now))
        self.model.add_to_segment(segment, uids)

    @rule(segment=segment_ids, uids=st.lists(ids, min_size=1, max_size=3))
    def remove_from_segment(self, segment: int | str, uids: list[str]) -> None:
        now = self.model.now
        self._call(lambda ws: ws.remove_from_segment(segment, [Ident("id", uid) for uid in uids], now))
        self.model.remove_from_segment(segment, uids)

    @rule(primary=ids, secondary=ids)
    def merge(self, primary: str, secondary: str) -> None:
        now = self.model.now
        self._call(lambda ws: ws.merge(Ident("id", primary), Ident("id", secondary), now))
        self.model.merge(primary, secondary)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def people_match_the_model(self) -> None:
        views = self.state.people()
        assert people_of(views) == self.model.people_view()
        assert [v["identifiers"]["id"] for v in views] == list(self.model.people)

    @invariant()
    def segments_match_the_model(self) -> None:
        actual = {view["identifiers"]["id"]: view.get("segments", []) for view in self.state.people()}
        assert actual == {uid: sorted(p.segments) for uid, p in self.model.people.items()}

    @invariant()
    def anonymous_events_match_the_model(self) -> None:
        actual = [(e["anonymous_id"], e["name"]) for e in self.state.anonymous_events(now=self.model.now)]
        assert actual == self.model.anonymous_view()

    def teardown(self) -> None:
        replayed = CioState()
        ws = replayed.workspace("site")
        for call in self.calls:
            call(ws)
        assert json.dumps(replayed.snapshot(), sort_keys=True) == json.dumps(
            self.state.snapshot(), sort_keys=True
        )


TestStateVersusModel = StateVersusModel.TestCase
