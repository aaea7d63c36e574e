"""reportContentEvent: a content view or click (v2 person / the actionType value)."""

from __future__ import annotations

from sandbox.actions.build import Entity
from sandbox.actions.definition import ActionDefinition
from sandbox.actions.fields import Field
from sandbox.actions.shared import ANONYMOUS_ID, BATCH_FIELDS, CONVERT_TIMESTAMP, TIMESTAMP, path
from sandbox.js.values import MISSING, Payload

FIELDS = {
    "anonymous_id": ANONYMOUS_ID,
    "actionType": Field(
        label="Action Type",
        type="string",
        description="Whether the content was viewed or clicked.",
        required=True,
        default=path("$.properties.actionType"),
        choices=(("viewed_content", "Viewed"), ("clicked_content", "Clicked")),
    ),
    "timestamp": TIMESTAMP,
    "data": Field(
        label="Event Attributes",
        type="object",
        description="Data about the content.",
        default=path("$.properties"),
    ),
    "convert_timestamp": CONVERT_TIMESTAMP,
    **BATCH_FIELDS,
}


def map_payload(payload: Payload) -> Entity:
    """`{...rest, name: actionType, attributes: data}` with actionType removed from the data."""
    body = {key: value for key, value in payload.items() if key not in ("actionType", "data")}
    action_type = payload.get("actionType", MISSING)
    data = payload.get("data", MISSING)
    if isinstance(data, dict) and "actionType" in data:
        # Upstream deletes it from the event's own properties; a copy of the same kind keeps the event intact.
        data = type(data)((key, value) for key, value in data.items() if key != "actionType")
    body["name"] = action_type
    body["attributes"] = data
    return Entity("person", action_type, body)


REPORT_CONTENT_EVENT = ActionDefinition(
    slug="reportContentEvent",
    title="Report Content Event",
    description="Report that a person viewed or clicked content.",
    default_subscription='event = "Report Content Event"',
    fields=FIELDS,
    map_payload=map_payload,
)
