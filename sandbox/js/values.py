"""Type aliases and the MISSING sentinel shared by every stage of the transform core."""

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
    cls = value.__class__
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
