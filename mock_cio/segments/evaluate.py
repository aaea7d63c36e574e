"""One (checked) condition against one person at one time.

The rules, where Customer.io's documentation leaves them open, as the README's "How the mock
decides" lists them:

- A field is `id`, `email` or `cio_id` (the identifiers) or an attribute; `a.b` reaches into an
  object attribute when no attribute is named `a.b`. `null` is no value.
- `eq` compares text: numbers as JSON writes them (`5` and `5.0` are "5"), booleans as
  `true`/`false`, strings as they are (case-sensitive). `contains` looks for that text in a string,
  or for an equal element in a list. `not_eq` and `not_contains` are their negations, so they hold
  for a person who lacks the field (as "does not exist" does).
- `gt`/`lt` compare numbers: a number, or a string that reads as one.
- Timestamp rules hold only for Unix seconds (timestamps.py): any other value present under the
  field does not match and is reported through `warn`.
- Event rules count the person's events (type `event`) of that name whose timestamp is within the
  past `within_days` (no bound without it) and whose data meets every `data` condition; they hold
  when `min_count` (default 1, or 0 with a `max_count`) <= count <= `max_count` (if any). Page rules count page views whose
  name is the url. Device rules hold when the person has a device (of that platform).
- `{"segment": {"id": N}}` is membership of segment N: a data-driven segment's definition, or, for
  any other id, the manual segment N.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mock_cio.state.people import Person

from .timestamps import DAY, reference_time, unix_seconds

JSON = Any
_MISSING = object()
IDENTIFIERS = ("id", "email", "cio_id")
"""The fields that name a person's identifiers rather than attributes."""
Warn = Callable[[str, JSON, str], None]
"""warn(field, value, operator): a timestamp rule met a value that is not Unix seconds."""


class Clocked(Protocol):
    """What attribute rules read of an evaluation: its time, and where to report a timestamp
    rule that met a value that is not Unix seconds (`Context`, or compiled.py's `Env`)."""

    @property
    def now(self) -> float: ...

    def warn(self, name: str, value: JSON, operator: str, /) -> None: ...


@dataclass(frozen=True, slots=True)
class Context:
    now: float
    member: Callable[[int], bool]
    warn: Warn


def matches(node: JSON, person: Person, ctx: Context) -> bool:
    ((kind, body),) = node.items()
    if kind == "and":
        return all(matches(child, person, ctx) for child in body)
    if kind == "or":
        return any(matches(child, person, ctx) for child in body)
    if kind == "not":
        return not matches(body, person, ctx)
    if kind == "segment":
        return ctx.member(body["id"])
    if kind == "attribute":
        return attribute_holds(body, field_value(person, body["field"]), ctx)
    if kind == "event":
        return _counted(body, _count(person, "event", body["name"], body, ctx))
    if kind == "page":
        return _counted(body, _count(person, "page", body["url"], body, ctx))
    platform = body.get("platform")
    return any(platform is None or d.platform == platform for d in person.devices.values())


def field_value(person: Person, name: str) -> JSON:
    """The value of a person's field, or `_MISSING`."""
    if name in IDENTIFIERS:
        value = person.identifiers[name]
        return _MISSING if value is None else value
    return data_value(person.attributes, name)


def data_value(data: JSON, name: str) -> JSON:
    if not isinstance(data, dict):
        return _MISSING
    if name in data:
        value = data[name]
        return _MISSING if value is None else value
    if "." in name:
        head, _, rest = name.partition(".")
        return data_value(data.get(head), rest)
    return _MISSING


def attribute_holds(rule: JSON, value: JSON, ctx: Clocked) -> bool:
    """One attribute-shaped rule on `value` (`_MISSING` when the field has none)."""
    operator = rule["operator"]
    present = value is not _MISSING
    if operator == "exists":
        return present
    if operator == "not_exists":
        return not present
    if operator == "not_eq":
        return not present or not _equal(value, rule["value"])
    if operator == "not_contains":
        return not present or not _contains(value, rule["value"])
    if not present:
        return False
    if operator == "eq":
        return _equal(value, rule["value"])
    if operator == "contains":
        return _contains(value, rule["value"])
    if operator in ("gt", "lt"):
        number = _number(value)
        if number is None:
            return False
        return number > rule["value"] if operator == "gt" else number < rule["value"]
    seconds = unix_seconds(value)
    if seconds is None:
        ctx.warn(rule["field"], value, operator)
        return False
    if operator == "is_timestamp":
        return True
    if operator == "within_past_days":
        return ctx.now - rule["value"] * DAY <= seconds <= ctx.now
    limit = reference_time(rule["value"], ctx.now)
    return seconds < limit if operator == "timestamp_before" else seconds > limit


def text(value: JSON) -> str:
    """A value as the text `eq` compares."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return str(value)


def _equal(value: JSON, expected: JSON) -> bool:
    return equal_text(value, text(expected))


def equal_text(value: JSON, wanted: str) -> bool:
    """Whether a present value equals, as `eq` compares, a value whose text is `wanted`."""
    if isinstance(value, (dict, list)):
        return False
    return text(value) == wanted


def _contains(value: JSON, expected: JSON) -> bool:
    if isinstance(value, list):
        return any(_equal(item, expected) for item in value)
    if isinstance(value, str):
        return text(expected) in value
    return False


def _number(value: JSON) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _count(person: Person, event_type: str, name: str, rule: JSON, ctx: Context) -> int:
    days = rule.get("within_days")
    since = None if days is None else ctx.now - days * DAY
    data_rules = rule.get("data") or ()
    count = 0
    for event in person.events:
        if event.type != event_type or event.name != name:
            continue
        if since is not None and event.timestamp < since:
            continue
        if all(attribute_holds(r, data_value(event.data, r["field"]), ctx) for r in data_rules):
            count += 1
    return count


def _counted(rule: JSON, count: int) -> bool:
    high = rule.get("max_count")
    low = rule.get("min_count")
    if low is None:
        low = 1 if high is None else 0
    return count >= low and (high is None or count <= high)
