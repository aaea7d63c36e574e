"""The 15 actions on hand-built (already resolved) payloads: mapPayload, buildPayload, batching, regions.

The upstream cases (test_conformance) pin the common paths; these pin the decided and the odd ones.
"""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import json_scalars

from sandbox.actions import ACTIONS
from sandbox.actions.build import Entity, build_payload, truthy, without
from sandbox.actions.destination_requests import on_delete, test_authentication
from sandbox.actions.settings import EU_HOST, US_HOST, Settings
from sandbox.errors import PayloadValidationError, UnsupportedBatchError

US = Settings("12345", "abcde")
EU = Settings("12345", "abcde", "EU 🇪🇺")


def body(slug: str, payload: dict, *, now: float = 1709642096.5) -> dict:
    action = ACTIONS[slug]
    return action.perform(action.validate(payload), US, now=now).body


def test_there_are_fifteen_actions_keyed_by_slug() -> None:
    assert len(ACTIONS) == 15
    assert all(slug == action.slug for slug, action in ACTIONS.items())
    assert [slug for slug, a in ACTIONS.items() if not a.has_batch] == ["reportDeliveryEvent"]


@pytest.mark.parametrize(
    ("created_at", "sent"),
    [
        ("2006-01-02T18:04:07Z", 1136225047),
        ("2007-01-02T18:04:07", 1167761047),
        ("Mar 25 2015", 1427241600),
        ("25 Mar 2015", 1427241600),
        ("01/01/2019", 1546300800),
        ("11-Jan-18", 1515628800),
        ("Tue, 05 Mar 2024 12:34:56 GMT", 1709642096),
        ("March 7, 2024", 1709769600),
        ("2024-13-01", 1735689600),
        ("2024/03/05", 1709596800),
        ("2018-03-04T12:08:56 PDT", "2018-03-04T12:08:56 PDT"),
        ("hello", "hello"),
        ("n/a", "n/a"),
        ("1700000000", "1700000000"),
    ],
)
def test_created_at_decision_for_people_and_objects(created_at: str, sent: object) -> None:
    """docs/decisions.md §1.2: created_at goes through the lenient converter when Convert Timestamps is on."""
    person = body("createUpdatePerson", {"id": "u1", "created_at": created_at, "convert_timestamp": True})
    assert person["attributes"]["created_at"] == sent
    obj = body("createUpdateObject", {"id": "g1", "created_at": created_at, "convert_timestamp": True})
    assert obj["created_at"] == sent
    # Off: sent as it came; other attributes stay strict-ISO whatever the switch.
    off = body("createUpdatePerson", {"id": "u1", "created_at": created_at, "convert_timestamp": False})
    assert off["attributes"]["created_at"] == created_at
    other = body(
        "createUpdatePerson",
        {"id": "u1", "custom_attributes": {"signup": "Mar 25 2015"}, "convert_timestamp": True},
    )
    assert other["attributes"]["signup"] == "Mar 25 2015"


def test_empty_created_at_is_dropped_in_batch_mode_too() -> None:
    action = ACTIONS["createUpdatePerson"]
    payload = action.validate({"id": "u1", "created_at": "", "convert_timestamp": True}, batch=True)
    assert payload["created_at"] == ""
    ((request, positions),) = action.perform_batch([payload], US)
    assert positions == (0,)
    assert request.body == {
        "batch": [{"type": "person", "action": "identify", "attributes": {}, "identifiers": {"id": "u1"}}]
    }


def test_the_event_is_never_mutated() -> None:
    traits = {"created_at": "2024-01-01", "objectTypeId": "2", "relationshipAttributes": {"r": 1}, "a": 1}
    frozen = copy.deepcopy(traits)
    body("createUpdatePerson", {"id": "u", "custom_attributes": traits, "convert_timestamp": True})
    assert traits == frozen
    attrs = {"object_type_id": "1", "name": "x"}
    body("createUpdateObject", {"id": "g", "custom_attributes": attrs})
    assert attrs == {"object_type_id": "1", "name": "x"}
    props = {"actionType": "viewed_content", "x": 1}
    out = body("reportContentEvent", {"actionType": "viewed_content", "data": props, "anonymous_id": "a"})
    assert props == {"actionType": "viewed_content", "x": 1}
    assert out["attributes"] == {"x": 1}


def test_track_event_with_only_an_anonymous_id_keeps_attributes_in_place() -> None:
    out = body("trackEvent", {"anonymous_id": "a1", "name": "n", "timestamp": "2024-03-05T12:34:56.789Z"})
    assert json.dumps(out) == json.dumps(
        {
            "type": "person",
            "action": "event",
            "name": "n",
            "attributes": {},
            "timestamp": 1709642096,
            "identifiers": {"anonymous_id": "a1"},
        }
    )


def test_report_delivery_event_uses_the_injected_clock_and_is_never_batched() -> None:
    action = ACTIONS["reportDeliveryEvent"]
    request = action.perform(action.validate({"delivery_id": "d", "metric": "opened"}), EU, now=1700000000.9)
    assert request.url == EU_HOST + "/api/v1/metrics"
    assert request.body == {"delivery_id": "d", "metric": "opened", "timestamp": 1700000000}
    digits = action.perform(
        action.validate({"delivery_id": "d", "metric": "opened", "timestamp": "1709642096"}), US, now=1
    )
    assert digits.body["timestamp"] == 1709642096
    meta = action.perform(
        action.validate({"delivery_id": "d", "metric": "clicked", "action_value": 3, "href": ""}), US, now=5
    )
    assert meta.body == {
        "delivery_id": "d",
        "metric": "clicked",
        "timestamp": 5,
        "metadata": {"action_value": "3"},
    }
    with pytest.raises(UnsupportedBatchError, match="does not support batched requests"):
        action.perform_batch([{"delivery_id": "d", "metric": "opened"}], US)
    with pytest.raises(PayloadValidationError, match="^Metric must be one of: "):
        action.validate({"delivery_id": "d", "metric": "sent"})
    with pytest.raises(
        PayloadValidationError, match="^Timestamp must be a valid date-like string but it was not.$"
    ):
        action.validate({"delivery_id": "d", "metric": "opened", "timestamp": "garbage"})


def test_create_update_object_batches_identify_then_identify_anonymous() -> None:
    action = ACTIONS["createUpdateObject"]
    payloads = [
        action.validate({"id": "g1", "anonymous_id": "a1"}),
        action.validate({"id": "g2", "user_id": "u2"}),
        action.validate({"id": "g3"}),
        action.validate({"id": "g4", "anonymous_id": "a4"}),
    ]
    (identify, positions1), (anonymous, positions2) = action.perform_batch(payloads, US)
    assert positions1 == (1, 2) and positions2 == (0, 3)
    assert [item["action"] for item in identify.body["batch"]] == ["identify", "identify"]
    assert [item["identifiers"]["object_id"] for item in anonymous.body["batch"]] == ["g1", "g4"]
    only_known = action.perform_batch(payloads[1:3], US)
    assert len(only_known) == 1
    assert action.perform_batch([], US) == []


def test_delete_object_without_an_id_sends_no_identifiers() -> None:
    assert body("deleteObject", {}) == {"type": "object", "action": "delete"}
    assert body("deleteObject", {"object_id": "o"})["identifiers"] == {
        "object_id": "o",
        "object_type_id": "1",
    }


def test_merge_people_never_has_identifiers() -> None:
    out = body("mergePeople", {"primary": "cio_abc", "secondary": "a@b.co", "batch_size": 10})
    assert out == {
        "type": "person",
        "action": "merge",
        "primary": {"cio_id": "abc"},
        "secondary": {"email": "a@b.co"},
    }


def test_device_attributes_and_app_version() -> None:
    out = body(
        "createUpdateDevice",
        {
            "person_id": "u",
            "device_id": "t",
            "platform": "ios",
            "app_version": "2",
            "attributes": {"app_version": "1", "x": 1},
        },
    )
    assert out["device"] == {"token": "t", "platform": "ios", "attributes": {"app_version": "2", "x": 1}}


def test_regions_auth_and_destination_requests() -> None:
    assert US.track_url == US_HOST and EU.track_url == EU_HOST
    assert Settings("1", "2", "EU").track_url == EU_HOST
    assert Settings("1", "2", "eu 🇪🇺 ").track_url == US_HOST  # only the exact EU value selects EU
    assert US.authorization == "Basic MTIzNDU6YWJjZGU="
    auth = test_authentication(EU)
    assert (auth.method, auth.url, auth.body) == ("GET", "https://track.customer.io/auth", None)
    delete = on_delete({"userId": "a b", "anonymousId": "x"}, EU)
    assert (delete.method, delete.url, delete.body) == ("DELETE", EU_HOST + "/api/v1/customers/a b", None)
    assert on_delete({}, US).url == US_HOST + "/api/v1/customers/undefined"
    assert delete.headers["user-agent"] == "Segment (Actions)"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda xs: st.lists(xs, max_size=3) | st.dictionaries(st.text(max_size=5), xs, max_size=3),
    max_leaves=8,
)


@given(
    st.sampled_from(sorted(ACTIONS)),
    st.dictionaries(st.text(max_size=12), json_values, max_size=6),
    st.data(),
)
def test_body_invariants(slug: str, junk: dict, data: st.DataObject) -> None:
    """Every entity body has type and action first, and identifiers unless it is a merge; any valid
    payload in single mode and in batch mode gives the same item."""
    action = ACTIONS[slug]
    field_values = data.draw(st.fixed_dictionaries({}, optional={k: json_values for k in action.fields}))
    payload = {**junk, **field_values}
    try:
        single = action.validate(payload)
    except PayloadValidationError:
        return
    request = action.perform(single, US, now=0)
    json.dumps(request.body)
    if not action.has_batch:
        return
    assert list(request.body)[:2] == ["type", "action"]
    if request.body["action"] != "merge" and (
        slug not in ("deleteObject",) or truthy(single.get("object_id"))
    ):
        assert "identifiers" in request.body or not any(
            truthy(single.get(k))
            for k in ("person_id", "id", "anonymous_id", "email", "object_id", "user_id")
        )
    batch_payload = action.validate(payload, batch=True)
    if batch_payload == single:
        ((batch_request, _),) = action.perform_batch([batch_payload], US)
        assert batch_request.body["batch"] == [request.body]


def test_build_payload_strips_control_keys_and_orders_keys() -> None:
    entity = Entity(
        "person",
        "event",
        {
            "timestamp": "2024-01-01T00:00:00Z",
            "batch_size": 5,
            "name": "2024-01-01",
            "convert_timestamp": True,
            "person_id": "u",
        },
    )
    assert json.dumps(build_payload(entity)) == json.dumps(
        {
            "type": "person",
            "action": "event",
            "name": 1704067200,
            "timestamp": 1704067200,
            "identifiers": {"id": "u"},
        }
    )


iso_strings = st.builds(
    lambda moment, fmt, zone: moment.strftime(fmt) + zone,
    st.datetimes(
        min_value=dt.datetime(1000, 1, 1),
        max_value=dt.datetime(9999, 12, 31),
    ),
    st.sampled_from(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f"]),
    st.sampled_from(["", "Z", "+01:00", "-0800", "+05:30"]),
).filter(lambda s: len(s) > 10 or s[-1].isdigit())


def _reference_b(value: object) -> object:
    """Converter B without the fast path: the digit rule, then dayjs.utc."""
    from sandbox.actions.timestamps import _DIGITS, dayjs_parse, unix_seconds

    if type(value) is not str or _DIGITS.fullmatch(value):
        return value
    ms = dayjs_parse(value)
    return value if ms is None else unix_seconds(ms)


@given(iso_strings | st.text(max_size=25))
def test_converter_b_with_its_fast_path_is_the_reference(value: str) -> None:
    from sandbox.actions.timestamps import convert_valid_timestamp

    assert convert_valid_timestamp(value) == _reference_b(value)


# -- the ISO fast path (timestamps.iso_seconds) against the reference paths -------------------------


def _digits(low: int, high: int, width: int = 2) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: str(n).zfill(width))


# ISO-shaped strings with every component also out of range (month 13, hour 24, minute 60, ...),
# odd separators, fractions without seconds, and zones the reference rejects.
iso_like = st.builds(
    lambda y, mo, d, time, zone: f"{y}-{mo}-{d}{time}{zone}",
    _digits(0, 9999, 4),
    _digits(0, 19),
    _digits(0, 39),
    st.just("")
    | st.builds(
        lambda sep, h, mi, sec, frac: f"{sep}{h}:{mi}{sec}{frac}",
        st.sampled_from(["T", "t", " ", "TT"]),
        _digits(0, 29),
        _digits(0, 69),
        st.just("") | _digits(0, 69).map(lambda s: ":" + s),
        st.just("") | st.text("0123456789", min_size=0, max_size=11).map(lambda f: "." + f),
    ),
    st.sampled_from(["", "Z", "z", "+", "UTC", " "])
    | st.builds(
        lambda sign, hh, colon, mm: f"{sign}{hh}{colon}{mm}",
        st.sampled_from("+-"),
        _digits(0, 29),
        st.sampled_from(["", ":"]),
        _digits(0, 69),
    ),
)
iso_ish = iso_like | iso_strings | st.text("0123456789-:+.TZ ", max_size=30) | st.text(max_size=25)


def _reference_a(value: str) -> object:
    """Converter A's reference path for one string (isIsoDate, then dayjs), without the fast path."""
    from sandbox.actions.timestamps import iso_attribute_seconds

    seconds = iso_attribute_seconds(value) if value[:1].isdigit() else None
    return value if seconds is None else seconds


def _reference_convert(obj: dict) -> dict:
    return {
        k: _reference_a(v) if type(v) is str else _reference_convert(v) if isinstance(v, dict) else v
        for k, v in obj.items()
    }


@given(iso_ish)
def test_iso_fast_path_is_converter_a_where_it_answers(value: str) -> None:
    """iso_seconds answers only for strings converter A converts, and with A's number."""
    from sandbox.actions.timestamps import iso_seconds

    fast = iso_seconds(value)
    if fast is not None:
        assert type(fast) is int
        assert fast == _reference_a(value)


@given(iso_ish)
def test_converter_b_is_the_reference_on_iso_like_strings(value: str) -> None:
    from sandbox.actions.timestamps import convert_valid_timestamp

    assert convert_valid_timestamp(value) == _reference_b(value)


def _with_dates(leaf: st.SearchStrategy) -> st.SearchStrategy:
    return st.recursive(
        leaf,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
        max_leaves=10,
    )


@given(st.dictionaries(st.text(max_size=4), _with_dates(iso_ish | json_scalars), max_size=5))
def test_converter_a_with_its_fast_path_is_the_reference(obj: dict) -> None:
    """Same keys, order, values and types as the reference path; every dict in the result is new."""
    from sandbox.actions.timestamps import convert_attribute_timestamps

    before = copy.deepcopy(obj)
    got = convert_attribute_timestamps(obj)
    assert json.dumps(got) == json.dumps(_reference_convert(obj))
    assert obj == before

    def dict_ids(value: object) -> set[int]:
        if isinstance(value, dict):
            return {id(value)}.union(*(dict_ids(v) for v in value.values()))
        return set()

    # Nested dicts are copies (actions may add keys), lists are shared as the reference shares them.
    assert not dict_ids(got) & dict_ids(obj)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2024-03-05T12:34:56.789Z", 1709642096),
        ("2024-03-05T10:00:00+01:00", 1709629200),
        ("2024-03-05T10:00:00-0130", 1709638200),
        ("2019-02-01", 1548979200),
        ("1969-12-31T23:59:59.5Z", -1),
        ("0100-01-01T00:00:00Z", -59011459200),
    ],
)
def test_iso_fast_path_answers_the_common_shapes(text: str, seconds: int) -> None:
    from sandbox.actions.timestamps import iso_seconds

    assert iso_seconds(text) == seconds == _reference_a(text)


@pytest.mark.parametrize(
    "text",
    [
        "0099-01-01",
        "0000-01-01T00:00Z",
        "2024-13-01",
        "2024-02-31T00:00",
        "2024-03-05T24:00",
        "2024-03-05T10:60",
        "2024-03-05T10:00.5Z",
        "2024-03-05t10:00",
    ],
)
def test_iso_fast_path_leaves_the_odd_ones_to_the_reference(text: str) -> None:
    from sandbox.actions.timestamps import convert_attribute_timestamps, convert_valid_timestamp, iso_seconds

    assert iso_seconds(text) is None
    assert convert_attribute_timestamps({"a": text}) == {"a": _reference_a(text)}
    assert convert_valid_timestamp(text) == _reference_b(text)


def test_days_past_the_end_of_the_month_roll_over_as_in_javascript() -> None:
    from sandbox.actions.timestamps import convert_attribute_timestamps

    assert convert_attribute_timestamps({"a": "2024-02-31T00:00"}) == {"a": 1709337600}  # March 2nd


# -- buildPayload, single pass, against its step-by-step form -------------------------------------


def _build_payload_in_steps(entity: Entity) -> dict:
    """utils.ts buildPayload spelled out step by step, with the reference converters."""
    from sandbox.actions.build import _TAKEN, drop_missing
    from sandbox.actions.identifiers import resolve_identifiers
    from sandbox.actions.timestamps import convert_attribute_timestamps, convert_valid_timestamp
    from sandbox.js.values import MISSING

    payload = entity.payload
    rest = {key: value for key, value in payload.items() if key not in _TAKEN}
    if "convert_timestamp" in payload and payload["convert_timestamp"] is not False:
        rest = convert_attribute_timestamps(rest)
    timestamp = payload.get("timestamp", MISSING)
    if truthy(timestamp):
        rest["timestamp"] = convert_valid_timestamp(timestamp)
    body = {"type": entity.type, "action": entity.action}
    body.update(rest)
    anonymous_id = payload.get("anonymous_id", MISSING)
    if truthy(anonymous_id):
        attributes = body.get("attributes")
        merged = dict(attributes) if isinstance(attributes, dict) else {}
        merged["anonymous_id"] = anonymous_id
        body["attributes"] = merged
    if entity.action != "merge":
        identifiers = resolve_identifiers(
            anonymous_id=anonymous_id,
            email=payload.get("email", MISSING),
            object_id=payload.get("object_id", MISSING),
            object_type_id=payload.get("object_type_id", MISSING),
            person_id=payload.get("person_id", MISSING),
        )
        if identifiers is not None:
            body["identifiers"] = identifiers
            if "anonymous_id" in identifiers and isinstance(body.get("attributes"), dict):
                body["attributes"].pop("anonymous_id", None)
    return drop_missing(body)


def _entity_payloads() -> st.SearchStrategy[dict]:
    from sandbox.js.values import MISSING

    nested = _with_dates(iso_ish | json_scalars)
    values = nested | st.just(MISSING)  # MISSING only at the top: actions build nested values without it
    keys = st.sampled_from(
        [
            "attributes",
            "anonymous_id",
            "person_id",
            "email",
            "object_id",
            "object_type_id",
            "timestamp",
            "convert_timestamp",
            "batch_size",
            "name",
            "type",
            "action",
            "data",
        ]
    )
    return st.dictionaries(keys, values, max_size=8) | st.fixed_dictionaries(
        {
            "convert_timestamp": st.sampled_from([True, False, None, "yes"]),
            "attributes": st.dictionaries(st.text(max_size=3), nested, max_size=4) | st.just(MISSING),
        },
        optional={
            "anonymous_id": st.sampled_from(["anon", "", 0, None]),
            "person_id": st.sampled_from(["u1", "cio_1", "a@b.co", "", None]),
            "timestamp": iso_ish,
        },
    )


@given(
    st.sampled_from(["person", "object", "delivery"]),
    st.sampled_from(["identify", "event", "merge", "identify_anonymous"]),
    _entity_payloads(),
)
def test_build_payload_is_the_step_by_step_build(kind: str, action: str, payload: dict) -> None:
    from sandbox.errors import InputError

    before = copy.deepcopy(payload)
    try:
        expected = _build_payload_in_steps(Entity(kind, action, copy.deepcopy(payload)))
    except InputError:
        with pytest.raises(InputError):
            build_payload(Entity(kind, action, payload))
        return
    got = build_payload(Entity(kind, action, payload))
    assert json.dumps(got) == json.dumps(expected)
    assert payload == before
    if isinstance(payload.get("attributes"), dict) and payload.get("convert_timestamp") not in (None, False):
        assert got.get("attributes") is not payload["attributes"]  # converted: a new dict


@given(json_scalars | st.sampled_from([[], {}, float("nan"), -0.0, "a@b.co", "x@y", "@."]))
def test_identifier_helpers_keep_their_definitions(value: object) -> None:
    """is_truthy is JavaScript's ToBoolean on JSON values; is_email is the ajv-formats pattern."""
    import math

    from sandbox.actions.identifiers import _EMAIL, is_email, is_truthy
    from sandbox.js.values import MISSING

    if value is None or value is MISSING or isinstance(value, bool):
        expected = value is True
    elif isinstance(value, (int, float)):
        expected = value != 0 and not math.isnan(value)
    elif isinstance(value, str):
        expected = len(value) > 0
    else:
        expected = True
    assert is_truthy(value) is expected
    assert is_email(value) is (isinstance(value, str) and _EMAIL.fullmatch(value) is not None)


_SOME_KEYS = st.sampled_from(["id", "data", "event_id", "attributes", "a", "b", "", "0"])


@given(st.dictionaries(_SOME_KEYS, json_scalars, max_size=8), st.frozensets(_SOME_KEYS, max_size=5))
def test_without_is_the_comprehension(obj: dict, keys: frozenset) -> None:
    """The actions' `{...rest}`: the same items in the same order, in a new plain dict."""
    got = without(obj, keys)
    assert list(got.items()) == [(key, value) for key, value in obj.items() if key not in keys]
    assert type(got) is dict and got is not obj
