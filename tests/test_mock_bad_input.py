"""The bad-input catalogue: every case answers its documented 4xx (never a 500) and is journaled
with a reason; plus a property test that no bytes on any route give a 500."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_cio.request_body import MAX_DEPTH
from tests.mock_support import make

J = "application/json"
ID = "/api/v1/customers/u1"
EV = "/api/v1/customers/u1/events"
ENT = "/api/v2/entity"
BAT = "/api/v2/batch"


def dumps(value: object) -> bytes:
    return json.dumps(value).encode()


def nested(depth: int) -> bytes:
    return b'{"a":' + b"[" * depth + b"]" * depth + b"}"


# (id, method, path, body bytes, content type, status, flavour, text in the message)
CASES = [
    ("malformed-json", "PUT", ID, b'{"a":', J, 400, "v1", "not valid JSON"),
    ("trailing-garbage", "PUT", ID, b'{"a":1} x', J, 400, "v1", "not valid JSON"),
    ("nan", "PUT", ID, b'{"a": NaN}', J, 400, "v1", "NaN is not a JSON value"),
    ("text-plain", "PUT", ID, b'{"a":1}', "text/plain", 400, "v1", "content-type must be application/json"),
    ("form-encoded", "POST", EV, b"name=A", "application/x-www-form-urlencoded", 400, "v1", "content-type"),
    ("array-body", "PUT", ID, b"[1,2]", J, 400, "v1", "must be a JSON object, got array"),
    ("string-body", "PUT", ID, b'"x"', J, 400, "v1", "got string"),
    ("number-body", "POST", EV, b"1", J, 400, "v1", "got number"),
    ("null-body", "POST", EV, b"null", J, 400, "v1", "got null"),
    ("invalid-utf8", "PUT", ID, b'{"a":"\xff\xfe"}', J, 400, "v1", "not valid UTF-8 (byte 6)"),
    ("deep-nesting", "PUT", ID, nested(MAX_DEPTH + 5), J, 400, "v1", f"deeper than {MAX_DEPTH} levels"),
    ("recursion-bomb", "PUT", ID, b"[" * 200_000, J, 400, "v1", "deeper than"),
    ("v1-body-over-1mb", "PUT", ID, dumps({"a": "x" * (1024 * 1024)}), J, 400, "v1", "cannot be longer than"),
    ("id-over-150-bytes", "PUT", "/api/v1/customers/" + "x" * 151, b"{}", J, 400, "v1", "150 bytes"),
    (
        "blank-path-id",
        "PUT",
        "/api/v1/customers/%20",
        b"{}",
        J,
        400,
        "v1",
        "id attribute cannot be an empty string",
    ),
    ("event-no-name", "POST", EV, b"{}", J, 400, "v1", "event name must not be blank"),
    ("event-empty-body", "POST", EV, b"", J, 400, "v1", "event name must not be blank"),
    ("event-name-number", "POST", EV, dumps({"name": 5}), J, 400, "v1", "event name must not be blank"),
    (
        "event-data-array",
        "POST",
        EV,
        dumps({"name": "A", "data": []}),
        J,
        400,
        "v1",
        "event data must be a hash",
    ),
    ("event-id-object", "POST", EV, dumps({"name": "A", "id": {}}), J, 400, "v1", "event id"),
    (
        "anon-no-name",
        "POST",
        "/api/v1/events",
        dumps({"anonymous_id": "a"}),
        J,
        400,
        "v1",
        "must not be blank",
    ),
    (
        "anon-id-object",
        "POST",
        "/api/v1/events",
        dumps({"name": "A", "anonymous_id": {}}),
        J,
        400,
        "v1",
        "anonymous_id must be a string",
    ),  # fmt: skip
    ("device-missing", "PUT", ID + "/devices", b"{}", J, 400, "v1", "device must be present"),
    (
        "device-not-object",
        "PUT",
        ID + "/devices",
        dumps({"device": "t"}),
        J,
        400,
        "v1",
        "device must be present",
    ),
    (
        "device-no-id",
        "PUT",
        ID + "/devices",
        dumps({"device": {"platform": "ios"}}),
        J,
        400,
        "v1",
        "device.id must be present",
    ),  # fmt: skip
    ("device-no-platform", "PUT", ID + "/devices", dumps({"device": {"id": "t"}}), J, 400, "v1", "platform"),
    ("identify-rel-bad", "PUT", ID, dumps({"cio_relationships": [1]}), J, 400, "v1", "cio_relationships"),
    (
        "identify-update-bad",
        "PUT",
        ID,
        dumps({"_update": "yes"}),
        J,
        400,
        "v1",
        "_update must be true or false",
    ),
    ("merge-empty", "POST", "/api/v1/merge_customers", b"{}", J, 400, "merge", "primary must be an object"),
    (
        "merge-two-ids",
        "POST",
        "/api/v1/merge_customers",
        dumps({"primary": {"id": "a", "email": "a@b.co"}, "secondary": {"id": "b"}}),
        J,
        400,
        "merge",
        "multiple identifiers",
    ),  # fmt: skip
    (
        "merge-unknown-kind",
        "POST",
        "/api/v1/merge_customers",
        dumps({"primary": {"phone": "1"}, "secondary": {"id": "b"}}),
        J,
        400,
        "merge",
        "not an identifier",
    ),  # fmt: skip
    ("merge-bad-json", "POST", "/api/v1/merge_customers", b"{", J, 400, "merge", "not valid JSON"),
    (
        "metrics-no-delivery",
        "POST",
        "/api/v1/metrics",
        dumps({"metric": "opened"}),
        J,
        400,
        "v1",
        "delivery_id must be present",
    ),  # fmt: skip
    (
        "metrics-bad-metric",
        "POST",
        "/api/v1/metrics",
        dumps({"delivery_id": "d", "metric": "x"}),
        J,
        400,
        "v1",
        "metric must be one of",
    ),  # fmt: skip
    (
        "push-bad-event",
        "POST",
        "/api/v1/push/events",
        dumps({"delivery_id": "d", "event": "x"}),
        J,
        400,
        "v1",
        "event must be one of",
    ),  # fmt: skip
    (
        "unsubscribe-text",
        "POST",
        "/unsubscribe/d1",
        b'{"unsubscribe":true}',
        "text/plain",
        400,
        "v1",
        "content-type",
    ),
    (
        "unsubscribe-missing",
        "POST",
        "/unsubscribe/d1",
        b"{}",
        J,
        400,
        "v1",
        "unsubscribe must be true or false",
    ),
    ("form-no-data", "POST", "/api/v1/forms/f/submit", b"{}", J, 400, "v1", "data must be present"),
    (
        "segment-ids-not-list",
        "POST",
        "/api/v1/segments/1/add_customers",
        dumps({"ids": "u1"}),
        J,
        400,
        "v1",
        "ids must be a non-empty array",
    ),  # fmt: skip
    ("v2-malformed", "POST", ENT, b'{"type":', J, 400, "v2", "not valid JSON"),
    ("v2-invalid-utf8", "POST", ENT, b'{"type":"\xc3"}', J, 400, "v2", "not valid UTF-8"),
    ("v2-deep", "POST", ENT, nested(MAX_DEPTH + 1), J, 400, "v2", "deeper than"),
    ("v2-non-object", "POST", ENT, b"[]", J, 400, "v2", "must be a JSON object"),
    ("v2-empty", "POST", ENT, b"", J, 400, "v2", "an operation must be a JSON object, got null"),
    ("v2-wrong-type", "POST", ENT, b"{}", "text/html", 400, "v2", "content-type"),
    (
        "v2-unknown-type",
        "POST",
        ENT,
        dumps({"type": "robot", "action": "identify"}),
        J,
        400,
        "v2",
        "type must be one of",
    ),  # fmt: skip
    (
        "v2-unknown-action",
        "POST",
        ENT,
        dumps({"type": "person", "action": "fly", "identifiers": {"id": "u"}}),
        J,
        400,
        "v2",
        "action 'fly' is not valid",
    ),  # fmt: skip
    (
        "v2-no-identifiers",
        "POST",
        ENT,
        dumps({"type": "person", "action": "identify"}),
        J,
        400,
        "v2",
        "identifiers must be an object",
    ),  # fmt: skip
    (
        "v2-two-identifiers",
        "POST",
        ENT,
        dumps({"type": "person", "action": "identify", "identifiers": {"id": "u", "email": "u@x.io"}}),
        J,
        400,
        "v2",
        "multiple identifiers",
    ),  # fmt: skip
    (
        "v2-identifier-number-bool",
        "POST",
        ENT,
        dumps({"type": "person", "action": "identify", "identifiers": {"id": True}}),
        J,
        400,
        "v2",
        "must be a non-empty string",
    ),  # fmt: skip
    ("v2-entity-over-32kb", "POST", ENT, dumps({"type": "person", "x": "v" * 33_000}), J, 400, "v2", "32kb"),
    (
        "v2-object-bad-identifiers",
        "POST",
        ENT,
        dumps({"type": "object", "action": "identify", "identifiers": {"object_id": "x"}}),
        J,
        400,
        "v2",
        "object_type_id",
    ),  # fmt: skip
    ("batch-malformed", "POST", BAT, b'{"batch": [', J, 400, "v2", "not valid JSON"),
    ("batch-not-list", "POST", BAT, dumps({"batch": {}}), J, 400, "v2", "batch must be an array"),
    ("batch-over-500kb", "POST", BAT, dumps({"batch": ["x" * (500 * 1024)]}), J, 400, "v2", "500kb"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "ctype", "status", "flavour", "text"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_bad_input_gets_its_documented_4xx_and_is_journaled(
    method: str, path: str, body: bytes, ctype: str, status: int, flavour: str, text: str
) -> None:
    track = make()
    r = track.open(method, path, raw=body, headers={"Content-Type": ctype})
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    if flavour == "v1":
        (message,) = r.json["meta"]["errors"]
    elif flavour == "merge":
        message = r.json["meta"]["error"]
    else:
        (error,) = r.json["errors"]
        assert set(error) == {"reason", "field", "message"}
        message = error["message"]
    assert text in message
    entry = track.last()
    assert entry["status"] == status and entry["outcome"] == "rejected"
    assert entry["reasons"] and text in entry["reasons"][0]
    assert entry["response"] == r.json
    too_large = any(word in text for word in ("cannot be longer than", "32kb", "500kb"))
    if body and entry["body"] is None and not too_large:
        assert entry["body_text"] is not None  # the raw body is kept to inspect
    elif body and entry["body"] is None:
        assert entry["body_text"] is None  # a body over the route's limit is never read whole
    assert track.mock.people() == [] and track.mock.metrics() == []


def test_invalid_utf8_is_kept_as_base64_and_replacement_text() -> None:
    track = make()
    track.put(ID, raw=b'{"a":"\xff"}', headers={"Content-Type": J})
    entry = track.last()
    assert entry["body_base64"] == "eyJhIjoi/yJ9"
    assert entry["body_text"] == '{"a":"\ufffd"}'


def test_body_larger_than_the_read_cap_is_not_read() -> None:
    track = make()
    r = track.put(ID, raw=b"x" * (9 * 1024 * 1024), headers={"Content-Type": J})
    assert r.status_code == 400 and "cannot be longer than" in r.json["meta"]["errors"][0]
    assert track.last()["body_text"] is None


def test_missing_content_type_is_read_as_json_and_noted() -> None:
    track = make()
    r = track.client.put(ID, data=b'{"a":1}', headers={"Authorization": track.headers["Authorization"]})
    assert r.status_code == 200
    assert "no content-type header: body read as JSON" in track.last()["notes"]


ROUTES = [
    ("PUT", ID),
    ("DELETE", ID),
    ("POST", EV),
    ("POST", "/api/v1/events"),
    ("PUT", ID + "/devices"),
    ("POST", "/api/v1/merge_customers"),
    ("POST", "/api/v1/metrics"),
    ("POST", "/api/v1/forms/f/submit"),
    ("POST", "/api/v1/segments/1/add_customers"),
    ("POST", ENT),
    ("POST", BAT),
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
shaped = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["person", "object", "delivery", "x"]),
        "action": st.sampled_from(
            ["identify", "event", "merge", "add_device", "identify_anonymous", "delete"]
        ),
        "identifiers": json_values,
        "name": json_values,
        "attributes": json_values,
        "data": json_values,
        "device": json_values,
        "primary": json_values,
        "batch": st.lists(json_values, max_size=3),
        "cio_relationships": json_values,
        "timestamp": json_values,
    },
)


@given(
    route=st.sampled_from(ROUTES),
    body=st.binary(max_size=64) | json_values.map(dumps) | shaped.map(dumps),
)
def test_no_body_on_any_route_gives_a_500(route: tuple[str, str], body: bytes) -> None:
    track = make()
    r = track.open(route[0], route[1], raw=body, headers={"Content-Type": J})
    assert r.status_code < 500, r.get_data(as_text=True)
    assert r.headers["Content-Type"].startswith("application/json") or r.status_code == 204
    entry = track.last()
    assert entry["status"] == r.status_code
    if r.status_code >= 400:
        assert entry["reasons"]
