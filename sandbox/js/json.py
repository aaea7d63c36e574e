"""JSON as Segment's Node.js runtime reads it: every number is a double.

Segment parses events with `JSON.parse`, so an integer beyond 2^53 loses precision, `89.0` is the
number 89 (sent back out as `89`), and `1e400` is Infinity (sent out as `null`). Reading events
through `loads` gives the same values in Python, so what the sandbox sends is what Segment sends.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from sandbox.js.numbers import as_json_number

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
