"""`compact`: the mock's JSON text of a value (compact separators, non-ASCII as is), at C speed.

The journal writes every request's headers, notes and state changes as JSON text, and with
segments and campaigns defined the changes are most of what it writes (bench/segments.py). The
text was `json`'s compact encoder's; orjson (https://github.com/ijl/orjson) writes the same values
about twice as fast. The two texts decode to the same values; they differ only in how some floats
are spelled (orjson `1e16`, `1e-7`; json `1e+16`, `1e-07`).

What orjson would refuse or write differently takes `json`'s path, so nothing is lost or changed:
integers past 64 bits, keys that are not strings and lone surrogates (orjson raises), NaN and the
infinities (orjson writes them as `null`, json as `NaN` / `Infinity`, which `json.loads` reads
back: any text holding `null` is written again by `json`), and subclasses, dataclasses and
datetimes (passed through, so `json` raises for them as it did).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

stdlib_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
"""json's compact text (the spelling of its floats too): what `compact` equals in value."""
_dumps = orjson.dumps
_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def compact(value: Any) -> str:
    """`value` as compact JSON text, equal in value to `json.dumps(value, ensure_ascii=False,
    separators=(",", ":"))` (which writes it where orjson cannot)."""
    try:
        text = _dumps(value, option=_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return stdlib_compact(value)
    if b"null" in text and _holds_non_finite(value):  # orjson wrote a NaN or an infinity as null
        return stdlib_compact(value)
    return text.decode()


def _holds_non_finite(value: Any) -> bool:
    """Whether a float in `value` (through dicts, lists and tuples, as orjson writes them) is NaN
    or an infinity: what orjson writes as `null`, where a None also writes `null` (a journal
    entry's changes hold many: an attribute set for the first time was null)."""
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        node = pop()
        cls = type(node)
        if cls is float:
            if node - node != 0.0:  # NaN or an infinity: x - x is NaN for them, 0.0 for every other
                return True
        elif cls is dict:
            extend(node.values())
        elif cls is list or cls is tuple:
            extend(node)
    return False
