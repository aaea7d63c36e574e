"""People: the person record, their events and devices, and the identifier indexes.

Where it sits: `WorkspaceState` (workspace.py) decides what a request does; this module only holds
people and finds them. Identifiers: `id` is case-sensitive, `email` case-insensitive (indexed in
lower case, shown as last sent), `cio_id` generated from a per-workspace counter, so replaying the
same requests yields the same ids (`a3000001`, `a3000002`, … as in Customer.io's examples).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .verb_io import JSON, Ident

_CIO_ID_BASE = 0xA3000000


@dataclass(frozen=True, slots=True)
class PersonEvent:
    """One event in a person's activity (event, page, screen, or another action such as viewed_content)."""

    id: str | None
    name: str
    type: str
    timestamp: int
    received_at: float
    data: JSON
    merged_from_anonymous: bool
    can_trigger: bool


@dataclass(slots=True)
class Device:
    token: str
    platform: str | None
    last_used: int
    attributes: dict[str, JSON]


@dataclass(slots=True)
class Person:
    """A person. `attribute_times[name]` is the time of the last applied update of that attribute
    (its `timestamp`, or the receipt time when none was sent), used to drop out-of-order updates.
    `relationships` maps a cio_object_id to the relationship attributes; `segments` holds the ids of
    the manual segments the person is in."""

    cio_id: str
    id: str | None = None
    email: str | None = None
    attributes: dict[str, JSON] = field(default_factory=dict)
    attribute_times: dict[str, float] = field(default_factory=dict)
    events: list[PersonEvent] = field(default_factory=list)
    devices: dict[str, Device] = field(default_factory=dict)
    relationships: dict[str, dict[str, JSON]] = field(default_factory=dict)
    anonymous_ids: set[str] = field(default_factory=set)
    segments: set[int] = field(default_factory=set)
    """The manual segments the person was added to by API (segments.py)."""

    @property
    def identifiers(self) -> dict[str, str | None]:
        return {"id": self.id, "email": self.email, "cio_id": self.cio_id}

    def blocking_keys(self) -> list[tuple[str, str]]:
        """The identifier keys a suppression blocks: the id and the (folded) email that are set."""
        keys = []
        if self.id is not None:
            keys.append(("id", self.id))
        if self.email is not None:
            keys.append(("email", self.email.lower()))
        return keys

    def __str__(self) -> str:
        return f"person cio_{self.cio_id}"


class People:
    """Every person of one workspace, with O(1) lookups by id, email and cio_id."""

    __slots__ = ("_by_cio", "_by_id", "_by_email", "_count")

    def __init__(self) -> None:
        self._by_cio: dict[str, Person] = {}
        self._by_id: dict[str, Person] = {}
        self._by_email: dict[str, Person] = {}
        self._count = 0

    def find(self, ident: Ident) -> Person | None:
        if ident.kind == "id":
            return self._by_id.get(ident.value)
        if ident.kind == "email":
            return self._by_email.get(ident.value.lower())
        if ident.kind == "cio_id":
            return self._by_cio.get(ident.value)
        return None

    def by_id(self, value: str) -> Person | None:
        return self._by_id.get(value)

    def by_email(self, value: str) -> Person | None:
        return self._by_email.get(value.lower())

    def by_cio_id(self, value: str) -> Person | None:
        return self._by_cio.get(value)

    def create(self) -> Person:
        self._count += 1
        person = Person(cio_id=f"{_CIO_ID_BASE + self._count:08x}")
        self._by_cio[person.cio_id] = person
        return person

    def set_id(self, person: Person, value: str | None) -> None:
        if person.id is not None:
            del self._by_id[person.id]
        person.id = value
        if value is not None:
            self._by_id[value] = person

    def set_email(self, person: Person, value: str | None) -> None:
        if person.email is not None:
            del self._by_email[person.email.lower()]
        person.email = value
        if value is not None:
            self._by_email[value.lower()] = person

    def set_identifier(self, person: Person, kind: str, value: str | None) -> None:
        """`set_id` or `set_email`, by `kind` ("id" or "email")."""
        (self.set_id if kind == "id" else self.set_email)(person, value)

    def remove(self, person: Person) -> None:
        self.set_id(person, None)
        self.set_email(person, None)
        del self._by_cio[person.cio_id]

    def __iter__(self) -> Iterator[Person]:
        """People in creation order."""
        return iter(list(self._by_cio.values()))

    def __len__(self) -> int:
        return len(self._by_cio)

    @property
    def created(self) -> int:
        """How many people were ever created (the cio_id counter)."""
        return self._count
