"""mapping-kit's `get`: reading a value out of an event by a dotted path (docs/destination.md §10.2).

Used by the mapping stage (`@path`, `@arrayPath`, `@template`): event → **path lookup** → payload.

The lookup reproduces actions-core's `get(obj, path)`:

* `""` and `"."` are the root itself.
* The path is split on `.`, on `[` followed by a quote or an ASCII digit, and on runs of `]`
  preceded by a quote or a digit. Empty pieces are dropped, then every `'` and `"` is removed from
  each piece (so `a['b']` and `a["b"]` are `a.b`, while `a[b]` is the single key `a[b]`).
* Traversal is `acc && acc[key]`: a falsy intermediate value (None, MISSING, 0, 0.0, NaN, "",
  False) is returned as it is, so `a.b` with `a = 0` gives `0`, not MISSING.

Property access follows JavaScript for JSON values: objects give their own keys; arrays give
canonical indexes (`"0"`, `"12"`, not `"01"` or `"-1"`) and `length`; strings give `length` and
indexes, both counted in UTF-16 code units as JavaScript does. Not emulated, because no JSON value
holds them: inherited properties (`constructor`, `__proto__`, `toString`, array and string methods)
and properties of numbers and booleans; they are all MISSING here.

Callers strip `$.` themselves: `@path` and `@arrayPath` remove only its first occurrence, wherever
it is (`str.replace("$.", "", 1)`, as JS `replace('$.', '')`); `@template` does not strip it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from sandbox.js.strings import utf16_length, utf16_slice
from sandbox.js.values import JSON, MISSING, is_truthy

_SPLIT: Final = re.compile(r"""\[(?=["'0-9])|\.|(?<=["'0-9])\]+""")
_INDEX: Final = re.compile(r"0|[1-9][0-9]*")


@lru_cache(maxsize=4096)
def split_path(path: str) -> tuple[str, ...]:
    """The keys of a (non-root) path, as `get` walks them: `a.b[0]['c']` → `("a", "b", "0", "c")`."""
    return tuple(piece.replace("'", "").replace('"', "") for piece in _SPLIT.split(path) if piece)


def is_root(path: str) -> bool:
    """True for the two paths that name the root: `""` and `"."`."""
    return path == "" or path == "."


def get(data: JSON, path: str) -> JSON:
    """The value at `path` in `data`, MISSING when absent, or the first falsy value on the way."""
    if is_root(path):
        return data
    return get_keys(data, split_path(path))


def get_keys(data: JSON, keys: tuple[str, ...]) -> JSON:
    """Walk already split `keys` (see `split_path`) from `data` with the `acc && acc[key]` rule."""
    acc = data
    for key in keys:
        if type(acc) is dict:
            acc = acc.get(key, MISSING)
        else:
            if not is_truthy(acc):
                return acc
            acc = _property(acc, key)
    return acc


def _property(value: JSON, key: str) -> JSON:
    """`value[key]` for a truthy non-dict value."""
    if isinstance(value, dict):
        return value.get(key, MISSING)
    if isinstance(value, list):
        length = len(value)
    elif isinstance(value, str):
        length = utf16_length(value)  # JavaScript strings count (and index) UTF-16 units
    else:
        return MISSING
    if key == "length":
        return length
    if _INDEX.fullmatch(key):
        index = int(key)
        if index < length:
            return value[index] if isinstance(value, list) else utf16_slice(value, index, index + 1)
    return MISSING
