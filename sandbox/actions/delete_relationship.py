"""deleteRelationship: remove a person from an object (v2 object / delete_relationships)."""

from __future__ import annotations

from sandbox.actions.build import Entity
from sandbox.actions.definition import ActionDefinition
from sandbox.actions.fields import Field
from sandbox.actions.identifiers import resolve_identifiers
from sandbox.actions.shared import ANONYMOUS_ID, BATCH_FIELDS, PROPERTIES_OBJECT_TYPE_ID, path, person_id
from sandbox.js.values import MISSING, Payload

FIELDS = {
    "person_id": person_id(),
    "anonymous_id": ANONYMOUS_ID,
    "object_id": Field(
        label="Object ID",
        type="string",
        description="The object's id.",
        required=True,
        default=path("$.properties.objectId"),
    ),
    "object_type_id": PROPERTIES_OBJECT_TYPE_ID,
    **BATCH_FIELDS,
}


def map_payload(payload: Payload) -> Entity:
    """The person goes into cio_relationships; the root identifiers are the object's."""
    identifiers = resolve_identifiers(
        anonymous_id=payload.get("anonymous_id", MISSING), person_id=payload.get("person_id", MISSING)
    )
    relationship = {} if identifiers is None else {"identifiers": identifiers}
    return Entity("object", "delete_relationships", {**payload, "cio_relationships": [relationship]})


DELETE_RELATIONSHIP = ActionDefinition(
    slug="deleteRelationship",
    title="Delete Relationship",
    description="Delete the relationship between a person and an object.",
    default_subscription='event = "Relationship Deleted"',
    fields=FIELDS,
    map_payload=map_payload,
)
