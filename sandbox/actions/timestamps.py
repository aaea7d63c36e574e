"""Timestamp conversion, exactly as the destination does it (docs/destination.md §6, docs/decisions.md §1).

Where it sits: the actions call these while they build a request body (utils.ts `buildPayload`),
after mapping resolution and payload validation, and the payload validator calls `is_date_like`.

* Converter A, `convert_attribute_timestamps`: every strict ISO-8601 string in a body, through
  nested plain objects (never arrays), becomes Unix seconds. dayjs local mode, with the process
  zone fixed to UTC (docs/decisions.md §1.4: zone-less = UTC).
* Converter B, `convert_valid_timestamp`: the top-level `timestamp` (and reportDeliveryEvent's).
  Lenient: dayjs.utc, so dayjs's own component regex with `Date.UTC` overflow, else whatever V8's
  `new Date(string)` accepts (`jsdate.js_date_parse`).
* `convert_created_at`: docs/decisions.md §1.2's documented exception for `created_at`, which is converter B.
* `is_date_like`: Ajv's `date-like` format of actions-core (reportDeliveryEvent's timestamp).

Instants are epoch milliseconds as floats (JS numbers); Unix seconds are `floor(ms / 1000)` ints,
as dayjs's `unix()` gives them (negative values floor: `1969-12-31T23:59:59.5Z` is -1).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

from sandbox.js.dates import date_utc, js_date_parse, make_date, time_clip
from sandbox.js.numbers import number_to_string
from sandbox.js.strings import WHITESPACE_CLASS
from sandbox.js.values import JSON

__all__ = [
    "convert_attribute_timestamps",
    "convert_created_at",
    "convert_valid_timestamp",
    "dayjs_parse",
    "is_date_like",
    "is_iso_date",
    "js_date_parse",
    "unix_seconds",
]

# utils.ts isIsoDate (from segmentio/isostring). JS `\d` is ASCII and `$` is the very end, hence
# [0-9] and fullmatch.
_ISO_DATE: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}((T[0-9]{2}:[0-9]{2}(:[0-9]{2})?)([.][0-9]{1,9})?(Z|[+-][0-9]{2}:?[0-9]{2})?)?"
)


# dayjs 1.10.7 C.REGEX_PARSE.
_REGEX_PARSE: Final = re.compile(
    r"([0-9]{4})[-/]?([0-9]{1,2})?[-/]?([0-9]{0,2})[Tt" + WHITESPACE_CLASS + r"]*"
    r"([0-9]{1,2})?:?([0-9]{1,2})?:?([0-9]{1,2})?[.:]?([0-9]+)?"
)

_ZONE_ENDS: Final = frozenset("Z0123456789")

# convertValidTimestamp's "already a unix timestamp" test.
_DIGITS: Final = re.compile(r"[0-9]+(?:[.][0-9]+)?")

# The strings whose `String(Number(s)) === s` can hold: JS's canonical number spellings.
_JS_NUMBER_TEXT: Final = re.compile(r"-?(?:[0-9]+(?:[.][0-9]+)?(?:e[+-][0-9]+)?|Infinity)|NaN")


# -- a fast path in front of the reference converters ---------------------------------
#
# Nearly every ISO string real traffic carries has the shape `YYYY-MM-DD[THH:mm[:ss[.s+]][zone]]`
# with every component in range. For those the reference converters below all come down
# to the same arithmetic: whole days from the date, plus the seconds of the time, minus the zone
# offset. `iso_seconds` checks that shape with `_FAST_ISO`, has the C parser `fromisoformat` read
# the components, and does that arithmetic exactly (integer seconds). It answers None for anything
# else (no match, a year before 0100, a day past the month's end, which `fromisoformat` refuses),
# and the callers then ask the reference. Why the answer is the reference's:
#
# * A `_FAST_ISO` match is a match of isostring's regex (the same pattern with narrower
#   components, and a fraction only after seconds), and with in-range components `_iso_parse`
#   finds the string valid, so converter A converts it.
# * A zoned string: converter A keeps `_iso_parse`'s instant, `make_date` of the components minus
#   the offset; converter B (`dayjs_parse`) takes the same ISO path for such a string.
# * A zone-less string: both converters use dayjs's component path (`_regex_parse`, `Date.UTC`),
#   whose only difference from `make_date` is the 0-99 year quirk, excluded by the year >= 100 rule.
#   Zone-less is UTC (docs/decisions.md §1.4), as the naive epoch below makes it.
# * Unix seconds are floor(ms / 1000). The milliseconds of the fraction (0-999) never move the floor
#   of a whole number of seconds (nor do microseconds), so the fraction only has to be well formed.
#
# tests/test_actions.py checks the equality with the reference paths on generated strings.

_FAST_ISO: Final = re.compile(
    r"[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"(?:T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:[.][0-9]{1,9})?)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])?)?"
)
_UTC_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH: Final = datetime(1970, 1, 1)


def iso_seconds(text: str) -> int | None:
    """Unix seconds of a well-formed ISO date-time string, or None: ask the reference converter."""
    if not _common_shape(text) and _FAST_ISO.fullmatch(text) is None:
        return None  # not the common shape
    if text[:2] == "00":
        return None  # a year 0-99 (dayjs reads zone-less ones as 19xx)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None  # a day past the month's end (JS rolls it over), or year 0
    since = moment - (_NAIVE_EPOCH if moment.tzinfo is None else _UTC_EPOCH)
    return since.days * 86_400 + since.seconds  # floor: 0 <= seconds < 86400, microseconds >= 0


def _common_shape(text: str) -> bool:
    """Whether `text` has, by its separators, one of the commonest shapes `_FAST_ISO` reads:
    `2024-03-05`, `2024-03-05T12:34:56Z`, JavaScript's toISOString `2024-03-05T12:34:56.789Z`,
    `2024-03-05T12:34:56+01:00` (offset in range). Once `fromisoformat` accepts such a text, every
    other character is an ASCII digit in range, so `_FAST_ISO` matches it; the separators cost a
    third of the regex (tests/test_timestamps.py checks that the two agree). The separators sit
    every third character from the fifth (`text[4::3]`: `--T::Z`, `--T::.`, `--T::+:`)."""
    n = len(text)
    if n == 10:
        return text[4:8:3] == "--"
    if n == 20:
        return text[4:20:3] == "--T::Z"
    if n == 24:
        return text[4:20:3] == "--T::." and text[23] == "Z"
    if n == 25:
        separators = text[4:23:3]
        return (
            (separators == "--T::+:" or separators == "--T::-:") and text[20:22] <= "23" and text[23:] <= "59"
        )
    return False


def unix_seconds(ms: float) -> int:
    """dayjs `unix()`: floor(epoch ms / 1000)."""
    return math.floor(ms / 1000)


def _regex_parse(match: re.Match[str]) -> float | None:
    """dayjs's component path for a REGEX_PARSE match: `Date.UTC` of the parts (None: NaN)."""
    year, month, day, hour, minute, second, fraction = match.groups()
    # `d[2] - 1 || 0`: a missing month is 0 (January), "00" is -1 (the December before).
    month0 = int(month) - 1 if month else 0
    return date_utc(
        int(year),
        month0,
        int(day) if day else 1,
        int(hour) if hour else 0,
        int(minute) if minute else 0,
        int(second) if second else 0,
        int(fraction[:3]) if fraction else 0,  # the first three digits as written: ".5" is 5 ms
    )


def dayjs_parse(value: str) -> float | None:
    """The instant `dayjs(value)` / `dayjs.utc(value)` holds, in a UTC process; None if invalid.

    In UTC the local and the UTC mode agree: a string ending in `Z`/`z` goes to `new Date`, one
    matching dayjs's REGEX_PARSE is built from its components (with the JS Date overflow rules and
    the 0–99 year quirk), anything else goes to `new Date(value)`, i.e. V8's parser.
    """
    if value[:1].isdigit() and value[-1:] in _ZONE_ENDS:
        # Fast path for the common case, an ISO string with `Z` or an offset: V8's reading of it
        # straight from the regex groups (the same instant `js_date_parse` gives, see tests).
        iso = _ISO_DATE.fullmatch(value)
        if iso is not None and iso.group(5):
            return _iso_parse(iso)
    if not value.endswith(("Z", "z")):
        match = _REGEX_PARSE.fullmatch(value)
        if match is not None:
            return _regex_parse(match)
    return js_date_parse(value)


def _iso_parse(match: re.Match[str]) -> float | None:
    """V8's `Date.parse` of a string that matched the isostring regex, straight from its groups.

    With a valid month and day such a string is a complete ES5 date-time or NaN, so the ES5
    rules are all there is: month 01–12, day 01–31 (impossible days roll over),
    hour 00–23 or exactly 24:00[:00[.0…]], minute and second 00–59, a fraction only after seconds
    (first three digits, truncated), offsets ±hh:mm / ±hhmm with hh 00–23 and mm 00–59.
    A test checks this against `js_date_parse` for every string the regex admits.
    """
    text = match.string
    month, day = int(text[5:7]), int(text[8:10])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        # The legacy parser takes over and may still succeed: "0007-13-05" reads as the
        # numbers 7, 13, 5, i.e. July 13th, 2005.
        return js_date_parse(text)
    hour = minute = second = ms = 0
    offset = 0
    if match.group(1):  # a time
        hour, minute = int(text[11:13]), int(text[14:16])
        seconds_text, fraction, zone = match.group(3), match.group(4), match.group(5)
        if seconds_text:
            second = int(seconds_text[1:])
        elif fraction:
            return None
        if fraction:
            digits = fraction[1:]
            ms = int(digits[:3].ljust(3, "0"))
        if hour == 24:
            if minute or second or (fraction and int(fraction[1:])):
                return None
        elif hour > 23:
            return None
        if minute > 59 or second > 59:
            return None
        if zone and zone != "Z":
            zone_hours, zone_minutes = int(zone[1:3]), int(zone[-2:])
            if zone_hours > 23 or zone_minutes > 59:
                return None
            offset = zone_hours * 3600 + zone_minutes * 60
            if zone[0] == "-":
                offset = -offset
    ms_total = make_date(int(text[0:4]), month - 1, day, hour, minute, second, ms)
    return None if ms_total is None else ms_total - offset * 1000


def is_iso_date(value: object) -> bool:
    """utils.ts `isIsoDate`: a string matching the isostring regex that V8's `Date.parse` accepts."""
    if type(value) is not str or not value or not ("0" <= value[0] <= "9"):
        return False
    match = _ISO_DATE.fullmatch(value)
    return match is not None and _iso_parse(match) is not None


def convert_attribute_timestamps(obj: Mapping[str, JSON]) -> dict[str, JSON]:
    """Converter A (`convertAttributeTimestamps`): a new dict, ISO strings as Unix seconds.

    Recurses into plain dicts only (each one copied); lists (and anything inside them) are kept
    as they are. Each ISO string becomes `dayjs(value).unix()`: exact for `Z` and numeric offsets,
    and for zone-less strings dayjs's component path in UTC (where years 0000–0099 mean 1900–1999).
    """
    out: dict[str, JSON] = {}
    for key, value in obj.items():
        cls = type(value)
        if cls is str:
            if value and "0" <= value[0] <= "9":
                seconds = iso_seconds(value)
                if seconds is None:
                    seconds = iso_attribute_seconds(value)
                if seconds is not None:
                    out[key] = seconds
                    continue
            out[key] = value
        elif type(value) is dict:  # isPlainObject: not a NonPlainObject (see sandbox.mapping.compile)
            out[key] = convert_attribute_timestamps(value)
        else:
            out[key] = value
    return out


def iso_attribute_seconds(value: str) -> int | None:
    """The reference path of converter A for one string: `isIsoDate` then `dayjs(value).unix()`;
    None when the string is not strict ISO-8601 that V8 accepts."""
    match = _ISO_DATE.fullmatch(value)
    if match is None or (ms := _iso_parse(match)) is None:
        return None
    if not match.group(5):  # zone-less: dayjs reads the components itself
        ms = _regex_parse(_REGEX_PARSE.fullmatch(value))  # type: ignore[arg-type]
    assert ms is not None, value  # 4-digit years never leave the Date range
    return unix_seconds(ms)


def convert_valid_timestamp(value: JSON) -> JSON:
    """Converter B (`convertValidTimestamp`): Unix seconds for any date dayjs.utc reads.

    Non-strings and digit strings (`"1712345678"`, `"1712345678.123"`) come back unchanged, and
    so does any string that is no valid date.
    """
    if type(value) is not str:
        return value
    seconds = iso_seconds(value)  # first: a string it reads holds a "-", so it is no digit string
    if seconds is not None:
        return seconds
    if _DIGITS.fullmatch(value):
        return value
    ms = dayjs_parse(value)
    return value if ms is None else unix_seconds(ms)


def convert_created_at(value: JSON) -> JSON:
    """The `created_at` trait's conversion (docs/decisions.md §1.2): converter B, the lenient one.

    The destination's documentation promises that `created_at` converts when JavaScript's Date
    accepts it; the current code converts it only when strict ISO. We follow the documentation:
    non-strings and digit-only strings stay as they are, any string V8 (in UTC) parses becomes
    Unix seconds, anything else is left unchanged. Dropping a falsy `created_at` is the action's
    business, not this function's.
    """
    return convert_valid_timestamp(value)


def is_date_like(value: object) -> bool:
    """Ajv's `date-like` format (actions-core schema-validation.ts).

    A string that is the canonical JS spelling of a number (`String(Number(s)) === s`) is read as
    Unix seconds (`dayjs.unix`); any other string must be a valid `dayjs(s)`. Ajv applies formats
    to strings only, so every non-string passes.
    """
    if type(value) is not str:
        return True
    if _JS_NUMBER_TEXT.fullmatch(value):
        number = float(value.replace("Infinity", "inf"))
        if number_to_string(number) == value:
            return time_clip(number * 1000) is not None
    return dayjs_parse(value) is not None
