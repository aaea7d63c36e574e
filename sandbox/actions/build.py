"""Entity bodies and requests: the port of the destination's utils.ts (buildPayload, sendSingle, sendBatch).

Every action but reportDeliveryEvent ends here: its mapPayload gives an `Entity` (the v2 `type`,
the v2 `action` and the payload), `build_payload` turns it into the `/api/v2/entity` body, and
`entity_request` / `batch_request` wrap bodies into `CioRequest`s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sandbox._types import JSON, MISSING, Payload
from sandbox._types import is_truthy as truthy
from sandbox.identifiers import resolve_identifiers
from sandbox.outgoing import CioRequest, make_headers
from sandbox.settings import Settings
from sandbox.timestamps import convert_attribute_timestamps, convert_valid_timestamp

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


@dataclass(frozen=True, slots=True)
class Entity:
    """What an action's mapPayload hands to sendSingle/sendBatch: v2 `type`, v2 `action`, payload.

    The payload may hold MISSING values: JavaScript keeps a key whose value is `undefined` in its
    place (which matters when buildPayload later assigns to it), and JSON.stringify drops it.
    """

    type: str
    action: str
    payload: Payload


def converts_timestamps(payload: Payload) -> bool:
    """The v2 rule: convert only when `convert_timestamp` is present and not false (spec §1.4)."""
    return "convert_timestamp" in payload and payload["convert_timestamp"] is not False


# -- timestamps: a fast path in front of the reference converters ---------------------------------
#
# Nearly every ISO string real traffic carries has the shape `YYYY-MM-DD[THH:mm[:ss[.s+]][zone]]`
# with every component in range. For those the reference converters (timestamps.py) all come down
# to the same arithmetic: whole days from the date, plus the seconds of the time, minus the zone
# offset. `iso_seconds` checks that shape with `_FAST_ISO`, has the C parser `fromisoformat` read
# the components, and does that arithmetic exactly (integer seconds). It answers None for anything
# else (no match, a year before 0100, a day past the month's end, which `fromisoformat` refuses),
# and the callers then ask the reference. Why the answer is the reference's:
#
# * A `_FAST_ISO` match is a match of isostring's regex (the same pattern with narrower
#   components, and a fraction only after seconds), and with in-range components `_iso_parse`
#   finds the string valid, so converter A converts it.
# * A zoned string: converter A keeps `_iso_parse`'s instant, `make_date` of the components minus
#   the offset; converter B (`dayjs_parse`) takes the same ISO path for such a string.
# * A zone-less string: both converters use dayjs's component path (`_regex_parse`, `Date.UTC`),
#   whose only difference from `make_date` is the 0-99 year quirk, excluded by the year >= 100 rule.
#   Zone-less is UTC (decisions §1), as the naive epoch below makes it.
# * Unix seconds are floor(ms / 1000). The milliseconds of the fraction (0-999) never move the floor
#   of a whole number of seconds (nor do microseconds), so the fraction only has to be well formed.
#
# tests/test_actions.py checks the equality with the reference functions on generated strings.

_FAST_ISO: Final = re.compile(
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"(?:T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:[.][0-9]{1,9})?)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])?)?"
)
_UTC_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH: Final = datetime(1970, 1, 1)
_SECOND: Final = timedelta(seconds=1)


def iso_seconds(text: str) -> int | None:
    """Unix seconds of a well-formed ISO date-time string, or None: ask the reference converter."""
    if _FAST_ISO.fullmatch(text) is None or text[:2] == "00":
        return None  # not the common shape, or a year 0-99 (dayjs reads zone-less ones as 19xx)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None  # a day past the month's end (JS rolls it over), or year 0
    return (moment - (_NAIVE_EPOCH if moment.tzinfo is None else _UTC_EPOCH)) // _SECOND


def convert_attributes(obj: Mapping[str, JSON]) -> dict[str, JSON]:
    """`convert_attribute_timestamps` (converter A) with the ISO fast path: a new dict, nested
    plain dicts converted too (and copied), lists left as they are."""
    out: dict[str, JSON] = {}
    for key, value in obj.items():
        cls = value.__class__
        if cls is str:
            if value and "0" <= value[0] <= "9":
                seconds = iso_seconds(value)
                out[key] = convert_attribute_timestamps({key: value})[key] if seconds is None else seconds
            else:
                out[key] = value
        elif cls is dict or isinstance(value, dict):
            out[key] = convert_attributes(value)
        else:
            out[key] = value
    return out


def convert_timestamp_value(value: JSON) -> JSON:
    """Converter B (convertValidTimestamp), with the ISO fast path first.

    The reference order is kept behind it: converter A's regex path (for a strict-ISO string both
    converters are dayjs in UTC and give the same second), then B's general V8-style parse.
    """
    if value.__class__ is str:
        seconds = iso_seconds(value)
        if seconds is not None:
            return seconds
        converted = convert_attribute_timestamps({"": value})[""]
        if converted is not value:
            return converted
    return convert_valid_timestamp(value)


def build_payload(entity: Entity) -> dict[str, JSON]:
    """Mirrors utils.ts buildPayload: the `/api/v2/entity` body for one entity (spec §1.5)."""
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
            cls = value.__class__
            if cls is str:
                if value and "0" <= value[0] <= "9":
                    seconds = iso_seconds(value)
                    value = convert_attribute_timestamps({key: value})[key] if seconds is None else seconds
            elif cls is dict or isinstance(value, dict):
                value = convert_attributes(value)
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
        body["timestamp"] = convert_timestamp_value(timestamp)
    # 6. A truthy anonymous_id is added to (a copy of) the attributes, creating them if needed.
    anonymous_id = get("anonymous_id", MISSING)
    if truthy(anonymous_id):
        attributes = body.get("attributes")
        if attributes is converted and attributes is not None:
            merged = attributes  # already a copy of the payload's, nobody else holds it
        else:
            merged = dict(attributes) if attributes.__class__ is dict else {}
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
                if attributes.__class__ is dict:
                    attributes.pop("anonymous_id", None)
    return drop_missing(body)


def drop_missing(body: dict[str, JSON]) -> dict[str, JSON]:
    """JSON.stringify's treatment of `undefined`: the keys disappear (top level; actions keep
    nested objects they build free of MISSING)."""
    for value in body.values():
        if value is MISSING:
            return {key: value for key, value in body.items() if value is not MISSING}
    return body


def entity_request(body: dict[str, JSON], settings: Settings) -> CioRequest:
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
