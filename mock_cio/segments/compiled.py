"""Conditions compiled once into closures: the fast path of evaluate.py's `matches`.

`compile_conditions(node)` returns `check(person, env) -> bool` that gives the same answer as
`matches(node, person, ctx)` (a property test checks it on generated people and conditions) while
doing the per-request work once per definition: no dict unpacking per node, and the person's
events grouped by (type, name) (`EventIndex`), not walked once per rule. The engine keeps one
index per person and brings it up to date with the events added since (a person's events are only
ever appended to), so an evaluation does not rescan the person's history.
The rules themselves are evaluate.py's (`attribute_holds`, `field_value`, `data_value`).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Container
from typing import Any

from mock_cio.state.people import Person, PersonEvent

from .conditions import TIMESTAMP_OPERATORS
from .evaluate import _MISSING, IDENTIFIERS, attribute_holds, data_value, equal_text, field_value, text
from .timestamps import DAY

JSON = Any


_NO_EVENTS: list[PersonEvent] = []
_NO_STAMPS: list[int] = []


class EventIndex:
    """A person's events grouped by (type, name), in their order, and each group's timestamps
    sorted (`stamps`: a count of the events not older than a time is one bisection):
    `current()` adds the events appended since the last call (a new events list, or a shorter
    one, is indexed afresh)."""

    __slots__ = ("source", "seen", "groups", "stamps")

    def __init__(self, events: list[PersonEvent]) -> None:
        self.source = events
        self.seen = 0
        self.groups: dict[tuple[str, str], list[PersonEvent]] = {}
        self.stamps: dict[tuple[str, str], list[int]] = {}

    def current(self, events: list[PersonEvent]) -> EventIndex:
        """This index brought up to date with `events` (indexed afresh when they are another
        list, or a shorter one)."""
        if events is not self.source or len(events) < self.seen:
            self.source, self.seen, self.groups, self.stamps = events, 0, {}, {}
        if len(events) != self.seen:
            groups = self.groups
            stamps = self.stamps
            for event in events[self.seen :]:
                key = (event.type, event.name)
                timestamp = event.timestamp
                found = groups.get(key)
                if found is None:
                    groups[key] = [event]
                    stamps[key] = [timestamp]
                else:
                    found.append(event)
                    times = stamps[key]
                    if timestamp >= times[-1]:  # most events come in time order
                        times.append(timestamp)
                    else:
                        insort(times, timestamp)
            self.seen = len(events)
        return self

    def get(self, kind: str, name: str) -> list[PersonEvent]:
        return self.groups.get((kind, name), _NO_EVENTS)


class Env:
    """One evaluation of one person at one time, made once per evaluation (no closures): the
    time, the person, their events by kind (`index`, when the caller keeps one up to date; else
    grouped here on first use), the data-driven segments found so far (`inside`, for references
    to the segments of `defined`; any other id is a manual segment, read from the person), and,
    with `warnings` a list, the timestamp warnings as (segment, field, value, operator), the
    segment being the one `segment` names when the rule ran."""

    __slots__ = ("now", "person", "inside", "defined", "warnings", "segment", "_index")

    def __init__(
        self,
        now: float,
        person: Person,
        index: EventIndex | None = None,
        inside: set[int] | None = None,
        defined: Container[int] = (),
        warnings: list[tuple[JSON, str, JSON, str]] | None = None,
    ) -> None:
        self.now = now
        self.person = person
        self.inside = set() if inside is None else inside
        self.defined = defined
        self.warnings = warnings
        self.segment: JSON = None
        self._index = index

    def member(self, other: int) -> bool:
        return other in self.inside if other in self.defined else other in self.person.segments

    def warn(self, name: str, value: JSON, operator: str) -> None:
        if self.warnings is not None:
            self.warnings.append((self.segment, name, value, operator))

    def events(self, kind: str, name: str) -> list[PersonEvent]:
        return self.group((kind, name))

    def group(self, key: tuple[str, str]) -> list[PersonEvent]:
        """The person's events of `key`, (type, name)."""
        return self._indexed().groups.get(key, _NO_EVENTS)

    def stamps(self, key: tuple[str, str]) -> list[int]:
        """The timestamps of the person's events of `key`, sorted."""
        return self._indexed().stamps.get(key, _NO_STAMPS)

    def _indexed(self) -> EventIndex:
        index = self._index
        if index is None:
            index = self._index = EventIndex(self.person.events).current(self.person.events)
        return index


Check = Callable[[Env], bool]


def compile_conditions(node: JSON) -> Check:
    ((kind, body),) = node.items()
    if kind == "and":
        parts = [compile_conditions(child) for child in body]

        def every(env: Env) -> bool:
            for part in parts:
                if not part(env):
                    return False
            return True

        return parts[0] if len(parts) == 1 else every
    if kind == "or":
        parts = [compile_conditions(child) for child in body]

        def some(env: Env) -> bool:
            for part in parts:
                if part(env):
                    return True
            return False

        return parts[0] if len(parts) == 1 else some
    if kind == "not":
        inner = compile_conditions(body)
        return lambda env: not inner(env)
    if kind == "segment":
        number = body["id"]
        return lambda env: env.member(number)
    if kind == "attribute":
        return _attribute(body)
    if kind in ("event", "page"):
        return _activity(kind, body["name"] if kind == "event" else body["url"], body)
    platform = body.get("platform")
    return lambda env: any(platform is None or d.platform == platform for d in env.person.devices.values())


def _attribute(body: JSON) -> Check:
    name = body["field"]
    operator = body["operator"]
    if name in IDENTIFIERS or "." in name:  # an identifier, or a part of an object attribute
        return lambda env: attribute_holds(body, field_value(env.person, name), env)
    # a plain attribute: evaluate.py's field_value is its value, None (no value) when absent
    if operator in ("exists", "not_exists"):
        present = operator == "exists"
        return lambda env: (env.person.attributes.get(name) is not None) is present
    if operator in ("eq", "not_eq"):
        wanted = text(body["value"])
        negated = operator == "not_eq"

        def equal(env: Env) -> bool:
            value = env.person.attributes.get(name)
            if value is None:
                return negated
            return equal_text(value, wanted) is not negated

        return equal

    def other(env: Env) -> bool:
        value = env.person.attributes.get(name)
        return attribute_holds(body, _MISSING if value is None else value, env)

    return other


def _activity(kind: str, name: str, body: JSON) -> Check:
    days = body.get("within_days")
    rules = list(body.get("data") or ())
    high = body.get("max_count")
    low = body.get("min_count")
    if low is None:
        low = 1 if high is None else 0

    fields = [(rule, rule["field"]) for rule in rules]
    key = (kind, name)
    if days is None and not fields:  # every event of the name counts

        def by_length(env: Env) -> bool:
            count = len(env.group(key))
            return count >= low and (high is None or count <= high)

        return by_length
    if not fields:  # every event since `within_days` ago counts (a future one too)
        span = days * DAY

        def since_then(env: Env) -> bool:
            stamps = env.stamps(key)
            count = len(stamps) - bisect_left(stamps, env.now - span)
            return count >= low and (high is None or count <= high)

        return since_then
    if not any(rule["operator"] in TIMESTAMP_OPERATORS for rule in rules):
        # no data rule can warn: stop counting once the answer is known, latest events first
        # (the likeliest to be within `within_days`)

        def early(env: Env) -> bool:
            since = None if days is None else env.now - days * DAY
            count = 0
            for event in reversed(env.group(key)):
                if since is not None and event.timestamp < since:
                    continue
                for rule, field_name in fields:
                    if not attribute_holds(rule, data_value(event.data, field_name), env):
                        break
                else:
                    count += 1
                    if high is None:
                        if count >= low:
                            return True
                    elif count > high:
                        return False
            return count >= low and (high is None or count <= high)

        return early

    def check(env: Env) -> bool:
        events = env.group(key)
        since = None if days is None else env.now - days * DAY
        count = 0
        for event in events:
            if since is not None and event.timestamp < since:
                continue
            for rule, field_name in fields:
                if not attribute_holds(rule, data_value(event.data, field_name), env):
                    break
            else:
                count += 1
        return count >= low and (high is None or count <= high)

    return check
