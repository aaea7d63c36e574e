"""unsuppressPerson: Unsuppress a person (v2 person / unsuppress). The payload goes straight to buildPayload."""

from __future__ import annotations

from sandbox.actions.build import Entity
from sandbox.actions.definition import ActionDefinition
from sandbox.actions.shared import BATCH_FIELDS, person_id
from sandbox.js.values import Payload

FIELDS = {"person_id": person_id(), **BATCH_FIELDS}


def map_payload(payload: Payload) -> Entity:
    return Entity("person", "unsuppress", payload)


UNSUPPRESS_PERSON = ActionDefinition(
    slug="unsuppressPerson",
    title="Unsuppress Person",
    description="Unsuppress a person.",
    default_subscription='event = "User Unsuppressed"',
    fields=FIELDS,
    map_payload=map_payload,
)
