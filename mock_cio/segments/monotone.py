"""Which segments cannot change when a person's events are only added to.

The engine's fast path for a request that only added events (most requests of a replay: a
`track`, a `page`): a segment that reads those events is evaluated again, unless its answer is
known before. Adding events of a (type, name) only ever raises the count of an event or page rule
of that name without `within_days` (its data rules read each event's own data, which does not
change), so:

- such a rule with no `max_count` (`count >= min_count`), once true, stays true; with a
  `max_count` and no `min_count` (`count <= max_count`), once false, stays false;
- `and` / `or` keep the direction of their parts, `not` turns it round;
- attribute and device rules, and rules of other events, do not change (the request changed
  nothing else).

A rule that can change with the clock (`within_days`, a timestamp rule) or that warns (a timestamp
operator: an evaluation records its warning at the evaluation's time), and a reference to another
segment (which may change in the same evaluation), make the answer unknown: evaluated again.
Property-tested against a fresh evaluation (tests/test_automation_laws.py).
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from .conditions import TIMESTAMP_OPERATORS

JSON = Any
NEITHER = (False, False)


def keeps(conditions: JSON, added: Set[tuple[str, JSON]]) -> tuple[bool, bool]:
    """(whether a person out of the segment stays out, whether a person in it stays in) when
    events of the `added` (type, name) keys are added to their history and nothing else changes."""
    found = _direction(conditions, added)
    if found is None:
        return NEITHER
    return (found <= 0, found >= 0)


def _direction(node: JSON, added: Set[tuple[str, JSON]]) -> int | None:
    """1: can only turn true; -1: can only turn false; 0: cannot change; None: unknown."""
    ((kind, body),) = node.items()
    if kind in ("and", "or"):
        found = {_direction(child, added) for child in body}
        if None in found or {1, -1} <= found:
            return None
        return 1 if 1 in found else -1 if -1 in found else 0
    if kind == "not":
        inner = _direction(body, added)
        return None if inner is None else -inner
    if kind == "attribute":
        return None if body["operator"] in TIMESTAMP_OPERATORS else 0
    if kind == "device":
        return 0
    if kind in ("event", "page"):
        if body.get("within_days") is not None:
            return None
        if any(rule["operator"] in TIMESTAMP_OPERATORS for rule in body.get("data") or ()):
            return None
        if (kind, body["name"] if kind == "event" else body["url"]) not in added:
            return 0
        high = body.get("max_count")
        low = body.get("min_count")
        if high is None:
            return 1
        return -1 if not low else None
    return None  # a segment: it may change in the same evaluation
