"""Segment's Tracking API on the live server: parsing, validation and enrichment (pure), then the
HTTP endpoints end to end through the transform core into the mock."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.errors import SandboxError
from sandbox.live.segment_api import (
    MAX_BATCH_BYTES,
    MAX_MESSAGE_BYTES,
    TrackingApiError,
    check_message,
    decode_body,
    enrich,
    read_call,
    write_key_from,
)

NOW = datetime(2024, 3, 5, 12, 0, 0, tzinfo=UTC)


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


WK_AUTH = basic("wk")


def call(kind, body, *, auth=WK_AUTH, encoding=None, raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    return read_call(kind, data, authorization=auth, content_encoding=encoding, received_at=NOW)


ids = st.text(min_size=1, max_size=12)
json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=10)
properties = st.dictionaries(st.text(max_size=8), json_scalars, max_size=5)


@st.composite
def messages(draw) -> dict:
    """A valid Tracking API message, e.g. {"type": "track", "event": "x", "userId": "u1", ...}."""
    kind = draw(st.sampled_from(["identify", "track", "page", "screen", "group", "alias"]))
    msg: dict = {"type": kind}
    if kind == "alias":
        msg["userId"], msg["previousId"] = draw(ids), draw(ids)
    else:
        who = draw(st.sampled_from(["userId", "anonymousId", "both"]))
        if who in ("userId", "both"):
            msg["userId"] = draw(ids)
        if who in ("anonymousId", "both"):
            msg["anonymousId"] = draw(ids)
    if kind == "track":
        msg["event"] = draw(ids)
        msg["properties"] = draw(properties)
    if kind == "group":
        msg["groupId"] = draw(ids)
    if draw(st.booleans()):
        msg["messageId"] = draw(ids)
    if draw(st.booleans()):
        msg["timestamp"] = "2024-01-02T03:04:05.000Z"
    return msg


# -- write key ------------------------------------------------------------------------------------


def test_write_key_is_the_basic_auth_username():
    assert write_key_from(basic("abc123"), {}) == "abc123"


def test_write_key_falls_back_to_the_body():
    assert write_key_from(None, {"writeKey": "fromBody"}) == "fromBody"
    assert write_key_from("Bearer xyz", {"writeKey": "fromBody"}) == "fromBody"


@pytest.mark.parametrize("auth", [None, "", basic(""), "Basic "])
def test_missing_write_key_is_401(auth):
    with pytest.raises(TrackingApiError) as info:
        write_key_from(auth, {})
    assert info.value.status == 401
    assert "write key" in info.value.message


def test_bad_base64_is_401_not_a_crash():
    with pytest.raises(TrackingApiError) as info:
        write_key_from("Basic !!!not-base64", {})
    assert info.value.status == 401


# -- bodies ---------------------------------------------------------------------------------------


@given(st.lists(messages(), max_size=5))
def test_gzip_body_reads_the_same_as_plain(batch):
    """analytics-python with gzip=True: the compressed body gives exactly the plain body's events."""
    body = {"batch": batch, "sentAt": "2024-03-05T11:59:59.000Z"}
    raw = json.dumps(body).encode()
    plain = call(None, None, raw=raw)
    packed = call(None, None, raw=gzip.compress(raw), encoding="gzip")
    # Generated messageIds are random; everything else must agree.
    assert [dict(e, messageId=None) for e in plain.events] == [dict(e, messageId=None) for e in packed.events]
    assert plain.write_key == packed.write_key == "wk"


def test_truncated_gzip_is_a_400():
    raw = gzip.compress(json.dumps({"batch": []}).encode())[:-6]
    with pytest.raises(TrackingApiError, match="gzip"):
        call(None, None, raw=raw, encoding="gzip")


def test_gzip_bomb_is_refused_without_inflating_it():
    bomb = gzip.compress(b" " * (MAX_BATCH_BYTES * 20))
    with pytest.raises(TrackingApiError) as info:
        call(None, None, raw=bomb, encoding="gzip")
    assert info.value.code == "payload_too_large"


def test_unknown_content_encoding_is_named():
    with pytest.raises(TrackingApiError, match="br"):
        decode_body(b"{}", "br", 100)


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "got an array"),
        (b'"track"', "got a string"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"[" * 10000 + b"]" * 10000, "nested too deeply"),
    ],
    ids=["syntax", "array", "string", "utf8", "deep"],
)
def test_bad_json_is_a_400_with_a_reason(raw, needle):
    with pytest.raises(TrackingApiError) as info:
        call("track", None, raw=raw)
    assert info.value.status == 400
    assert needle in info.value.message


# -- what a message needs -------------------------------------------------------------------------


@given(messages())
def test_valid_messages_pass_unchanged(msg):
    assert check_message(dict(msg), "m") == msg


@pytest.mark.parametrize("kind", ["identify", "track", "page", "screen", "group"])
@pytest.mark.parametrize("ids_", [{}, {"userId": ""}, {"anonymousId": None}, {"userId": True}])
def test_a_message_without_user_or_anonymous_id_is_refused(kind, ids_):
    msg = {"type": kind, "event": "E", "groupId": "g", **ids_}
    with pytest.raises(TrackingApiError, match="needs a userId or an anonymousId"):
        check_message(msg, "batch[3]")


def test_the_error_names_the_message_in_a_batch():
    with pytest.raises(TrackingApiError, match=r"batch\[1\] \(track\) needs an event name"):
        call(None, {"batch": [{"type": "page", "userId": "u"}, {"type": "track", "userId": "u"}]})


def test_alias_needs_both_ids():
    with pytest.raises(TrackingApiError, match="previousId"):
        check_message({"type": "alias", "userId": "u"}, "m")


def test_unknown_type_in_a_batch_is_refused():
    with pytest.raises(TrackingApiError, match="type 'purchase'"):
        call(None, {"batch": [{"type": "purchase", "userId": "u"}]})


def test_batch_must_be_a_list():
    with pytest.raises(TrackingApiError, match="'batch' must be a list"):
        call(None, {"batch": {"type": "track"}})


def test_message_limit_is_32kb_inclusive():
    base = {"type": "track", "userId": "u", "event": "E", "properties": {"pad": ""}}
    size = len(json.dumps(base, separators=(",", ":")).encode())
    at_limit = dict(base, properties={"pad": "x" * (MAX_MESSAGE_BYTES - size)})
    check_message(at_limit, "m")
    over = dict(base, properties={"pad": "x" * (MAX_MESSAGE_BYTES - size + 1)})
    with pytest.raises(TrackingApiError, match="32KB") as info:
        check_message(over, "m")
    assert info.value.code == "payload_too_large"


def test_single_call_body_over_32kb_is_refused():
    body = {"userId": "u", "event": "E", "properties": {"pad": "x" * MAX_MESSAGE_BYTES}}
    with pytest.raises(TrackingApiError, match="32KB"):
        call("track", body)


def test_batch_body_over_500kb_is_refused_but_under_is_fine():
    one = {"type": "track", "userId": "u", "event": "E", "properties": {"pad": "x" * 30000}}
    assert len(call(None, {"batch": [one] * 16}).events) == 16
    with pytest.raises(TrackingApiError, match="500KB"):
        call(None, {"batch": [one] * 18})


def test_errors_belong_to_the_sandbox_error_tree():
    assert issubclass(TrackingApiError, SandboxError)


# -- enrichment -----------------------------------------------------------------------------------


@given(messages())
def test_enrich_never_overwrites_what_the_sender_set(msg):
    out = enrich(msg, NOW)
    for key, value in msg.items():
        assert out[key] == value
    assert out["receivedAt"] == "2024-03-05T12:00:00.000Z"
    assert isinstance(out["messageId"], str) and out["messageId"]
    assert out["timestamp"] == msg.get("timestamp", "2024-03-05T12:00:00.000Z")


@given(messages())
def test_enrich_twice_changes_only_receivedAt(msg):
    once = enrich(msg, NOW)
    later = NOW + timedelta(hours=1)
    twice = enrich(once, later)
    assert {k: v for k, v in twice.items() if k != "receivedAt"} == {
        k: v for k, v in once.items() if k != "receivedAt"
    }


def test_generated_message_ids_are_unique():
    msg = {"type": "track", "userId": "u", "event": "E"}
    assert len({enrich(msg, NOW)["messageId"] for _ in range(200)}) == 200


def test_timestamp_is_corrected_for_the_device_clock():
    """Segment: timestamp = receivedAt - (sentAt - originalTimestamp), when no timestamp is sent."""
    msg = {
        "type": "track",
        "userId": "u",
        "event": "E",
        "originalTimestamp": "2024-03-05T10:00:00.000Z",
        "sentAt": "2024-03-05T10:00:30.000Z",  # the device clock runs 2 hours late
    }
    assert enrich(msg, NOW)["timestamp"] == "2024-03-05T11:59:30.000Z"


def test_single_endpoint_sets_the_type_and_drops_the_write_key():
    out = call("page", {"type": "track", "anonymousId": "a1", "name": "Home", "writeKey": "wk2"}, auth=None)
    assert out.write_key == "wk2"
    (event,) = out.events
    assert event["type"] == "page" and "writeKey" not in event


def test_batch_context_and_sent_at_apply_to_each_message():
    body = {
        "batch": [
            {"type": "track", "userId": "u", "event": "E", "context": {"ip": "1.2.3.4"}},
            {"type": "identify", "userId": "u", "sentAt": "2024-03-05T11:00:00Z"},
        ],
        "context": {"ip": "9.9.9.9", "library": {"name": "x"}},
        "sentAt": "2024-03-05T11:59:59.000Z",
    }
    first, second = call(None, body).events
    assert first["context"] == {"ip": "1.2.3.4", "library": {"name": "x"}}
    assert second["context"] == {"ip": "9.9.9.9", "library": {"name": "x"}}
    assert first["sentAt"] == "2024-03-05T11:59:59.000Z"
    assert second["sentAt"] == "2024-03-05T11:00:00Z"


# -- the HTTP endpoints, through the transform core into the mock ---------------------------------


@pytest.fixture
def live_app():
    from sandbox.live import create_live_app

    return create_live_app({"CIO_DB": ":memory:", "CIO_NOW": "2024-03-05T12:00:00Z"})


@pytest.fixture
def client(live_app):
    return live_app.test_client()


@pytest.mark.parametrize("kind", ["identify", "track", "page", "screen", "group", "alias"])
def test_each_endpoint_answers_success(client, kind):
    body = {"userId": "u1", "event": "E", "groupId": "g1", "previousId": "p1", "name": "N"}
    response = client.post(f"/v1/{kind}", json=body, headers={"Authorization": WK_AUTH})
    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_batch_and_import_reach_the_mock(client, live_app):
    batch = [
        {"type": "identify", "userId": "u1", "traits": {"email": "u1@example.com", "plan": "pro"}},
        {
            "type": "track",
            "userId": "u1",
            "event": "Order Completed",
            "properties": {"at": "2024-03-01T00:00:00Z"},
        },
    ]
    assert (
        client.post("/v1/batch", json={"batch": batch[:1]}, headers={"Authorization": WK_AUTH}).status_code
        == 200
    )
    assert (
        client.post("/v1/import", json={"batch": batch[1:]}, headers={"Authorization": WK_AUTH}).status_code
        == 200
    )
    person = live_app.extensions["sandbox_live"].mock.person("u1")
    assert person["attributes"]["plan"] == "pro"
    (order,) = [e for e in person["events"] if e["name"] == "Order Completed"]
    assert order["data"]["at"] == 1709251200


def test_gzip_over_http(client, live_app):
    raw = gzip.compress(json.dumps({"userId": "gz", "traits": {"email": "gz@example.com"}}).encode())
    response = client.post(
        "/v1/identify",
        data=raw,
        headers={"Authorization": WK_AUTH, "Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert live_app.extensions["sandbox_live"].mock.person("gz")["identifiers"]["email"] == "gz@example.com"


def test_refusals_are_json_with_a_reason_and_send_nothing(client, live_app):
    bad = client.post(
        "/v1/batch",
        json={"batch": [{"type": "track", "userId": "u1", "event": "Fine"}, {"type": "track", "event": "E"}]},
        headers={"Authorization": WK_AUTH},
    )
    assert bad.status_code == 400
    assert bad.get_json() == {
        "success": False,
        "code": "invalid_request",
        "message": "batch[1] (track) needs a userId or an anonymousId",
    }
    assert live_app.extensions["sandbox_live"].mock.people() == []
    no_key = client.post("/v1/track", json={"userId": "u", "event": "E"})
    assert no_key.status_code == 401 and no_key.get_json()["code"] == "unauthorized"
    assert client.post("/v1/track", data=b"{", headers={"Authorization": WK_AUTH}).status_code == 400


def test_declared_write_keys_are_enforced():
    from sandbox.live import create_live_app

    client = create_live_app({"SANDBOX_WRITE_KEYS": ["good"]}).test_client()
    assert (
        client.post(
            "/v1/track", json={"userId": "u", "event": "E"}, headers={"Authorization": basic("good")}
        ).status_code
        == 200
    )
    refused = client.post(
        "/v1/track", json={"userId": "u", "event": "E"}, headers={"Authorization": basic("bad")}
    )
    assert refused.status_code == 401 and "unknown write key 'bad'" in refused.get_json()["message"]


def test_preflight_and_unknown_paths(client):
    preflight = client.open("/v1/batch", method="OPTIONS")
    assert preflight.status_code == 200
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert client.post("/v1/nothing", json={}, headers={"Authorization": WK_AUTH}).status_code == 404
