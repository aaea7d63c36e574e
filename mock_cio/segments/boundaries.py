"""When can a person's time-dependent rules change next? (So a clock move re-evaluates only the
people whose memberships may have changed, not everyone.)

A rule that depends on the time is true on an interval of times, given the person's values:
`within_past_days N` on Unix seconds `s` holds for s <= now <= s + N days; `timestamp_before
{"days_ago": N}` for now > s + N days; `timestamp_after {"days_ago": N}` for now < s + N days (and
likewise `days_from_now`); an event counts for `within_days D` while now <= its timestamp + D days.
`next_change` returns the earliest end of such an interval after `now` (None when there is none):
between two such times every rule keeps its value, so evaluating a person again at any clock time
before it gives the same memberships. A boundary that is inclusive is returned as the next float
after it, the first time the value differs. A test checks that memberships after clock moves equal
a fresh evaluation. `events(kind, name)`, when given, returns the person's events of that type
and name (the engine's `EventIndex`), so that only those are looked at.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mock_cio.state.people import Person, PersonEvent

from .evaluate import data_value, field_value
from .timestamps import DAY, unix_seconds

JSON = Any
_after = math.inf
Events = Callable[[str, str], Sequence[PersonEvent]]


def next_change(
    conditions: Iterable[JSON], person: Person, now: float, events: Events | None = None
) -> float | None:
    times: list[float] = []
    if events is None:
        events = lambda kind, name: [e for e in person.events if e.type == kind and e.name == name]  # noqa: E731
    for node in conditions:
        _walk(node, person, times, events)
    later = [t for t in times if t > now]
    return min(later) if later else None


def _walk(node: JSON, person: Person, times: list[float], events: Events) -> None:
    ((kind, body),) = node.items()
    if kind in ("and", "or"):
        for child in body:
            _walk(child, person, times, events)
    elif kind == "not":
        _walk(body, person, times, events)
    elif kind == "attribute":
        _rule(body, field_value(person, body["field"]), times)
    elif kind in ("event", "page"):
        name = body["name"] if kind == "event" else body["url"]
        days = body.get("within_days")
        for event in events(kind, name):
            if days is not None:
                times.append(event.timestamp)  # a future event starts to count
                times.append(math.nextafter(event.timestamp + days * DAY, _after))
            for rule in body.get("data") or ():
                _rule(rule, data_value(event.data, rule["field"]), times)


def _rule(rule: JSON, value: JSON, times: list[float]) -> None:
    operator = rule["operator"]
    if operator not in ("within_past_days", "timestamp_before", "timestamp_after"):
        return
    seconds = unix_seconds(value)
    if seconds is None:
        return
    given = rule["value"]
    if operator == "within_past_days":
        times.append(seconds)
        times.append(math.nextafter(seconds + given * DAY, _after))
        return
    if not isinstance(given, dict):
        return  # an absolute time: the rule does not change with the clock
    offset = -given["days_ago"] * DAY if "days_ago" in given else given["days_from_now"] * DAY
    # the rule compares `seconds` with now + offset: it flips when now crosses seconds - offset
    edge = seconds - offset
    times.append(math.nextafter(edge, _after) if operator == "timestamp_before" else edge)
