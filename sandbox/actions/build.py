"""Entity bodies and requests: the port of the destination's utils.ts (buildPayload, sendSingle, sendBatch).

Every action but reportDeliveryEvent ends here: its mapPayload gives an `Entity` (the v2 `type`,
the v2 `action` and the payload), `build_payload` turns it into the `/api/v2/entity` body, and
`entity_request` / `batch_request` wrap bodies into `CioRequest`s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from sandbox.actions.identifiers import resolve_identifiers
from sandbox.actions.request import CioRequest, make_headers
from sandbox.actions.settings import Settings
from sandbox.actions.timestamps import convert_attribute_timestamps, convert_valid_timestamp
from sandbox.js.values import JSON, MISSING, Payload
from sandbox.js.values import is_truthy as truthy

# buildPayload takes these out of the payload; enable_batching and batch_size are dropped too.
_TAKEN = frozenset(
    (
        "convert_timestamp",
        "person_id",
        "anonymous_id",
        "email",
        "object_id",
        "object_type_id",
        "timestamp",
        "enable_batching",
        "batch_size",
    )
)


class Entity(NamedTuple):
    """What an action's mapPayload hands to sendSingle/sendBatch: v2 `type`, v2 `action`, payload.

    The payload may hold MISSING values: JavaScript keeps a key whose value is `undefined` in its
    place (which matters when buildPayload later assigns to it), and JSON.stringify drops it.
    (A named tuple, not a frozen dataclass: one per event, and a tuple is made three times faster.)
    """

    type: str
    action: str
    payload: Payload


def without(obj: Payload, keys: frozenset[str]) -> dict[str, JSON]:
    """`{key: value for key, value in obj.items() if key not in keys}` (a plain dict, in obj's
    order), made as a copy with those keys deleted: the copy and the set intersection run in C,
    where the comprehension runs bytecode for every key."""
    out = dict(obj)
    for key in keys.intersection(out):
        del out[key]
    return out


def converts_timestamps(payload: Payload) -> bool:
    """The v2 rule: convert only when `convert_timestamp` is present, not false (docs/destination.md §5.2)."""
    return "convert_timestamp" in payload and payload["convert_timestamp"] is not False


def build_payload(entity: Entity) -> dict[str, JSON]:
    """Mirrors utils.ts buildPayload: the `/api/v2/entity` body for one entity (docs/destination.md §7.1)."""
    payload = entity.payload
    get = payload.get
    # 1-5. `{type, action, ...rest}`, rest being the payload without the identifier and control
    # keys, in the payload's order; attribute conversion (converter A) when convert_timestamp says so.
    body: dict[str, JSON] = {"type": entity.type, "action": entity.action}
    converted: dict[str, JSON] | None = None  # the attributes, when conversion made a new dict of them
    if converts_timestamps(payload):
        for key, value in payload.items():
            if key in _TAKEN:
                continue
            cls = type(value)
            if cls is str:
                if value and "0" <= value[0] <= "9":
                    value = convert_attribute_timestamps({key: value})[key]
            elif cls is dict:  # isPlainObject: a NonPlainObject is kept as it is
                value = convert_attribute_timestamps(value)
                if key == "attributes":
                    converted = value
            body[key] = value
    else:
        for key, value in payload.items():
            if key not in _TAKEN:
                body[key] = value
    # 4. The top-level timestamp always goes through converter B, and lands at the end of rest.
    timestamp = get("timestamp", MISSING)
    if truthy(timestamp):
        body["timestamp"] = convert_valid_timestamp(timestamp)
    # 6. A truthy anonymous_id is added to (a copy of) the attributes, creating them if needed.
    anonymous_id = get("anonymous_id", MISSING)
    if truthy(anonymous_id):
        attributes = body.get("attributes")
        if attributes is converted and attributes is not None:
            merged = attributes  # already a copy of the payload's, nobody else holds it
        else:
            merged = dict(attributes) if isinstance(attributes, dict) else {}
        merged["anonymous_id"] = anonymous_id
        body["attributes"] = merged
    # 7. Identifiers, except for merge.
    if entity.action != "merge":
        identifiers = resolve_identifiers(
            anonymous_id=anonymous_id,
            email=get("email", MISSING),
            object_id=get("object_id", MISSING),
            object_type_id=get("object_type_id", MISSING),
            person_id=get("person_id", MISSING),
        )
        if identifiers is not None:
            body["identifiers"] = identifiers
            # 8. An anonymous identifier is not repeated in the attributes.
            if "anonymous_id" in identifiers:
                attributes = body.get("attributes")
                if isinstance(attributes, dict):
                    attributes.pop("anonymous_id", None)
    return drop_missing(body)


def drop_missing(body: dict[str, JSON]) -> dict[str, JSON]:
    """JSON.stringify's treatment of `undefined`: the keys disappear (top level; actions keep
    nested objects they build free of MISSING)."""
    for value in body.values():
        if value is MISSING:
            return {key: value for key, value in body.items() if value is not MISSING}
    return body


def entity_request(body: dict[str, JSON] | None, settings: Settings) -> CioRequest:
    """Mirrors sendSingle: `POST {host}/api/v2/entity`."""
    return CioRequest(
        "POST", settings.track_url + "/api/v2/entity", make_headers(settings.authorization), body
    )


def batch_request(bodies: Sequence[dict[str, JSON]], settings: Settings) -> CioRequest | None:
    """Mirrors sendBatch: one `POST {host}/api/v2/batch`, or nothing for an empty list."""
    if not bodies:
        return None
    return CioRequest(
        "POST",
        settings.track_url + "/api/v2/batch",
        make_headers(settings.authorization),
        {"batch": list(bodies)},
    )
