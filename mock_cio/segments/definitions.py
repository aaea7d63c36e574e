"""Segment and campaign definitions: frozen values, read from the config file (`[[segments]]`,
`[[campaigns]]`), the app's `CIO_SEGMENTS` / `CIO_CAMPAIGNS` and the admin API's JSON bodies.

A segment is `{"id", "name", "conditions"}`. A campaign is `{"id", "name", "trigger", "filter"?,
"frequency"?}`: the trigger is `{"event": {"name", "data"?}}` (data: attribute-shaped conditions
on the event's data) or `{"segment": {"id"}, "future_only"?}`; `filter` is segment conditions the
person must meet when triggered; `frequency` is `"once"` (the default: a person enters a campaign
at most once) or `"every_time"`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .conditions import SegmentError, check_attribute, check_conditions

JSON = Any
FREQUENCIES = ("once", "every_time")
MAX_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Segment:
    id: int
    name: str
    conditions: JSON

    def to_dict(self) -> dict[str, JSON]:
        return {"id": self.id, "name": self.name, "conditions": self.conditions}


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    name: str
    trigger: JSON
    filter: JSON = None
    frequency: str = "once"

    @property
    def event_name(self) -> str | None:
        event = self.trigger.get("event")
        return None if event is None else event["name"]

    @property
    def segment_id(self) -> int | None:
        segment = self.trigger.get("segment")
        return None if segment is None else segment["id"]

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"id": self.id, "name": self.name, "trigger": self.trigger}
        out["filter"] = self.filter
        out["frequency"] = self.frequency
        return out


def definition_id(value: JSON, path: str) -> int:
    """An id as a whole number from 1 to 2**31-1 (an int, or digits as a URL path holds them)."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise SegmentError(f"{path}: must be a whole number from 1 to {MAX_ID}, got {value!r}")
    return value


def segment_from(body: JSON, path: str, segment_id: JSON = None) -> Segment:
    """A segment from `{"id"?, "name", "conditions"}` (`segment_id`: the id a URL gives)."""
    _object(body, path, ("id", "name", "conditions"))
    ident = definition_id(segment_id if segment_id is not None else body.get("id"), f"{path}.id")
    _id_agrees(body, ident, path)
    name = _name(body, path)
    if "conditions" not in body:
        raise SegmentError(f"{path}.conditions: is required")
    return Segment(ident, name, check_conditions(body["conditions"], f"{path}.conditions"))


def campaign_from(body: JSON, path: str, campaign_id: JSON = None) -> Campaign:
    """A campaign from `{"id"?, "name", "trigger", "filter"?, "frequency"?}`."""
    _object(body, path, ("id", "name", "trigger", "filter", "frequency"))
    ident = definition_id(campaign_id if campaign_id is not None else body.get("id"), f"{path}.id")
    _id_agrees(body, ident, path)
    name = _name(body, path)
    trigger = _trigger(body.get("trigger"), f"{path}.trigger")
    conditions = body.get("filter")
    if conditions is not None:
        check_conditions(conditions, f"{path}.filter")
    frequency = body.get("frequency", "once")
    if frequency not in FREQUENCIES:
        raise SegmentError(f"{path}.frequency: must be 'once' or 'every_time', got {frequency!r}")
    return Campaign(ident, name, trigger, conditions, frequency)


def read_segments(value: JSON, where: str = "CIO_SEGMENTS") -> list[Segment]:
    return _read(value, where, segment_from)


def read_campaigns(value: JSON, where: str = "CIO_CAMPAIGNS") -> list[Campaign]:
    return _read(value, where, campaign_from)


def _read(value: JSON, where: str, build: Any) -> list[Any]:
    """A list of definitions (or `{id: definition}`, or that as JSON text); ids unique."""
    if value is None:
        return []
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise SegmentError(f"{where}: not JSON ({exc})") from None
    if isinstance(value, Mapping):
        items = [(f"{where}[{key!r}]", body, key) for key, body in value.items()]
    elif isinstance(value, list | tuple):
        items = [(f"{where}[{index}]", body, None) for index, body in enumerate(value)]
    else:
        raise SegmentError(f"{where}: must be a list of definitions, got {type(value).__name__}")
    out: list[Any] = []
    seen: set[int] = set()
    for path, body, key in items:
        item = build(body, path, key)
        if item.id in seen:
            raise SegmentError(f"{path}.id: {item.id} is defined twice")
        seen.add(item.id)
        out.append(item)
    return out


def _trigger(trigger: JSON, path: str) -> JSON:
    if not isinstance(trigger, dict):
        raise SegmentError(
            f'{path}: must be {{"event": {{"name": ...}}}} or {{"segment": {{"id": ...}}}}, got {trigger!r}'
        )
    if "event" in trigger:
        _object(trigger, path, ("event",))
        event = trigger["event"]
        _object(event, f"{path}.event", ("name", "data"))
        if not isinstance(event.get("name"), str) or not event["name"]:
            raise SegmentError(f"{path}.event.name: must be a non-empty string, got {event.get('name')!r}")
        data = event.get("data")
        if data is not None:
            if not isinstance(data, list):
                raise SegmentError(f"{path}.event.data: must be a list of attribute conditions, got {data!r}")
            for index, item in enumerate(data):
                check_attribute(item, f"{path}.event.data[{index}]")
        return trigger
    if "segment" in trigger:
        _object(trigger, path, ("segment", "future_only"))
        segment = trigger["segment"]
        _object(segment, f"{path}.segment", ("id",))
        definition_id(segment.get("id"), f"{path}.segment.id")
        if not isinstance(trigger.get("future_only", False), bool):
            raise SegmentError(f"{path}.future_only: must be true or false, got {trigger['future_only']!r}")
        return trigger
    raise SegmentError(
        f"{path}: needs an 'event' or a 'segment', got keys {', '.join(map(repr, trigger)) or 'none'}"
    )


def _object(body: JSON, path: str, allowed: tuple[str, ...]) -> None:
    if not isinstance(body, dict):
        raise SegmentError(f"{path}: must be an object, got {body!r}")
    for key in body:
        if key not in allowed:
            raise SegmentError(f"{path}.{key}: unknown key (allowed: {', '.join(allowed)})")


def _id_agrees(body: JSON, ident: int, path: str) -> None:
    given = body.get("id")
    if given is not None and given != ident and str(given) != str(ident):
        raise SegmentError(f"{path}.id: {given!r} differs from the id in the path ({ident})")


def _name(body: JSON, path: str) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SegmentError(f"{path}.name: must be a non-empty string, got {name!r}")
    return name
