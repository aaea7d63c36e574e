"""The classic destination's date handling: ISO strings found anywhere become Unix seconds.

Where it sits: below `mapper.py`. The classic cloud-mode integration (segment-boneyard/
integration-customer.io, lib/mapper.js) walks every body it builds with `isodate-traverse`
(strict mode: a string that starts `YYYY-MM-DD` and matches the lax ISO pattern of
`@segment/isodate` becomes a Date) and then `convert-dates` with `unix-time` (each Date becomes
`Math.floor(ms / 1000)`). The person's `created_at` comes from `new-date`, which reads far more
(any ISO-ish string, 10- and 13-digit strings, numbers in seconds or milliseconds, anything
`Date` parses). docs/classic.md lists the sources and the quirks kept here.

Instants are epoch milliseconds as floats, None where JavaScript would hold an Invalid Date (NaN,
which JSON.stringify writes as null). Segment's servers run in UTC, so "local time" is UTC.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

from sandbox.js.dates import date_utc, js_date_parse, time_clip
from sandbox.js.numbers import number_to_string

_ISO: Final = re.compile(
    r"([0-9]{4})(?:-?([0-9]{2})(?:-?([0-9]{2}))?)?"
    r"(?:([ T])([0-9]{2}):?([0-9]{2})(?::?([0-9]{2})(?:[,.]([0-9]+))?)?"
    r"(?:(Z)|([+-])([0-9]{2})(?::?([0-9]{2}))?)?)?\Z"
)
"""@segment/isodate's lax pattern: year, optional month and day, optional time and zone."""

_STRICT_PREFIX: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MILLIS: Final = re.compile(r"[0-9]{13}")
_SECONDS: Final = re.compile(r"[0-9]{10}")
_PARSE_INT: Final = re.compile(r"\s*([+-]?[0-9]+)")
_SECONDS_LIMIT: Final = 31_557_600_000
"""new-date reads a number below this (Dec 31, 1970 in ms) as seconds."""


def is_iso(text: str, *, strict: bool) -> bool:
    """isodate.is: the lax pattern; strict mode also wants a `YYYY-MM-DD` start."""
    if strict and _STRICT_PREFIX.match(text) is None:
        return False
    return _ISO.match(text) is not None


def parse_iso(text: str) -> float | None:
    """isodate.parse for a string of the lax pattern (epoch ms). Quirks kept: month or day `00`
    reads as 1; a space separator means local time (UTC here) and ignores any zone written."""
    m = _ISO.match(text)
    if m is None:
        return js_date_parse(text)
    g = m.groups()
    year = int(g[0])
    month0 = (int(g[1]) if g[1] and int(g[1]) else 1) - 1
    day = int(g[2]) if g[2] and int(g[2]) else 1
    hour = int(g[4]) if g[4] else 0
    minute = int(g[5]) if g[5] else 0
    second = int(g[6]) if g[6] else 0
    millis = int((g[7] + "00")[:3]) if g[7] else 0
    offset = 0
    if g[3] != " " and g[8] != "Z" and g[9]:
        offset = int(g[10] or 0) * 60 + int(g[11] or 0)
        if g[9] == "+":
            offset = -offset
    return date_utc(year, month0, day, hour, minute + offset, second, millis)


def new_date(value: Any) -> float | None:
    """The `new-date` package: the instant `value` names (epoch ms), None for an Invalid Date."""
    if isinstance(value, bool):
        return float(value)  # new Date(true) is 1 ms after the epoch
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return None
        return time_clip(value * 1000 if value < _SECONDS_LIMIT else value)
    if value is None:
        return None
    if isinstance(value, str) and is_iso(value, strict=False):
        return parse_iso(value)
    # Anything else is read as its String(): arrays as their items joined by commas, objects
    # as "[object Object]" (isodate.is takes strings only; the digit tests and Date take any).
    text = js_text(value)
    if _MILLIS.search(text):
        parsed = _parse_int(text)
        return None if parsed is None else time_clip(parsed)
    if _SECONDS.search(text):
        parsed = _parse_int(text)
        return None if parsed is None else time_clip(parsed * 1000)
    return js_date_parse(text)


def unix_time(ms: float | None) -> int | None:
    """unix-time: whole seconds, rounded down; None (NaN) stays None."""
    return None if ms is None else math.floor(ms / 1000)


def convert_dates(value: Any) -> Any:
    """isodate-traverse (strict) then convert-dates with unix-time: a copy of `value` in which
    every strict ISO string, at any depth (arrays too), is Unix seconds."""
    if isinstance(value, dict):
        return {key: convert_dates(item) for key, item in value.items()}
    if isinstance(value, list):
        return [convert_dates(item) for item in value]
    if isinstance(value, str) and is_iso(value, strict=True):
        return unix_time(parse_iso(value))
    return value


def js_text(value: Any) -> str:
    """JavaScript's String(value) for a JSON value (arrays joined by commas, null as "")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_to_string(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join("" if item is None else js_text(item) for item in value)
    return "[object Object]"


def _parse_int(text: str) -> float | None:
    m = _PARSE_INT.match(text)
    return float(int(m.group(1))) if m else None
