"""Type aliases, the MISSING sentinel (JavaScript's undefined) and the kinds of JSON values, shared by
every stage of the transform core."""

from __future__ import annotations

import math
from typing import Any, Final

JSON = Any
"""A JSON value as Python holds it: dict, list, str, int, float, bool or None."""

Event = dict[str, Any]
"""A Segment event envelope (identify, track, page, screen, group, alias)."""

Payload = dict[str, Any]
"""An action payload: a resolved mapping, before or after validation."""


class _Missing:
    """A value that is absent, as JavaScript's `undefined` is; unlike None (JSON null).

    Mapping resolution passes it through and drops keys holding it at the end, as
    mapping-kit's removeUndefined does. Inside lists it becomes None, as
    JSON.stringify turns `undefined` array elements into `null`.
    """

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<MISSING>"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


def is_truthy(value: JSON) -> bool:
    """JavaScript truthiness of a JSON value: MISSING (`undefined`), None, False, 0, NaN and "" are
    false; everything else, `[]` and `{}` included, is true."""
    if value is None or value is MISSING or value is False:
        return False
    cls = type(value)
    if cls is str:
        return value != ""
    if cls is dict or cls is list or value is True:
        return True
    if cls is int:
        return value != 0
    if cls is float:
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    if isinstance(value, (int, float)):
        return value != 0 and not math.isnan(value)
    return True


def typeof(value: JSON) -> str:
    """JavaScript's `typeof` of a JSON value: "undefined" (MISSING), "boolean", "number", "string",
    else "object" (null, arrays and objects)."""
    if value is MISSING:
        return "undefined"
    if value is True or value is False:
        return "boolean"
    cls = type(value)
    if cls is int or cls is float:
        return "number"
    if cls is str:
        return "string"
    return "object"


def json_kind(value: JSON) -> str:
    """What kind of JSON value this is, for error messages, in Ajv's words: "null", "undefined"
    (MISSING), "a boolean", "a number", "a string", "an array", else "an object"."""
    if value is None:
        return "null"
    if value is MISSING:
        return "undefined"
    cls = type(value)
    if cls is bool:
        return "a boolean"
    if cls is int or cls is float:
        return "a number"
    if cls is str:
        return "a string"
    if cls is list:
        return "an array"
    return "an object"


def real_type_of(value: object) -> str:
    """actions-core's `realTypeOf`: `Object.prototype.toString` lower-cased ("null", "undefined",
    "boolean", "number", "string", "array", "object")."""
    if value is None:
        return "null"
    if value is MISSING:
        return "undefined"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__.lower()
