"""trackScreenView: a mobile screen view (v2 person / screen)."""

from __future__ import annotations

from sandbox.actions.build import Entity, truthy, without
from sandbox.actions.definition import ActionDefinition
from sandbox.actions.fields import Field
from sandbox.actions.shared import (
    ANONYMOUS_ID,
    BATCH_FIELDS,
    CONVERT_TIMESTAMP,
    EVENT_DATA,
    EVENT_ID,
    TIMESTAMP,
    path,
    person_id,
)
from sandbox.js.values import MISSING, Payload

FIELDS = {
    "id": person_id(required=False),
    "anonymous_id": ANONYMOUS_ID,
    "event_id": EVENT_ID,
    "name": Field(
        label="Screen name",
        type="string",
        description="The screen's name.",
        required=True,
        default=path("$.name"),
    ),
    "timestamp": TIMESTAMP,
    "data": EVENT_DATA,
    "convert_timestamp": CONVERT_TIMESTAMP,
    **BATCH_FIELDS,
}

_TAKEN = frozenset(("id", "data", "event_id"))


def map_payload(payload: Payload) -> Entity:
    """`{...rest, person_id: id, attributes: data}`, plus `id` only when event_id is truthy."""
    body = without(payload, _TAKEN)
    body["person_id"] = payload.get("id", MISSING)
    body["attributes"] = payload.get("data", MISSING)
    event_id = payload.get("event_id", MISSING)
    if truthy(event_id):
        body["id"] = event_id
    return Entity("person", "screen", body)


TRACK_SCREEN_VIEW = ActionDefinition(
    slug="trackScreenView",
    title="Track Screen View",
    description="Track a screen view for a known or anonymous person.",
    default_subscription='type = "screen"',
    fields=FIELDS,
    map_payload=map_payload,
)
