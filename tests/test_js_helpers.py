"""The JavaScript helpers every stage shares (sandbox/js): whitespace, UTF-16 units, numbers, kinds."""

from __future__ import annotations

import math
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from sandbox.js.json import loads
from sandbox.js.numbers import as_json_number, to_number
from sandbox.js.strings import WHITESPACE, trim, utf16_length, utf16_slice, utf16_units
from sandbox.js.values import MISSING, json_kind, real_type_of, typeof
from sandbox.mapping.liquid_filters import _JS_SPACES


def test_whitespace_is_ecmascript_whitespace_and_line_terminators() -> None:
    # WhiteSpace: TAB, VT, FF, ZWNBSP (U+FEFF) and every Zs character; LineTerminator: LF, CR, LS, PS.
    zs = {chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Zs"}
    assert set(WHITESPACE) == zs | set("\t\v\f\ufeff") | set("\n\r\u2028\u2029")
    assert len(WHITESPACE) == len(set(WHITESPACE))


@given(st.text())
def test_trim_and_number_skip_the_same_whitespace(text: str) -> None:
    padded = WHITESPACE + text + WHITESPACE
    assert trim(padded) == trim(text)
    assert _JS_SPACES.fullmatch(WHITESPACE)  # the liquid filters' run of JavaScript's \s
    assert to_number(WHITESPACE + "12" + WHITESPACE) == 12
    assert trim(text) == "" or (trim(text)[0] not in WHITESPACE and trim(text)[-1] not in WHITESPACE)


@given(st.text())
def test_utf16_units_are_javascripts(text: str) -> None:
    units = text.encode("utf-16-le", "surrogatepass")
    assert utf16_length(text) == len(units) // 2
    assert len(utf16_units(text)) == utf16_length(text)
    assert utf16_slice(text, 0, utf16_length(text)) == text
    assert "".join(utf16_units(text)).encode("utf-16-le", "surrogatepass") == units


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_as_json_number_keeps_the_value_and_drops_only_an_integral_fraction(number: float) -> None:
    held = as_json_number(number)
    assert held == number
    assert isinstance(held, int) == (number.is_integer() and abs(number) < 1e21)
    kept = as_json_number(number, keep_negative_zero=True)
    assert math.copysign(1.0, kept) == math.copysign(1.0, number)


def test_the_one_decoder_reads_numbers_as_javascript_does() -> None:
    assert loads("[1.0, 2.5, 1e21, 9007199254740993]") == [1, 2.5, 1e21, 9007199254740992]
    assert type(loads("1.0")) is int


def test_kinds() -> None:
    values = [None, MISSING, True, 1, 1.5, "s", [], {}]
    assert [json_kind(v) for v in values] == [
        "null",
        "undefined",
        "a boolean",
        "a number",
        "a number",
        "a string",
        "an array",
        "an object",
    ]
    assert [typeof(v) for v in values] == [
        "object",
        "undefined",
        "boolean",
        "number",
        "number",
        "string",
        "object",
        "object",
    ]
    assert [real_type_of(v) for v in values] == [
        "null",
        "undefined",
        "boolean",
        "number",
        "number",
        "string",
        "array",
        "object",
    ]


def _number_to_string_by_decimal(value: float) -> str:
    """Number::toString of a finite positive double, its digits read by Decimal (the former code)."""
    from decimal import Decimal

    _, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    assert isinstance(exponent, int)
    exponent += len(digit_tuple) - len(digits)
    k = len(digits)
    n = exponent + k
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=0, exclude_min=True))
def test_number_to_string_reads_the_digits_of_repr_as_decimal_does(value: float) -> None:
    from sandbox.js.numbers import number_to_string

    assert number_to_string(value) == _number_to_string_by_decimal(value)
    assert number_to_string(-value) == "-" + _number_to_string_by_decimal(value)
