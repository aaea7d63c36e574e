"""deleteObject: delete an object (v2 object / delete). The payload goes straight to buildPayload."""

from __future__ import annotations

from sandbox.actions.build import Entity
from sandbox.actions.definition import ActionDefinition
from sandbox.actions.fields import Field
from sandbox.actions.shared import BATCH_FIELDS, PROPERTIES_OBJECT_TYPE_ID, path
from sandbox.js.values import Payload

FIELDS = {
    "object_id": Field(
        label="Object ID",
        type="string",
        description="The object's id.",
        default=path("$.properties.objectId"),
    ),
    "object_type_id": PROPERTIES_OBJECT_TYPE_ID,
    **BATCH_FIELDS,
}


def map_payload(payload: Payload) -> Entity:
    return Entity("object", "delete", payload)


DELETE_OBJECT = ActionDefinition(
    slug="deleteObject",
    title="Delete Object",
    description="Delete an object.",
    default_subscription='event = "Object Deleted"',
    fields=FIELDS,
    map_payload=map_payload,
)
