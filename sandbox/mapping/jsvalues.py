"""JavaScript value semantics that mapping-kit's directives depend on, for JSON values in Python.

Part of the mapping stage: `@template` and `@replace` convert values with `String(v)`, `@json`
encodes with `JSON.stringify`, errors name types with actions-core's `realTypeOf`, and `@if blank`
uses the loose comparison `v != ''`. MISSING plays `undefined`; Python ints play JS numbers
(doubles): beyond 2**53 they are rounded as V8 would round them.
"""

from __future__ import annotations

from sandbox.js import json as js_json
from sandbox.js.json import stringify
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


def json_stringify(value: JSON) -> str | object:
    """`JSON.stringify(value)`, compact; MISSING (undefined) at the top gives MISSING back.

    Object keys holding undefined are skipped, undefined array items become `null`, and NaN and
    the infinities become `null`, as in JavaScript; keys in JavaScript's property order and numbers
    as Node writes them (sandbox.js.json.stringify).
    """
    text = stringify(value, undefined=MISSING)
    return MISSING if text is None else text


json_parse = js_json.loads
"""`JSON.parse(text)` (the one decoder, sandbox.js.json): JavaScript's numbers; ValueError for what
JavaScript rejects (NaN, Infinity, ...)."""
