"""JavaScript's strings: its whitespace and its UTF-16 code units.

`WHITESPACE` is what the ECMAScript spec calls WhiteSpace and LineTerminator: the characters
`String.prototype.trim` removes, `Number(string)` skips around a number and a regex `\\s` matches.
A JavaScript string is a sequence of UTF-16 code units, so `length`, indexes and slices count an
astral character (an emoji) as two; Python counts code points, hence the helpers below.
"""

from __future__ import annotations

import re
from typing import Final

LINE_TERMINATORS: Final = "\n\r\u2028\u2029"
WHITESPACE: Final = (
    "\t\v\f \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u3000\ufeff" + LINE_TERMINATORS
)
"""JavaScript WhiteSpace and LineTerminator code points: what `trim()` strips and `\\s` matches."""

WHITESPACE_CLASS: Final = re.escape(WHITESPACE)
"""WHITESPACE for the inside of a regex character class: `f"[{WHITESPACE_CLASS}]"` is JavaScript's `\\s`."""


def trim(text: str) -> str:
    """`text.trim()`."""
    return text.strip(WHITESPACE)


def utf16(text: str) -> bytes:
    """The UTF-16 code units of `text` (little-endian, two bytes each; lone surrogates kept)."""
    return text.encode("utf-16-le", "surrogatepass")


def utf16_length(text: str) -> int:
    """`text.length`: UTF-16 code units (an emoji counts 2)."""
    return len(text) if text.isascii() else len(utf16(text)) // 2


def utf16_slice(text: str, start: int, end: int) -> str:
    """The units from `start` to `end` (already clamped to 0 ≤ start ≤ end ≤ length), as `substring` does."""
    if text.isascii():
        return text[start:end]
    return utf16(text)[2 * start : 2 * end].decode("utf-16-le", "surrogatepass")


def utf16_units(text: str) -> list[str]:
    """Each UTF-16 code unit as a one-unit string (half of a surrogate pair stands alone)."""
    if text.isascii():
        return list(text)
    raw = utf16(text)
    return [raw[i : i + 2].decode("utf-16-le", "surrogatepass") for i in range(0, len(raw), 2)]
