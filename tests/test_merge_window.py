"""The anonymous-event merge window: the pure rules, and the same laws observed through the state.

An anonymous event is merged iff it was received within 30 days before the claim (identify with
`anonymous_id`) or up to 5 minutes after it; unclaimed events are deleted 30 days after receipt; a
merged event can trigger campaigns iff the merge came at most 72 hours after its timestamp.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mock_cio.state import CioState, Ident, can_trigger, claimable, expired, expires_at
from mock_cio.state.anonymous import LATE_WINDOW, RETENTION, TRIGGER_WINDOW, AnonymousStore

T0 = 1_700_000_000.0
DAY = 86_400

# Offsets that sit on and around every boundary, plus anything within ±40 days.
_EDGES = [-RETENTION - 1, -RETENTION, -RETENTION + 1, -1, 0, 1, LATE_WINDOW - 1, LATE_WINDOW, LATE_WINDOW + 1]
offsets = st.sampled_from(_EDGES) | st.integers(-40 * DAY, 40 * DAY)
fractional_offsets = offsets.map(float) | st.floats(-40 * DAY, 40 * DAY, allow_nan=False)


@given(received=fractional_offsets, claim=fractional_offsets)
def test_claimable_is_the_window(received: float, claim: float) -> None:
    expected = claim - 30 * DAY <= received <= claim + 5 * 60
    assert claimable(T0 + received, T0 + claim) is expected


@given(age=fractional_offsets.filter(lambda x: x >= 0))
def test_expired_means_no_longer_claimable_by_a_claim_made_now(age: float) -> None:
    received, now = T0, T0 + age
    assert expired(received, now) is (not claimable(received, now))
    assert expired(received, now) is (now > expires_at(received))


@given(
    lag=st.sampled_from([TRIGGER_WINDOW - 1, TRIGGER_WINDOW, TRIGGER_WINDOW + 1])
    | st.integers(-10 * DAY, 10 * DAY)
)
def test_can_trigger_is_72_hours_after_the_event_timestamp(lag: int) -> None:
    assert can_trigger(T0 + lag, T0) is (lag <= 72 * 3600)


@given(a=st.integers(-10 * DAY, 10 * DAY), b=st.integers(-10 * DAY, 10 * DAY))
def test_can_trigger_is_monotonic_in_the_merge_time(a: int, b: int) -> None:
    early, late = sorted((a, b))
    assert can_trigger(T0 + late, T0) <= can_trigger(T0 + early, T0)


@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), offsets), max_size=12), offsets)
def test_store_take_returns_exactly_the_claimable_events(events: list[tuple[str, int]], claim: int) -> None:
    store = AnonymousStore()
    for anonymous_id, received in events:
        store.add(anonymous_id=anonymous_id, event_id=None, name="e", type="event", timestamp=0,
                  received_at=T0 + received, data=None)  # fmt: skip
    taken = store.take("a", T0 + claim)
    assert sorted(e.received_at for e in taken) == sorted(
        T0 + r for a, r in events if a == "a" and claimable(T0 + r, T0 + claim)
    )
    assert len(store) == len(events) - len(taken)


@given(st.lists(offsets, max_size=12), offsets)
def test_store_expire_drops_exactly_the_expired_events(received: list[int], now: int) -> None:
    store = AnonymousStore()
    for r in received:
        store.add(anonymous_id="a", event_id=None, name="e", type="event", timestamp=0, received_at=T0 + r,
                  data=None)  # fmt: skip
    dropped = store.expire(T0 + now).get("a", 0)
    assert dropped == sum(1 for r in received if expired(T0 + r, T0 + now))
    assert sorted(e.received_at for e in store) == sorted(
        T0 + r for r in received if not expired(T0 + r, T0 + now)
    )


def _events(state: CioState, person: str) -> list[dict]:
    view = state.person(person)
    return [] if view is None else view["events"]


@given(received=offsets, lag=st.integers(0, 5 * DAY))
def test_an_anonymous_event_is_merged_iff_received_in_the_window(received: int, lag: int) -> None:
    """Events before the claim are stored first; events after it arrive after it."""
    state = CioState()
    ws = state.workspace("site")
    claim_at = T0
    timestamp = int(T0 + received) - lag
    if received <= 0:
        ws.track(None, claim_at + received, name="seen", anonymous_id="anon", timestamp=timestamp)
        ws.identify(Ident("id", "u1"), {"anonymous_id": "anon"}, claim_at)
    else:
        ws.identify(Ident("id", "u1"), {"anonymous_id": "anon"}, claim_at)
        ws.track(None, claim_at + received, name="seen", anonymous_id="anon", timestamp=timestamp)
    merged = [e for e in _events(state, "u1") if e["name"] == "seen"]
    anonymous = state.anonymous_events()
    if claimable(claim_at + received, claim_at):
        assert len(merged) == 1 and anonymous == []
        event = merged[0]
        assert event["merged_from_anonymous"] is True
        merge_time = max(claim_at, claim_at + received)
        assert event["can_trigger"] is can_trigger(merge_time, timestamp)
        assert event["received_at"] == claim_at + received
    else:
        assert merged == []
        if received < 0:  # older than 30 days at the claim: already deleted
            assert anonymous == []
        else:  # more than 5 minutes after the claim: stays anonymous
            assert [e["name"] for e in anonymous] == ["seen"]


@given(received=offsets)
def test_nothing_merges_when_the_workspace_setting_is_off(received: int) -> None:
    state = CioState({"site": {"anonymous_merge": False}})
    ws = state.workspace("site")
    if received <= 0:
        ws.track(None, T0 + received, name="seen", anonymous_id="anon")
        outcome = ws.identify(Ident("id", "u1"), {"anonymous_id": "anon"}, T0)
    else:
        outcome = ws.identify(Ident("id", "u1"), {"anonymous_id": "anon"}, T0)
        ws.track(None, T0 + received, name="seen", anonymous_id="anon")
    assert _events(state, "u1") == []
    assert any("anonymous event merge is off" in n for n in outcome.notes)
    deleted_before_the_identify = received < 0 and expired(T0 + received, T0)
    assert len(state.anonymous_events()) == (0 if deleted_before_the_identify else 1)


@given(age=offsets.filter(lambda x: x >= 0))
def test_unclaimed_events_are_deleted_30_days_after_receipt(age: int) -> None:
    state = CioState()
    ws = state.workspace("site")
    ws.track(None, T0, name="seen", anonymous_id="anon", event_id="e1")
    later = T0 + age
    assert len(state.anonymous_events(now=later)) == (0 if age > RETENTION else 1)
    assert len(state.anonymous_events()) == 1  # views never delete
    outcome = ws.expire(later)
    gone = age > RETENTION
    assert len(state.anonymous_events()) == (0 if gone else 1)
    assert (
        outcome.changes == ({"kind": "anonymous_events_expired", "anonymous_id": "anon", "count": 1},)
    ) is gone


def test_a_second_claim_refreshes_the_five_minute_window() -> None:
    state = CioState()
    ws = state.workspace("site")
    ws.identify(Ident("id", "u1"), {"anonymous_id": "anon"}, T0)
    ws.track(None, T0 + 3600, name="late", anonymous_id="anon")
    assert state.anonymous_events()[0]["name"] == "late"
    outcome = ws.identify(Ident("id", "u1"), {"anonymous_id": "anon"}, T0 + 7200)
    assert {
        "kind": "events_merged",
        "person": "a3000001",
        "anonymous_id": "anon",
        "count": 1,
        "can_trigger": 1,
    } in (outcome.changes)
    assert state.anonymous_events() == []
    ws.track(None, T0 + 7200 + LATE_WINDOW, name="within", anonymous_id="anon")
    assert [e["name"] for e in _events(state, "u1")] == ["late", "within"]


def test_an_anonymous_id_claimed_by_one_person_is_not_moved_to_another() -> None:
    state = CioState()
    ws = state.workspace("site")
    ws.track(None, T0, name="first", anonymous_id="anon")
    ws.identify(Ident("id", "a"), {"anonymous_id": "anon"}, T0 + 10)
    ws.track(None, T0 + 20, name="second", anonymous_id="anon")
    outcome = ws.identify(Ident("id", "b"), {"anonymous_id": "anon"}, T0 + 30)
    assert outcome.notes == ("anonymous_id 'anon' already claimed by person cio_a3000001: not moved",)
    assert [e["name"] for e in _events(state, "a")] == ["first", "second"]
    assert _events(state, "b") == []
    ws.track(None, T0 + 40, name="third", anonymous_id="anon")
    assert [e["name"] for e in _events(state, "a")] == ["first", "second", "third"]


def test_a_claim_dies_with_its_person() -> None:
    state = CioState()
    ws = state.workspace("site")
    ws.identify(Ident("id", "a"), {"anonymous_id": "anon"}, T0)
    ws.delete_person(Ident("id", "a"), T0 + 1)
    ws.track(None, T0 + 2, name="orphan", anonymous_id="anon")
    assert [e["name"] for e in state.anonymous_events()] == ["orphan"]
    ws.identify(Ident("id", "b"), {"anonymous_id": "anon"}, T0 + 3)
    assert [e["name"] for e in _events(state, "b")] == ["orphan"]
