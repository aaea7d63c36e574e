"""Track API v2 through HTTP: /entity and /batch for every type/action, 207 partial batches, shapes."""

from __future__ import annotations

import jsonschema
import pytest

from tests.mock_support import Track, oas_response_schema


def person(action: str, ident: dict | None = None, **fields) -> dict:
    return {
        "type": "person",
        "action": action,
        "identifiers": {"id": "u1"} if ident is None else ident,
        **fields,
    }


def obj(action: str, **fields) -> dict:
    return {
        "type": "object",
        "action": action,
        "identifiers": {"object_type_id": "1", "object_id": "acme"},
        **fields,
    }


def test_entity_identify_and_events(track: Track) -> None:
    r = track.post(
        "/api/v2/entity", person("identify", attributes={"email": "u1@example.com", "plan": "pro"})
    )
    assert (r.status_code, r.data) == (200, b"{}\n")
    for action in ("event", "page", "screen", "viewed_content", "clicked_content"):
        assert (
            track.post("/api/v2/entity", person(action, name=f"n-{action}", attributes={"k": 1})).status_code
            == 200
        )
    p = track.mock.person("u1")
    assert p["identifiers"]["email"] == "u1@example.com"
    assert [(e["type"], e["data"]) for e in p["events"]] == [
        (a, {"k": 1}) for a in ("event", "page", "screen", "viewed_content", "clicked_content")
    ]


def test_anonymous_identifier_makes_an_anonymous_event(track: Track) -> None:
    track.post("/api/v2/entity", person("event", {"anonymous_id": "a1"}, name="Viewed"))
    assert [e["anonymous_id"] for e in track.mock.anonymous_events()] == ["a1"]
    track.post("/api/v2/entity", person("identify", attributes={"anonymous_id": "a1"}))
    assert [e["merged_from_anonymous"] for e in track.mock.person("u1")["events"]] == [True]


def test_anonymous_id_on_an_identified_event_is_noted(track: Track) -> None:
    track.post("/api/v2/entity", person("event", name="A", attributes={"anonymous_id": "a1"}))
    assert any("not claimed" in n for n in track.last()["notes"])


def test_person_devices_relationships_merge_suppress(track: Track) -> None:
    post = lambda body: track.post("/api/v2/entity", body)  # noqa: E731
    assert (
        post(
            person("add_device", device={"token": "t1", "platform": "android", "attributes": {"a": "1"}})
        ).status_code
        == 200
    )
    assert track.mock.person("u1")["devices"][0]["token"] == "t1"
    post(person("delete_device", device={"token": "t1"}))
    assert track.mock.person("u1")["devices"] == []
    rel = [
        {
            "identifiers": {"object_type_id": "1", "object_id": "acme"},
            "relationship_attributes": {"role": "admin"},
        }
    ]
    post(person("add_relationships", cio_relationships=rel))
    assert track.mock.person("u1")["relationships"][0]["relationship_attributes"] == {"role": "admin"}
    post(person("delete_relationships", cio_relationships=rel))
    assert track.mock.person("u1")["relationships"] == []
    post(person("identify", {"id": "u2"}, attributes={"x": 1}))
    merge = {"type": "person", "action": "merge", "primary": {"id": "u1"}, "secondary": {"id": "u2"}}
    assert post(merge).status_code == 200
    assert track.mock.person("u2") is None and track.mock.person("u1")["attributes"]["x"] == 1
    post(person("suppress"))
    assert track.mock.person("u1") is None
    post(person("unsuppress"))
    post(person("identify"))
    post(person("delete"))
    assert track.mock.person("u1") is None


def test_objects(track: Track) -> None:
    post = lambda body: track.post("/api/v2/entity", body)  # noqa: E731
    people = [{"identifiers": {"id": "u1"}, "relationship_attributes": {"r": 1}}]
    assert post(obj("identify", attributes={"name": "Acme"}, cio_relationships=people)).status_code == 200
    (o,) = track.mock.objects()
    assert o["attributes"] == {"name": "Acme"} and o["relationships"][0]["identifiers"]["id"] == "u1"
    anon = [{"identifiers": {"anonymous_id": "a9"}}]
    assert post(obj("identify_anonymous", cio_relationships=anon)).status_code == 200
    assert track.mock.objects()[0]["anonymous_relationships"][0]["anonymous_id"] == "a9"
    post(obj("delete_relationships", cio_relationships=people))
    assert track.mock.objects()[0]["relationships"] == []
    post(obj("add_relationships", cio_relationships=people))
    post(obj("delete"))
    assert track.mock.objects() == []


def test_object_identify_anonymous_with_a_root_anonymous_id(track: Track) -> None:
    assert track.post("/api/v2/entity", obj("identify_anonymous", anonymous_id="a7")).status_code == 200
    assert track.mock.objects()[0]["anonymous_relationships"][0]["anonymous_id"] == "a7"


def test_unknown_root_fields_are_noted(track: Track) -> None:
    track.post("/api/v2/entity", obj("identify", created_at=1700000000))
    assert "root field 'created_at' is not part of a v2 object identify: ignored" in track.last()["notes"]


def test_delivery_event(track: Track) -> None:
    body = {"type": "delivery", "action": "event", "identifiers": {"id": "d1"}, "name": "opened",
            "attributes": {"device_token": "tok"}}  # fmt: skip
    assert track.post("/api/v2/entity", body).status_code == 200
    assert track.mock.metrics()[0]["device_token"] == "tok"


def test_batch_all_valid(track: Track) -> None:
    r = track.post("/api/v2/batch", {"batch": [person("identify"), person("event", name="A")]})
    assert (r.status_code, r.json) == (200, {})
    assert len(track.mock.person("u1")["events"]) == 1


def test_batch_with_invalid_items_is_207_and_applies_the_rest(track: Track) -> None:
    items = [
        person("identify", attributes={"a": 1}),
        person("event"),
        {"type": "robot", "action": "x"},
        person("identify", {"id": "u2"}),
        person("event", {"id": "u1", "email": "e@x.io"}, name="A"),
    ]
    r = track.post("/api/v2/batch", {"batch": items})
    assert r.status_code == 207
    jsonschema.validate(r.json, oas_response_schema("/api/v2/batch", "post", "207"))
    assert [(e["batch_index"], e["field"]) for e in r.json["errors"]] == [
        (1, "name"),
        (2, "type"),
        (4, "identifiers"),
    ]
    assert r.json["errors"][0]["message"] == "event name must not be blank"
    assert track.mock.person("u1")["attributes"] == {"a": 1} and track.mock.person("u2") is not None
    entry = track.last()
    assert (
        entry["outcome"] == "partial" and entry["reasons"][0] == "batch[1] name: event name must not be blank"
    )


def test_batch_with_only_invalid_items_is_rejected_207(track: Track) -> None:
    r = track.post("/api/v2/batch", {"batch": [person("event")]})
    assert r.status_code == 207 and track.last()["outcome"] == "rejected"


def test_batch_item_over_32kb_is_an_item_error(track: Track) -> None:
    big = person("identify", attributes={f"k{i}": "v" * 900 for i in range(40)})
    r = track.post("/api/v2/batch", {"batch": [big, person("identify", {"id": "u2"})]})
    assert r.status_code == 207 and r.json["errors"][0]["reason"] == "too_large"
    assert track.mock.person("u2") is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"batch": "x"}, "batch"),
        ({"batch": []}, "batch"),
        ({}, "batch"),
    ],
)
def test_batch_envelope_errors_are_400(track: Track, body: dict, field: str) -> None:
    r = track.post("/api/v2/batch", body)
    assert r.status_code == 400 and r.json["errors"][0]["field"] == field
    jsonschema.validate(r.json, oas_response_schema("/api/v2/batch", "post", "400"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (person("identify", {}), "identifiers"),
        (person("identify", {"id": "u1", "email": "a@b.co"}), "identifiers"),
        (person("identify", {"phone": "+15555550100"}), "identifiers.phone"),
        (person("identify", {"anonymous_id": "a"}), "identifiers.anonymous_id"),
        (person("fly"), "action"),
        ({"action": "identify"}, "type"),
        (person("event", name="x" * 101), "name"),
        (person("event", name="A", attributes="no"), "attributes"),
        (person("identify", attributes={"v": "x" * 1001}), "attributes.v"),
        (person("add_device", device={"platform": "ios"}), "device.token"),
        (person("add_device", device={"token": "t"}), "device.platform"),
        (person("add_relationships"), "cio_relationships"),
        (
            {
                "type": "person",
                "action": "merge",
                "primary": {"id": "a", "email": "b@c.de"},
                "secondary": {"id": "c"},
            },
            "primary",
        ),  # fmt: skip
        (obj("identify") | {"identifiers": {"object_id": "x"}}, "identifiers"),
        ({"type": "delivery", "action": "event", "identifiers": {"id": "d"}, "name": "bogus"}, "name"),
    ],
)
def test_entity_errors_are_400_with_reason_field_message(track: Track, body: dict, field: str) -> None:
    r = track.post("/api/v2/entity", body)
    assert r.status_code == 400, r.json
    jsonschema.validate(r.json, oas_response_schema("/api/v2/entity", "post", "400"))
    (error,) = r.json["errors"]
    assert error["field"] == field and error["message"] and error["reason"]
    assert track.last()["outcome"] == "rejected" and track.last()["reasons"]


def test_entity_over_32kb_is_400(track: Track) -> None:
    r = track.post("/api/v2/entity", person("identify", attributes={"k": "v" * 33_000}))
    assert r.status_code == 400 and r.json["errors"][0]["reason"] == "too_large"


def test_batch_over_500kb_is_400(track: Track) -> None:
    items = [person("identify", {"id": f"u{i}"}, attributes={"k": "v" * 900}) for i in range(600)]
    r = track.post("/api/v2/batch", {"batch": items})
    assert r.status_code == 400 and "500kb" in r.json["errors"][0]["message"]
    assert track.mock.people() == []
