"""JavaScript's `Date` arithmetic and V8's `Date.parse`, in a process whose zone is UTC.

Where it sits: below `timestamps.py`. The destination turns strings into instants with dayjs, and
dayjs hands anything it cannot read itself to `new Date(string)`, which is V8's date parser. This
module reproduces that parser and the `Date.UTC` arithmetic (overflowing components, the 0–99 year
quirk, the ±8.64e15 ms range) so the converters of docs/destination.md §6 give the instants Node gives.

The parser follows the rules of V8's `src/date/dateparser*` (learned from its source, written
anew here):

* First the ES5 ISO form `[±YYYYYY|YYYY][-MM[-DD]][THH:mm[:ss[.s+]][Z|±hh:mm|±hhmm]]`. A string that
  breaks off after a valid date prefix is not rejected: the rest is handed to the legacy parser.
* Then the legacy heuristic parser, token by token: numbers (a number followed by `:` or `.` is a
  time component, others are day components), words (month names by their first three letters,
  AM/PM, UT/UTC/GMT/Z and the US zone names, any other word ignored before the first number),
  `+hh:mm`-style offsets after a time or `UTC`, parenthesised comments ignored.

Every time without a zone is local time, which in the UTC process Segment runs is UTC
(docs/decisions.md §1.4). The result is epoch milliseconds as a float, or None where V8 gives NaN.
"""

from __future__ import annotations

import math
from typing import Final, NamedTuple

from sandbox.js.strings import LINE_TERMINATORS, WHITESPACE

MAX_TIME_MS: Final = 8.64e15
"""The largest |epoch ms| a JS Date can hold (ES TimeClip)."""

_MS_PER_DAY: Final = 86_400_000
_NONE: Final = 2**31 - 1  # V8's kNone marker for an absent component
_MAX_SIGNIFICANT_DIGITS: Final = 9
_SMI_MAX: Final = 2**31 - 1  # Node builds V8 without pointer compression: 32-bit Smis

# ---------------------------------------------------------------------------------------------
# Date arithmetic (ES MakeDay / MakeTime / MakeDate / TimeClip)


def _days_from_civil(year: int, month0: int, day: int) -> int:
    """Days from 1970-01-01 to `year`-`month0 + 1`-`day` (proleptic Gregorian; day may overflow)."""
    year += month0 // 12
    month = month0 % 12 + 1
    y = year - (1 if month <= 2 else 0)
    era = y // 400
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468 + (day - 1)


def time_clip(ms: float) -> float | None:
    """ES TimeClip: None (NaN) outside ±8.64e15 ms, else the value truncated toward zero."""
    if not math.isfinite(ms) or abs(ms) > MAX_TIME_MS:
        return None
    return float(math.trunc(ms))


def make_date(
    year: int, month0: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, ms: int = 0
) -> float | None:
    """Epoch ms of the given UTC components, with JS overflow rules (MakeDate + TimeClip).

    No year quirk here: `year` is the full year. V8's MakeDay gives NaN beyond ±1,000,000 years
    or ±10,000,000 months, far outside the range TimeClip allows anyway.
    """
    if abs(year) > 1_000_000 or abs(month0) > 10_000_000:
        return None
    days = _days_from_civil(year, month0, day)
    return time_clip(days * _MS_PER_DAY + hour * 3_600_000 + minute * 60_000 + second * 1000 + ms)


def date_utc(
    year: int, month0: int, day: int = 1, hour: int = 0, minute: int = 0, second: int = 0, ms: int = 0
) -> float | None:
    """JS `Date.UTC(...)` (and `new Date(y, m, ...)` in a UTC process) for integer arguments.

    Years 0–99 mean 1900–1999 (MakeFullYear), the quirk behind `0000-01-01` → 1900-01-01.
    """
    if 0 <= year <= 99:
        year += 1900
    return make_date(year, month0, day, hour, minute, second, ms)


# ---------------------------------------------------------------------------------------------
# Tokens

_END: Final = 0
_NUMBER: Final = 1
_SYMBOL: Final = 2
_WHITESPACE: Final = 3
_KEYWORD: Final = 4
_UNKNOWN: Final = 5
_INVALID: Final = 6

# Keyword types
_KW_NONE: Final = 0  # a word that is no keyword
_KW_MONTH: Final = 1
_KW_ZONE: Final = 2
_KW_T: Final = 3
_KW_AMPM: Final = 4

# (three-letter lower-case prefix, padded with "\0"; type; value), in V8's lookup order.
_KEYWORDS: Final = (
    ("jan", _KW_MONTH, 1),
    ("feb", _KW_MONTH, 2),
    ("mar", _KW_MONTH, 3),
    ("apr", _KW_MONTH, 4),
    ("may", _KW_MONTH, 5),
    ("jun", _KW_MONTH, 6),
    ("jul", _KW_MONTH, 7),
    ("aug", _KW_MONTH, 8),
    ("sep", _KW_MONTH, 9),
    ("oct", _KW_MONTH, 10),
    ("nov", _KW_MONTH, 11),
    ("dec", _KW_MONTH, 12),
    ("am\0", _KW_AMPM, 0),
    ("pm\0", _KW_AMPM, 12),
    ("ut\0", _KW_ZONE, 0),
    ("utc", _KW_ZONE, 0),
    ("z\0\0", _KW_ZONE, 0),
    ("gmt", _KW_ZONE, 0),
    ("cdt", _KW_ZONE, -5),
    ("cst", _KW_ZONE, -6),
    ("edt", _KW_ZONE, -4),
    ("est", _KW_ZONE, -5),
    ("mdt", _KW_ZONE, -6),
    ("mst", _KW_ZONE, -7),
    ("pdt", _KW_ZONE, -7),
    ("pst", _KW_ZONE, -8),
    ("t\0\0", _KW_T, 0),
)

# Whitespace: below "A", JS WhiteSpace and LineTerminator; from "A" up, JS WhiteSpace only (the
# line terminators U+2028/U+2029 read as word characters, as every other code point from "A" up).
_SPACE_CHARS: Final = frozenset(c for c in WHITESPACE if c < "A")
_HIGH_SPACE_CHARS: Final = frozenset(c for c in WHITESPACE if c >= "A" and c not in LINE_TERMINATORS)


class _Token(NamedTuple):  # not a dataclass: nothing to generate at import
    kind: int
    value: int = 0  # number value, symbol code point, keyword value
    length: int = 0  # characters (UTF-16 units for words)
    keyword: int = _KW_NONE

    def is_symbol(self, ch: str) -> bool:
        return self.kind == _SYMBOL and self.value == ord(ch)

    def is_sign(self) -> bool:
        return self.kind == _SYMBOL and self.value in (43, 45)  # "+" "-"

    @property
    def sign(self) -> int:
        return 1 if self.value == 43 else -1

    def is_number(self, length: int | None = None) -> bool:
        return self.kind == _NUMBER and (length is None or self.length == length)

    def is_keyword_z(self) -> bool:
        return self.kind == _KEYWORD and self.keyword == _KW_ZONE and self.length == 1 and self.value == 0


_END_TOKEN: Final = _Token(_END)
_UNKNOWN_TOKEN: Final = _Token(_UNKNOWN, length=1)
_INVALID_TOKEN: Final = _Token(_INVALID)


def _lookup_keyword(prefix: str, length: int) -> tuple[int, int]:
    for text, kind, value in _KEYWORDS:
        if text == prefix and (length <= 3 or kind == _KW_MONTH):
            return kind, value
    return _KW_NONE, 0


class _Scanner:
    """V8's DateStringTokenizer over a str: one token of look-ahead; NUL ends the input."""

    __slots__ = ("_s", "_i", "_n", "_next")

    def __init__(self, s: str) -> None:
        self._s = s
        self._i = 0
        self._n = len(s)
        self._next = self._scan()

    def _scan(self) -> _Token:
        s, n = self._s, self._n
        i = self._i
        ch = s[i] if i < n else "\0"
        if ch == "\0":
            return _END_TOKEN
        if "0" <= ch <= "9":
            # Up to nine significant digits make the value (leading zeros do not count); the
            # length counts every digit.
            value = 0
            significant = 0
            start = i
            while i < n and "0" <= s[i] <= "9":
                if value or s[i] != "0":
                    if significant < _MAX_SIGNIFICANT_DIGITS:
                        value = value * 10 + ord(s[i]) - 48
                    significant += 1
                i += 1
            self._i = i
            return _Token(_NUMBER, value, i - start)
        if ch in ":-+.)":
            self._i = i + 1
            return _Token(_SYMBOL, ord(ch), 1)
        if ch >= "A" and ch not in _HIGH_SPACE_CHARS:
            prefix: list[str] = []
            length = 0
            while i < n and s[i] >= "A" and s[i] not in _HIGH_SPACE_CHARS:
                c = s[i]
                if len(prefix) < 3:
                    # V8 lower-cases by OR-ing 0x20; only ASCII letters can then match a keyword.
                    prefix.append(chr(ord(c) | 0x20) if ord(c) < 0x80 else c)
                length += 2 if ord(c) > 0xFFFF else 1
                i += 1
            self._i = i
            text = "".join(prefix).ljust(3, "\0")
            kind, value = _lookup_keyword(text, length)
            return _Token(_KEYWORD, value, length, kind)
        if ch in _SPACE_CHARS or ch in _HIGH_SPACE_CHARS:
            self._i = i + 1
            return _Token(_WHITESPACE, length=1)
        if ch == "(":
            balance = 0
            while True:
                c = s[i] if i < n else "\0"
                if c == ")":
                    balance -= 1
                elif c == "(":
                    balance += 1
                i += 1
                c = s[i] if i < n else "\0"
                if balance <= 0 or c == "\0":
                    break
            self._i = i
            return _UNKNOWN_TOKEN
        self._i = i + 1
        return _UNKNOWN_TOKEN

    def next(self) -> _Token:
        token = self._next
        self._next = self._scan()
        return token

    def peek(self) -> _Token:
        return self._next

    def skip_symbol(self, ch: str) -> bool:
        if self._next.is_symbol(ch):
            self._next = self._scan()
            return True
        return False


# ---------------------------------------------------------------------------------------------
# Composers


def _is_month(x: int) -> bool:
    return 1 <= x <= 12


def _is_day(x: int) -> bool:
    return 1 <= x <= 31


def _is_hour(x: int) -> bool:
    return 0 <= x <= 23


def _is_minute(x: int) -> bool:
    return 0 <= x <= 59


def _is_millisecond(x: int) -> bool:
    return 0 <= x <= 999


class _Day:
    __slots__ = ("comp", "named_month", "iso")

    def __init__(self) -> None:
        self.comp: list[int] = []
        self.named_month = _NONE
        self.iso = False

    def add(self, n: int) -> bool:
        if len(self.comp) < 3:
            self.comp.append(n)
            return True
        return False

    def write(self) -> tuple[int, int, int] | None:
        if not self.comp:
            return None
        # Missing components are 1. V8 pads before it looks at them, so a lone number or a
        # pair is read as if a third "1" had been given: "5" is May 1st of (20)01.
        first, second, third = self.comp + [1] * (3 - len(self.comp))
        if self.named_month == _NONE:
            if self.iso or not _is_day(first):
                year, month, day = first, second, third
            else:
                month, day, year = first, second, third
        else:
            month = self.named_month
            if not _is_day(first):
                year, day = first, second
            else:
                day, year = first, second
        if not self.iso:
            if 0 <= year <= 49:
                year += 2000
            elif 50 <= year <= 99:
                year += 1900
        if not _is_month(month) or not _is_day(day):
            return None
        return year, month - 1, day


class _Time:
    __slots__ = ("comp", "hour_offset")

    def __init__(self) -> None:
        self.comp: list[int] = []
        self.hour_offset = _NONE

    def is_empty(self) -> bool:
        return not self.comp

    def is_expecting(self, n: int) -> bool:
        i = len(self.comp)
        return (i == 1 and _is_minute(n)) or (i == 2 and _is_minute(n)) or (i == 3 and _is_millisecond(n))

    def add(self, n: int) -> bool:
        if len(self.comp) < 4:
            self.comp.append(n)
            return True
        return False

    def add_final(self, n: int) -> bool:
        if not self.add(n):
            return False
        self.comp.extend([0] * (4 - len(self.comp)))
        return True

    def write(self) -> tuple[int, int, int, int] | None:
        hour, minute, second, ms = self.comp + [0] * (4 - len(self.comp))
        if self.hour_offset != _NONE:
            if not 0 <= hour <= 12:
                return None
            hour = hour % 12 + self.hour_offset
        if not (_is_hour(hour) and _is_minute(minute) and _is_minute(second) and _is_millisecond(ms)):
            if hour != 24 or minute != 0 or second != 0 or ms != 0:
                return None
        return hour, minute, second, ms


class _Zone:
    __slots__ = ("sign", "hour", "minute")

    def __init__(self) -> None:
        self.sign = _NONE
        self.hour = _NONE
        self.minute = _NONE

    def set(self, offset_hours: int) -> None:
        self.sign = -1 if offset_hours < 0 else 1
        self.hour = abs(offset_hours)
        self.minute = 0

    def is_expecting(self, n: int) -> bool:
        return self.hour != _NONE and self.minute == _NONE and _is_minute(n)

    def is_utc(self) -> bool:
        return self.hour == 0 and self.minute == 0

    def is_empty(self) -> bool:
        return self.hour == _NONE

    def write(self) -> tuple[bool, int | None]:
        """(valid, offset in seconds); the offset is None when no zone was given (local time)."""
        if self.sign == _NONE:
            return True, None
        hour = 0 if self.hour == _NONE else self.hour
        minute = 0 if self.minute == _NONE else self.minute
        # V8 sums in unsigned 32-bit arithmetic and refuses totals above its largest Smi.
        total = (hour * 3600 + minute * 60) % 2**32
        if total > _SMI_MAX:
            return False, None
        return True, -total if self.sign < 0 else total


def _read_milliseconds(token: _Token) -> int:
    """The first three significant digits of a fraction, as V8 infers them from value and length."""
    number, length = token.value, token.length
    if length == 1:
        return number * 100
    if length == 2:
        return number * 10
    if length > 3:
        length = min(length, _MAX_SIGNIFICANT_DIGITS)
        return number // 10 ** (length - 3)
    return number


# ---------------------------------------------------------------------------------------------
# The parser


def _parse_es5(scanner: _Scanner, day: _Day, time: _Time, tz: _Zone) -> _Token:
    """As much of an ES5 ISO date-time as the string holds; the token to continue with.

    Returns the END token when the whole string was ISO, the INVALID token when it can no longer
    be a date, else the first token the legacy parser must handle.
    """
    if scanner.peek().is_sign():
        sign_token = scanner.next()
        if not scanner.peek().is_number(6):
            return sign_token
        year = scanner.next().value
        if sign_token.sign < 0 and year == 0:
            return sign_token
        day.add(sign_token.sign * year)
    elif scanner.peek().is_number(4):
        day.add(scanner.next().value)
    else:
        return scanner.next()
    if scanner.skip_symbol("-"):
        if not scanner.peek().is_number(2) or not _is_month(scanner.peek().value):
            return scanner.next()
        day.add(scanner.next().value)
        if scanner.skip_symbol("-"):
            if not scanner.peek().is_number(2) or not _is_day(scanner.peek().value):
                return scanner.next()
            day.add(scanner.next().value)
    peek = scanner.peek()
    if not (peek.kind == _KEYWORD and peek.keyword == _KW_T):
        if peek.kind != _END:
            return scanner.next()
    else:
        scanner.next()
        peek = scanner.peek()
        if not peek.is_number(2) or not 0 <= peek.value <= 24:
            return _INVALID_TOKEN
        hour_is_24 = peek.value == 24
        time.add(scanner.next().value)
        if not scanner.skip_symbol(":"):
            return _INVALID_TOKEN
        peek = scanner.peek()
        if not peek.is_number(2) or not _is_minute(peek.value) or (hour_is_24 and peek.value > 0):
            return _INVALID_TOKEN
        time.add(scanner.next().value)
        if scanner.skip_symbol(":"):
            peek = scanner.peek()
            if not peek.is_number(2) or not _is_minute(peek.value) or (hour_is_24 and peek.value > 0):
                return _INVALID_TOKEN
            time.add(scanner.next().value)
            if scanner.skip_symbol("."):
                peek = scanner.peek()
                if not peek.is_number() or (hour_is_24 and peek.value > 0):
                    return _INVALID_TOKEN
                time.add(_read_milliseconds(scanner.next()))
        peek = scanner.peek()
        if peek.is_keyword_z():
            scanner.next()
            tz.set(0)
        elif peek.is_symbol("+") or peek.is_symbol("-"):
            tz.sign = scanner.next().sign
            peek = scanner.peek()
            if peek.is_number(4):
                hour, minute = divmod(scanner.next().value, 100)
                if not _is_hour(hour) or not _is_minute(minute):
                    return _INVALID_TOKEN
                tz.hour, tz.minute = hour, minute
            else:
                if not peek.is_number(2) or not _is_hour(peek.value):
                    return _INVALID_TOKEN
                tz.hour = scanner.next().value
                if not scanner.skip_symbol(":"):
                    return _INVALID_TOKEN
                peek = scanner.peek()
                if not peek.is_number(2) or not _is_minute(peek.value):
                    return _INVALID_TOKEN
                tz.minute = scanner.next().value
        if scanner.peek().kind != _END:
            return _INVALID_TOKEN
    # Date-only forms without a zone are UTC; date-time forms are local (= UTC here as well).
    if tz.is_empty() and time.is_empty():
        tz.set(0)
    day.iso = True
    return _END_TOKEN


def _parse_components(s: str) -> tuple[int, int, int, int, int, int, int, int | None] | None:
    """V8's DateParser::Parse: (year, month0, day, hour, minute, second, ms, offset seconds | None)."""
    scanner = _Scanner(s)
    day, time, tz = _Day(), _Time(), _Zone()
    token = _parse_es5(scanner, day, time, tz)
    if token.kind == _INVALID:
        return None
    has_read_number = bool(day.comp)
    while token.kind != _END:
        kind = token.kind
        if kind == _NUMBER:
            has_read_number = True
            n = token.value
            if scanner.skip_symbol(":"):
                if scanner.skip_symbol(":"):
                    if not time.is_empty():
                        return None
                    time.add(n)
                    time.add(0)
                else:
                    if not time.add(n):
                        return None
                    if scanner.peek().is_symbol("."):
                        scanner.next()
            elif scanner.skip_symbol(".") and time.is_expecting(n):
                time.add(n)
                if not scanner.peek().is_number():
                    return None
                ms = _read_milliseconds(scanner.next())
                if ms < 0:
                    return None
                time.add_final(ms)
            elif tz.is_expecting(n):
                tz.minute = n
            elif time.is_expecting(n):
                time.add_final(n)
                peek = scanner.peek()
                if not (peek.kind in (_END, _WHITESPACE) or peek.is_keyword_z() or peek.is_sign()):
                    return None
            else:
                if not day.add(n):
                    return None
                scanner.skip_symbol("-")
        elif kind == _KEYWORD:
            keyword, value = token.keyword, token.value
            if keyword == _KW_AMPM and not time.is_empty():
                time.hour_offset = value
            elif keyword == _KW_MONTH:
                day.named_month = value
                scanner.skip_symbol("-")
            elif keyword == _KW_ZONE and has_read_number:
                tz.set(value)
            else:
                # A word no keyword explains: allowed only before the first number, and not
                # glued to it.
                if has_read_number or scanner.peek().kind == _NUMBER:
                    return None
        elif token.is_sign() and (tz.is_utc() or not time.is_empty()):
            # A UTC offset, only after "UTC"-like words or a time.
            tz.sign = token.sign
            n = length = 0
            if scanner.peek().kind == _NUMBER:
                number = scanner.next()
                n, length = number.value, number.length
            has_read_number = True
            if scanner.peek().is_symbol(":"):
                tz.hour = n
                tz.minute = _NONE
            elif length in (1, 2):
                tz.hour, tz.minute = n, 0
            elif length in (3, 4):
                tz.hour, tz.minute = divmod(n, 100)
            else:
                return None
        elif (token.is_sign() or token.is_symbol(")")) and has_read_number:
            return None
        token = scanner.next()

    ymd = day.write()
    hms = time.write()
    zone_ok, offset = tz.write()
    if ymd is None or hms is None or not zone_ok:
        return None
    return (*ymd, *hms, offset)


def js_date_parse(s: str) -> float | None:
    """V8's `Date.parse(s)` in a UTC process: epoch ms, or None where V8 gives NaN."""
    parts = _parse_components(s)
    if parts is None:
        return None
    year, month0, day, hour, minute, second, ms, offset = parts
    if abs(year) > 1_000_000:
        return None
    local = _days_from_civil(year, month0, day) * _MS_PER_DAY + (
        hour * 3_600_000 + minute * 60_000 + second * 1000 + ms
    )
    if offset is not None:
        local -= offset * 1000
    return time_clip(local)
