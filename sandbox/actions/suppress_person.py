"""suppressPerson: Suppress a person (delete them and block their identifier) (v2 person / suppress). The payload goes straight to buildPayload."""

from __future__ import annotations

from sandbox.actions.build import Entity
from sandbox.actions.definition import ActionDefinition
from sandbox.actions.shared import BATCH_FIELDS, person_id
from sandbox.js.values import Payload

FIELDS = {"person_id": person_id(), **BATCH_FIELDS}


def map_payload(payload: Payload) -> Entity:
    return Entity("person", "suppress", payload)


SUPPRESS_PERSON = ActionDefinition(
    slug="suppressPerson",
    title="Suppress Person",
    description="Suppress a person (delete them and block their identifier).",
    default_subscription='event = "User Suppressed"',
    fields=FIELDS,
    map_payload=map_payload,
)
