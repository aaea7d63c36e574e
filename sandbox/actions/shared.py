"""Field definitions and helpers that several Customer.io actions share (customerio-properties.ts)."""

from __future__ import annotations

from sandbox.actions.fields import BATCH_FIELDS, CONVERT_TIMESTAMP, Field
from sandbox.js.values import JSON


def path(p: str) -> dict[str, JSON]:
    """A `{"@path": p}` default."""
    return {"@path": p}


def exists_or(first: str, second: str) -> dict[str, JSON]:
    """`@if exists first then first else second`, the destination's fallback default."""
    return {"@if": {"exists": path(first), "then": path(first), "else": path(second)}}


def person_id(default: str = "$.userId", *, required: bool = True) -> Field:
    return Field(
        label="Person ID",
        type="string",
        description="The ID used to identify the person in Customer.io (an id, an email or cio_<id>).",
        required=required,
        default=path(default),
    )


ANONYMOUS_ID = Field(
    label="Anonymous ID",
    type="string",
    description="An anonymous ID for when no Person ID exists.",
    default=path("$.anonymousId"),
)
EVENT_ID = Field(
    label="Event ID",
    type="string",
    description="An optional id for deduplication.",
    default=path("$.messageId"),
)
TIMESTAMP = Field(
    label="Timestamp", type="string", description="When the event happened.", default=path("$.timestamp")
)
EVENT_DATA = Field(
    label="Event Attributes",
    type="object",
    description="Data attached to the event.",
    default=path("$.properties"),
)
RELATIONSHIP_ATTRIBUTES = Field(
    label="Relationship Attributes",
    type="object",
    description="Attributes of the relationship between the person and the object.",
    default=path("$.traits.relationshipAttributes"),
)
CREATED_AT = Field(
    label="Created At",
    type="string",
    description="When the person or object was created.",
    default=exists_or("$.traits.created_at", "$.traits.createdAt"),
)
TRAITS_OBJECT_TYPE_ID = Field(
    label="Object Type Id",
    type="string",
    description="The object type (defaults to 1).",
    default=exists_or("$.traits.object_type_id", "$.traits.objectTypeId"),
)
PROPERTIES_OBJECT_TYPE_ID = Field(
    label="Object Type ID",  # deleteObject and deleteRelationship spell it so; the traits one says "Id"
    type="string",
    description="The object type (defaults to 1).",
    default=exists_or("$.properties.object_type_id", "$.properties.objectTypeId"),
)

__all__ = [
    "ANONYMOUS_ID",
    "BATCH_FIELDS",
    "CONVERT_TIMESTAMP",
    "CREATED_AT",
    "EVENT_DATA",
    "EVENT_ID",
    "PROPERTIES_OBJECT_TYPE_ID",
    "RELATIONSHIP_ATTRIBUTES",
    "TIMESTAMP",
    "TRAITS_OBJECT_TYPE_ID",
    "exists_or",
    "path",
    "person_id",
]
