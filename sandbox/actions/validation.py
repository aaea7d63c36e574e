"""Payload validation: the step between mapping resolution and an action's mapPayload.

Mirrors what actions-core does to a resolved payload before `perform` (docs/destination.md §4.3-4.6):
removeEmptyValues (single mode also drops `""` at the root), then Ajv with
`removeAdditional: true`, `coerceTypes: "array"` and `allErrors`, and @segment/ajv-human-errors
for the message text. A `PayloadSchema` is compiled once per action and reused for every event.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from sandbox.actions.fields import Field, Fields
from sandbox.errors import PayloadValidationError
from sandbox.js.numbers import as_json_number, number_to_string, to_number
from sandbox.js.values import JSON, MISSING, Payload, json_kind

Check = Callable[[Any, list[str]], Any]
"""Checks (and coerces) one field value; appends ajv-human-errors messages (without the final dot)."""

_COERCIBLE = frozenset(("string", "number", "integer", "boolean", "null"))
_EXACT_CLASS: dict[str, type] = {"string": str, "boolean": bool, "object": dict, "array": list}


class PayloadSchema:
    """The compiled schema of one action's fields (fieldsToJsonSchema + an Ajv validator)."""

    __slots__ = (
        "fields",
        "action",
        "_checks",
        "_order",
        "_required",
        "_keeps_empty",
        "_plain_strings",
        "_exact",
        "_int_ranges",
    )

    def __init__(self, fields: Fields, action: str = "") -> None:
        self.fields = fields
        self.action = action
        self._checks: dict[str, Check] = {key: _compile(field) for key, field in fields.items()}
        self._order = {key: index for index, key in enumerate(fields)}
        self._required = tuple(key for key, field in fields.items() if field.required)
        # removeEmptyValues keeps "" only where the field's type includes string.
        self._keeps_empty = frozenset(key for key, field in fields.items() if "string" in field.json_types)
        self._plain_strings = frozenset(
            key for key, field in fields.items() if field.json_types == ("string",) and not field.choices
        )
        # Fields whose check passes a value of one exact class through untouched: a single
        # non-number type, no enum, no limits, no format (an object into an object field, ...).
        self._exact: dict[str, type] = {
            key: _EXACT_CLASS[field.json_types[0]]
            for key, field in fields.items()
            if len(field.json_types) == 1
            and field.json_types[0] in _EXACT_CLASS
            and not field.choices
            and field.minimum is None
            and field.maximum is None
            and field.type != "datetime"
        }
        # Number fields without an enum (batch_size, say): an int within the limits passes untouched.
        self._int_ranges: dict[str, tuple[float, float]] = {
            key: (
                -math.inf if field.minimum is None else field.minimum,
                math.inf if field.maximum is None else field.maximum,
            )
            for key, field in fields.items()
            if field.json_types == ("number",) and not field.choices and field.type != "datetime"
        }

    def validate(self, payload: Payload, *, batch: bool = False) -> Payload:
        """Return the cleaned, coerced payload, or raise PayloadValidationError with Ajv-human's text.

        Key order is the payload's (the mapping's), as removeEmptyValues and Ajv keep it.
        """
        checks = self._checks
        plain = self._plain_strings
        exact = self._exact
        out: dict[str, JSON] = {}
        errors: list[tuple[int, str]] | None = None
        for key, value in payload.items():
            cls = type(value)
            if cls is str:
                if not value and (not batch or key not in self._keeps_empty):
                    continue  # single mode drops "" for every root field; batch only for non-strings
                if key in plain:
                    out[key] = value  # the hot path: a string into a plain string field
                    continue
            elif value is None or value is MISSING:
                continue  # no field allows null
            elif exact.get(key) is cls:
                out[key] = value  # an object into an object field, a boolean into a boolean one
                continue
            elif cls is int and (limits := self._int_ranges.get(key)) and limits[0] <= value <= limits[1]:
                out[key] = value
                continue
            check = checks.get(key)
            if check is None:
                continue  # not a field: additionalProperties with removeAdditional
            messages: list[str] = []
            out[key] = check(value, messages)
            if messages:
                if errors is None:
                    errors = []
                index = self._order[key]
                errors.extend((index, message) for message in messages)
        for key in self._required:
            if key not in out:
                if errors is None:
                    errors = []
                errors.append((-1, f"The root value is missing the required field '{key}'"))
        if errors:
            # Ajv reports `required` first (in field order), then each property in field order.
            errors.sort(key=lambda item: item[0])
            raise PayloadValidationError(" ".join(f"{_capitalize(m)}." for _, m in errors), self.action)
        return out


def remove_empty_values(payload: Payload, fields: Fields, *, batch: bool = False) -> Payload:
    """Mirrors actions-core removeEmptyValues on a resolved payload (nested values are never touched)."""
    out: dict[str, JSON] = {}
    for key, value in payload.items():
        field = fields.get(key)
        if value is MISSING:
            continue
        if field is not None:
            types = field.json_types
            if value is None and "null" not in types:
                continue
            if value == "" and type(value) is str and ("string" not in types or not batch):
                continue
        elif value == "" and type(value) is str and not batch:
            continue
        out[key] = value
    return out


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- type checks and coercion (Ajv 8, coerceTypes: "array", strictNumbers) -----------------------


def _is_type(value: Any, types: tuple[str, ...]) -> bool:
    cls = type(value)
    for t in types:
        if t == "string":
            if cls is str:
                return True
        elif t == "number":
            if (cls is int) or (cls is float and math.isfinite(value)):
                return True
        elif t == "boolean":
            if cls is bool:
                return True
        elif t == "object":
            if isinstance(value, dict):  # a NonPlainObject too: Ajv's "object" is any non-array object
                return True
        elif t == "array":
            if cls is list:
                return True
        elif t == "null" and value is None:
            return True
    return False


def _coerce(value: Any, types: tuple[str, ...], coerce_to: tuple[str, ...]) -> tuple[Any, Any]:
    """Ajv's coerceData: returns (coerced value or MISSING, the value the error is about)."""
    if "array" not in types and type(value) is list and len(value) == 1:
        value = value[0]  # coerceTypes "array": a one-element array stands for its element
        if _is_type(value, types):
            return value, value
    cls = type(value)
    is_number = cls is int or cls is float
    for t in coerce_to:
        if t == "string":
            if is_number or cls is bool:
                return number_to_string(value), value
            if value is None:
                return "", value
        elif t == "number":
            if cls is bool:
                return int(value), value
            if value is None:
                return 0, value
            if cls is str and value:
                number = to_number(value)
                # Non-finite results would fail strictNumbers anyway; report them as not coercible.
                if number is not None and math.isfinite(number):
                    return as_json_number(number), value
        elif t == "boolean":
            if value == "false" or value is None or (is_number and value == 0):
                return False, value
            if value == "true" or (is_number and value == 1):
                return True, value
        elif t == "array":
            if cls is str or is_number or cls is bool or value is None:
                return [value], value
    return MISSING, value


def _compile(field: Field) -> Check:
    types = field.json_types
    coerce_to = tuple(t for t in types if t in _COERCIBLE)
    label = field.label
    enum = tuple(value for value, _ in field.choices)
    minimum, maximum = field.minimum, field.maximum
    date_like = field.type == "datetime"
    expected = _humanize_list(list(types), "or")
    type_message = f"{label} must be {_article(expected)} {expected} but it was "
    enum_message = f"{label} must be one of: " + _humanize_list(
        [json.dumps(v, ensure_ascii=False) for v in enum], "or"
    )
    simple = types == ("string",) and not enum

    def check(value: Any, errors: list[str]) -> Any:
        if simple and type(value) is str:
            return value  # the hot path: a string into a plain string field
        if not _is_type(value, types):
            coerced, about = (MISSING, value) if not coerce_to else _coerce(value, types, coerce_to)
            if coerced is MISSING:
                errors.append(type_message + _humanize_type_of(about))
                if enum and about not in enum:
                    errors.append(enum_message)
                return value
            value = coerced
        if enum and not any(value == v and type(value) is type(v) for v in enum):
            errors.append(enum_message)
        cls = type(value)
        if (cls is int or cls is float) and (minimum is not None or maximum is not None):
            if maximum is not None and value > maximum:
                errors.append(f"{label} must be equal to or less than {number_to_string(maximum)}")
            if minimum is not None and value < minimum:
                errors.append(f"{label} must be equal to or greater than {number_to_string(minimum)}")
        if date_like and cls is str and not _is_date_like(value):
            errors.append(f"{label} must be a valid date-like string but it was not")
        return value

    return check


def _is_date_like(value: str) -> bool:
    from sandbox.actions.timestamps import is_date_like

    return bool(is_date_like(value))


# -- ajv-human-errors wording ----------------------------------------------------------------------


def _article(word: str) -> str:
    return "an" if word[:1] in ("a", "e", "i", "o", "u") else "a"


def _humanize_list(items: list[str], conjunction: str) -> str:
    if not items:
        return "nothing"
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return f"{items[0]} {conjunction} {items[1]}"
    return f"{', '.join(items[:-1])}, {conjunction} {items[-1]}"


_humanize_type_of = json_kind  # ajv-human's "humanizeTypeOf"


# -- JavaScript number <-> string ----------------------------------------------------------------
