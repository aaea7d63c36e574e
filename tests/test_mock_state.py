"""Unit tests of mock_cio.state: each verb, each note, the views' shapes, determinism."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_cio.state import CioState, Ident, ObjectIdent, StateError, WorkspaceSettings, WorkspaceState

T0 = 1_709_642_096.0
DAY = 86_400


def ID(value: str) -> Ident:
    return Ident("id", value)


def EMAIL(value: str) -> Ident:
    return Ident("email", value)


@pytest.fixture
def state() -> CioState:
    return CioState()


@pytest.fixture
def ws(state: CioState) -> WorkspaceState:
    return state.workspace("site")


def kinds(outcome) -> list[str]:
    return [c["kind"] for c in outcome.changes]


# ---------------------------------------------------------------- identifiers and values


@pytest.mark.parametrize(
    ("text", "ident"),
    [
        ("u1", Ident("id", "u1")),
        ("cio_a3000001", Ident("cio_id", "a3000001")),
        ("Ann@Example.com", Ident("email", "Ann@Example.com")),
        ("+15551234567", Ident("id", "+15551234567")),
        ("cio_", Ident("id", "cio_")),
    ],
)
def test_ident_from_path_types_the_value_by_its_shape(text: str, ident: Ident) -> None:
    assert Ident.from_path(text) == ident


def test_ident_rejects_bad_kinds_and_values() -> None:
    with pytest.raises(StateError, match="kind 'phone'"):
        Ident("phone", "+1")  # type: ignore[arg-type]
    with pytest.raises(StateError, match="non-empty string"):
        Ident("id", "")
    with pytest.raises(StateError, match="exactly one"):
        Ident.from_identifiers({"id": "u1", "email": "a@b.c"})
    with pytest.raises(StateError, match=r"primary\.phone is not an identifier"):
        Ident.from_identifiers({"phone": "+1"}, "primary")
    assert Ident.from_identifiers({"id": 42}) == Ident("id", "42")


def test_object_ident_needs_a_pair_or_a_cio_object_id() -> None:
    with pytest.raises(StateError, match="object_type_id and object_id, or by cio_object_id"):
        ObjectIdent(object_type_id="1", object_id="acme", cio_object_id="ob000001")
    with pytest.raises(StateError, match=r"identifiers\.object_id must be a non-empty string"):
        ObjectIdent(object_type_id="1", object_id="")
    with pytest.raises(StateError, match=r"cio_relationships\[0\]\.identifiers must be"):
        ObjectIdent.from_identifiers({"object_id": "acme"}, "cio_relationships[0].identifiers")
    assert ObjectIdent.from_identifiers({"object_type_id": 1, "object_id": "acme"}) == ObjectIdent(
        "1", "acme"
    )


def test_settings_are_validated(state: CioState) -> None:
    with pytest.raises(StateError, match="region must be 'us' or 'eu'"):
        WorkspaceSettings(region="ap")  # type: ignore[arg-type]
    with pytest.raises(StateError, match="rate_limit must be a positive number"):
        state.configure("s", rate_limit=0)
    with pytest.raises(StateError, match="unknown workspace setting"):
        state.configure("s", colour="red")
    assert state.configure("s", region="EU", api_key="k").region == "eu"
    assert state.workspace("s").settings.api_key == "k"
    assert state.configure("s", anonymous_merge=False).region == "eu"


# ---------------------------------------------------------------- identify


def test_identify_creates_people_with_deterministic_cio_ids(state: CioState, ws: WorkspaceState) -> None:
    first = ws.identify(ID("u1"), {"name": "Ann"}, T0)
    ws.identify(ID("u2"), {}, T0)
    assert first.changes[0] == {
        "kind": "person_created",
        "person": "a3000001",
        "identifiers": {"id": "u1", "email": None, "cio_id": "a3000001"},
    }
    assert [p["cio_id"] for p in state.people()] == ["a3000001", "a3000002"]
    assert state.person("cio_a3000002")["identifiers"]["id"] == "u2"


def test_ids_are_case_sensitive_and_emails_are_not(state: CioState, ws: WorkspaceState) -> None:
    ws.identify(ID("u1"), {}, T0)
    ws.identify(ID("U1"), {}, T0)
    ws.identify(EMAIL("Ann@Example.com"), {"plan": "pro"}, T0)
    ws.identify(EMAIL("ann@example.COM"), {"seats": 3}, T0)
    assert len(state.people()) == 3
    ann = state.person("ANN@example.com")
    assert ann["identifiers"]["email"] == "Ann@Example.com"
    assert ann["attributes"] == {"plan": "pro", "seats": 3}


def test_attributes_are_added_updated_and_removed_only_by_empty_values(
    state: CioState, ws: WorkspaceState
) -> None:
    ws.identify(ID("u1"), {"a": 1, "b": "x", "c": True, "created_at": "2024-01-01"}, T0)
    outcome = ws.identify(ID("u1"), {"a": 2, "b": "", "c": None, "d": {"nested": [1]}}, T0 + 1)
    assert state.person("u1")["attributes"] == {"a": 2, "created_at": "2024-01-01", "d": {"nested": [1]}}
    assert outcome.changes == (
        {"kind": "attribute_set", "person": "a3000001", "name": "a", "old": 1, "new": 2},
        {"kind": "attribute_removed", "person": "a3000001", "name": "b", "old": "x"},
        {"kind": "attribute_removed", "person": "a3000001", "name": "c", "old": True},
        {"kind": "attribute_set", "person": "a3000001", "name": "d", "old": None, "new": {"nested": [1]}},
    )
    assert ws.identify(ID("u1"), {"a": 2}, T0 + 2).changes == ()
    # 1 and True are equal in Python but not the same JSON value
    assert kinds(ws.identify(ID("u1"), {"a": 2.0}, T0 + 3)) == ["attribute_set"]


def test_update_only_never_creates(state: CioState, ws: WorkspaceState) -> None:
    outcome = ws.identify(ID("u1"), {"_update": True, "a": 1}, T0)
    assert outcome.notes == ("no person matches id 'u1' and _update is true: nothing created",)
    assert state.people() == []
    ws.identify(ID("u1"), {}, T0)
    assert ws.identify(ID("u1"), {"a": 1}, T0, update_only=True).notes == ()
    assert state.person("u1")["attributes"] == {"a": 1}


def test_an_update_older_than_the_last_update_of_an_attribute_is_dropped(
    state: CioState, ws: WorkspaceState
) -> None:
    ws.identify(ID("u1"), {"plan": "pro", "seats": 1}, T0, timestamp=1000)
    outcome = ws.identify(ID("u1"), {"plan": "free", "city": "Oslo"}, T0, timestamp=999)
    assert outcome.notes == (
        "update time 999 is older than the last applied update of 'plan' on person cio_a3000001: not applied",
    )
    assert state.person("u1")["attributes"] == {"plan": "pro", "seats": 1, "city": "Oslo"}
    ws.identify(ID("u1"), {"plan": "team", "_timestamp": 1000}, T0)  # a tie applies
    assert state.person("u1")["attributes"]["plan"] == "team"
    # without a timestamp the receipt time counts, so an older backdated update is dropped
    ws.identify(ID("u1"), {"seats": 5}, T0)
    assert ws.identify(ID("u1"), {"seats": 2}, T0 + 1, timestamp=int(T0) - 1).notes
    assert state.person("u1")["attributes"]["seats"] == 5


def test_a_non_unix_update_timestamp_is_replaced_and_noted(ws: WorkspaceState) -> None:
    outcome = ws.identify(ID("u1"), {"a": 1}, T0, timestamp="yesterday")
    assert outcome.notes == (
        "timestamp 'yesterday' is not Unix seconds: replaced with receipt time 1709642096",
    )


def test_cio_id_addressing_changes_identifiers(state: CioState, ws: WorkspaceState) -> None:
    ws.identify(ID("u1"), {"email": "a@x.io"}, T0)
    outcome = ws.identify(Ident("cio_id", "a3000001"), {"id": "u9", "email": "b@x.io"}, T0)
    assert [(c["name"], c["old"], c["new"]) for c in outcome.changes] == [
        ("id", "u1", "u9"),
        ("email", "a@x.io", "b@x.io"),
    ]
    assert state.person("u1") is None
    assert state.person("b@x.io")["identifiers"] == {"id": "u9", "email": "b@x.io", "cio_id": "a3000001"}
    ws.identify(Ident("cio_id", "a3000001"), {"email": None}, T0)
    assert state.person("u9")["identifiers"]["email"] is None


def test_an_unknown_cio_id_drops_the_identify(state: CioState, ws: WorkspaceState) -> None:
    outcome = ws.identify(Ident("cio_id", "ffffffff"), {"a": 1}, T0)
    assert outcome.notes == ("no person matches cio_ffffffff: dropped",)
    assert state.people() == []


def test_path_and_body_naming_different_people_apply_nothing(state: CioState, ws: WorkspaceState) -> None:
    ws.identify(ID("u1"), {}, T0)
    ws.identify(EMAIL("b@x.io"), {}, T0)
    outcome = ws.identify(ID("u1"), {"email": "B@x.io", "a": 1}, T0)
    assert outcome.notes == (
        "attributes.email 'B@x.io' belongs to person cio_a3000002, not to person cio_a3000001 (id 'u1'): "
        "Attribute Update Failure, nothing applied",
    )
    assert outcome.changes == ()
    outcome = ws.identify(Ident("cio_id", "a3000001"), {"email": "b@x.io"}, T0)
    assert "Attribute Update Failure" in outcome.notes[0]
    # v2-style: id and email in the body belong to two people, the path to nobody
    outcome = ws.identify(ID("new"), {}, T0)
    ws.identify(EMAIL("c@x.io"), {"id": "u3"}, T0)
    ws.identify(EMAIL("d@x.io"), {}, T0)
    outcome = ws.identify(EMAIL("zz@x.io"), {"id": "u3", "email": "zz@x.io"}, T0)
    assert outcome.notes == ()  # only the id matches: that person gets the new email
    assert state.person("u3")["identifiers"]["email"] == "zz@x.io"


def test_a_new_path_identifier_goes_to_the_person_the_body_identifier_matches(
    state: CioState, ws: WorkspaceState
) -> None:
    ws.identify(EMAIL("a@x.io"), {}, T0)
    ws.identify(ID("u1"), {"email": "a@x.io"}, T0)  # email-only person gets the id
    assert len(state.people()) == 1
    assert state.person("u1")["identifiers"] == {"id": "u1", "email": "a@x.io", "cio_id": "a3000001"}
    ws.identify(ID("u2"), {"email": "A@X.io"}, T0)  # new id + existing email: the id changes
    assert state.person("u1") is None
    assert state.person("u2")["cio_id"] == "a3000001"


def test_identifier_changes_without_cio_addressing(state: CioState, ws: WorkspaceState) -> None:
    ws.identify(ID("u1"), {"email": "a@x.io"}, T0)
    outcome = ws.identify(ID("u1"), {"id": "u2"}, T0)
    assert outcome.notes == (
        "attributes.id 'u2' differs from the path's id 'u1': nothing applied "
        "(to change an identifier, address the person as cio_<cio_id>)",
    )
    ws.identify(ID("u1"), {"email": "new@x.io"}, T0)  # email_updates_by_id is on by default
    assert state.person("u1")["identifiers"]["email"] == "new@x.io"
    ws.configure(email_updates_by_id=False)
    outcome = ws.identify(ID("u1"), {"email": "newer@x.io", "a": 1}, T0)
    assert "needs the person addressed as cio_a3000001" in outcome.notes[0]
    assert state.person("u1")["attributes"] == {}
    outcome = ws.identify(ID("u1"), {"email": ""}, T0)
    assert "is removed only when the person is addressed as cio_a3000001; kept" in outcome.notes[0]
    assert state.person("u1")["identifiers"]["email"] == "new@x.io"
    ws.identify(EMAIL("new@x.io"), {"id": "u1"}, T0)  # same value: nothing to change
    outcome = ws.identify(EMAIL("new@x.io"), {"id": "u7"}, T0)  # an id changes only via cio_ addressing
    assert outcome.notes == (
        "person cio_a3000001 has id 'u1'; changing it to 'u7' needs the person addressed as cio_a3000001: "
        "Attribute Update Failure, nothing applied",
    )
    with pytest.raises(StateError, match="attributes.email must be a string"):
        ws.identify(ID("u1"), {"email": 5}, T0)
    with pytest.raises(StateError, match="anonymous_id names no person"):
        ws.identify(Ident("anonymous_id", "a"), {}, T0)


# ---------------------------------------------------------------- events


def test_track_creates_the_person_and_records_the_event(state: CioState, ws: WorkspaceState) -> None:
    outcome = ws.track(
        ID("u1"), T0, name="  Signed Up ", event_id="e1", data={"plan": "pro"}, timestamp=int(T0) - 10
    )
    assert kinds(outcome) == ["person_created", "event_added"]
    assert state.person("u1")["events"] == [
        {
            "id": "e1",
            "name": "Signed Up",
            "type": "event",
            "timestamp": int(T0) - 10,
            "received_at": T0,
            "data": {"plan": "pro"},
            "merged_from_anonymous": False,
            "can_trigger": True,
        }
    ]


def test_track_notes(state: CioState, ws: WorkspaceState) -> None:
    assert ws.track(Ident("cio_id", "a3000009"), T0, name="x").notes == (
        "no person matches cio_a3000009: dropped",
    )
    ws.track(ID("u1"), T0, name="x", event_id="e1")
    assert ws.track(EMAIL("a@x.io"), T0, name="y", event_id="e1").notes == (
        "event id 'e1' already seen: ignored",
    )
    assert ws.track(None, T0, name="y", event_id="e1", anonymous_id="a").notes == (
        "event id 'e1' already seen: ignored",
    )
    outcome = ws.track(ID("u1"), T0, name="z", timestamp=1709642096000)
    assert outcome.notes == (
        "timestamp 1709642096000 is not Unix seconds: replaced with receipt time 1709642096",
    )
    assert state.person("u1")["events"][-1]["timestamp"] == 1709642096
    outcome = ws.track(ID("u1"), T0, name="page", event_type="page", anonymous_id="anon-1")
    assert "is kept as data, not claimed" in outcome.notes[0]
    assert state.person("a@x.io") is None
    with pytest.raises(StateError, match="name must be a string"):
        ws.track(ID("u1"), T0, name=None)  # type: ignore[arg-type]


def test_backfilled_events_can_trigger_only_within_72_hours(state: CioState, ws: WorkspaceState) -> None:
    ws.track(ID("u1"), T0, name="recent", timestamp=int(T0) - 72 * 3600)
    ws.track(ID("u1"), T0, name="old", timestamp=int(T0) - 72 * 3600 - 1)
    assert [e["can_trigger"] for e in state.person("u1")["events"]] == [True, False]


def test_v2_anonymous_identifiers_make_an_anonymous_event(state: CioState, ws: WorkspaceState) -> None:
    outcome = ws.track(Ident("anonymous_id", "anon"), T0, name="Viewed", event_type="page", data={"url": "/"})
    assert outcome.changes == (
        {
            "kind": "anonymous_event_stored",
            "anonymous_id": "anon",
            "event_id": None,
            "name": "Viewed",
            "expires_at": T0 + 30 * DAY,
        },
    )
    assert state.anonymous_events() == [
        {
            "workspace": "site",
            "anonymous_id": "anon",
            "id": None,
            "name": "Viewed",
            "type": "page",
            "timestamp": int(T0),
            "received_at": T0,
            "expires_at": T0 + 30 * DAY,
            "data": {"url": "/"},
        }
    ]
    ws.track(None, T0, name="invite", data={"recipient": "x@y.z"})  # legacy anonymous invite
    assert state.anonymous_events()[1]["anonymous_id"] is None


def test_claiming_moves_events_and_reports_the_merge(state: CioState, ws: WorkspaceState) -> None:
    ws.track(None, T0 - 4 * DAY, name="old", anonymous_id="anon", timestamp=int(T0 - 4 * DAY))
    ws.track(None, T0 - 60, name="fresh", anonymous_id="anon")
    ws.track(None, T0 - 60, name="other", anonymous_id="someone-else")
    outcome = ws.identify(ID("u1"), {"anonymous_id": "anon"}, T0)
    assert outcome.changes[-2:] == (
        {"kind": "anonymous_id_claimed", "person": "a3000001", "anonymous_id": "anon", "at": T0},
        {"kind": "events_merged", "person": "a3000001", "anonymous_id": "anon", "count": 2, "can_trigger": 1},
    )
    events = state.person("u1")["events"]
    assert [(e["name"], e["merged_from_anonymous"], e["can_trigger"]) for e in events] == [
        ("old", True, False),
        ("fresh", True, True),
    ]
    assert state.person("u1")["attributes"] == {"anonymous_id": "anon"}
    assert [e["anonymous_id"] for e in state.anonymous_events()] == ["someone-else"]


def test_anonymous_id_keyword_claims_too(state: CioState, ws: WorkspaceState) -> None:
    ws.track(None, T0, name="x", anonymous_id="anon")
    ws.identify(ID("u1"), {}, T0, anonymous_id="anon")
    assert len(state.person("u1")["events"]) == 1


def test_expiry_is_reported_by_the_verb_that_performs_it(ws: WorkspaceState) -> None:
    ws.track(None, T0, name="x", anonymous_id="anon")
    ws.track(None, T0, name="y", anonymous_id="anon")
    outcome = ws.identify(ID("u1"), {}, T0 + 31 * DAY)
    assert outcome.changes[0] == {"kind": "anonymous_events_expired", "anonymous_id": "anon", "count": 2}


# ---------------------------------------------------------------- devices


def test_devices_are_added_updated_moved_and_deleted(state: CioState, ws: WorkspaceState) -> None:
    ws.add_device(
        ID("u1"), T0, token="tok", platform="ios", attributes={"app_version": "1.0", "push_enabled": "true"}
    )
    ws.add_device(
        ID("u1"), T0 + 5, token="tok", platform="ios", last_used="1709642000", attributes={"push_enabled": ""}
    )
    assert state.person("u1")["devices"] == [
        {"token": "tok", "platform": "ios", "last_used": 1709642000, "attributes": {"app_version": "1.0"}}
    ]
    outcome = ws.add_device(ID("u2"), T0, token="tok", platform="android", last_used="soon")
    assert outcome.notes == ("last_used 'soon' is not Unix seconds: replaced with receipt time 1709642096",)
    assert kinds(outcome) == ["person_created", "device_deleted", "device_added"]
    assert state.person("u1")["devices"] == []
    assert state.person("u2")["devices"][0]["platform"] == "android"
    assert ws.delete_device(ID("u1"), T0, token="tok").notes == (
        "person cio_a3000001 has no device 'tok': nothing deleted",
    )
    assert kinds(ws.delete_device(ID("u2"), T0, token="tok")) == ["device_deleted"]
    assert ws.delete_device(ID("nobody"), T0, token="tok").notes == (
        "no person matches id 'nobody': no device deleted",
    )


# ---------------------------------------------------------------- objects and relationships


def test_objects_are_identified_with_deterministic_ids_and_attribute_removal(
    state: CioState, ws: WorkspaceState
) -> None:
    acme = ObjectIdent("1", "acme")
    outcome = ws.identify_object(acme, T0, attributes={"name": "Acme", "size": 10})
    assert outcome.changes[0] == {
        "kind": "object_created",
        "object": "ob000001",
        "object_type_id": "1",
        "object_id": "acme",
    }
    ws.identify_object(ObjectIdent(cio_object_id="ob000001"), T0, attributes={"size": None, "tier": "gold"})
    assert state.objects() == [
        {
            "workspace": "site",
            "cio_object_id": "ob000001",
            "object_type_id": "1",
            "object_id": "acme",
            "attributes": {"name": "Acme", "tier": "gold"},
            "relationships": [],
            "anonymous_relationships": [],
        }
    ]
    assert ws.identify_object(ObjectIdent(cio_object_id="ob0000ff"), T0, attributes={}).notes == (
        "no object ob0000ff: dropped",
    )


def test_relationships_from_both_sides(state: CioState, ws: WorkspaceState) -> None:
    acme = ObjectIdent("1", "acme")
    ws.identify_object(
        acme,
        T0,
        attributes={},
        relationships=[{"identifiers": {"id": "u1"}, "relationship_attributes": {"role": "admin"}}],
    )
    assert state.person("u1")["relationships"] == [
        {
            "object_type_id": "1",
            "object_id": "acme",
            "cio_object_id": "ob000001",
            "relationship_attributes": {"role": "admin"},
        }
    ]
    ws.identify(
        ID("u1"),
        {
            "cio_relationships": {
                "action": "add_relationships",
                "relationships": [
                    {
                        "identifiers": {"object_type_id": "1", "object_id": "acme"},
                        "relationship_attributes": {"role": ""},
                    },
                    {"identifiers": {"object_type_id": "2", "object_id": "beta"}},
                ],
            }
        },
        T0,
    )
    view = state.person("u1")
    assert [(r["object_id"], r["relationship_attributes"]) for r in view["relationships"]] == [
        ("acme", {}),
        ("beta", {}),
    ]
    assert state.objects()[0]["relationships"] == [
        {
            "cio_id": "a3000001",
            "identifiers": {"id": "u1", "email": None, "cio_id": "a3000001"},
            "relationship_attributes": {},
        }
    ]
    rels = [{"identifiers": {"cio_object_id": "ob000002"}}, {"identifiers": {"cio_object_id": "ob000099"}}]
    outcome = ws.delete_relationships(ID("u1"), rels, T0)
    assert outcome.notes == ("no object ob000099: nothing done",)
    assert kinds(outcome) == ["relationship_removed"]
    ws.add_object_relationships(acme, [{"identifiers": {"email": "b@x.io"}}], T0)
    assert state.person("b@x.io")["relationships"][0]["object_id"] == "acme"
    ws.delete_object_relationships(acme, [{"identifiers": {"email": "b@x.io"}}], T0)
    assert state.person("b@x.io")["relationships"] == []
    outcome = ws.delete_object(acme, T0)
    assert outcome.changes == (
        {
            "kind": "object_deleted",
            "object": "ob000001",
            "object_type_id": "1",
            "object_id": "acme",
            "relationships": 1,
        },
    )
    assert state.person("u1")["relationships"] == []
    assert ws.delete_object(acme, T0).notes == ("no object 1/acme: nothing done",)
    with pytest.raises(StateError, match=r"cio_relationships\.action must be one of"):
        ws.identify(ID("u1"), {}, T0, relationships={"action": "replace", "relationships": []})
    with pytest.raises(StateError, match=r"cio_relationships\[0\] must be an object with identifiers"):
        ws.add_relationships(ID("u1"), [{"object_id": "x"}], T0)


def test_anonymous_relationships_carry_over_on_claim(state: CioState, ws: WorkspaceState) -> None:
    acme = ObjectIdent("1", "acme")
    rel = [{"identifiers": {"anonymous_id": "anon"}, "relationship_attributes": {"role": "trial"}}]
    ws.identify_object(acme, T0, attributes={"name": "Acme"}, relationships=rel, anonymous=True)
    assert state.objects()[0]["anonymous_relationships"] == [
        {"anonymous_id": "anon", "relationship_attributes": {"role": "trial"}}
    ]
    outcome = ws.identify(ID("u1"), {"anonymous_id": "anon"}, T0 + 60)
    assert outcome.changes[-1] == {
        "kind": "relationship_added",
        "person": "a3000001",
        "object": "ob000001",
        "attributes": {"role": "trial"},
        "from_anonymous_id": "anon",
    }
    assert state.objects()[0]["anonymous_relationships"] == []
    # once claimed, identify_anonymous relates to the claimer at once
    outcome = ws.identify_object(ObjectIdent("1", "beta"), T0, relationships=rel, anonymous=True)
    assert outcome.notes == ("anonymous_id 'anon' is claimed by person cio_a3000001: related to that person",)
    assert len(state.person("u1")["relationships"]) == 2
    with pytest.raises(StateError, match="must be {anonymous_id} for identify_anonymous"):
        ws.identify_object(acme, T0, relationships=[{"identifiers": {"id": "u1"}}], anonymous=True)


# ---------------------------------------------------------------- merge, suppress, delete


def test_merge_needs_both_people(state: CioState, ws: WorkspaceState) -> None:
    ws.identify(ID("b"), {}, T0)
    assert ws.merge(ID("a"), ID("b"), T0).notes == ("primary id 'a' does not exist: nothing merged",)
    assert state.person("b") is not None
    assert ws.merge(ID("b"), EMAIL("x@y.z"), T0).notes == (
        "secondary email 'x@y.z' does not exist: nothing merged",
    )
    assert ws.merge(ID("b"), Ident("cio_id", "a3000001"), T0).notes == (
        "primary id 'b' and secondary cio_a3000001 are the same person: nothing merged",
    )


def test_merge_moves_the_secondary_into_the_primary(state: CioState, ws: WorkspaceState) -> None:
    ws.identify(ID("p"), {"plan": "pro", "city": ""}, T0)
    ws.identify(EMAIL("s@x.io"), {"plan": "free", "city": "Oslo", "age": 30}, T0)
    ws.track(EMAIL("s@x.io"), T0, name="recent", timestamp=int(T0 - 29 * DAY))
    ws.track(EMAIL("s@x.io"), T0, name="ancient", timestamp=int(T0 - 31 * DAY))
    ws.add_device(EMAIL("s@x.io"), T0, token="tok", platform="ios")
    ws.add_relationships(EMAIL("s@x.io"), [{"identifiers": {"object_type_id": "1", "object_id": "acme"}}], T0)
    outcome = ws.merge(ID("p"), EMAIL("S@x.io"), T0 + 10)
    assert outcome.changes[-1] == {
        "kind": "people_merged",
        "primary": "a3000001",
        "secondary": "a3000002",
        "attributes": 2,
        "events": 1,
        "devices": 1,
        "relationships": 1,
        "anonymous_ids": [],
    }
    view = state.person("p")
    assert view["identifiers"] == {"id": "p", "email": "s@x.io", "cio_id": "a3000001"}
    assert view["attributes"] == {"plan": "pro", "city": "Oslo", "age": 30}
    assert [(e["name"], e["can_trigger"]) for e in view["events"]] == [("recent", False)]
    assert [d["token"] for d in view["devices"]] == ["tok"]
    assert state.objects()[0]["relationships"][0]["cio_id"] == "a3000001"
    assert state.person("cio_a3000002") is None
    assert len(state.people()) == 1
    # the token now belongs to the primary
    assert kinds(ws.delete_device(ID("p"), T0, token="tok")) == ["device_deleted"]


def test_merge_hands_claims_to_the_primary(state: CioState, ws: WorkspaceState) -> None:
    ws.identify(ID("p"), {}, T0)
    ws.identify(ID("s"), {"anonymous_id": "anon"}, T0)
    ws.merge(ID("p"), ID("s"), T0 + 1)
    ws.track(None, T0 + 2, name="after", anonymous_id="anon")
    assert [e["name"] for e in state.person("p")["events"]] == ["after"]


def test_suppress_deletes_and_blocks_both_identifiers(state: CioState, ws: WorkspaceState) -> None:
    ws.identify(ID("u1"), {"email": "a@x.io"}, T0)
    outcome = ws.suppress(EMAIL("A@x.io"), T0)
    assert kinds(outcome) == ["person_deleted", "identifiers_suppressed"]
    assert outcome.changes[1]["identifiers"] == [
        {"kind": "email", "value": "a@x.io"},
        {"kind": "id", "value": "u1"},
    ]
    assert state.people() == []
    assert ws.identify(ID("u1"), {"a": 1}, T0).notes == ("id 'u1' is suppressed: ignored",)
    assert ws.track(EMAIL("a@x.io"), T0, name="x").notes == ("email 'a@x.io' is suppressed: ignored",)
    assert ws.identify(ID("u2"), {"email": "a@x.io"}, T0).notes == ("email 'a@x.io' is suppressed: ignored",)
    assert ws.add_device(ID("u1"), T0, token="t", platform="ios").notes == ("id 'u1' is suppressed: ignored",)
    assert ws.merge(ID("u2"), ID("u1"), T0).notes == ("id 'u1' is suppressed: ignored",)
    assert ws.suppress(ID("u1"), T0).notes == ("id 'u1' is already suppressed",)
    assert state.people() == []
    ws.unsuppress(ID("u1"), T0)
    assert ws.identify(EMAIL("a@x.io"), {}, T0).notes == ()  # both were freed
    view = state.person("a@x.io")
    assert view["cio_id"] == "a3000002" and view["events"] == []
    assert ws.unsuppress(ID("u1"), T0).notes == ("id 'u1' is not suppressed: nothing to do",)


def test_suppressing_an_unknown_identifier_blocks_it(ws: WorkspaceState) -> None:
    assert ws.suppress(ID("ghost"), T0).notes == (
        "no person matches id 'ghost': the identifier is suppressed anyway",
    )
    assert ws.track(ID("ghost"), T0, name="x").notes == ("id 'ghost' is suppressed: ignored",)
    assert ws.suppress(Ident("cio_id", "a3000001"), T0).notes == (
        "no person matches cio_a3000001: nothing suppressed",
    )


def test_delete_removes_the_profile_and_frees_the_identifier(state: CioState, ws: WorkspaceState) -> None:
    ws.identify(ID("u1"), {"a": 1}, T0)
    ws.track(ID("u1"), T0, name="x", event_id="e1")
    assert kinds(ws.delete_person(ID("u1"), T0)) == ["person_deleted"]
    assert ws.delete_person(ID("u1"), T0).notes == ("no person matches id 'u1': nothing deleted",)
    ws.identify(ID("u1"), {}, T0)
    assert state.person("u1") == {**state.person("u1"), "cio_id": "a3000002", "attributes": {}, "events": []}
    assert ws.track(ID("u1"), T0, name="x", event_id="e1").notes == ("event id 'e1' already seen: ignored",)


# ---------------------------------------------------------------- metrics, views, snapshot


def test_delivery_metrics_are_recorded(state: CioState, ws: WorkspaceState) -> None:
    ws.report_metric(T0, delivery_id="d1", metric="opened", recipient=None, href="https://x")
    ws.report_metric(
        T0, delivery_id="d2", metric="delivered", timestamp=1700000000, device_token="t", source="v2"
    )
    assert state.metrics() == [
        {
            "workspace": "site",
            "delivery_id": "d1",
            "metric": "opened",
            "timestamp": int(T0),
            "received_at": T0,
            "href": "https://x",
        },
        {
            "workspace": "site",
            "delivery_id": "d2",
            "metric": "delivered",
            "timestamp": 1700000000,
            "received_at": T0,
            "device_token": "t",
            "source": "v2",
        },
    ]


def test_views_have_the_contract_shapes_and_are_copies(state: CioState, ws: WorkspaceState) -> None:
    ws.identify(ID("u1"), {"nested": {"a": 1}}, T0)
    ws.track(ID("u1"), T0, name="x", data={"k": [1]})
    view = state.person("u1")
    assert set(view) == {
        "workspace",
        "cio_id",
        "identifiers",
        "attributes",
        "devices",
        "relationships",
        "events",
    }
    assert set(view["identifiers"]) == {"id", "email", "cio_id"}
    assert set(view["events"][0]) == {
        "id",
        "name",
        "type",
        "timestamp",
        "received_at",
        "data",
        "merged_from_anonymous",
        "can_trigger",
    }
    view["attributes"]["nested"]["a"] = 2
    view["events"][0]["data"]["k"].append(2)
    assert state.person("u1")["attributes"] == {"nested": {"a": 1}}
    assert state.person("u1")["events"][0]["data"] == {"k": [1]}
    assert state.workspace_views()[0]["settings"]["api_key"] is None


def test_person_lookups_span_workspaces(state: CioState) -> None:
    state.workspace("one").identify(ID("u1"), {}, T0)
    state.workspace("two").identify(ID("u1"), {"w": 2}, T0)
    assert state.person("u1")["workspace"] == "one"
    assert state.person("u1", site_id="two")["attributes"] == {"w": 2}
    assert state.person("u1", site_id="three") is None
    assert len(state.people()) == 2 and len(state.people("two")) == 1
    assert state.person("") is None


def _script(ws: WorkspaceState) -> None:
    ws.track(None, T0, name="a", anonymous_id="anon", event_id="e0")
    ws.identify(ID("u1"), {"email": "a@x.io", "anonymous_id": "anon", "plan": "pro"}, T0 + 1, timestamp=5)
    ws.add_device(ID("u1"), T0 + 2, token="tok", platform="ios")
    ws.identify_object(ObjectIdent("1", "acme"), T0 + 3, relationships=[{"identifiers": {"id": "u1"}}])
    ws.identify(ID("u2"), {}, T0 + 4)
    ws.merge(ID("u1"), ID("u2"), T0 + 5)
    ws.suppress(ID("u3"), T0 + 6)
    ws.report_metric(T0 + 7, delivery_id="d", metric="opened")
    ws.track(None, T0 + 8, name="later", anonymous_id="other")


def test_replaying_the_same_requests_gives_an_equal_snapshot() -> None:
    first, second = CioState(), CioState()
    _script(first.workspace("site"))
    _script(second.workspace("site"))
    assert json.dumps(first.snapshot(), sort_keys=True) == json.dumps(second.snapshot(), sort_keys=True)
    snap = first.snapshot()["site"]
    assert snap["claims"] == {"anon": {"cio_id": "a3000001", "at": T0 + 1}}
    assert snap["counters"] == {"people": 2, "objects": 1}
    assert snap["suppressed"] == [{"kind": "id", "value": "u3", "with": ["id:u3"]}]
    second.workspace("site").identify(ID("u1"), {"plan": "pro"}, T0 + 9)  # a no-op change...
    assert second.snapshot() != first.snapshot()  # ...still moves the attribute's update time


# ---------------------------------------------------------------- manual segments


def test_add_names_people_by_id_email_or_cio_id_and_creates_nobody(
    state: CioState, ws: WorkspaceState
) -> None:
    ws.identify(ID("u1"), {}, T0)
    ws.identify(EMAIL("b@x.io"), {}, T0)
    ws.identify(ID("u3"), {}, T0)
    outcome = ws.add_to_segment(7, [ID("u1"), EMAIL("B@X.io"), Ident("cio_id", "a3000003"), ID("ghost")], T0)
    assert outcome.changes == (
        {"kind": "added_to_segment", "person": "a3000001", "segment": 7},
        {"kind": "added_to_segment", "person": "a3000002", "segment": 7},
        {"kind": "added_to_segment", "person": "a3000003", "segment": 7},
    )
    assert outcome.notes == ("no person matches id 'ghost': ignored, not added to segment 7",)
    assert state.person("ghost") is None
    assert [p["segments"] for p in state.people()] == [[7], [7], [7]]


def test_segments_are_listed_in_ascending_order_and_adding_twice_changes_nothing(
    state: CioState, ws: WorkspaceState
) -> None:
    ws.identify(ID("u1"), {}, T0)
    for segment in (12, 3, 7):
        ws.add_to_segment(segment, [ID("u1")], T0)
    again = ws.add_to_segment(3, [ID("u1"), ID("u1")], T0)
    assert again.changes == ()
    assert again.notes == ("person cio_a3000001 is already in segment 3: nothing changed",) * 2
    assert state.person("u1")["segments"] == [3, 7, 12]


def test_remove_takes_people_out_and_notes_non_members(state: CioState, ws: WorkspaceState) -> None:
    ws.identify(ID("u1"), {}, T0)
    ws.identify(ID("u2"), {}, T0)
    ws.add_to_segment(7, [ID("u1"), ID("u2")], T0)
    ws.add_to_segment(8, [ID("u1")], T0)
    outcome = ws.remove_from_segment("7", [ID("u1"), ID("nobody")], T0)
    assert outcome.changes == ({"kind": "removed_from_segment", "person": "a3000001", "segment": 7},)
    assert outcome.notes == ("no person matches id 'nobody': ignored, not removed from segment 7",)
    assert ws.remove_from_segment(7, [ID("u1")], T0).notes == (
        "person cio_a3000001 is not in segment 7: nothing removed",
    )
    assert state.person("u1")["segments"] == [8]
    assert state.person("u2")["segments"] == [7]


def test_remove_needs_the_person_to_have_an_id(state: CioState, ws: WorkspaceState) -> None:
    ws.identify(EMAIL("b@x.io"), {}, T0)
    ws.add_to_segment(7, [EMAIL("b@x.io")], T0)
    outcome = ws.remove_from_segment(7, [EMAIL("b@x.io")], T0)
    assert outcome.changes == ()
    assert outcome.notes == (
        "person cio_a3000001 has no id, and the API removes only people who have one from a manual "
        "segment: not removed from segment 7",
    )
    ws.identify(EMAIL("b@x.io"), {"id": "u1"}, T0)
    assert ws.remove_from_segment(7, [EMAIL("b@x.io")], T0).changes[0]["kind"] == "removed_from_segment"
    assert "segments" not in state.person("u1")


def test_suppressed_identifiers_are_ignored(ws: WorkspaceState) -> None:
    ws.suppress(ID("u1"), T0)
    assert ws.add_to_segment(7, [ID("u1")], T0).notes == ("id 'u1' is suppressed: ignored",)
    assert ws.remove_from_segment(7, [ID("u1")], T0).notes == ("id 'u1' is suppressed: ignored",)


@pytest.mark.parametrize("segment_id", ["abc", "", "7a", " 7", "-1", "0", 0, -3, True, 7.0, None, 2**31, "٣"])
def test_a_segment_id_must_be_a_positive_int32(ws: WorkspaceState, segment_id: object) -> None:
    with pytest.raises(StateError, match=r"segment_id must be a whole number from 1 to 2147483647"):
        ws.add_to_segment(segment_id, [ID("u1")], T0)  # type: ignore[arg-type]
    with pytest.raises(StateError, match=r"segment_id must be a whole number"):
        ws.remove_from_segment(segment_id, [ID("u1")], T0)  # type: ignore[arg-type]


@given(st.integers(min_value=1, max_value=2**31 - 1), st.integers(min_value=0, max_value=3))
def test_a_segment_id_in_a_path_is_the_same_segment_as_the_integer(number: int, zeros: int) -> None:
    ws = CioState().workspace("s")
    ws.identify(ID("u1"), {}, T0)
    ws.add_to_segment("0" * zeros + str(number), [ID("u1")], T0)
    assert ws.add_to_segment(number, [ID("u1")], T0).changes == ()
    assert ws.remove_from_segment(number, [ID("u1")], T0).changes[0]["segment"] == number


def test_idents_must_be_a_list_of_ident(ws: WorkspaceState) -> None:
    with pytest.raises(TypeError, match="idents must be a list of Ident"):
        ws.add_to_segment(7, "u1", T0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"idents\[1\] must be an Ident"):
        ws.add_to_segment(7, [ID("u1"), "u2"], T0)  # type: ignore[list-item]
    with pytest.raises(StateError, match="an anonymous_id names no person"):
        ws.add_to_segment(7, [Ident("anonymous_id", "a1")], T0)


def test_deleting_a_person_ends_their_memberships(state: CioState, ws: WorkspaceState) -> None:
    ws.identify(ID("u1"), {}, T0)
    ws.add_to_segment(7, [ID("u1")], T0)
    ws.delete_person(ID("u1"), T0)
    ws.identify(ID("u1"), {}, T0)
    assert "segments" not in state.person("u1")
    ws.add_to_segment(7, [ID("u1")], T0)
    ws.suppress(ID("u1"), T0)
    ws.unsuppress(ID("u1"), T0)
    ws.identify(ID("u1"), {}, T0)
    assert "segments" not in state.person("u1")


def test_a_merge_gives_the_primary_the_secondary_segments(state: CioState, ws: WorkspaceState) -> None:
    ws.identify(ID("p"), {}, T0)
    ws.identify(ID("s"), {}, T0)
    ws.add_to_segment(1, [ID("p"), ID("s")], T0)
    ws.add_to_segment(2, [ID("s")], T0)
    outcome = ws.merge(ID("p"), ID("s"), T0)
    assert outcome.changes[0] == {
        "kind": "added_to_segment",
        "person": "a3000001",
        "segment": 2,
        "from_person": "a3000002",
    }
    assert [c["kind"] for c in outcome.changes].count("added_to_segment") == 1
    assert outcome.changes[-1]["kind"] == "people_merged"
    assert state.person("p")["segments"] == [1, 2]


def test_memberships_are_in_the_snapshot_and_survive_a_replay(state: CioState, ws: WorkspaceState) -> None:
    calls = [
        lambda w: w.identify(ID("u1"), {}, T0),
        lambda w: w.identify(EMAIL("b@x.io"), {}, T0),
        lambda w: w.add_to_segment(4, [ID("u1"), EMAIL("b@x.io")], T0 + 1),
        lambda w: w.remove_from_segment(4, [ID("u1")], T0 + 2),
    ]
    for call in calls:
        call(ws)
    snapshot = state.snapshot()
    assert [p.get("segments") for p in snapshot["site"]["people"]] == [None, [4]]
    replayed = CioState()
    for call in calls:
        call(replayed.workspace("site"))
    assert json.dumps(replayed.snapshot(), sort_keys=True) == json.dumps(snapshot, sort_keys=True)


def test_views_of_segments_are_copies(state: CioState, ws: WorkspaceState) -> None:
    ws.identify(ID("u1"), {}, T0)
    ws.add_to_segment(7, [ID("u1")], T0)
    state.person("u1")["segments"].append(99)
    assert state.person("u1")["segments"] == [7]
