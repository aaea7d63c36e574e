"""createUpdateDevice: add or update a person's device (v2 person / add_device)."""

from __future__ import annotations

from sandbox.actions.build import Entity, truthy, without
from sandbox.actions.definition import ActionDefinition
from sandbox.actions.fields import Field
from sandbox.actions.shared import BATCH_FIELDS, CONVERT_TIMESTAMP, path, person_id
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
    "app_version": Field(
        label="App Version",
        type="string",
        description="The app version.",
        default=path("$.context.app.version"),
    ),
    "platform": Field(
        label="Platform",
        type="string",
        description="The device platform.",
        required=True,
        default=path("$.context.device.type"),
    ),
    "last_used": Field(
        label="Last Used",
        type="string",
        description="When the device was last used.",
        default=path("$.timestamp"),
    ),
    "attributes": Field(
        label="Event Attributes",
        type="object",
        description="Device attributes.",
        default=path("$.properties"),
    ),
    "convert_timestamp": CONVERT_TIMESTAMP,
    **BATCH_FIELDS,
}

_DEVICE_KEYS = frozenset(("device_id", "platform", "last_used", "attributes", "app_version"))


def map_payload(payload: Payload) -> Entity:
    """The device goes under `device`; app_version joins its attributes, overriding a property."""
    rest = without(payload, _DEVICE_KEYS)
    attributes = dict(payload.get("attributes") or {})
    app_version = payload.get("app_version", MISSING)
    if truthy(app_version):
        attributes["app_version"] = app_version
    device = {"token": payload.get("device_id", MISSING), "platform": payload.get("platform", MISSING)}
    if "last_used" in payload:
        device["last_used"] = payload["last_used"]
    device["attributes"] = attributes
    rest["device"] = {key: value for key, value in device.items() if value is not MISSING}
    return Entity("person", "add_device", rest)


CREATE_UPDATE_DEVICE = ActionDefinition(
    slug="createUpdateDevice",
    title="Create or Update Device",
    description="Add or update a person's device.",
    default_subscription='event = "Application Installed" or event = "Application Opened" or event = "Device Created or Updated"',
    fields=FIELDS,
    map_payload=map_payload,
)
