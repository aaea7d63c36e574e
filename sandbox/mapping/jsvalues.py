"""JavaScript value semantics that mapping-kit's directives depend on, for JSON values in Python.

Part of the mapping stage: `@template` and `@replace` convert values with `String(v)`, `@json`
encodes with `JSON.stringify`, errors name types with actions-core's `realTypeOf`, and `@if blank`
uses the loose comparison `v != ''`. MISSING plays `undefined`; Python ints play JS numbers
(doubles): beyond 2**53 they are rounded as V8 would round them.
"""

from __future__ import annotations

import json
import math
import re
from typing import Final

from sandbox.js import json as js_json
from sandbox.js.numbers import number_to_string
from sandbox.js.values import JSON, MISSING, real_type_of  # noqa: F401  (real_type_of: its old home)


def to_string(value: JSON) -> str:
    """JavaScript `String(value)` for JSON values; arrays join with "," (null/undefined → "")."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return number_to_string(value)
    if value is None:
        return "null"
    if value is MISSING:
        return "undefined"
    if isinstance(value, list):
        return ",".join("" if item is None or item is MISSING else to_string(item) for item in value)
    return "[object Object]"


def loosely_equals_empty_string(value: JSON) -> bool:
    """JavaScript `value == ''` for a value that is neither null nor undefined."""
    if isinstance(value, str):
        return value == ""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value == 0
    if isinstance(value, list):
        return to_string(value) == ""
    return False


_LONE_SURROGATE: Final = re.compile(r"[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]")


def _quote(text: str) -> str:
    """A JSON string literal as JSON.stringify writes it: only `"`, `\\`, controls and lone surrogates escaped."""
    quoted = json.dumps(text, ensure_ascii=False)
    if _LONE_SURROGATE.search(quoted):
        quoted = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)
    return quoted


def json_stringify(value: JSON) -> str | object:
    """`JSON.stringify(value)`, compact; MISSING (undefined) at the top gives MISSING back.

    Object keys holding undefined are skipped, undefined array items become `null`, and NaN and
    the infinities become `null`, as in JavaScript. Key order is the dict's (JavaScript would put
    integer-like keys first; not emulated).
    """
    if value is MISSING:
        return MISSING
    parts: list[str] = []
    _encode(value, parts)
    return "".join(parts)


def _encode(value: JSON, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_quote(value))
    elif value is None or value is MISSING:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, (int, float)):
        out.append(number_to_string(value) if math.isfinite(value) else "null")
    elif isinstance(value, list):
        out.append("[")
        for position, item in enumerate(value):
            if position:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key, item in value.items():
            if item is MISSING:
                continue
            if not first:
                out.append(",")
            first = False
            out.append(_quote(str(key)))
            out.append(":")
            _encode(item, out)
        out.append("}")
    else:
        out.append("null")


json_parse = js_json.loads
"""`JSON.parse(text)` (the one decoder, sandbox.js.json): JavaScript's numbers; ValueError for what
JavaScript rejects (NaN, Infinity, ...)."""
