"""Reading a Track API request: body bytes → JSON, limits, and the documented error bodies.

Where it sits: between auth and the state verbs. Everything here is pure: it turns bytes and JSON
into values or raises `ApiError`, which carries the exact status and body Customer.io would answer
(docs/decisions.md §2.1) plus the reason the journal records. Nothing a client sends can get past this
module as an unhandled exception.

Error body flavours:
- `v1`:    `400 {"meta": {"errors": ["<message>"]}}` with the documented message strings
           (docs/track-api.md §2.1);
- `merge`: `400 {"meta": {"error": "<message>"}}` (merge_customers);
- `v2`:    `400 {"errors": [{"reason", "field", "message"}]}`.

Lone UTF-16 surrogates (`"\\ud800"` without its pair) are legal JSON text but no Unicode string:
they are read as U+FFFD, as Go's `encoding/json` and most decoders outside JavaScript read them, so
the request is accepted and everything the mock keeps and serves is valid UTF-8 (`parse_body`
notes it). Numbers must fit an IEEE double, as they do in Customer.io's and Segment's decoders:
`1e400` or a 400-digit integer is answered 400 ("out of range"), never stored as infinity.

Limits (docs/track-api.md §1.5; KB = 1024 bytes): identifiers 150 bytes, attribute names
150 bytes, attribute values 1000 bytes, 300 attributes per request, event names 100 bytes, event
data 100000 bytes, a v2 entity or batch item 32 KB, a v2 batch 500 KB. Not documented, chosen
here: a v1 body may be at most 1 MB, and JSON may nest at most `MAX_DEPTH` levels.
"""

from __future__ import annotations

import base64
import json
import math
import re
import sys
from dataclasses import dataclass
from typing import Any, Literal

from mock_cio.errors import ApiError, MockError, V2Invalid  # noqa: F401  (defined in mock_cio.errors; importable here too)
from mock_cio.json_text import NOT_READ, compact_size, read_fast

JSON = Any
Flavour = Literal["v1", "merge", "v2"]

MAX_ID_BYTES = 150
MAX_ATTRIBUTE_NAME_BYTES = 150
MAX_ATTRIBUTE_VALUE_BYTES = 1000
MAX_ATTRIBUTES = 300
MAX_EVENT_NAME_BYTES = 100
MAX_EVENT_DATA_BYTES = 100_000
MAX_ENTITY_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_V1_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 64
"""JSON nesting limit (not documented by Customer.io): deeper bodies are answered 400."""
MAX_SEGMENT_IDS = 1000


@dataclass(frozen=True, slots=True)
class V2Problem:
    """One v2 error object; `batch_index` is set for an item of a batch."""

    reason: str
    field: str
    message: str

    def to_dict(self, batch_index: int | None = None) -> dict[str, JSON]:
        out: dict[str, JSON] = {} if batch_index is None else {"batch_index": batch_index}
        out.update(reason=self.reason, field=self.field, message=self.message)
        return out


def v1_error(message: str, status: int = 400) -> ApiError:
    return ApiError(status, {"meta": {"errors": [message]}}, [message])


def merge_error(message: str) -> ApiError:
    return ApiError(400, {"meta": {"error": message}}, [message])


def v2_error(reason: str, field: str, message: str, status: int = 400) -> ApiError:
    problem = V2Problem(reason, field, message)
    return ApiError(status, {"errors": [problem.to_dict()]}, [f"{field}: {message}" if field else message])


def reject(
    flavour: Flavour, message: str, *, reason: str = "invalid", field: str = "", status: int = 400
) -> ApiError:
    """An error in the body shape of `flavour`."""
    if flavour == "v2":
        return v2_error(reason, field, message, status)
    if flavour == "merge":
        return ApiError(status, {"meta": {"error": message}}, [message])
    return v1_error(message, status)


# ---------------------------------------------------------------------- bodies


@dataclass(frozen=True, slots=True)
class Body:
    """A request body as the journal keeps it: `json` when it parsed, else `text` (and `base64` when
    the bytes were not UTF-8; `text` then has U+FFFD for the bad bytes)."""

    json: JSON = None
    text: str | None = None
    base64: str | None = None


def journal_body(raw: bytes) -> Body:
    """How to show `raw` in the journal when it was not (or not yet) parsed."""
    if not raw:
        return Body()
    try:
        return Body(text=raw.decode("utf-8"))
    except UnicodeDecodeError:
        return Body(text=raw.decode("utf-8", "replace"), base64=base64.b64encode(raw).decode("ascii"))


def is_json_type(content_type: str | None) -> bool:
    if not content_type:
        return True  # no header: read the bytes as JSON (noted by the caller)
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


def parse_body(
    raw: bytes, content_type: str | None, *, flavour: Flavour, limit: int, notes: list[str] | None = None
) -> JSON:
    """Bytes → a JSON object (or None for an empty body); raise ApiError for anything else.
    Lone surrogates are read as U+FFFD and noted in `notes` (the caller then journals the body
    as read, not as sent)."""
    if len(raw) > limit:
        raise reject(flavour, too_large(flavour, limit, len(raw)), reason="too_large", field="body")
    if not raw.strip():
        return None
    if not is_json_type(content_type):
        raise reject(
            flavour,
            f"content-type must be application/json, got {content_type!r}",
            reason="invalid_content_type",
            field="content-type",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise reject(
            flavour,
            f"request body is not valid UTF-8 (byte {exc.start})",
            reason="invalid_encoding",
            field="body",
        ) from None
    try:
        if text.startswith("\ufeff"):  # as json.loads does
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        value = read_fast(raw)  # the common body, by orjson; any other by json, with its hooks
        if value is NOT_READ:
            value = (_decode_checked if _RISKY_NUMBER.search(raw) else _decode)(text)
    except json.JSONDecodeError as exc:
        raise reject(
            flavour,
            f"request body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            reason="invalid_json",
            field="body",
        ) from None
    except _ConstantError as exc:
        raise reject(
            flavour, f"request body is not valid JSON: {exc}", reason="invalid_json", field="body"
        ) from None
    except _RangeError as exc:
        raise reject(flavour, f"request body has a number out of range: {exc}", reason="out_of_range",
                     field="body") from None  # fmt: skip
    except RecursionError:
        raise reject(
            flavour, f"request body nests deeper than {MAX_DEPTH} levels", reason="too_deep", field="body"
        ) from None
    # Only a text with more than MAX_DEPTH brackets can nest deeper: skip the walk otherwise.
    too_many = raw.count(b"{") + raw.count(b"[") > MAX_DEPTH
    where = nested_too_deep(value) if too_many else None
    if where is not None:
        raise reject(
            flavour,
            f"request body nests deeper than {MAX_DEPTH} levels (at {where})",
            reason="too_deep",
            field=where,
        )
    if ("\\ud" in text or "\\uD" in text) and has_lone_surrogate(value):
        value = without_lone_surrogates(value)
        if notes is not None:
            notes.append(SURROGATE_NOTE)
    if not isinstance(value, dict):
        raise reject(
            flavour,
            f"request body must be a JSON object, got {json_type(value)}",
            reason="invalid",
            field="body",
        )
    return value


class _ConstantError(ValueError):
    pass


def _no_constant(name: str) -> JSON:
    raise _ConstantError(f"{name} is not a JSON value")


class _RangeError(ValueError):
    pass


MAX_NUMBER = sys.float_info.max
"""The largest magnitude a JSON number may have: an IEEE double's (JavaScript's and Go's numbers)."""


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _RangeError(
            f"{text[:40]}{'…' if len(text) > 40 else ''} does not fit a double (at most ±{MAX_NUMBER:g})"
        )
    return value


def _int(text: str) -> int:
    # A double holds at most 309 integer digits; anything longer is out of range (and Python would
    # refuse to convert more than 4300 digits anyway).
    if len(text.lstrip("-")) > 309 or abs(value := int(text)) > MAX_NUMBER:
        raise _RangeError(
            f"an integer of {len(text.lstrip('-'))} digits does not fit a double (at most ±{MAX_NUMBER:g})"
        )
    return value


_decode_checked = json.JSONDecoder(parse_constant=_no_constant, parse_float=_float, parse_int=_int).decode
_decode = json.JSONDecoder(parse_constant=_no_constant).decode
_RISKY_NUMBER = re.compile(rb"\d{300}|[eE][+-]?0*[1-9]\d{2}")
"""Only a body with 300 digits in a row or a 3-digit exponent can hold a number out of a double's
range: it is decoded with the checking hooks, every other body with the C decoder alone."""

SURROGATE_NOTE = "lone UTF-16 surrogate(s) in the body read as U+FFFD (the body is journaled as read)"
_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(value: JSON) -> bool:
    """Whether a decoded JSON value holds a lone surrogate in a string or a key (a decoded pair is
    one code point, so any surrogate left is lone)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return True
        elif isinstance(node, dict):
            for key, child in node.items():
                if _SURROGATE.search(key):
                    return True
                stack.append(child)
        elif isinstance(node, list):
            stack.extend(node)
    return False


def without_lone_surrogates(value: JSON) -> JSON:
    """`value` with every lone surrogate replaced by U+FFFD (keys too)."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_SURROGATE.sub("\ufffd", k): without_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_lone_surrogates(v) for v in value]
    return value


def too_large(flavour: Flavour, limit: int, size: int, *, declared: bool = True) -> str:
    """The message for a body over `limit` (`size`: its length, or, not `declared`, where the
    read stopped)."""
    got = f"{size} bytes" if declared else f"more than {limit} bytes, no Content-Length"
    if limit == MAX_BATCH_BYTES:
        return f"batch request must be smaller than 500kb (got {got})"
    if limit == MAX_ENTITY_BYTES:
        return f"request must be smaller than 32kb (got {got})"
    return f"request body cannot be longer than {limit} bytes (got {got})"


def nested_too_deep(value: JSON, limit: int = MAX_DEPTH) -> str | None:
    """The path of the first container deeper than `limit` levels, or None."""
    if not isinstance(value, dict | list):
        return None
    stack: list[tuple[JSON, int, str]] = [(value, 1, "body")]
    while stack:
        node, depth, where = stack.pop()
        if depth > limit:
            return where
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            if isinstance(child, dict | list):
                stack.append(
                    (child, depth + 1, f"{where}.{key}" if isinstance(key, str) else f"{where}[{key}]")
                )
    return None


def json_type(value: JSON) -> str:
    """The JSON name of a value's type: object, array, string, number, boolean, null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# ---------------------------------------------------------------------- sizes and v1 checks


def byte_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def value_bytes(value: JSON) -> int:
    """A value's size as Customer.io counts it: a string's UTF-8 bytes, else its JSON text."""
    if isinstance(value, str):
        return byte_len(value)
    return compact_size(value)  # lone surrogates counted too


def path_identifier(text: str, flavour: Flavour = "v1") -> str:
    """A decoded path identifier: non-empty, at most 150 bytes."""
    if not text.strip():
        raise reject(flavour, "id attribute cannot be an empty string", field="identifier")
    if byte_len(text) > MAX_ID_BYTES:
        raise reject(flavour, f"identifier cannot be longer than {MAX_ID_BYTES} bytes", reason="too_long")
    return text


def check_attributes(attrs: dict[str, JSON], *, skip: frozenset[str] = frozenset()) -> None:
    """The documented v1 identify limits, with the documented messages."""
    counted = [name for name in attrs if name not in skip]
    if len(counted) > MAX_ATTRIBUTES:
        raise v1_error(f"cannot identify more than {MAX_ATTRIBUTES} attributes in one request")
    for name in counted:
        if byte_len(name) > MAX_ATTRIBUTE_NAME_BYTES:
            raise v1_error(f"attribute name cannot be longer than {MAX_ATTRIBUTE_NAME_BYTES} bytes")
        if value_bytes(attrs[name]) > MAX_ATTRIBUTE_VALUE_BYTES:
            raise v1_error(
                f"value for attribute '{name}' cannot be longer than {MAX_ATTRIBUTE_VALUE_BYTES} bytes"
            )


def attribute_problem(attrs: dict[str, JSON], where: str) -> V2Problem | None:
    """The v2 counterpart of `check_attributes`: the first limit an attributes object breaks."""
    if len(attrs) > MAX_ATTRIBUTES:
        return V2Problem(
            "too_many", where, f"cannot set more than {MAX_ATTRIBUTES} attributes in one request"
        )
    for name, value in attrs.items():
        if byte_len(name) > MAX_ATTRIBUTE_NAME_BYTES:
            return V2Problem(
                "too_long",
                f"{where}.{name}",
                f"attribute name cannot be longer than {MAX_ATTRIBUTE_NAME_BYTES} bytes",
            )
        if value_bytes(value) > MAX_ATTRIBUTE_VALUE_BYTES:
            return V2Problem(
                "too_long",
                f"{where}.{name}",
                f"value for attribute '{name}' cannot be longer than {MAX_ATTRIBUTE_VALUE_BYTES} bytes",
            )
    return None


def identifier_value(value: JSON, name: str) -> str | None:
    """An `id`/`email` given in a v1 body: a string (an integer id is read as its digits), or None
    for `null`. Raises with the documented message otherwise."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and name == "id":
        value = str(value)
    if not isinstance(value, str):
        raise v1_error(f"{name} attribute must be a string value")
    if byte_len(value) > MAX_ID_BYTES:
        raise v1_error(f"{name} attribute cannot be longer than {MAX_ID_BYTES} bytes")
    return value


def event_name(value: JSON, flavour: Flavour = "v1", field: str = "name") -> str:
    """A track call's `name`: a non-blank string of at most 100 bytes (documented messages)."""
    if not isinstance(value, str) or not value.strip():
        raise reject(flavour, "event name must not be blank", reason="required", field=field)
    if byte_len(value.strip()) > MAX_EVENT_NAME_BYTES:
        raise reject(
            flavour,
            f"event name cannot be longer than {MAX_EVENT_NAME_BYTES} bytes",
            reason="too_long",
            field=field,
        )
    return value


def event_data(value: JSON, flavour: Flavour = "v1", field: str = "data") -> dict[str, JSON] | None:
    """A track call's `data`: an object (null = absent) of at most 100000 bytes."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise reject(
            flavour, 'event data must be a hash (e.g., send "data":{} instead of "data":"")', field=field
        )
    if value_bytes(value) > MAX_EVENT_DATA_BYTES:
        raise reject(
            flavour,
            f"event data cannot be longer than {MAX_EVENT_DATA_BYTES} bytes",
            reason="too_long",
            field=field,
        )
    return value


def event_id(value: JSON, flavour: Flavour = "v1", field: str = "id") -> str | None:
    """An event's dedup `id`: a string (integers are read as their digits), or None."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise reject(flavour, "event id must be a non-empty string (a ULID)", field=field)
    if byte_len(value) > MAX_ID_BYTES:
        raise reject(
            flavour, f"event id cannot be longer than {MAX_ID_BYTES} bytes", reason="too_long", field=field
        )
    return value


def optional_string(body: dict[str, JSON], name: str, flavour: Flavour = "v1", where: str = "") -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise reject(flavour, f"{where}{name} must be a string", field=f"{where}{name}")
    return value


def required_string(body: dict[str, JSON], name: str, flavour: Flavour = "v1", where: str = "") -> str:
    value = optional_string(body, name, flavour, where)
    if not value:
        raise reject(flavour, f"{where}{name} must be present", reason="required", field=f"{where}{name}")
    if byte_len(value) > MAX_ID_BYTES:
        raise reject(
            flavour,
            f"{where}{name} cannot be longer than {MAX_ID_BYTES} bytes",
            reason="too_long",
            field=f"{where}{name}",
        )
    return value
