"""When can a person's time-dependent rules change next? (So a clock move re-evaluates only the
people whose memberships may have changed, not everyone.)

A rule that depends on the time (conditions.py's `time_leaves`) keeps its value between the times
where what it reads crosses a limit, given the person's values: `within_past_days N` on Unix
seconds `s` holds for s <= now <= s + N days; `timestamp_before {"days_ago": N}` for now > s + N
days; `timestamp_after {"days_ago": N}` for now < s + N days (and likewise `days_from_now`); an
event counts for `within_days D` while now <= its timestamp + D days. Those times are the rule's
candidates (an inclusive limit is given as the next float after it, the first time the value can
differ). `TimeLeaf.next_change` returns the earliest candidate after `now` at which the rule's
value differs from its value at `now` (None when it never does), trying at most `TRIES`
candidates: after that it returns the next candidate untried, a time at or before the change.
Between `now` and the time it returns, the rule keeps its value, so evaluating the person again at
any clock time before it gives the same memberships (a test checks that memberships after clock
moves equal a fresh evaluation, and that a rule's value is the same at every time before its
boundary). Only the person's events of the rule's type and name are looked at (the engine's
`EventIndex`, when given).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Any

from mock_cio.state.people import Person, PersonEvent

from .compiled import Check, Env, EventIndex, compile_conditions
from .conditions import time_leaves
from .evaluate import data_value, field_value
from .timestamps import DAY, unix_seconds

JSON = Any
_after = math.inf
Events = Callable[[str, str], Sequence[PersonEvent]]
TRIES = 3
"""How many candidate times `TimeLeaf.next_change` evaluates the rule at before it settles for the
next candidate (a boundary that is early is only an evaluation more)."""


class TimeLeaf:
    """One time-dependent rule (an attribute, event or page rule), compiled once."""

    __slots__ = ("node", "check", "_counted")

    def __init__(self, node: JSON) -> None:
        self.node = node
        self.check: Check = compile_conditions(node)
        ((kind, body),) = node.items()
        self._counted: tuple[tuple[str, str], float, int, int | None] | None = None
        if kind in ("event", "page") and body.get("within_days") is not None and not body.get("data"):
            high = body.get("max_count")
            low = body.get("min_count")
            if low is None:
                low = 1 if high is None else 0
            name = body["name"] if kind == "event" else body["url"]
            self._counted = ((kind, name), body["within_days"] * DAY, low, high)

    def next_change(self, env: Env) -> float | None:
        """The earliest time after `env.now` at which this rule's value for `env.person` can
        differ from its value at `env.now` (None: never, as the person is). `env.now` is moved
        while the rule is tried at its candidates, and put back."""
        counted = self._counted
        if counted is None:
            return self._tried(env)
        # A count rule without data conditions, without trying candidates: every event counted
        # now (those not older than the span, future ones included) stops counting at its
        # candidate `timestamp + span` (the next float), and none starts to, so the count only
        # drops, by one at each of those times in turn, earliest timestamp first. The value
        # changes when the count falls below `low` (true now), or to `high` (false now, above
        # it); a count below `low` stays false. When a candidate is not after `now`, the
        # candidates are tried instead.
        key, span, low, high = counted
        now = env.now
        stamps = env.stamps(key)  # sorted: those counted now are stamps[first:]
        first = bisect_left(stamps, now - span)
        count = len(stamps) - first
        if count < low:
            return None
        if count and math.nextafter(stamps[first] + span, _after) <= now:
            return self._tried(env)
        if high is None or count <= high:
            return None if low == 0 else math.nextafter(stamps[first + count - low] + span, _after)
        return math.nextafter(stamps[first + count - high - 1] + span, _after)

    def _tried(self, env: Env, tries: int = TRIES) -> float | None:
        """`next_change` by trying the rule at its candidates after `env.now`, in order, at most
        `tries` of them."""
        now = env.now
        times: list[float] = []
        _walk(self.node, env.person, times, env.events)
        later = sorted({t for t in times if t > now})
        if not later:
            return None
        check = self.check
        before = check(env)
        try:
            for tried, when in enumerate(later):
                if tried == tries:
                    return when
                env.now = when
                if check(env) != before:
                    return when
        finally:
            env.now = now
        return None


def next_change(
    conditions: JSON, person: Person, now: float, index: EventIndex | None = None
) -> float | None:
    """The earliest time after `now` at which a time-dependent rule of `conditions` can change
    value for `person` (None: none ever does)."""
    env = Env(now, person, index)
    found = [leaf.next_change(env) for leaf in map(TimeLeaf, time_leaves(conditions))]
    later = [t for t in found if t is not None]
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
