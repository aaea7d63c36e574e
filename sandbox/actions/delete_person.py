"""deletePerson: Delete a person (v2 person / delete). The payload goes straight to buildPayload."""

from __future__ import annotations

from sandbox.actions.build import Entity
from sandbox.actions.definition import ActionDefinition
from sandbox.actions.shared import BATCH_FIELDS, person_id
from sandbox.js.values import Payload

FIELDS = {"person_id": person_id(), **BATCH_FIELDS}


def map_payload(payload: Payload) -> Entity:
    return Entity("person", "delete", payload)


DELETE_PERSON = ActionDefinition(
    slug="deletePerson",
    title="Delete Person",
    description="Delete a person.",
    default_subscription='event = "User Deleted"',
    fields=FIELDS,
    map_payload=map_payload,
)
