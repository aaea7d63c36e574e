"""The fixture files are well-formed and shaped as their readers expect.

Deliberately independent of the sandbox modules: it checks the files themselves (JSON syntax,
Segment envelopes, subscription shapes, coverage of the 21 presets), so a broken fixture shows up
here and not as a puzzling failure elsewhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EVENTS_FILE = FIXTURES / "events" / "segment-events.jsonl"
DEMO_FILE = FIXTURES / "plan" / "demo.json"
SETTINGS_FILE = FIXTURES / "plan" / "settings.json"
SUBSCRIPTIONS_FILE = FIXTURES / "plan" / "subscriptions.json"

SEGMENT_TYPES = {"identify", "track", "page", "screen", "group", "alias"}
RESERVED_EVENTS = {
    "Application Installed",
    "Application Opened",
    "Application Uninstalled",
    "Device Created or Updated",
    "Device Deleted",
    "Relationship Deleted",
    "User Deleted",
    "User Suppressed",
    "User Unsuppressed",
    "Object Deleted",
    "Report Delivery Event",
    "Report Content Event",
}
DEVICE_EVENTS = {
    "Application Installed",
    "Application Opened",
    "Device Created or Updated",
    "Application Uninstalled",
    "Device Deleted",
}
ACTIONS = {
    "createUpdateDevice",
    "deleteDevice",
    "deleteRelationship",
    "deletePerson",
    "suppressPerson",
    "unsuppressPerson",
    "deleteObject",
    "createUpdatePerson",
    "trackEvent",
    "trackPageView",
    "trackScreenView",
    "createUpdateObject",
    "mergePeople",
    "reportContentEvent",
    "reportDeliveryEvent",
}
DIRECTIVES = {
    "@path", "@template", "@if", "@literal", "@arrayPath", "@case", "@replace", "@json", "@flatten",
    "@merge", "@transform", "@excludeWhenNull", "@liquid",
}  # fmt: skip
METRICS = {"delivered", "opened", "clicked", "converted", "spammed", "bounced", "dropped", "deferred"}
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})")


def read_jsonl(path: Path) -> list[Any]:
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as exc:
            pytest.fail(f"{path.relative_to(FIXTURES)}:{number}: not JSON: {exc}")
    return out


def all_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_strings(item)


def check_envelope(event: Any, where: str) -> None:
    assert isinstance(event, dict), f"{where}: an event must be an object"
    assert event.get("type") in SEGMENT_TYPES, f"{where}: type {event.get('type')!r}"
    assert isinstance(event.get("messageId"), str) and event["messageId"], f"{where}: messageId"
    if "timestamp" in event:
        assert isinstance(event["timestamp"], str) and ISO.fullmatch(event["timestamp"]), (
            f"{where}: timestamp"
        )
    assert event.get("userId") or event.get("anonymousId"), f"{where}: needs userId or anonymousId"
    kind = event["type"]
    if kind == "track":
        assert isinstance(event.get("event"), str) and event["event"], f"{where}: track needs event"
    if kind == "page":
        assert isinstance(event.get("properties", {}).get("url"), str), f"{where}: page needs properties.url"
    if kind == "screen":
        assert isinstance(event.get("name"), str), f"{where}: screen needs name"
    if kind == "group":
        assert isinstance(event.get("groupId"), str), f"{where}: group needs groupId"
    if kind == "alias":
        assert isinstance(event.get("previousId"), str) and event.get("userId"), f"{where}: alias ids"
    for key in ("properties", "traits", "context"):
        if key in event:
            assert isinstance(event[key], dict), f"{where}: {key} must be an object"


# --------------------------------------------------------------------------------------------
# Every JSON fixture parses


@pytest.mark.parametrize(
    "path",
    sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".json", ".jsonl")),
    ids=lambda p: str(p.relative_to(FIXTURES)),
)
def test_fixture_is_well_formed_json(path: Path) -> None:
    if path.suffix == ".jsonl":
        assert read_jsonl(path), f"{path} is empty"
    else:
        json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "path",
    sorted([*FIXTURES.glob("events/*.jsonl"), *FIXTURES.glob("scenarios/*.jsonl")]),
    ids=lambda p: str(p.relative_to(FIXTURES)),
)
def test_event_files_hold_segment_envelopes(path: Path) -> None:
    events = read_jsonl(path)
    for number, event in enumerate(events, start=1):
        check_envelope(event, f"{path.name}:{number}")
    ids = [e["messageId"] for e in events]
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate messageIds"


# --------------------------------------------------------------------------------------------
# The realistic event set covers every preset and every tricky shape

EVENTS = read_jsonl(EVENTS_FILE)


def test_event_set_size_and_year() -> None:
    assert 35 <= len(EVENTS) <= 50
    assert {e["timestamp"][:4] for e in EVENTS} == {"2024"}


def test_every_automatic_preset_is_triggered() -> None:
    types = {e["type"] for e in EVENTS}
    assert types == SEGMENT_TYPES
    names = {e.get("event") for e in EVENTS if e["type"] == "track"}
    assert RESERVED_EVENTS <= names
    assert names - RESERVED_EVENTS, "a plain track event for Track Event"


def test_specific_event_presets_have_their_events() -> None:
    names = {e.get("event") for e in EVENTS}
    for name in (
        "Associated Entity Added",
        "Associated Entity Removed",
        "Entities Audience Entered",
        "Entities Audience Exited",
        "Journey Step Entered",
    ):
        assert name in names
    assert any(e["type"] == "identify" and "personas" in e.get("context", {}) for e in EVENTS)


def test_identity_shapes() -> None:
    anonymous_only = [e for e in EVENTS if e.get("anonymousId") and not e.get("userId")]
    assert {e["type"] for e in anonymous_only} >= {"identify", "track", "page", "screen", "group"}
    user_ids = [e.get("userId") or "" for e in EVENTS]
    assert any("@" in u and "." in u.split("@")[1] for u in user_ids), "an email userId"
    assert any(u.startswith("cio_") for u in user_ids), "a cio_ userId"


def test_device_events_carry_token_type_and_version() -> None:
    for event in EVENTS:
        if event.get("event") in DEVICE_EVENTS:
            device = event["context"]["device"]
            assert device["token"] and device["type"] in ("ios", "android")
            assert event["context"]["app"]["version"]


def test_delivery_content_and_object_events() -> None:
    for event in EVENTS:
        name, props = event.get("event"), event.get("properties", {})
        if name == "Report Delivery Event":
            assert props["deliveryId"] and props["metric"] in METRICS
        if name == "Report Content Event":
            assert props["actionType"] in ("viewed_content", "clicked_content")
        if name in ("Object Deleted", "Relationship Deleted"):
            assert props["objectId"]
    groups = [e for e in EVENTS if e["type"] == "group"]
    assert any("objectAttributes" in g["traits"] and "relationshipAttributes" in g["traits"] for g in groups)
    assert {k for g in groups for k in g["traits"]} >= {"object_type_id", "objectTypeId"}


def test_dates_iso_and_not() -> None:
    def nested_iso(value: Any, depth: int = 0) -> bool:
        if isinstance(value, dict):
            return any(nested_iso(v, depth + 1) for v in value.values())
        return depth >= 2 and isinstance(value, str) and bool(ISO.fullmatch(value))

    assert any(nested_iso(e.get("traits", {})) or nested_iso(e.get("properties", {})) for e in EVENTS)
    strings = {s for e in EVENTS for s in all_strings({k: e.get(k) for k in ("traits", "properties")})}
    assert {"Mar 25 1990", "03/05/2024", "2018-03-04T12:08:56 PDT", "25 Mar 2024"} <= strings


# --------------------------------------------------------------------------------------------
# plan inputs


def test_demo_plan() -> None:
    demo = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    assert set(demo) == {"settings", "events"}
    assert demo["settings"] == {"siteId": "demo-site", "apiKey": "demo-key", "accountRegion": "US 🇺🇸"}
    assert 10 <= len(demo["events"]) <= 20
    by_id = {e["messageId"]: e for e in EVENTS}
    for number, event in enumerate(demo["events"]):
        check_envelope(event, f"demo.json events[{number}]")
        assert by_id.get(event["messageId"]) == event, "demo events are taken from segment-events.jsonl"
    assert {e["type"] for e in demo["events"]} == SEGMENT_TYPES


def test_settings_file() -> None:
    settings = json.loads(SETTINGS_FILE.read_text(encoding="utf-8"))
    assert settings == json.loads(DEMO_FILE.read_text(encoding="utf-8"))["settings"]


def directives_in(value: Any, where: str) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("@"):
                assert len(value) == 1, f"{where}: a directive object has exactly one key"
                assert re.fullmatch(r"@[a-z][a-zA-Z0-9]+", key) and key in DIRECTIVES, f"{where}: {key}"
                yield key
            yield from directives_in(item, f"{where}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from directives_in(item, f"{where}/{index}")


def test_subscriptions_file() -> None:
    subscriptions = json.loads(SUBSCRIPTIONS_FILE.read_text(encoding="utf-8"))
    assert isinstance(subscriptions, list) and subscriptions
    used: set[str] = set()
    for number, sub in enumerate(subscriptions):
        where = f"subscriptions.json[{number}]"
        assert isinstance(sub, dict), where
        assert set(sub) <= {"name", "subscribe", "partnerAction", "mapping", "useDefaultMappings"}, where
        assert isinstance(sub["name"], str) and sub["name"], where
        assert sub["partnerAction"] in ACTIONS, where
        assert isinstance(sub.get("subscribe", ""), str), where
        assert isinstance(sub.get("useDefaultMappings", False), bool), where
        assert isinstance(sub["mapping"], dict), where
        used |= set(directives_in(sub["mapping"], where))
    assert {"@path", "@template", "@if", "@case", "@merge"} <= used
    assert any(s["mapping"].get("batch_size") == 10 for s in subscriptions)
    assert any(s.get("useDefaultMappings") for s in subscriptions)
    assert any('event = "Order Completed"' in s.get("subscribe", "") for s in subscriptions)
    assert len({s["name"] for s in subscriptions}) == len(subscriptions)


def test_fixture_times_are_strict_iso_8601() -> None:
    """Every receivedAt, timestamp, sentAt and originalTimestamp in the fixtures is a valid ISO-8601
    time (the demo once had `12:34:56321Z`, milliseconds without their dot)."""
    from datetime import datetime

    pattern = re.compile(r'"(receivedAt|timestamp|sentAt|originalTimestamp)":\s*"([^"]*)"')
    root = Path(__file__).resolve().parent.parent / "fixtures"
    seen = 0
    for path in sorted(root.rglob("*.json*")):
        for key, value in pattern.findall(path.read_text(encoding="utf-8")):
            if value[:1].isdigit() and "T" in value:
                datetime.fromisoformat(value.replace("Z", "+00:00"))  # raises on 12:34:56321Z
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)", value), (
                    path,
                    key,
                    value,
                )
                seen += 1
    assert seen > 50
