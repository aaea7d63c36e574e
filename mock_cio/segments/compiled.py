"""Conditions compiled once into closures: the fast path of evaluate.py's `matches`.

`compile_conditions(node)` returns `check(person, env) -> bool` that gives the same answer as
`matches(node, person, ctx)` (a property test checks it on generated people and conditions) while
doing the per-request work once per definition: no dict unpacking per node, and the person's
events grouped by (type, name) once per evaluation (`Env.events`), not walked once per rule.
The rules themselves are evaluate.py's (`attribute_holds`, `field_value`, `data_value`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mock_cio.state.people import Person, PersonEvent

from .evaluate import Context, attribute_holds, data_value, field_value
from .timestamps import DAY

JSON = Any


class Env:
    """One evaluation of one person at one time: the context, and the person's events by kind."""

    __slots__ = ("ctx", "person", "_events")

    def __init__(self, ctx: Context, person: Person) -> None:
        self.ctx = ctx
        self.person = person
        self._events: dict[tuple[str, str], list[PersonEvent]] | None = None

    def events(self, kind: str, name: str) -> list[PersonEvent]:
        if self._events is None:
            grouped: dict[tuple[str, str], list[PersonEvent]] = {}
            for event in self.person.events:
                grouped.setdefault((event.type, event.name), []).append(event)
            self._events = grouped
        return self._events.get((kind, name), [])


Check = Callable[[Env], bool]


def compile_conditions(node: JSON) -> Check:
    ((kind, body),) = node.items()
    if kind == "and":
        parts = [compile_conditions(child) for child in body]
        return lambda env: all(part(env) for part in parts)
    if kind == "or":
        parts = [compile_conditions(child) for child in body]
        return lambda env: any(part(env) for part in parts)
    if kind == "not":
        inner = compile_conditions(body)
        return lambda env: not inner(env)
    if kind == "segment":
        number = body["id"]
        return lambda env: env.ctx.member(number)
    if kind == "attribute":
        name = body["field"]
        return lambda env: attribute_holds(body, field_value(env.person, name), env.ctx)
    if kind in ("event", "page"):
        return _activity(kind, body["name"] if kind == "event" else body["url"], body)
    platform = body.get("platform")
    return lambda env: any(platform is None or d.platform == platform for d in env.person.devices.values())


def _activity(kind: str, name: str, body: JSON) -> Check:
    days = body.get("within_days")
    rules = list(body.get("data") or ())
    high = body.get("max_count")
    low = body.get("min_count")
    if low is None:
        low = 1 if high is None else 0

    def check(env: Env) -> bool:
        since = None if days is None else env.ctx.now - days * DAY
        count = 0
        for event in env.events(kind, name):
            if since is not None and event.timestamp < since:
                continue
            if rules and not all(
                attribute_holds(r, data_value(event.data, r["field"]), env.ctx) for r in rules
            ):
                continue
            count += 1
        return count >= low and (high is None or count <= high)

    return check
