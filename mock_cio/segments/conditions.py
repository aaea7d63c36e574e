"""The segment definition format, and its checks.

Shaped like Customer.io's App API filter (`{"and": [...]}`, `{"or": [...]}`, `{"not": {...}}`,
`{"segment": {"id": 7}}`, `{"attribute": {"field", "operator", "value"}}`), with the operators of
its segment builder under these names:

- `eq`, `not_eq`, `contains`, `not_contains` (a value), `exists`, `not_exists` (no value)
- `gt`, `lt` (a number)
- `is_timestamp` (no value), `timestamp_before`, `timestamp_after` (Unix seconds, or
  `{"days_ago": N}` / `{"days_from_now": N}`), `within_past_days` (N)

and the activity rules `{"event": {"name", "min_count"?, "max_count"?, "within_days"?, "data"?}}`
(`data`: attribute-shaped conditions on the event's data), `{"page": {"url", "min_count"?,
"within_days"?}}`, `{"device": {"platform"?}}`. A condition is one object with exactly one of
these keys. `check_conditions` raises `SegmentError` naming the path of the first problem
(`conditions.and[1].attribute.operator: ...`).
"""

from __future__ import annotations

import math
from typing import Any

from mock_cio.errors import MockError, SegmentError  # noqa: F401  (defined in mock_cio.errors; importable here too)

JSON = Any
VALUE_OPERATORS = frozenset({"eq", "not_eq", "contains", "not_contains"})
BARE_OPERATORS = frozenset({"exists", "not_exists", "is_timestamp"})
NUMBER_OPERATORS = frozenset({"gt", "lt"})
TIME_OPERATORS = frozenset({"timestamp_before", "timestamp_after"})
TIMESTAMP_OPERATORS = frozenset({"is_timestamp", "timestamp_before", "timestamp_after", "within_past_days"})
OPERATORS = VALUE_OPERATORS | BARE_OPERATORS | NUMBER_OPERATORS | TIME_OPERATORS | {"within_past_days"}
KINDS = ("and", "or", "not", "segment", "attribute", "event", "page", "device")
MAX_DEPTH = 32
MAX_DAYS = 100_000


def check_conditions(conditions: JSON, path: str = "conditions") -> JSON:
    """`conditions` when it is a valid definition, else SegmentError naming where it is not."""
    _check(conditions, path, 0)
    return conditions


def segment_refs(conditions: JSON) -> set[int]:
    """The segment ids a (checked) definition refers to."""
    found: set[int] = set()
    _walk(conditions, lambda kind, body: found.add(body["id"]) if kind == "segment" else None)
    return found


def uses_time(conditions: JSON) -> bool:
    """Whether a (checked) definition's result can change as the clock moves, by itself."""
    return bool(time_leaves(conditions))


def time_leaves(conditions: JSON) -> list[JSON]:
    """The rules of a (checked) definition whose value can change as the clock moves, by
    themselves: an attribute rule `within_past_days`, or `timestamp_before`/`timestamp_after` a
    relative time; an event or page rule with `within_days`, or with such a rule on its data."""
    found: list[JSON] = []

    def timed(rule: JSON) -> bool:
        operator = rule["operator"]
        return operator == "within_past_days" or (
            operator in TIME_OPERATORS and isinstance(rule.get("value"), dict)
        )

    def visit(kind: str, body: JSON) -> None:
        if kind == "attribute":
            if timed(body):
                found.append({kind: body})
        elif kind in ("event", "page"):
            if body.get("within_days") is not None or any(timed(r) for r in body.get("data") or ()):
                found.append({kind: body})

    _walk(conditions, visit)
    return found


def _walk(node: JSON, visit: Any) -> None:
    ((kind, body),) = node.items()
    visit(kind, body)
    if kind in ("and", "or"):
        for child in body:
            _walk(child, visit)
    elif kind == "not":
        _walk(body, visit)


def _fail(path: str, problem: str) -> SegmentError:
    return SegmentError(f"{path}: {problem}")


def _check(node: JSON, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _fail(path, f"conditions nest more than {MAX_DEPTH} levels deep")
    if not isinstance(node, dict):
        raise _fail(path, f"a condition must be an object with one of {', '.join(KINDS)}, got {_shown(node)}")
    if len(node) != 1:
        keys = ", ".join(map(repr, node)) or "none"
        raise _fail(path, f"a condition must have exactly one key of {', '.join(KINDS)}, got {keys}")
    ((kind, body),) = node.items()
    here = f"{path}.{kind}"
    if kind in ("and", "or"):
        if not isinstance(body, list) or not body:
            raise _fail(here, f"must be a non-empty list of conditions, got {_shown(body)}")
        for index, child in enumerate(body):
            _check(child, f"{here}[{index}]", depth + 1)
    elif kind == "not":
        _check(body, here, depth + 1)
    elif kind == "segment":
        _keys(body, here, required=("id",), optional=())
        if isinstance(body["id"], bool) or not isinstance(body["id"], int) or not 0 < body["id"] < 2**31:
            raise _fail(
                f"{here}.id",
                f"must be a segment id (a whole number from 1 to 2147483647), got {_shown(body['id'])}",
            )
    elif kind == "attribute":
        check_attribute(body, here)
    elif kind == "event":
        _keys(body, here, required=("name",), optional=("min_count", "max_count", "within_days", "data"))
        _text(body["name"], f"{here}.name")
        _activity_counts(body, here)
        data = body.get("data")
        if data is not None:
            if not isinstance(data, list):
                raise _fail(f"{here}.data", f"must be a list of attribute conditions, got {_shown(data)}")
            for index, item in enumerate(data):
                check_attribute(item, f"{here}.data[{index}]")
    elif kind == "page":
        _keys(body, here, required=("url",), optional=("min_count", "within_days"))
        _text(body["url"], f"{here}.url")
        _activity_counts(body, here)
    elif kind == "device":
        _keys(body, here, required=(), optional=("platform",))
        if body.get("platform") is not None:
            _text(body["platform"], f"{here}.platform")
    else:
        raise _fail(path, f"unknown condition {kind!r}: use one of {', '.join(KINDS)}")


def check_attribute(body: JSON, path: str) -> None:
    """An attribute-shaped condition: `{"field", "operator", "value"?}`."""
    _keys(body, path, required=("field", "operator"), optional=("value",))
    _text(body["field"], f"{path}.field")
    operator = body["operator"]
    if operator not in OPERATORS:
        raise _fail(
            f"{path}.operator",
            f"unknown operator {_shown(operator)}: use one of {', '.join(sorted(OPERATORS))}",
        )
    has_value = "value" in body
    value = body.get("value")
    where = f"{path}.value"
    if operator in BARE_OPERATORS:
        if has_value:
            raise _fail(where, f"{operator} takes no value")
    elif not has_value:
        raise _fail(where, f"{operator} needs a value")
    elif operator in VALUE_OPERATORS:
        if value is None or isinstance(value, dict | list):
            raise _fail(where, f"{operator} compares with a string, number or boolean, got {_shown(value)}")
    elif operator in NUMBER_OPERATORS:
        _number(value, where)
    elif operator == "within_past_days":
        _days(value, where)
    else:  # timestamp_before / timestamp_after
        if isinstance(value, dict):
            if len(value) != 1 or next(iter(value)) not in ("days_ago", "days_from_now"):
                raise _fail(
                    where,
                    f'must be Unix seconds, {{"days_ago": N}} or {{"days_from_now": N}}, got {_shown(value)}',
                )
            ((key, days),) = value.items()
            _days(days, f"{where}.{key}")
        else:
            _number(value, where)
            if not 0 <= value < 10**10:
                raise _fail(where, f"must be Unix seconds (0 to 9999999999), got {_shown(value)}")


def _activity_counts(body: JSON, path: str) -> None:
    for key in ("min_count", "max_count"):
        if body.get(key) is not None:
            count = body[key]
            if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 2**31:
                raise _fail(f"{path}.{key}", f"must be a whole number from 0, got {_shown(count)}")
    low, high = body.get("min_count"), body.get("max_count")
    if low is not None and high is not None and low > high:
        raise _fail(f"{path}.max_count", f"is less than min_count ({high} < {low})")
    if body.get("within_days") is not None:
        _days(body["within_days"], f"{path}.within_days")


def _keys(body: JSON, path: str, *, required: tuple[str, ...], optional: tuple[str, ...]) -> None:
    if not isinstance(body, dict):
        raise _fail(path, f"must be an object, got {_shown(body)}")
    for key in required:
        if key not in body:
            raise _fail(f"{path}.{key}", "is required")
    for key in body:
        if key not in required and key not in optional:
            allowed = ", ".join((*required, *optional)) or "nothing"
            raise _fail(f"{path}.{key}", f"unknown key (allowed: {allowed})")


def _text(value: JSON, path: str) -> None:
    if not isinstance(value, str) or not value:
        raise _fail(path, f"must be a non-empty string, got {_shown(value)}")


def _number(value: JSON, path: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(path, f"must be a number, got {_shown(value)}")


def _days(value: JSON, path: str) -> None:
    _number(value, path)
    if not 0 <= value <= MAX_DAYS:
        raise _fail(path, f"must be a number of days from 0 to {MAX_DAYS}, got {_shown(value)}")


def _shown(value: JSON) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def inputs_of(conditions: JSON) -> frozenset[tuple[str, JSON]]:
    """What a (checked) definition reads of a person, as the keys a change makes dirty:
    `("attr", name)` (the field's first part: an attribute or identifier), `("event", name)`,
    `("page", url)`, `("device", None)`, `("segment", id)` (a manual or defined segment)."""
    found: set[tuple[str, JSON]] = set()

    def visit(kind: str, body: JSON) -> None:
        if kind == "attribute":
            found.add(("attr", body["field"]))  # an attribute of that name, or an object's part:
            found.add(("attr", body["field"].split(".", 1)[0]))
        elif kind == "event":
            found.add(("event", body["name"]))
        elif kind == "page":
            found.add(("page", body["url"]))
        elif kind == "device":
            found.add(("device", None))
        elif kind == "segment":
            found.add(("segment", body["id"]))

    _walk(conditions, visit)
    return frozenset(found)
