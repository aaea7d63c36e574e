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
