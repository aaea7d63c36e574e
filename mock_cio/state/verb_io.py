"""Values that cross from the HTTP layer into the state: identifiers, outcomes, the state's error.

The HTTP layer (mock_cio/app.py) validates shapes, builds an `Ident` or `ObjectIdent` from the path
or the v2 `identifiers`, calls one verb of `WorkspaceState` and journals the `Outcome` it returns.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

from mock_cio.errors import MockError, StateError  # noqa: F401  (defined in mock_cio.errors; importable here too)

JSON = Any
"""A JSON value as Python holds it: dict, list, str, int, float, bool or None."""

IdentKind = Literal["id", "email", "cio_id", "anonymous_id"]
IDENT_KINDS: Final = ("id", "email", "cio_id", "anonymous_id")

_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_SHAPE = _EMAIL_SHAPE
"""What `Ident.from_path` counts as an email (public name; `_EMAIL_SHAPE` is kept for existing callers)."""

# Unix seconds accepted as a root `timestamp`: 0 up to (not including) 10**11, the range the Ruby
# client enforces at its top; 13-digit millisecond values fall outside and count as "not Unix".
_MAX_UNIX = 100_000_000_000


@dataclass(frozen=True, slots=True)
class Ident:
    """How a request names a person: `Ident("id", "u1")`, `Ident("email", "A@x.io")`,
    `Ident("cio_id", "a3000001")` (un-prefixed), or `Ident("anonymous_id", "anon-1")`.

    `id` is case-sensitive, `email` case-insensitive (`key` folds it).
    """

    kind: IdentKind
    value: str

    def __post_init__(self) -> None:
        if self.kind not in IDENT_KINDS:
            raise StateError(f"identifier kind {self.kind!r} is not one of {', '.join(IDENT_KINDS)}")
        if not isinstance(self.value, str) or not self.value:
            raise StateError(f"identifier {self.kind} must be a non-empty string, got {self.value!r}")

    @property
    def key(self) -> tuple[str, str]:
        """The index key: email folded to lower case, other kinds as they are."""
        return (self.kind, self.value.lower() if self.kind == "email" else self.value)

    @classmethod
    def from_path(cls, text: str) -> Ident:
        """A v1 path identifier, typed from its shape: `cio_…` is a cio_id, `x@y.z` an email, else an id."""
        if text.startswith("cio_") and len(text) > 4:
            return cls("cio_id", text[4:])
        if _EMAIL_SHAPE.match(text):
            return cls("email", text)
        return cls("id", text)

    @classmethod
    def from_identifiers(cls, identifiers: JSON, where: str = "identifiers") -> Ident:
        """A v2 `identifiers` object or a merge side: exactly one of id, email, cio_id, anonymous_id."""
        if not isinstance(identifiers, dict) or len(identifiers) != 1:
            raise StateError(f"{where} must hold exactly one of {', '.join(IDENT_KINDS)}")
        ((kind, value),) = identifiers.items()
        if kind not in IDENT_KINDS:
            raise StateError(f"{where}.{kind} is not an identifier (use one of {', '.join(IDENT_KINDS)})")
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value:
            raise StateError(f"{where}.{kind} must be a non-empty string")
        return cls(cast(IdentKind, kind), value)

    def __str__(self) -> str:
        return f"cio_{self.value}" if self.kind == "cio_id" else f"{self.kind} {self.value!r}"


@dataclass(frozen=True, slots=True)
class ObjectIdent:
    """How a request names an object: by `(object_type_id, object_id)` (create or update) or by
    `cio_object_id` (update only)."""

    object_type_id: str | None = None
    object_id: str | None = None
    cio_object_id: str | None = None

    def __post_init__(self) -> None:
        by_pair = self.object_type_id is not None or self.object_id is not None
        if by_pair == (self.cio_object_id is not None):
            raise StateError("an object is named by object_type_id and object_id, or by cio_object_id")
        for name in ("object_type_id", "object_id") if by_pair else ("cio_object_id",):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise StateError(f"identifiers.{name} must be a non-empty string, got {value!r}")

    @classmethod
    def from_identifiers(cls, identifiers: JSON, where: str = "identifiers") -> ObjectIdent:
        """A v2 object `identifiers`: `{"object_type_id", "object_id"}` or `{"cio_object_id"}`."""
        if not isinstance(identifiers, dict):
            raise StateError(f"{where} must be an object")
        values = {
            k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in identifiers.items()
        }
        if set(values) == {"cio_object_id"}:
            return cls(cio_object_id=_non_empty(values, "cio_object_id", where))
        if set(values) == {"object_type_id", "object_id"}:
            return cls(
                object_type_id=_non_empty(values, "object_type_id", where),
                object_id=_non_empty(values, "object_id", where),
            )
        raise StateError(f"{where} must be {{object_type_id, object_id}} or {{cio_object_id}}")

    def __str__(self) -> str:
        if self.cio_object_id is not None:
            return f"object {self.cio_object_id}"
        return f"object {self.object_type_id}/{self.object_id}"


def _non_empty(values: dict[str, JSON], name: str, where: str) -> str:
    value = values[name]
    if not isinstance(value, str) or not value:
        raise StateError(f"{where}.{name} must be a non-empty string")
    return value


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one verb did: `notes` are the human reasons for drops and no-ops, `changes` the
    state changes for the inspector (vocabulary in mock_cio/state/__init__.py)."""

    notes: tuple[str, ...] = ()
    changes: tuple[dict[str, JSON], ...] = ()

    def __add__(self, other: Outcome) -> Outcome:
        return Outcome(self.notes + other.notes, self.changes + other.changes)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


class Recorder:
    """Collects one verb's notes and changes; `outcome()` freezes them."""

    __slots__ = ("notes", "changes")

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.changes: list[dict[str, JSON]] = []

    def note(self, text: str) -> None:
        self.notes.append(text)

    def change(self, kind: str, **fields: JSON) -> None:
        self.changes.append({"kind": kind, **fields})

    def outcome(self) -> Outcome:
        return Outcome(tuple(self.notes), tuple(self.changes))


def unix_seconds(value: JSON) -> int | None:
    """`value` as whole Unix seconds, or None when it is not Unix seconds (a string, a bool, NaN,
    negative, or a millisecond-sized number). Fractions are floored."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if not 0 <= value < _MAX_UNIX:
        return None
    return int(value)


def event_time(timestamp: JSON, now: float, rec: Recorder) -> int:
    """The Unix-seconds timestamp of an event or update: `timestamp` when it is Unix seconds, else
    the receipt time (docs/decisions.md §2.3), with a note when a given value was replaced."""
    received = int(now)
    if timestamp is None:
        return received
    seconds = unix_seconds(timestamp)
    if seconds is None:
        rec.note(f"timestamp {timestamp!r} is not Unix seconds: replaced with receipt time {received}")
        return received
    return seconds
