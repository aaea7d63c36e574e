"""Conditions as text: `render` (FQL that parses back) and `explain` (each leaf checked against an event)."""

from __future__ import annotations

import math
from typing import Any

from sandbox.js.values import MISSING
from sandbox.subscriptions.conditions import (
    _SCOPED,
    Check,
    Compare,
    Condition,
    Group,
    _getter,
    _js_str,
    _number_of,
)
from sandbox.subscriptions.lexer import _is_alpha, _is_digit


def explain(condition: Condition, event: Any) -> list[Check]:
    """One Check per leaf, in order: its FQL text, whether it held, and the value it looked at.

    Whether the whole condition matched is `matches(condition, event)`; for an `and` group every
    check must pass, for an `or` group one is enough.
    """
    checks: list[Check] = []
    source = event if isinstance(event, dict) else {}

    def walk(node: Condition) -> None:
        if isinstance(node, Group):
            for child in node.children:
                walk(child)
            return
        actual = _getter(node)(source)
        passed = node.test(source) if isinstance(event, dict) else False
        checks.append(Check(render_leaf(node), passed, None if actual is MISSING else actual))

    walk(condition)
    return checks


# -- rendering --------------------------------------------------------------------------------


def _render_name(name: str) -> str:
    """An ident path that lexes back to `name`: escape what the lexer would not take as is."""
    segments = []
    for segment in name.split("."):
        out = []
        for i, c in enumerate(segment):
            plain = _is_alpha(c) or c == "_" or (i > 0 and (_is_digit(c) or c == "-"))
            out.append(c if plain else "\\" + c)
        text = "".join(out)
        if segment in ("and", "or", "null"):
            text = "\\" + text
        segments.append(text)
    return ".".join(segments)


def _render_number(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "-"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    from decimal import Decimal  # here: only descriptions of fractional numbers need it

    text = format(Decimal(repr(value)), "f")
    return text


def _render_value(value: str | float | bool | None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _render_number(value)
    if value is None:
        return "null"
    if '"' not in value:
        return f'"{value}"'
    return value  # a single-quoted value such as 'a"b' keeps its quotes, as the reference does


def render_leaf(cmp: Compare) -> str:
    target = cmp.field if cmp.field not in _SCOPED else f"{cmp.field}.{_render_name(cmp.name or '')}"
    op, value = cmp.op, cmp.value
    if op == "exists":
        return f"{target} != null"
    if op == "not_exists":
        return f"{target} = null"
    if op == "is_true":
        return f"{target} = true"
    if op == "is_false":
        return f"{target} = false"
    if op in ("number_equals", "number_not_equals"):
        symbol = "=" if op == "number_equals" else "!="
        return f"{target} {symbol} {_render_number(_number_of(value))}"
    if op in ("contains", "not_contains"):
        bang = "!" if op == "not_contains" else ""
        return f"{bang}contains({target}, {_render_value(_js_str(value))})"
    if op in ("starts_with", "not_starts_with", "ends_with", "not_ends_with"):
        bang = "!" if op.startswith("not_") else ""
        pattern = f"{_js_str(value)}*" if op.endswith("starts_with") else f"*{_js_str(value)}"
        return f'{bang}match({target}, "{pattern}")'
    return f"{target} {op} {_render_value(value)}"


def render(condition: Condition) -> str:
    """FQL text for a condition; parsing it gives the condition back for trees the parser can
    produce: parenthesised groups one level deep, holding no function calls, and values without a
    double quote. Not every tree round-trips: FQL has no escape for `"`, an `ends_with` pattern
    that is empty or ends in `*` reads back as `starts_with` (the same test), and an operator the
    parser only keeps from odd input (such as a lone `!`) renders as text that does not parse."""
    if isinstance(condition, Compare):
        return render_leaf(condition)
    parts = []
    for child in condition.children:
        parts.append(f"({render(child)})" if isinstance(child, Group) else render(child))
    return f" {condition.op} ".join(parts)
