"""The bodies the classic integration builds, one function per call (its lib/mapper.js).

Where it sits: `destination.py` picks the call and the path; these give the JSON body. Each follows
the published mapper (segment-boneyard/integration-customer.io 2.4.1) with its facade's readers;
docs/classic.md says where later documentation differs and what this model chose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.classic.dates import convert_dates, js_text, new_date, unix_time
from sandbox.classic.message import find, find_key, is_email, mapping, timestamp_seconds, user_id
from sandbox.js.values import is_truthy

JSON = Any


def identify(event: Mapping[str, Any]) -> dict[str, JSON]:
    """The person's attributes: the traits, `id` (the userId), `created_at` from `created` (else
    `createdAt`, read by new-date; `created` itself is dropped), `email` from the traits or an
    email-shaped userId; then every strict ISO date, at any depth, becomes Unix seconds. Traits
    are looked up as the facade does (case and separators ignored: `Created`, `created_at`)."""
    traits = mapping(event, "traits")
    uid = user_id(event)
    if uid is not None:
        traits["id"] = uid
    created = _either(find(traits, "created"), find(traits, "createdAt"))
    if is_truthy(created):
        traits["created_at"] = _Instant(new_date(created))
        traits.pop("created", None)
    email = _either(find(traits, "email"), uid if is_email(uid) else None)
    if email is not None:
        traits["email"] = email
    return _seconds(convert_dates(traits))


def group(event: Mapping[str, Any]) -> dict[str, JSON]:
    """A group call is an identify of the user: each group trait as `Group <key>`, `Group id`, the
    `email` trait (or an email-shaped groupId) kept as `email`, then identify's rules."""
    traits = mapping(event, "traits")
    group_id = event.get("groupId")
    mapped: dict[str, JSON] = {}
    email = _either(find({**traits, "id": group_id}, "email"), group_id if is_email(group_id) else None)
    if is_truthy(email):
        mapped["email"] = email
        found = find_key(traits, "email")
        if found is not None:
            del traits[found]
    for key, value in traits.items():
        mapped[f"Group {key}"] = value
    mapped["Group id"] = group_id
    return identify({**event, "traits": convert_dates(mapped)})


def track(event: Mapping[str, Any], now: float) -> dict[str, JSON]:
    """A custom event: `{timestamp, data, name}` with the properties' ISO dates as seconds."""
    body: dict[str, JSON] = {
        "timestamp": timestamp_seconds(event, now),
        "data": convert_dates(mapping(event, "properties")),
    }
    if event.get("event") is not None:
        body["name"] = event["event"]
    return body


def page(event: Mapping[str, Any], now: float) -> dict[str, JSON]:
    """A `page` event named by `properties.url`; its data is the properties with the call's
    `category` and `name` added and `url` taken out."""
    props = _page_properties(event)
    url = props.pop("url", None)
    body: dict[str, JSON] = {"timestamp": timestamp_seconds(event, now), "type": "page"}
    if url is not None:
        body["name"] = url
    body["data"] = props
    return body


def screen(event: Mapping[str, Any], now: float) -> dict[str, JSON]:
    """A custom event `Viewed <name> Screen` (JavaScript writes a missing name as `undefined`);
    data as for a page, with `name` taken out."""
    props = _page_properties(event)
    props.pop("name", None)
    name = event.get("name")
    label = "undefined" if name is None else js_text(name)
    return {"timestamp": timestamp_seconds(event, now), "name": f"Viewed {label} Screen", "data": props}


def last_visit(event: Mapping[str, Any], now: float) -> dict[str, JSON]:
    """What page and screen calls first send to the person: `_last_visit` in Unix seconds."""
    return {"_last_visit": timestamp_seconds(event, now)}


def device(token: str, platform: Any, event: Mapping[str, Any], now: float) -> dict[str, JSON]:
    """The device body for Application Installed / Opened (from Segment's later documentation;
    the body's exact shape is not published: the Track API's own `device` object is used)."""
    return {"device": {"id": token, "platform": platform, "last_used": timestamp_seconds(event, now)}}


def _page_properties(event: Mapping[str, Any]) -> dict[str, JSON]:
    props = mapping(event, "properties")
    for key in ("category", "name"):
        if is_truthy(event.get(key)):
            props[key] = event[key]
    return convert_dates(props)


class _Instant:
    """A Date inside a body until the last step turns it into seconds (convert-dates' job)."""

    __slots__ = ("ms",)

    def __init__(self, ms: float | None) -> None:
        self.ms = ms


def _seconds(value: JSON) -> JSON:
    if isinstance(value, _Instant):
        return unix_time(value.ms)
    if isinstance(value, dict):
        return {key: _seconds(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_seconds(item) for item in value]
    return value


def _either(first: Any, second: Any) -> Any:
    """JavaScript's `first || second`."""
    return first if is_truthy(first) else second
