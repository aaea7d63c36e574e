"""Segment conditions and campaign triggers as words, for the inspector: `{"attribute": {"field":
"created_at", "operator": "is_timestamp"}}` becomes `created_at is a timestamp`.

The vocabulary is mock_cio.segments.conditions' (its docstring lists every kind and operator); a
shape this module does not know is shown as compact JSON, so nothing is hidden.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

_OPERATORS = {
    "eq": "is",
    "not_eq": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "gt": "is greater than",
    "lt": "is less than",
    "exists": "exists",
    "not_exists": "does not exist",
    "is_timestamp": "is a timestamp",
    "timestamp_before": "is a timestamp before",
    "timestamp_after": "is a timestamp after",
    "within_past_days": "is a timestamp within the past",
}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def _when(value: Any) -> str:
    if isinstance(value, Mapping) and "days_ago" in value:
        return f"{value['days_ago']} day(s) ago"
    if isinstance(value, Mapping) and "days_from_now" in value:
        return f"{value['days_from_now']} day(s) from now"
    return f"{_json(value)} (Unix seconds)"


def attribute_text(body: Mapping[str, Any], subject: str = "") -> str:
    field, operator = body.get("field"), body.get("operator")
    verb = _OPERATORS.get(str(operator), str(operator))
    head = f"{subject}{field} {verb}"
    if operator in ("exists", "not_exists", "is_timestamp"):
        return head
    if operator in ("timestamp_before", "timestamp_after"):
        return f"{head} {_when(body.get('value'))}"
    if operator == "within_past_days":
        return f"{head} {_json(body.get('value'))} day(s)"
    return f"{head} {_json(body.get('value'))}"


def _counts(body: Mapping[str, Any]) -> str:
    parts = []
    if body.get("min_count") is not None:
        parts.append(f"at least {body['min_count']} time(s)")
    if body.get("max_count") is not None:
        parts.append(f"at most {body['max_count']} time(s)")
    if body.get("within_days") is not None:
        parts.append(f"within the past {body['within_days']} day(s)")
    return (" " + ", ".join(parts)) if parts else ""


def _data(body: Mapping[str, Any]) -> str:
    rules = body.get("data") or []
    if not rules:
        return ""
    return " where " + " and ".join(attribute_text(r, "data.") for r in rules if isinstance(r, Mapping))


def conditions_text(node: Any) -> str:
    """A segment's conditions (or a campaign's filter) as one line of words."""
    if not isinstance(node, Mapping) or len(node) != 1:
        return _json(node)
    ((kind, body),) = node.items()
    try:
        if kind in ("and", "or"):
            joiner = " and " if kind == "and" else " or "
            inner = [conditions_text(child) for child in body]
            return inner[0] if len(inner) == 1 else "(" + joiner.join(inner) + ")"
        if kind == "not":
            return f"not {conditions_text(body)}"
        if kind == "segment":
            return f"in segment {body.get('id')}"
        if kind == "attribute":
            return attribute_text(body)
        if kind == "event":
            return f"performed event {_json(body.get('name'))}{_counts(body)}{_data(body)}"
        if kind == "page":
            return f"viewed page {_json(body.get('url'))}{_counts(body)}"
        if kind == "device":
            platform = body.get("platform")
            return "has a device" + (f" on {platform}" if platform else "")
    except (AttributeError, TypeError):  # an odd shape: show it as it is
        pass
    return _json(node)


def trigger_text(trigger: Any) -> str:
    """A campaign's trigger (its definition, or an entry's `trigger`) in words."""
    if not isinstance(trigger, Mapping):
        return _json(trigger)
    event = trigger.get("event")
    if isinstance(event, Mapping):  # a definition: {"event": {"name", "data"?}}
        return f"event {_json(event.get('name'))}{_data(event)}"
    if event is not None:  # an entry: {"event": name, "event_id", "merged_from_anonymous"}
        merged = " (merged from anonymous activity)" if trigger.get("merged_from_anonymous") else ""
        return f"event {_json(event)}{merged}"
    segment = trigger.get("segment")
    if isinstance(segment, Mapping):
        future = " (people who join from now on)" if trigger.get("future_only") else ""
        return f"entering segment {segment.get('id')}{future}"
    if segment is not None:
        return f"entering segment {segment}"
    return _json(trigger)
