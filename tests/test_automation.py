"""Data-driven segments and campaign triggers in the mock (mock_cio/segments/): the seed's case,
the anonymous-merge journey, the admin API, restarts and clock moves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mock_cio.mock import MockCio
from tests.mock_support import T0, Track, make

DAY = 86400
SIGNED_UP = {
    "id": 1,
    "name": "Signed up",
    "conditions": {"attribute": {"field": "created_at", "operator": "is_timestamp"}},
}
ONBOARDING = {"id": 5, "name": "Onboarding", "trigger": {"segment": {"id": 1}}}
ORDERS = {"id": 6, "name": "Thanks for ordering", "trigger": {"event": {"name": "Order Completed"}}}


def admin(track: Track, method: str, route: str, body: Any = None, **query: Any) -> Any:
    headers = {"X-Mock-Admin": "1"}
    return track.client.open(f"/_mock{route}", method=method, json=body, query_string=query, headers=headers)


def seeded(**config: Any) -> Track:
    return make({"CIO_SEGMENTS": [SIGNED_UP], "CIO_CAMPAIGNS": [ONBOARDING, ORDERS], **config})


def test_unix_created_at_joins_is_timestamp_segment_and_enters_the_campaign() -> None:
    track = seeded()
    track.put("/api/v1/customers/u1", {"created_at": int(T0) - 3600})
    entry = track.last()
    kinds = [c["kind"] for c in entry["changes"]]
    assert kinds[-2:] == ["segment_entered", "campaign_entered"]
    assert entry["changes"][-1]["trigger"] == {"segment": 1}
    assert [m["identifiers"]["id"] for m in track.mock.automation.members(1)] == ["u1"]
    assert track.mock.person("u1")["automation"]["segments"] == [1]
    assert track.mock.automation.warnings() == []


def test_iso_created_at_does_not_join_and_the_warning_names_attribute_and_value() -> None:
    track = seeded()
    track.put("/api/v1/customers/u1", {"created_at": "2024-03-05T12:34:56Z"})
    entry = track.last()
    assert not [c for c in entry["changes"] if c["kind"].startswith(("segment_", "campaign_"))]
    (note,) = entry["notes"]
    assert "created_at" in note and "'2024-03-05T12:34:56Z'" in note and "Unix" in note
    (warning,) = track.mock.automation.warnings()
    assert warning["attribute"] == "created_at" and warning["value"] == "2024-03-05T12:34:56Z"
    assert track.mock.automation.members(1) == [] and track.mock.automation.entries(5) == []
    track.put("/api/v1/customers/u1", {"created_at": 1709642096})  # fixed: the warning goes, they join
    assert track.mock.automation.warnings() == []
    assert len(track.mock.automation.entries(5)) == 1


def test_a_millisecond_number_is_no_timestamp() -> None:
    track = seeded()
    track.put("/api/v1/customers/u1", {"created_at": 1709642096000})
    assert "milliseconds" in track.last()["notes"][0]
    assert track.mock.automation.members(1) == []


def test_a_future_is_timestamp_starts_the_campaign_at_that_time() -> None:
    track = seeded()
    track.put("/api/v1/customers/u1", {"created_at": int(T0) + DAY})
    (entry,) = track.mock.automation.entries(5)
    assert entry["starts_at"] == T0 + DAY and entry["started"] is False
    track.mock.clock.advance(DAY)
    assert track.mock.automation.entries(5)[0]["started"] is True


def _anonymous_order_then_claim(delay: float) -> Track:
    track = seeded()
    track.post("/api/v1/events", {"name": "Order Completed", "anonymous_id": "anon-1", "timestamp": int(T0)})
    track.mock.clock.advance(delay)
    track.put("/api/v1/customers/u1", {"anonymous_id": "anon-1"})
    return track


def test_an_anonymous_event_claimed_after_10_minutes_triggers() -> None:
    track = _anonymous_order_then_claim(600)
    (entry,) = track.mock.automation.entries(6)
    assert entry["trigger"]["event"] == "Order Completed" and entry["trigger"]["merged_from_anonymous"]
    assert track.mock.person("u1")["automation"]["campaign_entries"][0]["campaign"] == 6


def test_an_anonymous_event_claimed_after_4_days_is_merged_but_does_not_trigger() -> None:
    track = _anonymous_order_then_claim(4 * DAY)
    person = track.mock.person("u1")
    assert [e["name"] for e in person["events"]] == ["Order Completed"]
    assert person["events"][0]["can_trigger"] is False
    assert track.mock.automation.entries(6) == []
    assert any("does not trigger" in n and "72 hours" in n for n in track.last()["notes"])


def test_backfilled_events_do_not_trigger_and_frequency_once_limits() -> None:
    track = seeded()
    track.post("/api/v1/customers/u1/events", {"name": "Order Completed", "timestamp": int(T0) - 4 * DAY})
    assert track.mock.automation.entries(6) == [] and "backfilled" in track.last()["notes"][-1]
    track.post("/api/v1/customers/u1/events", {"name": "Order Completed"})
    track.post("/api/v1/customers/u1/events", {"name": "Order Completed"})
    assert len(track.mock.automation.entries(6)) == 1
    assert "frequency once" in track.last()["notes"][-1]
    every = {**ORDERS, "frequency": "every_time"}
    assert admin(track, "PUT", "/campaigns/6", every).status_code == 200
    track.post("/api/v1/customers/u1/events", {"name": "Order Completed"})
    assert len(track.mock.automation.entries(6)) == 2


def test_event_trigger_data_and_filter() -> None:
    campaign = {
        "id": 9, "name": "Big orders",
        "trigger": {"event": {"name": "Order Completed", "data": [{"field": "total", "operator": "gt", "value": 100}]}},
        "filter": {"attribute": {"field": "plan", "operator": "eq", "value": "pro"}},
        "frequency": "every_time",
    }  # fmt: skip
    track = make({"CIO_CAMPAIGNS": [campaign]})
    track.put("/api/v1/customers/u1", {"plan": "pro"})
    track.put("/api/v1/customers/u2", {"plan": "free"})
    track.post("/api/v1/customers/u1/events", {"name": "Order Completed", "data": {"total": 50}})
    track.post("/api/v1/customers/u1/events", {"name": "Order Completed", "data": {"total": 500}})
    track.post("/api/v1/customers/u2/events", {"name": "Order Completed", "data": {"total": 500}})
    assert "does not meet its filter" in track.last()["notes"][-1]
    assert [e["person"] for e in track.mock.automation.entries(9)] == ["a3000001"]


def test_deleted_and_suppressed_people_leave_and_never_enter() -> None:
    track = seeded()
    track.put("/api/v1/customers/u1", {"created_at": int(T0)})
    track.delete("/api/v1/customers/u1")
    assert track.last()["changes"][-1] | {"at": 0} == {
        "kind": "segment_left", "person": "a3000001", "segment": 1, "at": 0, "reason": "delete"
    }  # fmt: skip
    assert track.mock.automation.members(1) == []
    track.post("/api/v1/customers/u2/suppress", {})
    track.put("/api/v1/customers/u2", {"created_at": int(T0)})
    assert len(track.mock.automation.entries(5)) == 1  # u1's, from before


def test_within_past_days_lets_people_go_as_the_clock_moves() -> None:
    recent = {"id": 2, "name": "Recent", "conditions": {"event": {"name": "Login", "within_days": 7}}}
    track = make({"CIO_SEGMENTS": [recent]})
    track.post("/api/v1/customers/u1/events", {"name": "Login"})
    assert len(track.mock.automation.members(2)) == 1
    track.mock.clock.advance(6 * DAY)
    assert len(track.mock.automation.members(2)) == 1
    track.mock.clock.advance(2 * DAY)
    assert track.mock.automation.members(2) == []
    history = track.mock.person("u1")["automation"]["segment_history"]
    assert [(h["kind"], h["at"]) for h in history] == [
        ("segment_entered", T0),
        ("segment_left", T0 + 8 * DAY),
    ]


def test_admin_api_put_get_delete_and_errors_naming_the_path() -> None:
    track = make()
    track.put("/api/v1/customers/u1", {"plan": "pro"})
    body = {
        "name": "Pros",
        "conditions": {"and": [{"attribute": {"field": "plan", "operator": "eq", "value": "pro"}}]},
    }
    r = admin(track, "PUT", "/segments/3", body)
    assert r.status_code == 200 and r.json["members"] == 1
    assert admin(track, "GET", "/segments").json == [{"id": 3, **body, "members": 1}]
    assert admin(track, "GET", "/segments/3/members").json[0]["identifiers"]["id"] == "u1"
    bad = {
        "name": "x",
        "conditions": {"and": [{"attribute": {"field": "plan", "operator": "equals", "value": 1}}]},
    }
    r = admin(track, "PUT", "/segments/4", bad)
    assert r.status_code == 400 and r.json["error"].startswith(
        "body.conditions.and[0].attribute.operator: unknown operator"
    )
    r = admin(track, "PUT", "/segments/4", {"name": "x", "conditions": {"segment": {"id": 4}}})
    assert r.status_code == 400 and "cycle" in r.json["error"]
    assert admin(track, "GET", "/segments/99").status_code == 404
    assert (
        admin(track, "PUT", "/campaigns/1", {"name": "c", "trigger": {"segment": {"id": 3}}}).status_code
        == 200
    )
    assert len(admin(track, "GET", "/campaigns/1/entries").json) == 1  # current members enter
    assert admin(track, "DELETE", "/segments/3").status_code == 400  # the campaign needs it
    assert admin(track, "DELETE", "/campaigns/1").json == {"deleted": 1}
    assert admin(track, "DELETE", "/segments/3").json == {"deleted": 3}
    assert admin(track, "DELETE", "/segments/3").status_code == 404
    assert admin(track, "PUT", "/campaigns/2", {"name": "c", "trigger": {}}).status_code == 400


def test_a_restart_gives_the_same_memberships_and_entries(tmp_path: Path) -> None:
    db = str(tmp_path / "j.db")
    track = make({"CIO_DB": db, "CIO_CAMPAIGNS": [ORDERS]})
    recent = {"name": "Recent", "conditions": {"event": {"name": "Login", "within_days": 7}}}
    admin(track, "PUT", "/segments/2", recent)
    admin(track, "PUT", "/segments/1", SIGNED_UP)
    admin(track, "PUT", "/campaigns/5", ONBOARDING)
    track.post("/api/v1/customers/u1/events", {"name": "Login"})
    track.put("/api/v1/customers/u2", {"created_at": int(T0)})
    track.post("/api/v1/customers/u2/events", {"name": "Order Completed"})
    track.mock.clock.advance(8 * DAY)
    track.post("/api/v1/customers/u3/events", {"name": "Login"})
    before = _automation(track.mock)
    track.mock.close()
    again = MockCio({"CIO_DB": db, "CIO_NOW": T0, "CIO_CAMPAIGNS": [ORDERS]})
    assert _automation(again) == before
    again.close()


def _automation(mock: MockCio) -> Any:
    a = mock.automation
    people = [a.person("cio_" + p["cio_id"]) for p in mock.people()]
    return a.segments(), [a.members(s["id"]) for s in a.segments()], a.entries(), a.warnings(), people


@pytest.mark.parametrize("bad", [[{"id": 1}], [{"id": "x", "name": "n", "conditions": {}}], "not json", 5])
def test_bad_cio_segments_at_start_up_say_where(bad: Any) -> None:
    from mock_cio.segments import SegmentError

    with pytest.raises(SegmentError, match=r"CIO_SEGMENTS"):
        MockCio({"CIO_SEGMENTS": bad})


def test_assertion_helpers_on_the_anonymous_merge_journey() -> None:
    from mock_cio.assertions import (
        assert_campaign_entered,
        assert_campaign_not_entered,
        assert_in_segment,
        assert_not_in_segment,
    )

    soon = _anonymous_order_then_claim(600)
    assert_campaign_entered(soon.mock, "u1", 6, count=1)
    late = _anonymous_order_then_claim(4 * DAY)
    assert_campaign_not_entered(late.mock, "u1", 6)
    with pytest.raises(AssertionError, match="entered campaign 6 0 time"):
        assert_campaign_entered(late.mock, "u1", 6)
    with pytest.raises(AssertionError, match="expected never"):
        assert_campaign_not_entered(soon.mock, "u1", 6)
    track = seeded()
    track.put("/api/v1/customers/u1", {"created_at": "2024-03-05T12:34:56Z"})
    assert_not_in_segment(track.app, "u1", 1)
    with pytest.raises(AssertionError, match=r"(?s)not in segment 1.*warning: .*2024-03-05T12:34:56Z"):
        assert_in_segment(track.app, "u1", 1)
    track.post("/api/v1/segments/7/add_customers", {"ids": ["u1"]})
    assert_in_segment(track.mock, "u1", 7)  # manual segments count too
    track.put("/api/v1/customers/u1", {"created_at": 1709642096})
    assert_in_segment(track.mock, "u1", 1)
    with pytest.raises(AssertionError, match="is in segment 1"):
        assert_not_in_segment(track.mock, "u1", 1)


def test_a_within_past_days_attribute_leaves_and_a_days_ago_rule_enters_as_time_passes() -> None:
    segments = [
        {"id": 1, "name": "new", "conditions": {"attribute": {"field": "signed", "operator": "within_past_days", "value": 3}}},
        {"id": 2, "name": "old", "conditions": {"attribute": {"field": "signed", "operator": "timestamp_before", "value": {"days_ago": 5}}}},
    ]  # fmt: skip
    track = make({"CIO_SEGMENTS": segments})
    track.put("/api/v1/customers/u1", {"signed": int(T0) - DAY})
    assert [len(track.mock.automation.members(s)) for s in (1, 2)] == [1, 0]
    track.mock.clock.advance(2 * DAY)  # signed 3 days ago: still within
    assert [len(track.mock.automation.members(s)) for s in (1, 2)] == [1, 0]
    track.mock.clock.advance(1)
    assert [len(track.mock.automation.members(s)) for s in (1, 2)] == [0, 0]
    track.mock.clock.advance(2 * DAY)
    assert [len(track.mock.automation.members(s)) for s in (1, 2)] == [0, 1]
    track.mock.clock.set(T0)  # back in time: everyone again
    assert [len(track.mock.automation.members(s)) for s in (1, 2)] == [1, 0]


def test_cio_segments_from_the_environment_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse
    import json as jsonlib

    from mock_cio import create_app
    from mock_cio.server import app_config

    monkeypatch.setenv("CIO_SEGMENTS", jsonlib.dumps([SIGNED_UP]))
    monkeypatch.setenv("CIO_CAMPAIGNS", jsonlib.dumps([ONBOARDING]))
    args = argparse.Namespace(db=":memory:", workspace=None, now=None, host="127.0.0.1", allow_host=[])
    config = app_config(args)
    mock = create_app(config).extensions["mock_cio"]
    assert [s["name"] for s in mock.automation.segments()] == ["Signed up"]
    assert [c["name"] for c in mock.automation.campaigns()] == ["Onboarding"]


def test_the_inspector_says_segment_and_campaign_changes_in_words() -> None:
    from sandbox.live.changes import describe

    entered = {"kind": "segment_entered", "person": "a3000001", "segment": 1, "at": T0}
    assert describe(entered) == "joined data-driven segment 1 (person a3000001)"
    campaign = {"kind": "campaign_entered", "campaign": 6, "person": "a3000001", "at": T0,
                "trigger": {"event": "Order Completed", "event_id": None, "merged_from_anonymous": True}}  # fmt: skip
    assert describe(campaign) == 'entered campaign 6 (person a3000001), triggered by event "Order Completed"'


def test_why_an_event_does_not_trigger_is_one_rule_with_the_data_conditions() -> None:
    from mock_cio.segments import Campaign
    from mock_cio.segments.engine import why_not_triggered
    from mock_cio.state.people import PersonEvent

    now = 1_700_000_000.0
    campaign = Campaign(
        9, "Big", {"event": {"name": "buy", "data": [{"field": "total", "operator": "gt", "value": 400}]}}
    )

    def event(name: str, total: int, can_trigger: bool = True, merged: bool = False) -> PersonEvent:
        return PersonEvent(None, name, "event", int(now), now, {"total": total}, merged, can_trigger)

    assert why_not_triggered(campaign, event("buy", 500), now) is None  # it triggers it
    assert why_not_triggered(campaign, event("view", 100), now) is None  # not its trigger event
    assert why_not_triggered(campaign, event("buy", 100), now) == (
        "its data does not meet the trigger's data conditions (total gt 400)"
    )
    assert "merged from an anonymous profile" in (
        why_not_triggered(campaign, event("buy", 500, can_trigger=False, merged=True), now) or ""
    )


def test_the_segment_history_is_the_persons_membership_changes_and_entries_as_journaled() -> None:
    """A person's `segment_history` (kept compactly by the engine) lists, in order and field for
    field, the membership changes and campaign entries the journal recorded for them, and a
    segment left for another reason (the segment deleted) with its reason."""
    pro = {"id": 2, "name": "Pro", "conditions": {"attribute": {"field": "plan", "operator": "eq", "value": "pro"}}}  # fmt: skip
    track = make({"CIO_SEGMENTS": [SIGNED_UP, pro], "CIO_CAMPAIGNS": [ONBOARDING, ORDERS]})
    track.put("/api/v1/customers/u1", {"created_at": int(T0) - 3600, "plan": "pro"})
    track.post("/api/v1/customers/u1/events", {"name": "Order Completed"})
    track.mock.clock.advance(60)
    track.put("/api/v1/customers/u1", {"plan": "free"})
    track.put("/api/v1/customers/u2", {"plan": "pro"})
    track.put("/api/v1/customers/u1", {"plan": "pro"})
    journaled = [
        c
        for entry in reversed(track.mock.requests())
        for c in entry["changes"]
        if c["kind"] in ("segment_entered", "segment_left", "campaign_entered") and c["person"] == "a3000001"
    ]
    assert [c["kind"] for c in journaled].count("segment_left") == 1
    assert track.mock.person("u1")["automation"]["segment_history"] == journaled
    assert admin(track, "DELETE", "/segments/2").status_code == 200
    history = track.mock.person("u1")["automation"]["segment_history"]
    assert history[:-1] == journaled
    assert history[-1] == {
        "kind": "segment_left", "person": "a3000001", "segment": 2, "at": T0 + 60, "reason": "segment deleted"
    }  # fmt: skip
    assert list(history[-1]) == ["kind", "person", "segment", "at", "reason"]  # the journal's order
    assert [list(c) for c in history[:-1]] == [list(c) for c in journaled]
