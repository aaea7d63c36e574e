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
    if b"null" in text:  # perhaps a NaN or an infinity orjson wrote as null
        return stdlib_compact(value)
    return text.decode()
