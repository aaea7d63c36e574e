"""createUpdateObject: create or update an object and relate a person to it
(v2 object / identify, or identify_anonymous for an anonymous person)."""

from __future__ import annotations

from sandbox.actions.build import Entity, converts_timestamps, truthy, without
from sandbox.actions.definition import ActionDefinition
from sandbox.actions.fields import Field
from sandbox.actions.identifiers import resolve_identifiers
from sandbox.actions.shared import (
    ANONYMOUS_ID,
    BATCH_FIELDS,
    CONVERT_TIMESTAMP,
    CREATED_AT,
    RELATIONSHIP_ATTRIBUTES,
    TRAITS_OBJECT_TYPE_ID,
    path,
)
from sandbox.actions.timestamps import convert_attribute_timestamps, convert_created_at
from sandbox.js.values import JSON, MISSING, Payload

FIELDS = {
    "id": Field(
        label="Object ID",
        type="string",
        description="The object's id.",
        required=True,
        default=path("$.groupId"),
    ),
    "created_at": CREATED_AT,
    "custom_attributes": Field(
        label="Object Attributes",
        type="object",
        description="The object's attributes.",
        default=path("$.traits.objectAttributes"),
    ),
    "relationship_attributes": RELATIONSHIP_ATTRIBUTES,
    "user_id": Field(
        label="User ID",
        type="string",
        description="The person related to the object.",
        default=path("$.userId"),
    ),
    "anonymous_id": ANONYMOUS_ID,
    "object_type_id": TRAITS_OBJECT_TYPE_ID,
    "convert_timestamp": CONVERT_TIMESTAMP,
    **BATCH_FIELDS,
}

_TAKEN = frozenset(
    (
        "id",
        "convert_timestamp",
        "custom_attributes",
        "relationship_attributes",
        "user_id",
        "anonymous_id",
        "object_type_id",
    )
)
_REMOVED_ATTRIBUTES = ("object_type_id", "objectTypeId", "relationshipAttributes")


def map_payload(payload: Payload) -> Entity:
    """Mirrors createUpdateObject's mapPayload, plus the created_at decision (docs/decisions.md §1.2)."""
    get = payload.get
    rest = without(payload, _TAKEN)
    attributes = get("custom_attributes", MISSING)
    if isinstance(attributes, dict):
        # Upstream deletes these from the event's own objectAttributes; a copy (of the same kind:
        # plain or not, see NonPlainObject) keeps the event intact.
        attributes = type(attributes)(
            (key, value) for key, value in attributes.items() if key not in _REMOVED_ATTRIBUTES
        )
    object_type_id = get("object_type_id", MISSING)
    user_id = get("user_id", MISSING)
    anonymous_id = get("anonymous_id", MISSING)
    body: dict[str, JSON] = {
        **rest,
        "anonymous_id": anonymous_id,
        "person_id": user_id,
        "attributes": attributes,
        "object_type_id": "1" if object_type_id is MISSING or object_type_id is None else object_type_id,
        "object_id": get("id", MISSING),
    }
    relationship_attributes = get("relationship_attributes", MISSING)
    if converts_timestamps(payload):
        # Converter A over the whole body: attributes, root created_at, even object_id (observed).
        body = convert_attribute_timestamps(body)
        created_at = body.get("created_at", MISSING)
        if type(created_at) is str and created_at:
            # docs/decisions.md §1.2: the root created_at also gets the lenient converter B.
            body["created_at"] = convert_created_at(created_at)
        if truthy(relationship_attributes):
            relationship_attributes = convert_attribute_timestamps(relationship_attributes)
    if "created_at" in payload and not truthy(payload["created_at"]):
        body.pop("created_at", None)
    if truthy(user_id):
        action = "identify"
        identifiers = resolve_identifiers(person_id=user_id)
        relationship: dict[str, JSON] = {} if identifiers is None else {"identifiers": identifiers}
    elif truthy(anonymous_id):
        action = "identify_anonymous"
        relationship = {"identifiers": {"anonymous_id": anonymous_id}}
    else:
        return Entity("object", "identify", body)
    if truthy(relationship_attributes):
        relationship["relationship_attributes"] = relationship_attributes
    body["cio_relationships"] = [relationship]
    return Entity("object", action, body)


CREATE_UPDATE_OBJECT = ActionDefinition(
    slug="createUpdateObject",
    title="Create or Update Object",
    description="Create or update an object and relate a known or anonymous person to it.",
    default_subscription='type = "group"',
    fields=FIELDS,
    map_payload=map_payload,
    batch_actions=("identify", "identify_anonymous"),
)
