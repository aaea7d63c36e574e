"""The condition tree (`Compare` leaves, `and`/`or` `Group`s) and how it tests an event.

Each node compiles itself into a closure when it is built, so `matches` costs a few calls;
the semantics are destination-subscriptions' validate.ts (docs/destination.md §11.3)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sandbox.js.numbers import number_to_string, to_number
from sandbox.js.values import JSON, MISSING, Event
from sandbox.mapping.paths import get_keys

# -- the condition tree ------------------------------------------------------------------------

Field = Literal["type", "event", "name", "userId", "properties", "traits", "context"]
_SCOPED = ("properties", "traits", "context")
_FIELDS = ("type", "event", "name", "userId", *_SCOPED)

Operator = str
"""`=`, `!=`, `<`, `<=`, `>`, `>=`, `number_equals`, `number_not_equals`, `contains`,
`not_contains`, `starts_with`, `not_starts_with`, `ends_with`, `not_ends_with`, `exists`,
`not_exists`, `is_true`, `is_false`; any other text (from odd input) never matches."""


@dataclass(frozen=True, slots=True)
class Compare:
    """One leaf: `field` (and for properties/traits/context, the `name` path inside it), an
    operator and a value (None for the operators that take none)."""

    field: Field
    op: Operator
    value: str | float | bool | None = None
    name: str | None = None
    test: Callable[[Event], bool] = dataclasses.field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "test", _compile_compare(self))


@dataclass(frozen=True, slots=True)
class Group:
    op: Literal["and", "or"]
    children: tuple[Condition, ...]
    test: Callable[[Event], bool] = dataclasses.field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "test", _compile_group(self))


Condition = Compare | Group


@dataclass(frozen=True, slots=True)
class Check:
    """One leaf of a subscription checked against one event: its text, the outcome and the value seen."""

    text: str
    passed: bool
    actual: JSON


def _js_str(value: str | float | bool | None) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    return number_to_string(value)


# -- evaluation -------------------------------------------------------------------------------


def _split_name(name: str) -> tuple[str, ...]:
    """destination-subscriptions' get() path: split on `.`, `[` and `]`, empty pieces dropped."""
    return tuple(p for p in name.replace("[", ".").replace("]", ".").split(".") if p)


def _getter(cmp: Compare) -> Callable[[Event], Any]:
    if cmp.field in _SCOPED:
        # The walk is mapping-kit's too: `acc && acc[key]`, JavaScript's member access on JSON.
        scope, keys = cmp.field, _split_name(cmp.name or "")
        if not keys:
            return lambda event: MISSING
        return lambda event: get_keys(event.get(scope, MISSING), keys)
    key = cmp.field
    return lambda event: event.get(key, MISSING)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number_of(value: Any) -> float:
    """JavaScript's Number(expected) for the values a parsed condition can hold."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        number = to_number(value)
        return math.nan if number is None else number
    return math.nan


def _predicate(op: str, expected: Any) -> Callable[[Any], bool]:
    text = _js_str(expected)
    number = _number_of(expected)
    if op == "=":
        return lambda a: isinstance(a, str) and a == text
    if op == "!=":
        return lambda a: not (isinstance(a, str) and a == text)
    if op == "number_equals":
        return lambda a: _is_number(a) and a == number
    if op == "number_not_equals":
        return lambda a: _is_number(a) and a != number
    if op == "<":
        return lambda a: _is_number(a) and a < number
    if op == "<=":
        return lambda a: _is_number(a) and a <= number
    if op == ">":
        return lambda a: _is_number(a) and a > number
    if op == ">=":
        return lambda a: _is_number(a) and a >= number
    if op == "contains":
        return lambda a: isinstance(a, str) and text in a
    if op == "not_contains":
        return lambda a: isinstance(a, str) and text not in a
    if op == "starts_with":
        return lambda a: isinstance(a, str) and a.startswith(text)
    if op == "not_starts_with":
        return lambda a: isinstance(a, str) and not a.startswith(text)
    if op == "ends_with":
        return lambda a: isinstance(a, str) and a.endswith(text)
    if op == "not_ends_with":
        return lambda a: isinstance(a, str) and not a.endswith(text)
    if op == "exists":
        return lambda a: a is not MISSING and a is not None
    if op == "not_exists":
        return lambda a: a is MISSING or a is None
    if op == "is_true":
        return lambda a: a is True
    if op == "is_false":
        return lambda a: a is False
    return lambda a: False


def _compile_compare(cmp: Compare) -> Callable[[Event], bool]:
    get = _getter(cmp)
    check = _predicate(cmp.op, cmp.value)
    if cmp.field not in _SCOPED:
        key = cmp.field
        # The common case (type/event/userId against a string) in one call.
        # Only a str ever equals a str among JSON values, so `==` is JavaScript's `===` here.
        if cmp.op == "=":
            text = _js_str(cmp.value)
            return lambda event: event.get(key) == text
        if cmp.op == "!=":
            text = _js_str(cmp.value)
            return lambda event: event.get(key) != text
    return lambda event: check(get(event))


def _compile_group(group: Group) -> Callable[[Event], bool]:
    tests = _fused_tests(group)
    if group.op == "and":

        def every(event: Event) -> bool:
            for test in tests:
                if not test(event):
                    return False
            return True

        return every
    if group.op == "or":

        def some(event: Event) -> bool:
            for test in tests:
                if test(event):
                    return True
            return False

        return some
    return lambda event: False


def _fused_tests(group: Group) -> tuple[Callable[[Event], bool], ...]:
    """The children's tests, with same-key string leaves fused into one set lookup.

    `event != "A" and event != "B" ...` (the Track Event preset) becomes one "not in" test, and
    `event = "A" or event = "B"` one "in" test. Leaves are side-effect free, so the result is the
    same as testing them one by one.
    """
    fusable = "!=" if group.op == "and" else "="
    by_key: dict[str, set[str]] = {}
    tests: list[Callable[[Event], bool]] = []
    for child in group.children:
        if isinstance(child, Compare) and child.field not in _SCOPED and child.op == fusable:
            if child.field not in by_key:
                by_key[child.field] = set()
                tests.append(_set_test(child.field, by_key[child.field], negate=fusable == "!="))
            by_key[child.field].add(_js_str(child.value))
        else:
            tests.append(child.test)
    return tuple(tests)


def _set_test(key: str, texts: set[str], *, negate: bool) -> Callable[[Event], bool]:
    if negate:
        return lambda event: not (type(value := event.get(key)) is str and value in texts)
    return lambda event: type(value := event.get(key)) is str and value in texts


def matches(condition: Condition, event: Any) -> bool:
    """Whether `event` satisfies `condition`, exactly as the destination decides. Never raises."""
    if not isinstance(event, dict):
        return False
    return condition.test(event)
