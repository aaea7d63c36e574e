"""The five causes the differential suite found (issue 9), each pinned by an example whose expected
value is what Segment's published destination answered (tests/test_reference.py checks the same
shapes against the live reference; these hold without Node)."""

from __future__ import annotations

from typing import Any

import sandbox
from sandbox.js import json as js_json

SETTINGS = sandbox.Settings("12345", "abcde")
NOW = 1709642096.789


def _plan(
    action: str, mapping: dict[str, Any], event_text: str, batch: bool = False
) -> list[sandbox.PlanLine]:
    sub = sandbox.Subscription(name="s", subscribe=None, partnerAction=action, mapping=mapping)
    return list(sandbox.plan([js_json.loads(event_text)], SETTINGS, [sub], batch=batch, now=NOW))


def _body(lines: list[sandbox.PlanLine]) -> str:
    (line,) = lines
    assert line.error is None and line.request is not None
    text = line.request.body_text()
    assert text is not None
    return text


def test_big_integers_are_written_as_javascript_writes_the_double() -> None:
    """Cause 1: 12345678901234567890 is the double 12345678901234567168, which Node writes as
    12345678901234567000 (the shortest digits that read back to it)."""
    lines = _plan(
        "createUpdatePerson",
        {"id": "u1", "custom_attributes": {"@path": "$.traits"}},
        '{"type": "identify", "traits": {"big": 12345678901234567890, "edge": 1e16, "tiny": 1e-7}}',
    )
    assert _body(lines) == (
        '{"type":"person","action":"identify","attributes":'
        '{"big":12345678901234567000,"edge":10000000000000000,"tiny":1e-7},"identifiers":{"id":"u1"}}'
    )


def test_validation_messages_use_the_reference_labels() -> None:
    """Cause 2: deleteObject/deleteRelationship say "Object Type ID"; reportContentEvent's data is
    "Event Attributes"."""
    (line,) = _plan("deleteObject", {"object_id": "o1", "object_type_id": {"a": 1}}, '{"type": "track"}')
    assert line.error is not None
    assert line.error.message == "Object Type ID must be a string but it was an object."
    (line,) = _plan(
        "reportContentEvent",
        {"actionType": "viewed_content", "data": "x", "anonymous_id": "a"},
        '{"type": "track"}',
    )
    assert line.error is not None
    assert line.error.message == "Event Attributes must be an object but it was a string."


def test_the_emulated_version_is_the_pinned_reference() -> None:
    """`cio-sandbox --version` names the destination version the differential tests run."""
    import json
    from pathlib import Path

    from sandbox.actions import EMULATED_DESTINATION

    package = json.loads((Path(__file__).parent / "reference" / "package.json").read_text(encoding="utf-8"))
    assert (
        EMULATED_DESTINATION
        == f"@segment/action-destinations {package['dependencies']['@segment/action-destinations']}"
    )


def test_proto_keys_follow_object_assign() -> None:
    """Cause 3: an own "__proto__" holding an object vanishes and leaves its object non-plain (its
    timestamps stay strings); holding null or a primitive, it just vanishes."""
    lines = _plan(
        "createUpdatePerson",
        {"id": "u1", "custom_attributes": {"@path": "$.traits"}, "convert_timestamp": True},
        '{"type": "identify", "traits": {"a": {"__proto__": {"x": 1}, "d": "2024-03-05T12:34:56Z"},'
        ' "b": {"__proto__": null, "d": "2024-03-05T12:34:56Z"}, "c": {"__proto__": 1}}}',
    )
    assert _body(lines) == (
        '{"type":"person","action":"identify","attributes":'
        '{"a":{"d":"2024-03-05T12:34:56Z"},"b":{"d":1709642096},"c":{}},"identifiers":{"id":"u1"}}'
    )


def test_integer_like_keys_come_first_in_bodies_and_json_strings() -> None:
    """Cause 4: JavaScript's property order, in the body and inside an @json string."""
    lines = _plan(
        "createUpdatePerson",
        {
            "id": "u1",
            "custom_attributes": {
                "t": {"@path": "$.traits"},
                "j": {"@json": {"mode": "encode", "value": {"@path": "$.traits"}}},
            },
        },
        '{"type": "identify", "traits": {"b": 1, "10": 2, "2": 3, "01": 4}}',
    )
    assert _body(lines) == (
        '{"type":"person","action":"identify","attributes":{"t":{"2":3,"10":2,"b":1,"01":4},'
        '"j":"{\\"2\\":3,\\"10\\":2,\\"b\\":1,\\"01\\":4}"},"identifiers":{"id":"u1"}}'
    )


def test_lone_surrogates_are_carried_by_plan_and_run(tmp_path: Any, capsys: Any) -> None:
    """Cause 5: an event holding a lone surrogate (and one that @merge splits out of an emoji) is
    planned and run like any other: the body escapes it as JSON.stringify does; nothing crashes."""
    import json

    from sandbox.cli import main

    events = tmp_path / "events.jsonl"
    events.write_text('{"type": "identify", "userId": "u\\ud800", "traits": {"e": "a\\ud83d\\ude00"}}\n')
    settings = tmp_path / "settings.json"
    settings.write_text('{"siteId": "1", "apiKey": "2"}')
    assert main(["plan", str(events), "--settings", str(settings)]) == 0
    out = capsys.readouterr().out
    assert (
        '"body": {"type":"person","action":"identify","attributes":{"e":"a\U0001f600"},"identifiers":{"id":"u\\ud800"}}'
        in out
    )
    config = tmp_path / "config.toml"
    config.write_text(
        '[settings]\nsiteId = "1"\napiKey = "2"\n[[subscriptions]]\nname = "m"\npartnerAction = "createUpdatePerson"\n'
        "subscribe = 'type = \"identify\"'\n"
        'mapping = \'{"id": {"@path": "$.userId"}, "custom_attributes": {"@merge": {"objects": [{"@path": "$.traits.e"}], "direction": "right"}}}\'\n'
    )
    records = tmp_path / "records.jsonl"
    assert main(["run", str(events), "--config", str(config), "--records", str(records), "--json"]) == 0
    (record,) = [json.loads(line) for line in records.read_text(encoding="utf-8").splitlines()]
    assert "\\ud83d" in records.read_text(encoding="utf-8")  # the half of the emoji @merge split off
    assert record["index"] == 0
    lines = _plan(
        "createUpdatePerson",
        {
            "id": "u",
            "custom_attributes": {"@merge": {"objects": [{"@path": "$.traits.e"}], "direction": "right"}},
        },
        '{"type": "identify", "traits": {"e": "a\\ud83d\\ude00"}}',
    )
    assert (
        _body(lines)
        == '{"type":"person","action":"identify","attributes":{"0":"a","1":"\\ud83d","2":"\\ude00"},"identifiers":{"id":"u"}}'
    )
