"""trackPageView: a page view, named after its URL (v2 person / page)."""

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
    "url": Field(
        label="Page URL",
        type="string",
        description="The page's URL.",
        required=True,
        default=path("$.properties.url"),
    ),
    "timestamp": TIMESTAMP,
    "data": EVENT_DATA,
    "convert_timestamp": CONVERT_TIMESTAMP,
    **BATCH_FIELDS,
}

_TAKEN = frozenset(("id", "url", "data", "event_id"))


def map_payload(payload: Payload) -> Entity:
    """`{...rest, person_id: id, name: url, attributes: data}`, plus `id` only when event_id is truthy."""
    body = without(payload, _TAKEN)
    body["person_id"] = payload.get("id", MISSING)
    body["name"] = payload.get("url", MISSING)
    body["attributes"] = payload.get("data", MISSING)
    event_id = payload.get("event_id", MISSING)
    if truthy(event_id):
        body["id"] = event_id
    return Entity("person", "page", body)


TRACK_PAGE_VIEW = ActionDefinition(
    slug="trackPageView",
    title="Track Page View",
    description="Track a page view for a known or anonymous person.",
    default_subscription='type = "page"',
    fields=FIELDS,
    map_payload=map_payload,
)
