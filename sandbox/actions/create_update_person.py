"""createUpdatePerson: identify a person, optionally relating them to an object (v2 person / identify)."""

from __future__ import annotations

from sandbox.actions.build import Entity, converts_timestamps, truthy, without
from sandbox.actions.definition import ActionDefinition
from sandbox.actions.fields import Field
from sandbox.actions.shared import (
    ANONYMOUS_ID,
    BATCH_FIELDS,
    CONVERT_TIMESTAMP,
    CREATED_AT,
    RELATIONSHIP_ATTRIBUTES,
    TIMESTAMP,
    TRAITS_OBJECT_TYPE_ID,
    exists_or,
    path,
)
from sandbox.actions.timestamps import convert_created_at
from sandbox.js.values import MISSING, Payload

FIELDS = {
    "id": Field(
        label="Person ID",
        type="string",
        description="The person's id (an id, an email or cio_<id>); falls back to traits.email.",
        default=exists_or("$.userId", "$.traits.email"),
    ),
    "anonymous_id": ANONYMOUS_ID,
    "email": Field(
        label="Email Address",
        type="string",
        description="The person's email.",
        default={"@template": "{{traits.email}}"},
    ),
    "created_at": CREATED_AT,
    "group_id": Field(
        label="Object ID",
        type="string",
        description="An object to relate the person to.",
        default=path("$.traits.objectId"),
    ),
    "custom_attributes": Field(
        label="Person Attributes",
        type="object",
        description="The person's attributes.",
        default=path("$.traits"),
    ),
    "relationship_attributes": RELATIONSHIP_ATTRIBUTES,
    "timestamp": TIMESTAMP,
    "convert_timestamp": CONVERT_TIMESTAMP,
    "object_type_id": TRAITS_OBJECT_TYPE_ID,
    **BATCH_FIELDS,
}

_TAKEN = frozenset(
    ("id", "custom_attributes", "relationship_attributes", "created_at", "group_id", "object_type_id")
)
_REMOVED_TRAITS = frozenset(
    ("createdAt", "created_at", "object_type_id", "relationshipAttributes", "objectTypeId")
)


def map_payload(payload: Payload) -> Entity:
    """Mirrors createUpdatePerson's mapPayload, plus the created_at decision (docs/decisions.md §1.2)."""
    get = payload.get
    body = without(payload, _TAKEN)
    # Upstream deletes these keys from the event's own traits; a copy keeps the event intact.
    traits = get("custom_attributes") or {}
    if type(traits) is dict:
        attributes = without(traits, _REMOVED_TRAITS)
    elif isinstance(traits, dict):  # a copy of the same kind (see NonPlainObject)
        attributes = type(traits)((key, value) for key, value in traits.items() if key not in _REMOVED_TRAITS)
    else:
        attributes = dict(traits)
        for key in _REMOVED_TRAITS:
            attributes.pop(key, None)
    created_at = get("created_at", MISSING)
    if truthy(created_at):
        # docs/decisions.md §1.2 (wins over the destination's HEAD code): with Convert Timestamps on,
        # created_at goes through the lenient converter B, not only the strict-ISO converter A.
        attributes["created_at"] = (
            convert_created_at(created_at) if converts_timestamps(payload) else created_at
        )
    email = get("email", MISSING)
    if truthy(email):
        attributes["email"] = email
    # `{...rest, person_id, attributes}`: body is already a new dict, so assigning is spreading.
    body["person_id"] = get("id", MISSING)
    body["attributes"] = attributes
    group_id = get("group_id", MISSING)
    if truthy(group_id):
        object_type_id = get("object_type_id", MISSING)
        relationship = {
            "identifiers": {
                "object_type_id": "1"
                if object_type_id is MISSING or object_type_id is None
                else object_type_id,
                "object_id": group_id,
            }
        }
        relationship_attributes = get("relationship_attributes", MISSING)
        if truthy(relationship_attributes):
            relationship["relationship_attributes"] = relationship_attributes
        body["cio_relationships"] = [relationship]
    return Entity("person", "identify", body)


CREATE_UPDATE_PERSON = ActionDefinition(
    slug="createUpdatePerson",
    title="Create or Update Person",
    description="Create or update a person, their attributes and their relationship to an object.",
    default_subscription='type = "identify"',
    fields=FIELDS,
    map_payload=map_payload,
)
