"""The classic destination model: each documented behaviour as the requests it gives.

Sources (docs/classic.md lists them): the published integration (segment-boneyard/
integration-customer.io 2.4.1, lib/mapper.js and its test fixtures), its facade and date packages,
and Segment's later documentation of the classic destination.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.actions.settings import Settings
from sandbox.classic import classic_plan
from sandbox.classic.dates import convert_dates, is_iso, new_date, parse_iso, unix_time

SETTINGS = Settings("site", "key")
T = "2014-01-01T00:00:00.000Z"
T_S = 1388534400


def plan(event):
    return classic_plan(event, SETTINGS, 1_700_000_000)


def calls(event):
    return [(c.kind, c.request.method, c.request.url, c.request.body) for c in plan(event).calls]


BASE = "https://track.customer.io/api/v1/customers"


def test_identify_maps_like_the_published_fixture():
    # the published identify-basic fixture: traits + id, created → created_at, dates → seconds
    event = {
        "type": "identify",
        "userId": "user-id",
        "traits": {"email": "a@b.co", "created": T, "trait": True, "date": T},
        "timestamp": T,
    }
    assert calls(event) == [
        (
            "identify",
            "PUT",
            f"{BASE}/user-id",
            {"email": "a@b.co", "trait": True, "date": T_S, "id": "user-id", "created_at": T_S},
        )
    ]


def test_identify_created_at_reads_created_then_createdAt_leniently():
    body = (
        plan({"type": "identify", "userId": "u", "traits": {"createdAt": "25 Mar 2015"}})
        .calls[0]
        .request.body
    )
    assert body["created_at"] == 1427241600
    assert body["createdAt"] == "25 Mar 2015"  # kept: only `created` is dropped
    body = plan({"type": "identify", "userId": "u", "traits": {"created": 1388534400}}).calls[0].request.body
    assert body["created_at"] == T_S and "created" not in body


def test_identify_email_falls_back_to_an_email_shaped_user_id():
    body = plan({"type": "identify", "userId": "amir@segment.io"}).calls[0].request.body
    assert body == {"id": "amir@segment.io", "email": "amir@segment.io"}


def test_group_is_an_identify_with_group_prefixed_traits():
    event = {
        "type": "group",
        "userId": "user-id",
        "groupId": "group-id",
        "traits": {
            "email": "friends@segment.io",
            "name": "segment",
            "created": T,
            "site": "https://segment.io",
        },
    }
    assert calls(event) == [
        (
            "group",
            "PUT",
            f"{BASE}/user-id",
            {
                "email": "friends@segment.io",
                "Group name": "segment",
                "Group created": T_S,
                "Group site": "https://segment.io",
                "Group id": "group-id",
                "id": "user-id",
            },
        )
    ]


def test_track_is_a_custom_event_with_converted_data():
    event = {
        "type": "track",
        "userId": "u",
        "event": "Order",
        "properties": {"at": T, "n": 1},
        "timestamp": T,
    }
    assert calls(event) == [
        (
            "track",
            "POST",
            f"{BASE}/u/events",
            {"timestamp": T_S, "data": {"at": T_S, "n": 1}, "name": "Order"},
        )
    ]


def test_page_sets_last_visit_then_a_page_event_named_by_url():
    event = {
        "type": "page",
        "userId": "u",
        "name": "Home",
        "category": "Docs",
        "properties": {"url": "https://x/", "title": "T"},
        "timestamp": T,
    }
    assert calls(event) == [
        ("last_visit", "PUT", f"{BASE}/u", {"_last_visit": T_S}),
        (
            "page",
            "POST",
            f"{BASE}/u/events",
            {
                "timestamp": T_S,
                "type": "page",
                "name": "https://x/",
                "data": {"title": "T", "category": "Docs", "name": "Home"},
            },
        ),
    ]


def test_page_without_last_visit_when_inactive():
    event = {"type": "page", "userId": "u", "properties": {"url": "https://x/"}, "context": {"active": False}}
    assert [c.kind for c in plan(event).calls] == ["page"]


def test_screen_is_viewed_name_screen():
    event = {"type": "screen", "userId": "u", "name": "Home", "properties": {"a": 1}, "timestamp": T}
    assert calls(event)[1] == (
        "screen",
        "POST",
        f"{BASE}/u/events",
        {"timestamp": T_S, "name": "Viewed Home Screen", "data": {"a": 1}},
    )
    nameless = plan({"type": "screen", "userId": "u", "timestamp": T}).calls[1].request.body
    assert nameless["name"] == "Viewed undefined Screen"


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("Application Installed", ("add_device", "PUT", f"{BASE}/u/devices")),
        ("Application Opened", ("add_device", "PUT", f"{BASE}/u/devices")),
        ("Application Uninstalled", ("delete_device", "DELETE", f"{BASE}/u/devices/tok%2F1")),
    ],
)
def test_device_events_with_a_token(name, first):
    event = {
        "type": "track",
        "userId": "u",
        "event": name,
        "timestamp": T,
        "context": {"device": {"token": "tok/1", "type": "ios"}},
    }
    got = calls(event)
    assert got[0][:3] == first and got[1][0] == "track"
    if first[0] == "add_device":
        assert got[0][3] == {"device": {"id": "tok/1", "platform": "ios", "last_used": T_S}}


def test_device_event_without_a_token_is_only_an_event():
    event = {
        "type": "track",
        "userId": "u",
        "event": "Application Installed",
        "context": {"device": {"id": "d"}},
    }
    assert [c.kind for c in plan(event).calls] == ["track"]


@pytest.mark.parametrize(
    "event",
    [
        {"type": "track", "anonymousId": "a", "event": "x"},
        {"type": "identify", "anonymousId": "a", "traits": {"email": "a@b.co"}},
        {"type": "page", "userId": "", "properties": {"url": "u"}},
    ],
)
def test_no_user_id_sends_nothing(event):
    got = plan(event)
    assert got.calls == () and "no userId" in (got.dropped or "")


def test_alias_has_no_handler():
    got = plan({"type": "alias", "userId": "new", "previousId": "old"})
    assert got.calls == () and "alias" in (got.dropped or "")


def test_eu_region_and_credentials():
    got = classic_plan({"type": "identify", "userId": "u"}, Settings("s", "k", "EU"), 0).calls[0].request
    assert got.url == "https://track-eu.customer.io/api/v1/customers/u"
    assert got.headers["authorization"] == Settings("s", "k").authorization


def test_user_id_is_percent_encoded_in_the_path():
    assert plan({"type": "identify", "userId": "a b/c"}).calls[0].request.url == f"{BASE}/a%20b%2Fc"


# -- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "strict", "expected"),
    [
        ("2024-03-05", True, True),  # date only: the classic converts it, Actions does not
        ("2024-03-05 12:00", True, True),
        ("2024-03-05T12:00:00.123+02:00", True, True),
        ("20240305", True, False),  # strict wants dashes
        ("20240305", False, True),
        ("2024", False, True),
        ("2024-03-05T12", True, False),
        ("2024-03-05x", True, False),
        ("2024-03-05\n", True, False),
    ],
)
def test_isodate_pattern(text, strict, expected):
    assert is_iso(text, strict=strict) is expected


def test_isodate_quirks():
    assert parse_iso("2024-00-00") == parse_iso("2024-01-01")  # month/day 00 read as 1
    # a space separator means local time (UTC on Segment's servers) and ignores the zone written
    assert parse_iso("2024-03-05 12:00+02:00") == parse_iso("2024-03-05T12:00Z")
    assert parse_iso("2024-03-05T12:00+02:00") == parse_iso("2024-03-05T10:00Z")
    assert parse_iso("2024-03-05T12:00:00.5Z") == parse_iso("2024-03-05T12:00:00Z") + 500


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (1388534400, T_S),  # seconds (below 31557600000)
        (1388534400000, T_S),  # milliseconds
        ("1388534400", T_S),
        ("1388534400000", T_S),
        ("Tue, 05 Mar 2024 12:34:56 GMT", 1709642096),
        ("n/a", None),
        (True, 0),
    ],
)
def test_new_date(value, seconds):
    assert unix_time(new_date(value)) == seconds


def test_convert_dates_walks_arrays_and_objects():
    assert convert_dates({"a": [T, {"b": T}], "c": "2024-13-01x"}) == {
        "a": [T_S, {"b": T_S}],
        "c": "2024-13-01x",
    }


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31)), st.booleans())
def test_iso_strings_become_their_unix_seconds(moment, with_millis):
    """Law: a Z-suffixed ISO string converts to the floor of its instant in seconds."""
    moment = moment.replace(tzinfo=UTC)
    text = moment.isoformat(timespec="milliseconds" if with_millis else "seconds").replace("+00:00", "Z")
    expected = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1)
    assert convert_dates(text) == expected
    assert convert_dates({"x": [text]}) == {"x": [expected]}
