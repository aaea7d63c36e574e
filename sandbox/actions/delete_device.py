"""deleteDevice: remove a device from a person (v2 person / delete_device)."""

from __future__ import annotations

from sandbox.actions.build import Entity
from sandbox.actions.definition import ActionDefinition
from sandbox.actions.fields import Field
from sandbox.actions.shared import BATCH_FIELDS, path, person_id
from sandbox.js.values import MISSING, Payload

FIELDS = {
    "person_id": person_id(),
    "device_id": Field(
        label="Device ID",
        type="string",
        description="The device token.",
        required=True,
        default=path("$.context.device.token"),
    ),
    **BATCH_FIELDS,
}


def map_payload(payload: Payload) -> Entity:
    rest = {key: value for key, value in payload.items() if key != "device_id"}
    token = payload.get("device_id", MISSING)
    rest["device"] = {} if token is MISSING else {"token": token}
    return Entity("person", "delete_device", rest)


DELETE_DEVICE = ActionDefinition(
    slug="deleteDevice",
    title="Delete Device",
    description="Delete a person's device.",
    default_subscription='event = "Application Uninstalled" or event = "Device Deleted"',
    fields=FIELDS,
    map_payload=map_payload,
)
