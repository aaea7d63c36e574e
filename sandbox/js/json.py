r"""JSON as Segment's Node.js runtime reads and writes it.

Reading (`loads`): Segment parses events with `JSON.parse`, so every number is a double: an integer
beyond 2^53 loses precision, `89.0` is the number 89 (sent back out as `89`), and `1e400` is
Infinity (sent out as `null`). Reading events through `loads` gives the same values in Python.
The common text is read by msgspec (`read_fast`), which hands every float's text to the same
conversion and reads integers exactly; a text with a run of 16 digits (where an integer beyond
2^53 may be) or anything msgspec refuses takes the json module's decoder, with the same hooks.

Writing (`stringify`): `JSON.stringify`'s exact text, which is what goes on the wire. It differs
from `json.dumps` in three ways that change bytes:

* numbers are written as ECMAScript's Number::toString writes them (the shortest digits that round
  trip, padded with zeros below 1e21): `12345678901234567890` is `12345678901234567000`, `1e16`
  is `10000000000000000`, `1e-7` is `1e-7`; NaN and the infinities are `null`;
* an object's keys come in JavaScript's property order: integer-like keys (array indexes, "0" to
  "4294967294" written canonically) first, ascending, then the other keys in insertion order;
* a lone surrogate (legal in a JavaScript string) is escaped as `\udxxx`, while a high surrogate
  followed by a low one is the character they encode; so the text is always valid UTF-8.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any, Final

import msgspec
import orjson

from sandbox.js.numbers import as_json_number, number_to_string

_SAFE_INTEGER = 2**53


def _as_js(number: float) -> int | float | None:
    if math.isinf(number):
        return None  # JSON.stringify(Infinity) is null
    return as_json_number(number)


def parse_float(text: str) -> int | float | None:
    return _as_js(float(text))


def parse_int(text: str) -> int | float | None:
    value = int(text)
    if -_SAFE_INTEGER <= value <= _SAFE_INTEGER:
        return value
    return _as_js(float(text))


class NotJsonError(ValueError):
    """NaN, Infinity or -Infinity in the text: Python's json reads them, JSON.parse (and Segment) does not."""


def _reject_constant(name: str) -> Any:
    raise NotJsonError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_float=parse_float, parse_int=parse_int, parse_constant=_reject_constant)


def loads(text: str | bytes) -> Any:
    """json.loads with JavaScript's number semantics (see the module docstring); NaN and
    Infinity, which JSON.parse refuses, raise ValueError."""
    value = read_fast(text)
    if value is not NOT_READ:
        return value
    return exact_loads(text)


NOT_READ: Final = object()
"""What read_fast returns for a text it leaves to exact_loads."""

_FAST_DECODE: Final = msgspec.json.Decoder(float_hook=parse_float).decode
"""msgspec's decoder with JavaScript's floats: what read_fast calls once its checks pass."""
_DIGIT_CLASSES: Final = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
"""A `bytes.translate` table: a digit becomes "0", any other byte " "."""
_SIXTEEN_DIGITS: Final = b"0" * 16
"""A run of 16 digits, translated: 2^53 has 16 digits, every integer beyond it as many or more."""


def read_fast(text: str | bytes) -> Any:
    """`loads(text)` read by msgspec, at about half the cost, or NOT_READ where that could differ:
    a run of 16 digits anywhere (an integer beyond 2^53, which msgspec keeps exact; a string's
    digits take this way too), or any text msgspec refuses (errors, NaN, a byte order mark, a
    lone surrogate, invalid UTF-8, nesting as deep as the recursion limit). Floats go through
    parse_float, as in exact_loads; an integer of at most 15 digits is the same either way, and
    so are strings, objects (the last of repeated keys, at the first one's place) and arrays."""
    try:
        data = text.encode("utf-8") if type(text) is str else text
    except UnicodeEncodeError:  # a lone surrogate
        return NOT_READ
    if _SIXTEEN_DIGITS in data.translate(_DIGIT_CLASSES):
        return NOT_READ
    try:
        return _FAST_DECODE(data)
    except (ValueError, RecursionError):  # msgspec.DecodeError is a ValueError
        return NOT_READ


def read_fast_lines(text: str) -> list[Any] | None:
    """`[read_fast(line) for line in text.split("\n")]` when read_fast reads every line, else
    None: the 16-digit check once over the whole text (a run of digits never crosses a
    newline), then msgspec per line, from the text's UTF-8 bytes. None (read them one by one)
    for text with a run of 16 digits anywhere or a lone surrogate, or a line msgspec refuses (a
    blank one, as after a final newline, a broken one, part of a value over several lines)."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (standard input with surrogateescape)
        return None
    if _SIXTEEN_DIGITS in data.translate(_DIGIT_CLASSES):
        return None
    decode = _FAST_DECODE
    try:
        return [decode(line) for line in data.split(b"\n")]
    except (ValueError, RecursionError):  # msgspec.DecodeError is a ValueError
        return None


def exact_loads(text: str | bytes) -> Any:
    """`loads` by the json module's decoder alone (the reference read_fast is tested against)."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    if text.startswith("\ufeff"):  # as json.loads refuses it
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return _DECODER.decode(text)


def decoder() -> json.JSONDecoder:
    """A decoder with JavaScript's number semantics, for `raw_decode` over a stream."""
    return _DECODER


def scanner() -> Callable[[str, int], tuple[Any, int]]:
    """The decoder's scanner: one JSON value at an index, returned with the index after it
    (what `raw_decode` calls, without its whitespace handling). Raises StopIteration at no value."""
    return _DECODER.scan_once  # type: ignore[attr-defined]  # set in JSONDecoder.__init__, not in the stubs


# -- writing: JSON.stringify ------------------------------------------------------------------------

_MAX_INDEX = 2**32 - 2  # the largest array index: integer-like keys up to here sort first
_INDEX = re.compile(r"0|[1-9][0-9]{0,9}")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_LONE = re.compile(r"[\ud800-\udfff]")  # after pairs are joined, every surrogate left is lone
_quote_plain = json.JSONEncoder(ensure_ascii=False).encode  # str → literal, C speed


def is_array_index(key: str) -> bool:
    """Whether `key` is an array index, the integer-like keys JavaScript orders first."""
    return _INDEX.fullmatch(key) is not None and int(key) <= _MAX_INDEX


def js_keys(obj: dict[str, Any]) -> list[str]:
    """The keys of `obj` in JavaScript's property order (Object.keys, for...in, JSON.stringify):
    array indexes ascending, then the other keys in insertion order."""
    indexes = [key for key in obj if type(key) is str and is_array_index(key)]
    if not indexes:
        return list(obj)
    indexes.sort(key=int)
    return indexes + [key for key in obj if not (type(key) is str and is_array_index(key))]


def join_surrogates(text: str) -> str:
    """`text` as JavaScript holds it: a high surrogate followed by a low one is one character."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def quote(text: str) -> str:
    """A JSON string literal as JSON.stringify writes it: `"`, `\\` and controls escaped (`\\n`,
    `\\u001f`), other characters as they are, lone surrogates as `\\udxxx`."""
    if _SURROGATE.search(text) is None:
        return _quote_plain(text)
    literal = _quote_plain(join_surrogates(text))
    return _LONE.sub(lambda m: f"\\u{ord(m.group()):04x}", literal)


def number(value: int | float) -> str:
    """A number as JSON.stringify writes it (ints beyond 2^53 are doubles in JavaScript)."""
    if type(value) is int and -_SAFE_INTEGER <= value <= _SAFE_INTEGER:
        return str(value)
    try:
        as_double = float(value)
    except OverflowError:
        return "null"  # beyond the doubles: Infinity, which JSON.stringify writes as null
    return number_to_string(as_double) if math.isfinite(as_double) else "null"


class Undefined:
    """Stands for JavaScript's `undefined` where a caller has one (see `stringify`)."""


def stringify(value: Any, undefined: object = Undefined) -> str | None:
    """`JSON.stringify(value)` (no indentation): the exact text Node writes. See the module docstring.

    Values equal to `undefined` (by identity) play JavaScript's `undefined`: skipped as object
    members, `null` in arrays, and at the top `None` is returned (JSON.stringify returns undefined).
    Python None is JSON null.
    """
    if value is undefined:
        return None
    out: list[str] = []
    _write(value, out, undefined)
    return "".join(out)


def _write(value: Any, out: list[str], undefined: object) -> None:
    cls = type(value)
    if cls is str:
        out.append(quote(value))
    elif value is None or value is undefined:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif cls is int or cls is float:
        out.append(number(value))
    elif cls is dict or isinstance(value, dict):
        out.append("{")
        first = True
        for key in js_keys(value):
            item = value[key]
            if item is undefined:
                continue
            if not first:
                out.append(",")
            first = False
            out.append(quote(key if type(key) is str else str(key)))
            out.append(":")
            _write(item, out, undefined)
        out.append("}")
    elif cls is list or cls is tuple or isinstance(value, (list, tuple)):
        out.append("[")
        for position, item in enumerate(value):
            if position:
                out.append(",")
            _write(item, out, undefined)
        out.append("]")
    elif isinstance(value, str):
        out.append(quote(str(value)))
    elif isinstance(value, (int, float)):
        out.append(number(value))
    else:
        raise TypeError(f"{type(value).__name__} is not a JSON value")


# The fast path: orjson writes JSON.stringify's text for a list or dict of JSON values, except in the
# cases below. It writes strings as JSON.stringify does (the same escapes, every other character
# as it is: checked for every code point), ints within ±(2^53 - 1) as they are (it refuses bigger
# ones with OPT_STRICT_INTEGER, and lone surrogates, and non-str keys), and floats with the
# shortest digits that round-trip, as Number::toString does, but spelled differently in two cases:
# integral floats (`1.0`, `-0.0`; JavaScript writes `1`, `0`) and exponents at other bounds
# (`1e16`, `1e-6`; JavaScript writes `10000000000000000`, `0.000001`). Three searches find those (a
# number ending in `.0`, an exponent) and the integer-like keys, which JavaScript orders first; a
# string that merely looks like one (`"e-mail"`) only costs the exact path. (Searches with a
# literal first character run 3x faster than one alternation; the key searches start with the `{`
# or `,` that orjson's compact text puts before every key, so the matcher is entered at each key,
# not at each quote: 2.5x faster than one search from the quote.)
_ORJSON_OPTIONS: Final = (
    orjson.OPT_STRICT_INTEGER | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)
_INTEGRAL: Final = re.compile(rb"\.0[,\]}]").search
_EXPONENT: Final = re.compile(rb"e[-+0-9]").search
_FIRST_INDEX_KEY: Final = re.compile(rb'\{"(?:0|[1-9][0-9]*)":').search
_LATER_INDEX_KEY: Final = re.compile(rb',"(?:0|[1-9][0-9]*)":').search
_orjson_dumps = orjson.dumps


def dumps(value: Any) -> str:
    """`stringify(value)` for a JSON value (no `undefined` in it): orjson's text when it is the
    same (tests/test_jsjson.py checks that it is), else `stringify`."""
    cls = type(value)
    if cls is dict or cls is list:
        try:
            data = _orjson_dumps(value, option=_ORJSON_OPTIONS)
        except TypeError:
            pass
        else:
            if (
                _EXPONENT(data) is None
                and _INTEGRAL(data) is None
                and _FIRST_INDEX_KEY(data) is None
                and _LATER_INDEX_KEY(data) is None
            ):
                return data.decode()
    exact = stringify(value)
    assert exact is not None
    return exact


def escape_lone_surrogates(text: str) -> str:
    """JSON text (from json.dumps with ensure_ascii=False) made writable as UTF-8: surrogate pairs
    joined into their character, lone surrogates escaped as `\\udxxx`, as JSON.stringify writes
    them. A surrogate can only stand inside a string literal, so the text stays the same JSON."""
    if _SURROGATE.search(text) is None:
        return text
    return _LONE.sub(lambda m: f"\\u{ord(m.group()):04x}", join_surrogates(text))
