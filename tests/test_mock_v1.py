"""Track API v1 through HTTP: every route, its effect on the state, and its response shapes."""

from __future__ import annotations

import jsonschema
import pytest

from tests.mock_support import EU, T0, Track, make, oas_response_schema


def test_identify_answers_200_empty_object_with_customerio_headers(track: Track) -> None:
    r = track.put("/api/v1/customers/u1", {"email": "a@example.com", "plan": "pro"})
    assert r.status_code == 200
    assert r.data == b"{}\n"
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    person = track.mock.person("u1")
    assert person["identifiers"]["email"] == "a@example.com"
    assert person["attributes"] == {"plan": "pro"}


def test_identify_by_email_path_and_cio_prefix(track: Track) -> None:
    track.put("/api/v1/customers/a%40example.com", {"name": "A"})
    person = track.mock.person("a@example.com")
    assert person["identifiers"] == {"id": None, "email": "a@example.com", "cio_id": person["cio_id"]}
    track.put(f"/api/v1/customers/cio_{person['cio_id']}", {"id": "u9"})
    assert track.mock.person("u9")["cio_id"] == person["cio_id"]


def test_path_identifiers_are_percent_decoded_including_slash(track: Track) -> None:
    track.put("/api/v1/customers/team%2Fa%20b", {"x": 1})
    assert track.mock.person("team/a b")["attributes"] == {"x": 1}
    track.post("/api/v1/customers/team%2Fa%20b/events", {"name": "Ping"})
    assert [e["name"] for e in track.mock.person("team/a b")["events"]] == ["Ping"]
    assert track.last()["path"] == "/api/v1/customers/team%2Fa%20b/events"


def test_delete_person(track: Track) -> None:
    track.put("/api/v1/customers/u1", {"a": 1})
    assert track.delete("/api/v1/customers/u1", {}).status_code == 200
    assert track.mock.person("u1") is None
    assert track.delete("/api/v1/customers/u1").status_code == 200
    assert any("nothing deleted" in n for n in track.last()["notes"])


def test_track_event_page_and_screen(track: Track) -> None:
    track.post("/api/v1/customers/u1/events", {"name": "Bought", "data": {"price": 3}, "id": "e1"})
    track.post("/api/v1/customers/u1/events", {"name": "/home", "type": "page"})
    track.post("/api/v1/customers/u1/events", {"name": "Home", "type": "screen"})
    track.post("/api/v1/customers/u1/events", {"name": "Other", "type": "weird"})
    events = track.mock.person("u1")["events"]
    assert [(e["name"], e["type"]) for e in events] == [
        ("Bought", "event"),
        ("/home", "page"),
        ("Home", "screen"),
        ("Other", "event"),
    ]
    assert events[0]["data"] == {"price": 3} and events[0]["received_at"] == T0


def test_duplicate_event_id_is_ignored_and_noted(track: Track) -> None:
    for _ in range(2):
        assert track.post("/api/v1/customers/u1/events", {"name": "A", "id": "01HX"}).status_code == 200
    assert len(track.mock.person("u1")["events"]) == 1
    assert any("already seen" in n for n in track.last()["notes"])


def test_non_unix_timestamp_is_replaced_with_receipt_time_and_noted(track: Track) -> None:
    track.post("/api/v1/customers/u1/events", {"name": "A", "timestamp": "2024-01-01T00:00:00Z"})
    assert track.mock.person("u1")["events"][0]["timestamp"] == int(T0)
    assert any("not Unix seconds" in n for n in track.last()["notes"])


def test_anonymous_event_then_identify_merges(track: Track) -> None:
    assert track.post("/api/v1/events", {"name": "Viewed", "anonymous_id": "anon-1"}).status_code == 200
    assert [e["anonymous_id"] for e in track.mock.anonymous_events()] == ["anon-1"]
    track.mock.clock.advance(60)
    track.put("/api/v1/customers/u1", {"anonymous_id": "anon-1"})
    events = track.mock.person("u1")["events"]
    assert [(e["name"], e["merged_from_anonymous"], e["can_trigger"]) for e in events] == [
        ("Viewed", True, True)
    ]
    assert track.mock.anonymous_events() == []


def test_anonymous_event_without_anonymous_id_is_noted(track: Track) -> None:
    track.post("/api/v1/events", {"name": "Invite", "data": {"recipient": "x@example.com"}})
    assert any("anonymous invite" in n for n in track.last()["notes"])


def test_devices_add_update_delete(track: Track) -> None:
    body = {"device": {"id": "tok1", "platform": "ios", "last_used": "1700000100", "app_version": "1.2"}}
    assert track.put("/api/v1/customers/u1/devices", body).status_code == 200
    node = {"device": {"id": "tok1", "platform": "ios", "attributes": {"push_enabled": "true"}}}
    track.put("/api/v1/customers/u1/devices", node)
    (device,) = track.mock.person("u1")["devices"]
    assert device["token"] == "tok1" and device["platform"] == "ios"
    assert device["attributes"] == {"app_version": "1.2", "push_enabled": "true"}
    assert track.delete("/api/v1/customers/u1/devices/tok1").status_code == 200
    assert track.mock.person("u1")["devices"] == []


def test_device_platform_outside_ios_android_is_kept_and_noted(track: Track) -> None:
    track.put("/api/v1/customers/u1/devices", {"device": {"id": "t", "platform": "web"}})
    assert track.mock.person("u1")["devices"][0]["platform"] == "web"
    assert any("not ios or android" in n for n in track.last()["notes"])


def test_suppress_blocks_and_unsuppress_frees(track: Track) -> None:
    track.put("/api/v1/customers/u1", {"email": "u1@example.com"})
    assert track.post("/api/v1/customers/u1/suppress").status_code == 200
    assert track.mock.person("u1") is None
    track.put("/api/v1/customers/u1", {"a": 1})
    assert track.mock.person("u1") is None
    assert any("suppressed" in n for n in track.last()["notes"])
    track.post("/api/v1/customers/u1/unsuppress", {})
    track.put("/api/v1/customers/u1", {"a": 1})
    assert track.mock.person("u1")["attributes"] == {"a": 1}


def test_merge_customers(track: Track) -> None:
    track.put("/api/v1/customers/p", {"a": 1})
    track.put("/api/v1/customers/s", {"a": 2, "b": 3})
    r = track.post("/api/v1/merge_customers", {"primary": {"id": "p"}, "secondary": {"id": "s"}})
    assert r.status_code == 200
    assert track.mock.person("p")["attributes"] == {"a": 1, "b": 3}
    assert track.mock.person("s") is None


def test_merge_with_multiple_identifiers_is_400_meta_error(track: Track) -> None:
    r = track.post(
        "/api/v1/merge_customers", {"primary": {"id": "p", "email": "p@x.io"}, "secondary": {"id": "s"}}
    )
    assert r.status_code == 400
    assert r.json == {
        "meta": {
            "error": "You cannot have multiple identifiers (id, email, etc) in the primary or secondary objects"
        }
    }
    jsonschema.validate(r.json, oas_response_schema("/api/v1/merge_customers", "post", "400"))


def test_metrics_need_no_credentials_and_go_to_the_only_workspace(track: Track) -> None:
    track.put("/api/v1/customers/u1", {})
    r = track.client.post(
        "/api/v1/metrics",
        json={"delivery_id": "d1", "metric": "opened"},
        base_url="https://track.customer.io",
    )
    assert r.status_code == 200
    assert track.last()["workspace"] == "site1"
    assert [m["metric"] for m in track.mock.metrics()] == ["opened"]


def test_metrics_without_any_workspace_are_noted(track: Track) -> None:
    r = track.client.post("/api/v1/metrics", json={"delivery_id": "d1", "metric": "clicked"})
    assert r.status_code == 200
    assert any("no workspace" in n for n in track.last()["notes"])


def test_push_events_on_both_paths(track: Track) -> None:
    body = {"delivery_id": "d1", "event": "opened", "device_id": "tok", "timestamp": 1700000000}
    assert track.post("/api/v1/push/events", body).status_code == 200
    assert track.post("/push/events", body).status_code == 200
    assert [m["metric"] for m in track.mock.metrics()] == ["opened", "opened"]


def test_unsubscribe_records_a_metric(track: Track) -> None:
    assert track.post("/unsubscribe/d1", {"unsubscribe": True}).status_code == 200
    assert [m["metric"] for m in track.mock.metrics()] == ["unsubscribed"]


def test_forms_answer_204_and_identify(track: Track) -> None:
    r = track.post(
        "/api/v1/forms/f1/submit", {"data": {"email": "f@example.com", "name": "F", "form_name": "x"}}
    )
    assert r.status_code == 204 and r.data == b""
    person = track.mock.person("f@example.com")
    assert person["attributes"] == {"name": "F"}


def test_forms_need_exactly_one_identifier_and_string_values(track: Track) -> None:
    r = track.post("/api/v1/forms/f1/submit", {"data": {"email": "f@example.com", "id": "u"}})
    assert r.status_code == 400 and "exactly one identifier" in r.json["meta"]["errors"][0]
    r = track.post("/api/v1/forms/f1/submit", {"data": {"email": "f@example.com", "age": 3}})
    assert r.json == {"meta": {"errors": ["form value 'age' must be a string, got number"]}}
    jsonschema.validate(r.json, oas_response_schema("/api/v1/forms/{form_id}/submit", "post", "400"))


def test_manual_segments_validate_ids(track: Track) -> None:
    assert track.post("/api/v1/segments/7/add_customers", {"ids": ["u1", "u2"]}).status_code == 200
    r = track.post("/api/v1/segments/7/add_customers?id_type=email", {"ids": ["not-an-email"]})
    assert r.status_code == 200 and any("is not an email" in n for n in track.last()["notes"])
    assert track.post("/api/v1/segments/7/remove_customers", {"ids": []}).status_code == 400
    assert track.post("/api/v1/segments/7/add_customers?id_type=phone", {"ids": ["1"]}).status_code == 400
    assert track.post("/api/v1/segments/7/add_customers", {"ids": ["x"] * 1001}).status_code == 400


def test_auth_endpoint(track: Track) -> None:
    r = track.get("/auth")
    assert r.status_code == 200 and r.json == {"meta": {"message": "nice credentials."}}


def test_region_endpoint_matches_the_openapi_schema(track: Track) -> None:
    r = track.get("/api/v1/accounts/region")
    assert r.json["region"] == "us" and r.json["url"] == "https://track.customer.io"
    jsonschema.validate(r.json, oas_response_schema("/api/v1/accounts/region", "get", "200"))
    eu = make(base_url=EU)
    assert eu.get("/api/v1/accounts/region").json["url"] == "https://track-eu.customer.io"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "event name must not be blank"),
        ({"name": "x" * 101}, "event name cannot be longer than 100 bytes"),
        ({"name": "A", "data": ""}, 'event data must be a hash (e.g., send "data":{} instead of "data":"")'),
        ({"name": "A", "data": {"k": "v" * 100_000}}, "event data cannot be longer than 100000 bytes"),
    ],
)
def test_track_errors_use_the_documented_messages(track: Track, body: dict, message: str) -> None:
    r = track.post("/api/v1/customers/u1/events", body)
    assert r.status_code == 400
    assert r.json == {"meta": {"errors": [message]}}
    jsonschema.validate(r.json, oas_response_schema("/api/v1/customers/{identifier}/events", "post", "400"))
    assert track.last()["reasons"] == [message]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({f"a{i}": 1 for i in range(301)}, "cannot identify more than 300 attributes in one request"),
        ({"n" * 151: 1}, "attribute name cannot be longer than 150 bytes"),
        ({"myAttribute": "v" * 1001}, "value for attribute 'myAttribute' cannot be longer than 1000 bytes"),
        ({"id": 1.5}, "id attribute must be a string value"),
        ({"id": ""}, "id attribute cannot be an empty string"),
    ],
)
def test_identify_errors_use_the_documented_messages(track: Track, body: dict, message: str) -> None:
    r = track.put("/api/v1/customers/u1", body)
    assert (r.status_code, r.json) == (400, {"meta": {"errors": [message]}})
    assert track.mock.person("u1") is None


def test_identify_exactly_at_the_limits_is_accepted(track: Track) -> None:
    body = {f"a{i}": "v" * 1000 for i in range(299)}
    body["n" * 150] = 1
    assert track.put("/api/v1/customers/u1", body).status_code == 200
    assert track.post("/api/v1/customers/u1/events", {"name": "é" * 50}).status_code == 200
