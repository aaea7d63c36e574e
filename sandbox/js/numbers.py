"""JavaScript's numbers: `Number(string)`, `String(number)` and how the port holds a double, the one
copy every stage uses.

Segment runs on Node, so wherever the destination turns text into a number (Ajv's coercion, FQL
values, `@liquid` math, the date-like format) or a number into text (coercion to string, error
messages, `@template`, URLs), it does it the ECMAScript way: `String(1.0)` is "1", `String(1e21)`
is "1e+21", `Number(" 0x10 ")` is 16.
"""

from __future__ import annotations

import math
import re
from typing import Final

from sandbox.js.strings import trim

_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_RADIX = re.compile(r"0(?:[xX](?P<x>[0-9a-fA-F]+)|[oO](?P<o>[0-7]+)|[bB](?P<b>[01]+))")


def to_number(text: str) -> float | None:
    """JavaScript's Number(string); None stands for NaN."""
    s = trim(text)
    if not s:
        return 0.0
    if _DECIMAL.fullmatch(s):
        return float(s)
    m = _RADIX.fullmatch(s)
    if m:
        if m["x"]:
            return float(int(m["x"], 16))
        if m["o"]:
            return float(int(m["o"], 8))
        return float(int(m["b"], 2))
    return None


def number_to_string(value: int | float | bool) -> str:
    """ECMAScript Number::toString(10): `1.0` → "1", `1e21` → "1e+21", `1e-7` → "1e-7", `-0` → "0";
    booleans as `String(true)`."""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        if -(2**53) <= value <= 2**53:
            return str(value)
        try:
            value = float(value)
        except OverflowError:
            return "Infinity" if value > 0 else "-Infinity"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    if value < 0:
        return "-" + number_to_string(-value)
    # repr() is the shortest round-tripping decimal, the digits ECMAScript asks for: read its
    # digits and exponent (`1.5e-07`, `123.0`, `0.001`) as value = int(digits) × 10**exponent.
    mantissa, _, power = repr(value).partition("e")
    whole, _, fraction = mantissa.partition(".")
    significant = (whole + fraction).lstrip("0")
    digits = significant.rstrip("0")
    exponent = (int(power) if power else 0) - len(fraction) + len(significant) - len(digits)
    k = len(digits)
    n = exponent + k  # value = 0.digits × 10**n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


INTEGRAL_LIMIT: Final = 1e21
"""From here up, JavaScript prints an integral double in exponent form (`1e+21`)."""


def as_json_number(number: float, *, keep_negative_zero: bool = False) -> int | float:
    """A JavaScript number (a double) as the port holds JSON numbers: an integral value below 1e21
    as int (so it prints `7`, as JSON.stringify and String() do, not `7.0`), anything else as the
    float. -0 becomes 0 unless `keep_negative_zero` (arithmetic that goes on may tell them apart)."""
    if number.is_integer() and abs(number) < INTEGRAL_LIMIT:
        if keep_negative_zero and number == 0 and math.copysign(1.0, number) < 0:
            return number
        return int(number)
    return number
