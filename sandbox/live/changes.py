"""The mock's state changes as sentences for the inspector: `attribute_set` {person, name, old, new}
becomes `plan: "free" → "pro"`, times become dates, and `people_merged` says who went into whom.

The vocabulary is mock_cio.state's (its module docstring lists every kind and its fields); a kind
this module does not know is shown as `kind: key=value, ...`, so nothing is hidden.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

_TIME_KEYS = frozenset({"at", "expires_at", "timestamp", "received_at", "created_at"})


def _value(value: Any, key: str = "") -> str:
    """A JSON value compactly; a Unix time (a time key, or a number in 2001–2286 under a name
    ending in `_at`) with its UTC date."""
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and (key in _TIME_KEYS or key.endswith("_at"))
        and 1e9 <= value < 1e10
    ):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    if value is None:
        return "nothing"
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    return text if len(text) <= 160 else text[:159] + "…"


def _identifiers(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_value(v)}" for k, v in value.items() if v is not None) or "no identifiers"
    if isinstance(value, list):
        return ", ".join(
            f"{item.get('kind')} {_value(item.get('value'))}" if isinstance(item, Mapping) else _value(item)
            for item in value
        )
    return _value(value)


def _who(change: Mapping[str, Any]) -> str:
    person = change.get("person")
    return f" (person {person})" if person else ""


_DESCRIBE: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "person_created": lambda c: f"person {c.get('person')} created: {_identifiers(c.get('identifiers'))}",
    "person_deleted": lambda c: (
        f"person {c.get('person')} ({_identifiers(c.get('identifiers'))}) "
        + {"merge": "merged away", "suppress": "deleted and suppressed"}.get(str(c.get("reason")), "deleted")
    ),
    "identifier_set": lambda c: f"{c.get('name')}: {_value(c.get('old'))} → {_value(c.get('new'))}{_who(c)}",
    "attribute_set": lambda c: (
        f"{c.get('name')}: {_value(c.get('old'), str(c.get('name')))} → "
        f"{_value(c.get('new'), str(c.get('name')))}{_who(c)}"
    ),
    "attribute_removed": lambda c: f"{c.get('name')} removed (was {_value(c.get('old'))}){_who(c)}",
    "event_added": lambda c: (
        f"event {_value(c.get('name'))} added{_who(c)}"
        + (" · merged from anonymous" if c.get("merged_from_anonymous") else "")
        + ("" if c.get("can_trigger", True) else " · too old to trigger campaigns")
    ),
    "anonymous_event_stored": lambda c: (
        f"anonymous event {_value(c.get('name'))} kept for {c.get('anonymous_id')} "
        f"until {_value(c.get('expires_at'), 'expires_at')}"
    ),
    "anonymous_events_expired": lambda c: (
        f"{c.get('count')} anonymous event(s) of {c.get('anonymous_id')} expired"
    ),
    "anonymous_id_claimed": lambda c: (
        f"anonymous id {c.get('anonymous_id')} claimed{_who(c)} at {_value(c.get('at'), 'at')}"
    ),
    "events_merged": lambda c: (
        f"{c.get('count')} anonymous event(s) of {c.get('anonymous_id')} merged{_who(c)}"
    ),
    "device_added": lambda c: f"{c.get('platform')} device {c.get('token')} added{_who(c)}",
    "device_updated": lambda c: f"{c.get('platform')} device {c.get('token')} updated{_who(c)}",
    "device_deleted": lambda c: f"device {c.get('token')} removed{_who(c)}",
    "object_created": lambda c: f"object {c.get('object_type_id')}/{c.get('object_id')} created",
    "object_attribute_set": lambda c: (
        f"{c.get('name')}: {_value(c.get('old'))} → {_value(c.get('new'))} (object {c.get('object')})"
    ),
    "object_attribute_removed": lambda c: f"{c.get('name')} removed (object {c.get('object')})",
    "object_deleted": lambda c: f"object {c.get('object_type_id')}/{c.get('object_id')} deleted",
    "relationship_added": lambda c: f"related to object {c.get('object')}{_who(c)}",
    "relationship_updated": lambda c: f"relationship with object {c.get('object')} updated{_who(c)}",
    "relationship_removed": lambda c: f"relationship with object {c.get('object')} removed{_who(c)}",
    "added_to_segment": lambda c: f"entered segment {_value(c.get('segment'))}{_who(c)}",
    "removed_from_segment": lambda c: f"left segment {_value(c.get('segment'))}{_who(c)}",
    "segment_entered": lambda c: f"joined data-driven segment {_value(c.get('segment'))}{_who(c)}",
    "segment_left": lambda c: (
        f"left data-driven segment {_value(c.get('segment'))}{_who(c)}"
        + (f" ({c['reason']})" if c.get("reason") else "")
    ),
    "campaign_entered": lambda c: (
        f"entered campaign {_value(c.get('campaign'))}{_who(c)}, triggered by "
        + (
            f"event {_value((c.get('trigger') or {}).get('event'))}"
            if "event" in (c.get("trigger") or {})
            else f"segment {_value((c.get('trigger') or {}).get('segment'))}"
        )
        + (f", starting at {_value(c.get('starts_at'), 'starts_at')}" if c.get("starts_at") else "")
    ),  # fmt: skip
    "source_event": lambda c: (
        f"Customer.io source: {_value((c.get('event') or {}).get('event'))} for campaign "
        f"{_value(c.get('campaign'))}{_who(c)}, as a Segment track call"
    ),
    "people_merged": lambda c: (
        f"person {c.get('secondary')} merged into {c.get('primary')}: {c.get('events')} event(s) moved"
    ),
    "identifiers_suppressed": lambda c: f"suppressed: {_identifiers(c.get('identifiers'))}",
    "identifiers_unsuppressed": lambda c: f"unsuppressed: {_identifiers(c.get('identifiers'))}",
    "metric_recorded": lambda c: f"delivery {c.get('delivery_id')}: {c.get('metric')} recorded",
}


def describe(change: Any) -> str:
    """One state change as a sentence (unknown kinds: `kind: key=value, ...`)."""
    if not isinstance(change, Mapping):
        return _value(change)
    kind = str(change.get("kind", "change"))
    known = _DESCRIBE.get(kind)
    if known is not None:
        try:
            return known(change)
        except (TypeError, ValueError):  # an odd shape: fall back to the fields
            pass
    fields = ", ".join(f"{k}={_value(v, k)}" for k, v in change.items() if k != "kind")
    return f"{kind}: {fields}" if fields else kind
