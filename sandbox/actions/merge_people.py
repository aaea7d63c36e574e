"""mergePeople: merge a secondary person into a primary one (v2 person / merge, no identifiers)."""

from __future__ import annotations

from sandbox.actions.build import Entity
from sandbox.actions.definition import ActionDefinition
from sandbox.actions.fields import Field
from sandbox.actions.identifiers import resolve_identifiers
from sandbox.actions.shared import BATCH_FIELDS, path
from sandbox.js.values import MISSING, Payload

FIELDS = {
    "primary": Field(
        label="Primary User",
        type="string",
        description="The person that remains.",
        required=True,
        default=path("$.userId"),
    ),
    "secondary": Field(
        label="Secondary User",
        type="string",
        description="The person merged into the primary.",
        required=True,
        default=path("$.previousId"),
    ),
    **BATCH_FIELDS,
}


def map_payload(payload: Payload) -> Entity:
    """`{primary, secondary}`, each resolved like a person_id; the batch fields are dropped."""
    body = {}
    for key in ("primary", "secondary"):
        identifiers = resolve_identifiers(person_id=payload.get(key, MISSING))
        if identifiers is not None:
            body[key] = identifiers
    return Entity("person", "merge", body)


MERGE_PEOPLE = ActionDefinition(
    slug="mergePeople",
    title="Merge People",
    description="Merge two people into one.",
    default_subscription='type = "alias"',
    fields=FIELDS,
    map_payload=map_payload,
)
