"""LiquidJS 10.30's output stringification and filters, for python-liquid to call (`@liquid`).

Part of the mapping stage: sandbox/mapping/liquid.py builds the `@liquid` engine from python-liquid
and installs `stringify` for `{{ }}` / `echo` and the filters in `FILTERS`, so that templates print
and compute as mapping-kit's LiquidJS does: JavaScript numbers (doubles: `{{ 1.5 | times: 2 }}` is
`3`, `{{ 5 | divided_by: 2 }}` is `2.5`), JavaScript `String()` for values (`[object Object]`,
arrays flattened and joined without a separator, null as ""), UTF-16 string lengths and indexes,
and `json`, which is `JSON.stringify`.

Values arrive as python-liquid hands them over: JSON values, python-liquid's Undefined for a
missing variable (undefined, played here by MISSING) and ranges (arrays). Filters return JSON
values; undefined results are returned as None, which python-liquid prints as "" and treats as
falsy, as LiquidJS does.

Not emulated: the `date` family (`date` stays python-liquid's; `date_to_xmlschema`,
`date_to_rfc822`, `date_to_string` and `date_to_long_string` raise), and LiquidJS's memory limit.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import random
import re
import unicodedata
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Final
from urllib.parse import quote

from liquid.undefined import is_undefined

from sandbox.js.json import js_keys
from sandbox.js.numbers import as_json_number
from sandbox.js.numbers import to_number as number_of_text
from sandbox.js.strings import WHITESPACE as _JS_SPACE
from sandbox.js.strings import WHITESPACE_CLASS, utf16_length, utf16_slice
from sandbox.js.values import JSON, MISSING, is_truthy
from sandbox.mapping.jsvalues import json_stringify, number_to_string, to_string

# A run of JavaScript's `\s` (compiled here, not in sandbox.js.strings: the class costs 1.4 ms to
# compile, which every `plan` would pay at start-up for the liquid filters only).
_JS_SPACES: Final = re.compile(f"[{WHITESPACE_CLASS}]+")


class LiquidFilterError(Exception):
    """A filter refused its input, with LiquidJS's message (`append expect 2 arguments`, `URI malformed`)."""


# -- values ------------------------------------------------------------------------------------------


def from_liquid(value: object) -> JSON:
    """A python-liquid value as the JavaScript value LiquidJS would hold (Undefined → MISSING)."""
    if is_undefined(value):
        return MISSING
    if isinstance(value, range):
        return list(value)
    return value


def stringify(value: object) -> str:
    """LiquidJS `stringify`: null and undefined are "", arrays print their items' stringify joined
    with no separator (nested arrays flatten), anything else is JavaScript `String(value)`."""
    value = from_liquid(value)
    if isinstance(value, str):
        return value
    if value is None or value is MISSING:
        return ""
    if isinstance(value, list):
        return "".join(stringify(item) for item in value)
    if isinstance(value, (bool, int, float, dict)):
        return to_string(value)
    return str(value)  # python-liquid's own objects (drops, blank/empty) print as python-liquid prints them


def js_result(number: float) -> int | float:
    """A double as the port holds JS numbers: integral values (not -0) below 1e21 as int."""
    return as_json_number(number, keep_negative_zero=True)


def _number(value: JSON) -> float:
    """JavaScript `Number(value)` (NaN included)."""
    if value is True:
        return 1.0
    if value is False or value is None:
        return 0.0
    if isinstance(value, int):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        number = number_of_text(value)
        return math.nan if number is None else number
    if isinstance(value, list):
        return _number(to_string(value))
    return math.nan  # undefined and objects


def to_number(value: JSON) -> float:
    """LiquidJS `toNumber`: `+value || 0` (NaN and -0 become 0)."""
    number = _number(value)
    return 0.0 if math.isnan(number) or number == 0 else number


def _integer(number: float) -> float:
    """ECMAScript ToIntegerOrInfinity."""
    if math.isnan(number):
        return 0.0
    if math.isinf(number):
        return number
    return float(math.trunc(number))


def _is_truthy(value: JSON) -> bool:
    """Liquid truthiness (LiquidJS without jsTruthy): only false, null and undefined are falsy."""
    return not (value is False or value is None or value is MISSING)


def _strict_equals(left: JSON, right: JSON) -> bool:
    """LiquidJS `equals`: arrays item by item, everything else JavaScript `===`."""
    if isinstance(left, list):
        return (
            isinstance(right, list)
            and len(left) == len(right)
            and all(_strict_equals(a, b) for a, b in zip(left, right, strict=True))
        )
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return _number(left) == _number(right)
    if isinstance(left, str) and isinstance(right, str):
        return left == right
    if isinstance(left, (dict, list)) or isinstance(right, (dict, list)):
        return left is right
    return left is right  # None, MISSING


# -- UTF-16 strings ------------------------------------------------------------------------------------


def _js_slice_bounds(length: int, start: float, end: float) -> tuple[int, int]:
    """Array.prototype.slice / String.prototype.slice index rules."""
    first, last = _integer(start), _integer(end)
    first = max(length + first, 0) if first < 0 else min(first, length)
    last = max(length + last, 0) if last < 0 else min(last, length)
    return int(first), int(max(first, last))


def _js_split(text: str, separator: str) -> list[str]:
    """`text.split(separator)`; an empty separator splits into UTF-16 units."""
    if separator == "":
        return [utf16_slice(text, i, i + 1) for i in range(utf16_length(text))]
    return text.split(separator)


# -- filter plumbing -------------------------------------------------------------------------------------

Filter = Callable[..., Any]


MEMORY_LIMIT: Final = 100_000_000
"""mapping-kit renders with LiquidJS's `memoryLimit: 1e8`: the string lengths filters take in, added
up over one render, may not pass it ("memory alloc limit exceeded"). The port charges each
filter's string input the same way and, so that no intermediate is ever built past the limit,
also refuses a filter result longer than it (`replace` predicts its length before building it)."""

_MEMORY: ContextVar[list[int] | None] = ContextVar("liquid_memory", default=None)


def memory_budget() -> list[int]:
    """A fresh budget for one render (liquid.py sets it with `_MEMORY.set`)."""
    return [0]


def _use(count: int) -> None:
    """LiquidJS's `memoryLimit.use(count)` for the render in progress."""
    used = _MEMORY.get()
    if used is None:
        return
    used[0] += count
    if used[0] > MEMORY_LIMIT:
        raise LiquidFilterError("memory alloc limit exceeded")


def _room(size: int) -> None:
    """Refuse to build a string of `size` characters past the memory limit."""
    if size > MEMORY_LIMIT:
        raise LiquidFilterError("memory alloc limit exceeded")


def _filter(function: Callable[..., JSON]) -> Filter:
    """Adapt a filter written with JavaScript's calling convention to python-liquid's.

    LiquidJS passes `key: value` arguments as `[key, value]` pairs after the positional ones; a
    parameter without an argument is undefined (MISSING); extra arguments are ignored by the
    function's own signature (each one takes `*rest`). A string input is charged to the render's
    memory budget, and a result longer than the limit is refused (`MEMORY_LIMIT`)."""

    def call(value: object, *args: object, **kwargs: object) -> object:
        js_args = [from_liquid(arg) for arg in args]
        js_args.extend([key, from_liquid(arg)] for key, arg in kwargs.items())
        js_value = from_liquid(value)
        if isinstance(js_value, str):
            _use(len(js_value))
        result = function(js_value, *js_args)
        if isinstance(result, str):
            _room(len(result))
        return None if result is MISSING else result

    call.__name__ = function.__name__
    return call


def _arg(args: tuple[JSON, ...], index: int, default: JSON = MISSING) -> JSON:
    return args[index] if index < len(args) and args[index] is not MISSING else default


def _math(function: Callable[..., float]) -> Filter:
    """`argumentsToNumber`: every argument (the value included) through toNumber, a JS number out."""

    def apply(value: JSON, *args: JSON) -> JSON:
        return js_result(function(to_number(value), *(to_number(arg) for arg in args)))

    apply.__name__ = function.__name__
    return _filter(apply)


# -- math --------------------------------------------------------------------------------------------------


def _divide(left: float, right: float) -> float:
    if right == 0:
        if left == 0 or math.isnan(left):
            return math.nan
        negative = (left < 0) != (math.copysign(1.0, right) < 0)
        return -math.inf if negative else math.inf
    return left / right


def _remainder(left: float, right: float) -> float:
    """JavaScript `left % right` (the sign of the dividend)."""
    if right == 0 or math.isinf(left) or math.isnan(left) or math.isnan(right):
        return math.nan
    if math.isinf(right):
        return left
    return math.fmod(left, right)


def _js_round(number: float) -> float:
    """JavaScript `Math.round`: halves go up (towards +∞)."""
    if not math.isfinite(number):
        return number
    floor = math.floor(number)
    return float(floor + 1 if number - floor >= 0.5 else floor)


def _shift_decimal(number: float, exponent: float) -> float:
    """LiquidJS `shiftDecimal`: `Number(mantissa + "e" + (power + exponent))` on `String(number)`."""
    mantissa, _, power = number_to_string(number).partition("e")
    shifted = number_of_text(
        f"{mantissa}e{number_to_string((number_of_text(power or '0') or 0.0) + exponent)}"
    )
    return math.nan if shifted is None else shifted


def _abs(value: float, *rest: float) -> float:
    return abs(value)


def _at_least(value: float, *rest: float) -> float:
    return max((value, *rest))


def _at_most(value: float, *rest: float) -> float:
    return min((value, *rest))


def _ceil(value: float, *rest: float) -> float:
    return float(math.ceil(value)) if math.isfinite(value) else value


def _floor(value: float, *rest: float) -> float:
    return float(math.floor(value)) if math.isfinite(value) else value


def _divided_by(value: float, divisor: float = 0.0, integer: float = 0.0, *rest: float) -> float:
    quotient = _divide(value, divisor)
    return _floor(quotient) if integer else quotient


def _minus(value: float, other: float = math.nan, *rest: float) -> float:
    return value - other


def _plus(value: float, other: float = math.nan, *rest: float) -> float:
    return value + other


def _modulo(value: float, divisor: float = math.nan, *rest: float) -> float:
    return _remainder(_remainder(value, divisor) + divisor, divisor)


def _times(value: float, other: float = math.nan, *rest: float) -> float:
    return value * other


def _round(value: JSON, digits: JSON = 0, *rest: JSON) -> JSON:
    """Round half up at `digits` decimals by shifting the decimal point in the number's text."""
    number, places = to_number(value), to_number(digits)
    scaled = _shift_decimal(abs(number), places)
    if not scaled <= 2**53 - 1:
        return js_result(number)
    rounded = _shift_decimal(_js_round(scaled), -places)
    return js_result(-rounded if number < 0 else rounded)


# -- strings -----------------------------------------------------------------------------------------------


def _needs_two(name: str, rest: tuple[JSON, ...]) -> None:
    if len(rest) != 1:
        raise LiquidFilterError(f"{name} expect 2 arguments")


def _append(value: JSON, *rest: JSON) -> str:
    _needs_two("append", rest)
    return stringify(value) + stringify(rest[0])


def _prepend(value: JSON, *rest: JSON) -> str:
    _needs_two("prepend", rest)
    return stringify(rest[0]) + stringify(value)


def _downcase(value: JSON, *rest: JSON) -> str:
    return stringify(value).lower()


def _upcase(value: JSON, *rest: JSON) -> str:
    return stringify(value).upper()


def _capitalize(value: JSON, *rest: JSON) -> str:
    text = stringify(value)
    length = utf16_length(text)
    return utf16_slice(text, 0, min(1, length)).upper() + utf16_slice(text, min(1, length), length).lower()


def _strip(value: JSON, chars: JSON = MISSING, *rest: JSON) -> str:
    text = stringify(value)
    if is_truthy(chars):
        return text.strip(stringify(chars))  # a set of code points, as `new Set(string)`
    return text.strip(_JS_SPACE)


def _lstrip(value: JSON, chars: JSON = MISSING, *rest: JSON) -> str:
    text = stringify(value)
    if is_truthy(chars):
        return text.lstrip(stringify(chars))
    return text.lstrip(_JS_SPACE)


def _rstrip(value: JSON, chars: JSON = MISSING, *rest: JSON) -> str:
    text = stringify(value)
    if is_truthy(chars):
        return text.rstrip(stringify(chars))
    return text.rstrip(_JS_SPACE)


def _strip_newlines(value: JSON, *rest: JSON) -> str:
    return re.sub(r"\r?\n", "", stringify(value))


def _normalize_whitespace(value: JSON, *rest: JSON) -> str:
    return _JS_SPACES.sub(" ", stringify(value))


def _squish(value: JSON, *rest: JSON) -> str:
    return _JS_SPACES.sub(" ", stringify(value)).strip(_JS_SPACE)


def _split(value: JSON, separator: JSON = MISSING, *rest: JSON) -> list[str]:
    parts = _js_split(stringify(value), stringify(separator))
    while parts and parts[-1] == "":
        parts.pop()  # as Ruby's split, which Shopify Liquid follows
    return parts


def _remove(value: JSON, pattern: JSON = MISSING, *rest: JSON) -> str:
    return "".join(_js_split(stringify(value), stringify(pattern)))


def _remove_first(value: JSON, pattern: JSON = MISSING, *rest: JSON) -> str:
    return stringify(value).replace(stringify(pattern), "", 1)


def _remove_last(value: JSON, pattern: JSON = MISSING, *rest: JSON) -> str:
    return _replace_last(value, pattern, "")


def _replace(value: JSON, pattern: JSON = MISSING, replacement: JSON = MISSING, *rest: JSON) -> str:
    text, needle, new = stringify(value), stringify(pattern), stringify(replacement)
    count = (len(text) + 1) if not needle else text.count(needle)  # "" splits into units
    _room(len(text) + count * max(0, len(new) - len(needle)))  # before building it
    return new.join(_js_split(text, needle))


def _replace_first(value: JSON, pattern: JSON = MISSING, replacement: JSON = MISSING, *rest: JSON) -> str:
    return stringify(value).replace(stringify(pattern), stringify(replacement), 1)


def _replace_last(value: JSON, pattern: JSON = MISSING, replacement: JSON = MISSING, *rest: JSON) -> str:
    text, needle = stringify(value), stringify(pattern)
    index = text.rfind(needle)
    if index < 0:
        return text
    return text[:index] + stringify(replacement) + text[index + len(needle) :]


def _code_point_steps(count: float) -> int:
    """How many code points LiquidJS's `advanceCodePoints(str, from, count)` steps over (`i < count`)."""
    if math.isnan(count) or count <= 0:
        return 0
    return math.ceil(count) if math.isfinite(count) else 2**62


def _truncate(value: JSON, length: JSON = 50, ellipsis: JSON = "...", *rest: JSON) -> JSON:
    """Keep at most `length` code points, the ellipsis included; short input comes back unchanged."""
    text, tail = stringify(value), stringify(ellipsis)
    limit = _number(length)
    if utf16_length(text) <= limit or _code_point_steps(limit) >= len(text):
        return value  # LiquidJS returns the input itself, not its string
    return text[: _code_point_steps(max(limit - len(tail), 0))] + tail


def _truncatewords(value: JSON, words: JSON = 15, ellipsis: JSON = "...", *rest: JSON) -> str:
    text, tail = stringify(value), stringify(ellipsis)
    parts = _JS_SPACES.split(text.lstrip(_JS_SPACE))
    count = _number(words)
    if count <= 0:
        count = 1.0
    start, end = _js_slice_bounds(len(parts), 0, count)
    result = " ".join(parts[start:end])
    if len(parts) >= count:
        result += tail
    return result


_CJK: Final = "\u4e00-\u9fff\uf900-\ufaff\u3400-\u4dbf\u3040-\u309f\u30a0-\u30ff\uac00-\ud7af"
_CJK_WORD: Final = re.compile(f"[{_CJK}]")
_NON_CJK_WORD: Final = re.compile(f"[^{_CJK}{re.escape(_JS_SPACE)}]+")


def _number_of_words(value: JSON, mode: JSON = MISSING, *rest: JSON) -> int:
    text = stringify(value).strip(_JS_SPACE)
    if not text:
        return 0
    cjk = len(_CJK_WORD.findall(text))
    if mode == "cjk" or (mode == "auto" and cjk):
        return cjk + len(_NON_CJK_WORD.findall(text))
    return len(_JS_SPACES.split(text))


_ESCAPES: Final = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"}
_UNESCAPES: Final = {entity: char for char, entity in _ESCAPES.items()}


def _escape(value: JSON, *rest: JSON) -> str:
    return re.sub(r"""[&<>"']""", lambda m: _ESCAPES[m.group()], stringify(value))


def _escape_once(value: JSON, *rest: JSON) -> str:
    text = re.sub(r"&(?:amp|lt|gt|#34|#39);", lambda m: _UNESCAPES[m.group()], stringify(value))
    return _escape(text)


_HTML_BLOCKS: Final = (("<script", "</script>"), ("<style", "</style>"), ("<!--", "-->"), ("<", ">"))


def _strip_html(value: JSON, *rest: JSON) -> str:
    """Drop script/style blocks, comments and tags; an unclosed opener keeps the rest of the text."""
    text = stringify(value)
    blocks = list(_HTML_BLOCKS)
    out: list[str] = []
    position = 0
    while position < len(text):
        opening = text.find("<", position)
        if opening < 0:
            break
        out.append(text[position:opening])
        for block in list(blocks):
            opener, closer = block
            if not text.startswith(opener, opening):
                continue
            closing = text.find(closer, opening + len(opener))
            if closing >= 0:
                position = closing + len(closer)
                break
            blocks.remove(block)
        if position <= opening:
            position = opening
            break
    out.append(text[position:])
    return "".join(out)


def _encode_uri(text: str, safe: str) -> str:
    try:
        return quote(text.encode("utf-8"), safe=safe)
    except UnicodeEncodeError:
        raise LiquidFilterError("URI malformed") from None


_URI_COMPONENT_SAFE: Final = "-_.!~*'()"
_URI_SAFE: Final = _URI_COMPONENT_SAFE + ";,/?:@&=+$#"


def _url_encode(value: JSON, *rest: JSON) -> str:
    return _encode_uri(stringify(value), _URI_COMPONENT_SAFE).replace("%20", "+")


def _cgi_escape(value: JSON, *rest: JSON) -> str:
    encoded = _encode_uri(stringify(value), _URI_COMPONENT_SAFE).replace("%20", "+")
    return re.sub(r"[!'()*]", lambda m: f"%{ord(m.group()):X}", encoded)


def _uri_escape(value: JSON, *rest: JSON) -> str:
    return _encode_uri(stringify(value), _URI_SAFE).replace("%5B", "[").replace("%5D", "]")


_PERCENT_RUN: Final = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def _url_decode(value: JSON, *rest: JSON) -> str:
    """+ → space, then `decodeURIComponent` (strict: a bad escape or bad UTF-8 is "URI malformed")."""
    text = stringify(value).replace("+", " ")
    if re.search(r"%(?![0-9A-Fa-f]{2})", text):
        raise LiquidFilterError("URI malformed")

    def decode(match: re.Match[str]) -> str:
        try:
            return bytes.fromhex(match.group().replace("%", "")).decode("utf-8")
        except UnicodeDecodeError:
            raise LiquidFilterError("URI malformed") from None

    return _PERCENT_RUN.sub(decode, text)


_SLUG_ASCII: Final = re.compile(r"[^A-Za-z0-9]+")
_SLUG_RAW: Final = re.compile(f"[{re.escape(_JS_SPACE)}]+")
_PRETTY_KEEP: Final = frozenset("._~!$&'()+,;=@")
_ACCENTS: Final = (
    ("àáâãäå", "a"),
    ("æ", "ae"),
    ("ç", "c"),
    ("èéêë", "e"),
    ("ìíîï", "i"),
    ("ð", "d"),
    ("ñ", "n"),
    ("òóôõöø", "o"),
    ("ùúûü", "u"),
    ("ýÿ", "y"),
    ("ß", "ss"),
    ("œ", "oe"),
    ("þ", "th"),
    ("ẞ", "SS"),
    ("Œ", "OE"),
    ("Þ", "TH"),
)


def _letter_mark_digit(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LM" or category == "Nd"


def _replace_runs(text: str, keep: Callable[[str], bool]) -> str:
    out: list[str] = []
    in_run = False
    for char in text:
        if keep(char):
            out.append(char)
            in_run = False
        elif not in_run:
            out.append("-")
            in_run = True
    return "".join(out)


def _slugify(value: JSON, mode: JSON = "default", cased: JSON = False, *rest: JSON) -> str:
    text = stringify(value)
    kind = "default" if mode is MISSING else mode
    if kind in ("raw", "default", "pretty", "ascii", "latin"):  # any other mode only lower-cases
        if kind == "latin":
            for chars, plain in _ACCENTS:
                text = re.sub(f"[{chars}]", plain, text)
        if kind == "raw":
            text = _SLUG_RAW.sub("-", text)
        elif kind == "ascii":
            text = _SLUG_ASCII.sub("-", text)
        elif kind == "pretty":
            text = _replace_runs(text, lambda c: _letter_mark_digit(c) or c in _PRETTY_KEEP)
        else:
            text = _replace_runs(text, _letter_mark_digit)
        text = re.sub(r"^-|-$", "", text)
    return text if is_truthy(cased) else text.lower()


def _base64_encode(value: JSON, *rest: JSON) -> str:
    return base64.b64encode(stringify(value).encode("utf-8", "replace")).decode("ascii")


def _base64_decode(value: JSON, *rest: JSON) -> str:
    """Strict base64 (whitespace and `=` padding allowed), decoded as UTF-8 with U+FFFD for bad bytes."""
    text = re.sub(r"[\t\n\f\r ]", "", stringify(value))
    if len(text) % 4 == 0:
        text = re.sub(r"==?$", "", text)
    if len(text) % 4 == 1 or not re.fullmatch(r"[A-Za-z0-9+/]*", text):
        raise LiquidFilterError("invalid base64 provided to base64_decode")
    return base64.b64decode(text + "=" * (-len(text) % 4)).decode("utf-8", "replace")


def _sha256(value: JSON, *rest: JSON) -> str:
    return hashlib.sha256(stringify(value).encode("utf-8", "replace")).hexdigest()


def _hmac_sha256(value: JSON, key: JSON = MISSING, *rest: JSON) -> str:
    secret = stringify(key).encode("utf-8", "replace")
    return hmac.new(secret, stringify(value).encode("utf-8", "replace"), hashlib.sha256).hexdigest()


# -- arrays ------------------------------------------------------------------------------------------------


def _to_array(value: JSON) -> list[JSON]:
    """LiquidJS `toArray`: null/undefined → [], an array itself, anything else [value]."""
    if value is None or value is MISSING:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _join(value: JSON, separator: JSON = MISSING, *rest: JSON) -> str:
    sep = " " if separator is None or separator is MISSING else stringify(separator)
    return sep.join("" if item is None or item is MISSING else to_string(item) for item in _to_array(value))


def _array_like_length(value: JSON) -> float | None:
    """`isArrayLike(v) ? v.length`: non-empty strings, arrays, objects with a numeric `length`."""
    if isinstance(value, str) and value:
        return utf16_length(value)
    if isinstance(value, list):
        return len(value)
    if isinstance(value, dict):
        length = value.get("length")
        if isinstance(length, (int, float)) and not isinstance(length, bool):
            return length
    return None


def _item(value: JSON, index: float) -> JSON:
    """`value[index]` for an array-like value (strings by UTF-16 unit)."""
    if isinstance(value, str):
        length = utf16_length(value)
        return utf16_slice(value, int(index), int(index) + 1) if 0 <= index < length else MISSING
    if isinstance(value, list):
        return value[int(index)] if 0 <= index < len(value) and float(index).is_integer() else MISSING
    if isinstance(value, dict):
        return value.get(number_to_string(index), MISSING)
    return MISSING


def _first(value: JSON, *rest: JSON) -> JSON:
    return "" if _array_like_length(value) is None else _item(value, 0)


def _last(value: JSON, *rest: JSON) -> JSON:
    length = _array_like_length(value)
    return "" if length is None else _item(value, length - 1)


def _size(value: JSON, *rest: JSON) -> JSON:
    """`(v && v.length) || 0`."""
    if isinstance(value, str):
        return utf16_length(value)
    if isinstance(value, list):
        return len(value)
    if isinstance(value, dict):
        length = value.get("length", MISSING)
        return length if is_truthy(length) else 0
    return 0


def _compact(value: JSON, *rest: JSON) -> list[JSON]:
    return [item for item in _to_array(value) if item is not None and item is not MISSING]


def _slice(value: JSON, begin: JSON = MISSING, length: JSON = 1, *rest: JSON) -> JSON:
    """`length` items from `begin` (negative counts from the end); strings by code point."""
    if value is None or value is MISSING:
        return []
    text = value if isinstance(value, list) else stringify(value)
    start, count = _number(begin), _number(length)
    if start < 0:
        start += len(text)
    if start < 0 or count < 0:
        return [] if isinstance(value, list) else ""
    if isinstance(text, list):
        first, last = _js_slice_bounds(len(text), start, start + count)
        return text[first:last]
    first = _code_point_steps(start)
    return text[first : first + _code_point_steps(count)]


_PATH_PART: Final = re.compile(r"""\.?([^.\[\]'"]+)|\[(-?\d+)\]|\['([^']*)'\]|\["([^"]*)"\]""")


def _path(text: str) -> list[str | int]:
    """A property path as LiquidJS reads `where`'s property (`a.b`, `a[0]`, `a['x y']`)."""
    parts: list[str | int] = []
    position = 0
    while position < len(text):
        match = _PATH_PART.match(text, position)
        if match is None or match.end() == position:
            return [text]
        word, index, single, double = match.groups()
        parts.append(
            int(index) if index is not None else next(p for p in (word, single, double) if p is not None)
        )
        position = match.end()
    return parts


def read_property(scope: JSON, key: str | int) -> JSON:
    """LiquidJS `readProperty` on JSON values: negative array indexes, `size`, `first`, `last`."""
    if scope is None or scope is MISSING:
        return scope
    if isinstance(scope, list):
        if isinstance(key, int) or (isinstance(key, str) and re.fullmatch(r"-?\d+", key)):
            index = int(key)
            index = len(scope) + index if index < 0 else index
            return scope[index] if 0 <= index < len(scope) else MISSING
        if key in ("size", "length"):
            return len(scope)
        if key == "first":
            return scope[0] if scope else MISSING
        if key == "last":
            return scope[-1] if scope else MISSING
        return MISSING
    if isinstance(scope, str):
        if key in ("size", "length"):
            return utf16_length(scope)
        if isinstance(key, int) or re.fullmatch(r"\d+", key):
            return _item(scope, int(key))
        return MISSING
    if isinstance(scope, dict):
        name = str(key)
        if name in scope:
            return scope[name]
        if name == "size":
            return len(scope)
        return MISSING
    return MISSING


def _where(value: JSON, prop: JSON = MISSING, expected: JSON = MISSING, *rest: JSON) -> list[JSON]:
    path = _path(stringify(prop))
    kept: list[JSON] = []
    for item in _to_array(value):
        found = item
        for key in path:
            found = read_property(found, key) if isinstance(item, (dict, list)) else MISSING
        if _is_truthy(found) if expected is MISSING else _strict_equals(found, expected):
            kept.append(item)
    return kept


def _sum(value: JSON, prop: JSON = MISSING, *rest: JSON) -> JSON:
    total = 0.0
    path = _path(stringify(prop)) if is_truthy(prop) else []
    for item in _to_array(value):
        found = item
        for key in path:
            found = read_property(found, key)
        number = _number(found)
        total += 0.0 if math.isnan(number) else number
    return js_result(total)


def _push(value: JSON, item: JSON = MISSING, *rest: JSON) -> list[JSON]:
    return [*_to_array(value), item]


def _unshift(value: JSON, item: JSON = MISSING, *rest: JSON) -> list[JSON]:
    return [item, *_to_array(value)]


def _pop(value: JSON, *rest: JSON) -> list[JSON]:
    return _to_array(value)[:-1]


def _shift(value: JSON, *rest: JSON) -> list[JSON]:
    return _to_array(value)[1:]


def _sample(value: JSON, count: JSON = 1, *rest: JSON) -> JSON:
    """Random items (as LiquidJS, not reproducible); one item when count is 1."""
    if value is None or value is MISSING:
        return []
    items: list[JSON] = (
        value if isinstance(value, list) else list(stringify(value))
    )  # [...string]: code points
    shuffled = random.sample(items, len(items))
    if count == 1:
        return shuffled[0] if shuffled else MISSING
    first, last = _js_slice_bounds(len(shuffled), 0, _number(count))
    return shuffled[first:last]


# -- misc --------------------------------------------------------------------------------------------------


def _default(value: JSON, fallback: JSON = MISSING, *options: JSON) -> JSON:
    if isinstance(value, (list, str)):
        return value if value else fallback
    allow_false = any(isinstance(o, list) and len(o) == 2 and o[0] == "allow_false" and o[1] for o in options)
    if value is False and allow_false:
        return False
    return fallback if not _is_truthy(value) else value


def _indented(value: JSON, indent: str, depth: int, out: list[str]) -> None:
    """JSON.stringify with a gap: objects and arrays one member per line; leaves as compact."""
    if isinstance(value, dict):
        members = [(key, value[key]) for key in js_keys(value) if value[key] is not MISSING]
        if not members:
            out.append("{}")
            return
        out.append("{")
        for position, (key, item) in enumerate(members):
            out.append(("," if position else "") + "\n" + indent * (depth + 1))
            out.append(f"{json_stringify(str(key))}: ")
            _indented(item, indent, depth + 1, out)
        out.append("\n" + indent * depth + "}")
    elif isinstance(value, list):
        if not value:
            out.append("[]")
            return
        out.append("[")
        for position, item in enumerate(value):
            out.append(("," if position else "") + "\n" + indent * (depth + 1))
            _indented(item, indent, depth + 1, out)
        out.append("\n" + indent * depth + "]")
    else:
        text = json_stringify(value)
        out.append(text if isinstance(text, str) else "null")


def _json(value: JSON, space: JSON = 0, *rest: JSON) -> JSON:
    """`JSON.stringify(value, null, space)`: a number of spaces (at most 10) or a string gap."""
    if isinstance(space, str):
        indent = space[:10]
    elif isinstance(space, (int, float)) and not isinstance(space, bool):
        indent = " " * int(min(10, max(0, _integer(float(space)))))
    else:
        indent = ""
    if value is MISSING:
        return MISSING
    if not indent:
        return json_stringify(value)
    out: list[str] = []
    _indented(value, indent, 0, out)
    return "".join(out)


def _to_integer(value: JSON, *rest: JSON) -> JSON:
    return js_result(_number(value))


def _identity(value: JSON, *rest: JSON) -> JSON:
    return value


def _not_emulated(name: str) -> Filter:
    def refuse(*args: object, **kwargs: object) -> object:
        raise LiquidFilterError(f'filter "{name}" is not emulated by the sandbox')

    return refuse


FILTERS: Final[dict[str, Filter]] = {
    "abs": _math(_abs),
    "at_least": _math(_at_least),
    "at_most": _math(_at_most),
    "ceil": _math(_ceil),
    "divided_by": _math(_divided_by),
    "floor": _math(_floor),
    "minus": _math(_minus),
    "plus": _math(_plus),
    "modulo": _math(_modulo),
    "times": _math(_times),
    "round": _filter(_round),
    "append": _filter(_append),
    "prepend": _filter(_prepend),
    "downcase": _filter(_downcase),
    "upcase": _filter(_upcase),
    "capitalize": _filter(_capitalize),
    "strip": _filter(_strip),
    "lstrip": _filter(_lstrip),
    "rstrip": _filter(_rstrip),
    "strip_newlines": _filter(_strip_newlines),
    "normalize_whitespace": _filter(_normalize_whitespace),
    "squish": _filter(_squish),
    "split": _filter(_split),
    "remove": _filter(_remove),
    "remove_first": _filter(_remove_first),
    "remove_last": _filter(_remove_last),
    "replace": _filter(_replace),
    "replace_first": _filter(_replace_first),
    "replace_last": _filter(_replace_last),
    "truncate": _filter(_truncate),
    "truncatewords": _filter(_truncatewords),
    "number_of_words": _filter(_number_of_words),
    "escape": _filter(_escape),
    "xml_escape": _filter(_escape),
    "escape_once": _filter(_escape_once),
    "strip_html": _filter(_strip_html),
    "url_encode": _filter(_url_encode),
    "url_decode": _filter(_url_decode),
    "cgi_escape": _filter(_cgi_escape),
    "uri_escape": _filter(_uri_escape),
    "slugify": _filter(_slugify),
    "base64_encode": _filter(_base64_encode),
    "base64_decode": _filter(_base64_decode),
    "sha256": _filter(_sha256),
    "hmac_sha256": _filter(_hmac_sha256),
    "join": _filter(_join),
    "first": _filter(_first),
    "last": _filter(_last),
    "size": _filter(_size),
    "compact": _filter(_compact),
    "slice": _filter(_slice),
    "where": _filter(_where),
    "sum": _filter(_sum),
    "push": _filter(_push),
    "unshift": _filter(_unshift),
    "pop": _filter(_pop),
    "shift": _filter(_shift),
    "sample": _filter(_sample),
    "default": _filter(_default),
    "json": _filter(_json),
    "jsonify": _filter(_json),
    "inspect": _filter(_json),
    "to_integer": _filter(_to_integer),
    "raw": _filter(_identity),
    "date_to_xmlschema": _not_emulated("date_to_xmlschema"),
    "date_to_rfc822": _not_emulated("date_to_rfc822"),
    "date_to_string": _not_emulated("date_to_string"),
    "date_to_long_string": _not_emulated("date_to_long_string"),
}
"""LiquidJS's filters by name; `date` is python-liquid's, the disabled ones are installed by liquid.py."""

# python-liquid filters that LiquidJS lacks: unknown there, so they pass their input through.
NOT_IN_LIQUIDJS: Final = ("base64_url_safe_decode", "base64_url_safe_encode", "escapejs", "safe")
