"""`compact`: the mock's JSON text of a value (compact separators, non-ASCII as is), at C speed.

The journal writes every request's headers, notes and state changes as JSON text, and with
segments and campaigns defined the changes are most of what it writes (bench/segments.py). The
text was `json`'s compact encoder's; orjson (https://github.com/ijl/orjson) writes the same values
about twice as fast. The two texts decode to the same values; they differ only in how some floats
are spelled (orjson `1e16`, `1e-7`; json `1e+16`, `1e-07`).

What orjson would refuse or write differently takes `json`'s path, so nothing is lost or changed:
integers past 64 bits, keys that are not strings and lone surrogates (orjson raises), NaN and the
infinities (orjson writes them as `null`, json as `NaN` / `Infinity`, which `json.loads` reads
back: any text holding `null` is written again by `json`), and subclasses, dataclasses and
datetimes (passed through, so `json` raises for them as it did).

`loads` is the way back: `json.loads`'s value, read by orjson (about 2.5 times as fast) where
that is the same value, and by `json` everywhere else (see its docstring).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

stdlib_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
"""json's compact text (the spelling of its floats too): what `compact` equals in value."""
_dumps = orjson.dumps
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def compact(value: Any) -> str:
    """`value` as compact JSON text, equal in value to `json.dumps(value, ensure_ascii=False,
    separators=(",", ":"))` (which writes it where orjson cannot)."""
    text = _orjson_text(value)
    return stdlib_compact(value) if text is None else text.decode()


_FLOAT_MARKS = bytes(48 if 48 <= byte <= 57 else 46 if byte in b".eE" else 32 for byte in range(256))
"""A `bytes.translate` table: a digit becomes "0", a `.`, `e` or `E` becomes ".", any other byte " "."""


def compact_size(value: Any) -> int:
    """`len(stdlib_compact(value).encode("utf-8", "surrogatepass"))`, the size of json's compact
    text, from orjson's text where the two are the same bytes: where it holds no float (orjson
    spells some otherwise, `1e-05` as `0.00001`, and every finite float holds a digit followed by
    `.`, `e` or `E`). Strings, integers, true, false and null are written alike, every character
    escaped or not the same way."""
    text = _orjson_text(value)
    if text is not None and b"0." not in text.translate(_FLOAT_MARKS):
        return len(text)
    return len(stdlib_compact(value).encode("utf-8", "surrogatepass"))


def _orjson_text(value: Any) -> bytes | None:
    """orjson's compact text of `value` where it decodes to json's values, else None: orjson
    refuses integers past 64 bits, keys that are not strings, lone surrogates and subclasses, and
    writes NaN and the infinities as null (looked for only in a text holding null)."""
    try:
        text = _dumps(value, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return None
    if b"null" in text and _holds_non_finite(value):  # orjson wrote a NaN or an infinity as null
        return None
    return text


def _holds_non_finite(value: Any) -> bool:
    """Whether a float in `value` (through dicts, lists and tuples, as orjson writes them) is NaN
    or an infinity: what orjson writes as `null`, where a None also writes `null` (a journal
    entry's changes hold many: an attribute set for the first time was null)."""
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        node = pop()
        cls = type(node)
        if cls is float:
            if node - node != 0.0:  # NaN or an infinity: x - x is NaN for them, 0.0 for every other
                return True
        elif cls is dict:
            extend(node.values())
        elif cls is list or cls is tuple:
            extend(node)
    return False


_orjson_loads = orjson.loads
_DIGITS = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
"""A `bytes.translate` table: a digit becomes "0", any other byte " "."""
_LONG_RUN = b"0" * 19
"""A run of 19 digits, translated: every integer orjson would read as a float (past 64 bits) has one."""
_NESTED = 200
"""Brackets a text may hold and still go to orjson: json's decoder recurses (so a text nested as
deep as the interpreter's recursion limit raises RecursionError), orjson's only up to 1024 levels."""
NOT_READ: Any = object()
"""What `read_fast` returns for a text it leaves to json."""


def read_fast(data: bytes) -> Any:
    """`json.loads(data)` read by orjson, or NOT_READ where that could differ (json then reads it,
    or says what is wrong with it).

    orjson refuses what json reads otherwise: NaN and the infinities, numbers beyond a double
    (`1e400`, which json reads as inf), lone surrogates, a byte order mark, text that is not
    UTF-8 (json.loads detects UTF-16 and UTF-32 in bytes). Two differences it does not refuse are
    left to json here: an integer past 64 bits, which orjson reads as a float (any text with a
    run of 19 digits), and nesting past the recursion limit (any text with more than _NESTED
    brackets). Strings, the other numbers, and objects (the last of repeated keys, at the first
    one's place) are read the same (tests/test_json_text.py)."""
    if _LONG_RUN in data.translate(_DIGITS) or data.count(b"{") + data.count(b"[") > _NESTED:
        return NOT_READ
    try:
        return _orjson_loads(data)
    except ValueError:  # orjson.JSONDecodeError
        return NOT_READ


def loads(text: str | bytes) -> Any:
    """`json.loads(text)`: `read_fast`'s value where it reads it, else json's (value or error)."""
    try:
        data = text.encode() if isinstance(text, str) else text
    except UnicodeEncodeError:  # a lone surrogate in the text
        return json.loads(text)
    value = read_fast(data)
    return json.loads(text) if value is NOT_READ else value
