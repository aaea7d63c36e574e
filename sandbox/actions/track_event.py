"""trackEvent: a person's (or an anonymous) event (v2 person / event)."""

from __future__ import annotations

from sandbox.actions.build import Entity, without
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
    "name": Field(
        label="Event Name",
        type="string",
        description="The event's name.",
        required=True,
        default=path("$.event"),
    ),
    "event_id": EVENT_ID,
    "timestamp": TIMESTAMP,
    "data": EVENT_DATA,
    "convert_timestamp": CONVERT_TIMESTAMP,
    **BATCH_FIELDS,
}

_TAKEN = frozenset(("id", "event_id", "data"))


def map_payload(payload: Payload) -> Entity:
    """`{...rest, person_id: id, id: event_id, attributes: data}`: undefined keys keep their place."""
    body = without(payload, _TAKEN)
    body["person_id"] = payload.get("id", MISSING)
    body["id"] = payload.get("event_id", MISSING)
    body["attributes"] = payload.get("data", MISSING)
    return Entity("person", "event", body)


TRACK_EVENT = ActionDefinition(
    slug="trackEvent",
    title="Track Event",
    description="Track an event for a known or anonymous person.",
    default_subscription="""
    type = "track"
    and event != "Application Installed"
    and event != "Application Opened"
    and event != "Application Uninstalled"
    and event != "Device Created or Updated"
    and event != "Device Deleted"
    and event != "Relationship Deleted"
    and event != "User Deleted"
    and event != "User Suppressed"
    and event != "User Unsuppressed"
    and event != "Object Deleted"
    and event != "Report Delivery Event"
    and event != "Report Content Event"
  """,
    fields=FIELDS,
    map_payload=map_payload,
)
