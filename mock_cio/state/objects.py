"""Objects (docs/track-api.md §4.3): records, lookups, and the attribute-update rule they share
with people, relationships and devices.

Where it sits: `WorkspaceState` (workspace.py) runs the object verbs; this module holds the objects.
An object is named by `(object_type_id, object_id)`, or by its `cio_object_id`, generated from a
per-workspace counter (`ob000001`, `ob000002`, …) so replays give the same ids. A relationship's
attributes live on the person (`Person.relationships[cio_object_id]`); the object keeps the set of
related people, and the attributes of relationships to anonymous ids not yet claimed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .verb_io import JSON, ObjectIdent, Recorder


def is_removal(value: JSON) -> bool:
    """`null` and `""` remove an attribute (objects, relationships, people, device attributes)."""
    return value is None or value == ""


def update_attributes(current: dict[str, JSON], updates: dict[str, JSON]) -> list[tuple[str, JSON, JSON]]:
    """Apply `updates` to `current` in place: set values, remove on `null`/`""`, keep omitted names.

    Returns `(name, old, new)` for each name that actually changed (`new` is None for a removal,
    `old` None for an addition)."""
    changed = []
    for name, value in updates.items():
        old = current.get(name)
        if is_removal(value):
            if name in current:
                del current[name]
                changed.append((name, old, None))
        elif name not in current or old != value or type(old) is not type(value):
            current[name] = value
            changed.append((name, old, value))
    return changed


def record_attribute_changes(
    rec: Recorder, changed: list[tuple[str, JSON, JSON]], prefix: str, owner: str, owner_id: str
) -> None:
    """Record `update_attributes`'s result as `<prefix>_set` {<owner>, name, old, new} and
    `<prefix>_removed` {<owner>, name, old} changes: `attribute_set` {person, …},
    `object_attribute_removed` {object, …}."""
    for name, old, new in changed:
        if new is None:
            rec.changes.append({"kind": prefix + "_removed", owner: owner_id, "name": name, "old": old})
        else:
            rec.changes.append(
                {"kind": prefix + "_set", owner: owner_id, "name": name, "old": old, "new": new}
            )


@dataclass(slots=True)
class CioObject:
    cio_object_id: str
    object_type_id: str
    object_id: str
    attributes: dict[str, JSON] = field(default_factory=dict)
    people: dict[str, None] = field(default_factory=dict)
    """cio_ids of related people, in the order they were related."""
    anonymous: dict[str, dict[str, JSON]] = field(default_factory=dict)
    """Relationships to anonymous ids nobody has claimed yet, with their attributes."""

    def __str__(self) -> str:
        return f"object {self.object_type_id}/{self.object_id} ({self.cio_object_id})"


class Objects:
    """Every object of one workspace, by `(object_type_id, object_id)` and by `cio_object_id`."""

    __slots__ = ("_by_cio", "_by_key", "_by_anonymous_id", "_count")

    def __init__(self) -> None:
        self._by_cio: dict[str, CioObject] = {}
        self._by_key: dict[tuple[str, str], CioObject] = {}
        self._by_anonymous_id: dict[str, dict[str, None]] = {}
        self._count = 0

    def find(self, ident: ObjectIdent) -> CioObject | None:
        if ident.cio_object_id is not None:
            return self._by_cio.get(ident.cio_object_id)
        return self._by_key.get((ident.object_type_id, ident.object_id))  # type: ignore[arg-type]

    def by_cio_object_id(self, cio_object_id: str) -> CioObject | None:
        return self._by_cio.get(cio_object_id)

    def create(self, object_type_id: str, object_id: str) -> CioObject:
        self._count += 1
        obj = CioObject(f"ob{self._count:06x}", object_type_id, object_id)
        self._by_cio[obj.cio_object_id] = obj
        self._by_key[(object_type_id, object_id)] = obj
        return obj

    def remove(self, obj: CioObject) -> None:
        for anonymous_id in obj.anonymous:
            self._unindex_anonymous(anonymous_id, obj.cio_object_id)
        del self._by_cio[obj.cio_object_id]
        del self._by_key[(obj.object_type_id, obj.object_id)]

    def relate_anonymous(self, obj: CioObject, anonymous_id: str, attributes: dict[str, JSON]) -> None:
        obj.anonymous[anonymous_id] = attributes
        self._by_anonymous_id.setdefault(anonymous_id, {})[obj.cio_object_id] = None

    def unrelate_anonymous(self, obj: CioObject, anonymous_id: str) -> bool:
        if anonymous_id not in obj.anonymous:
            return False
        del obj.anonymous[anonymous_id]
        self._unindex_anonymous(anonymous_id, obj.cio_object_id)
        return True

    def take_anonymous(self, anonymous_id: str) -> list[tuple[CioObject, dict[str, JSON]]]:
        """Remove and return the relationships of every object to `anonymous_id` (a claim carries them over)."""
        taken = []
        for cio_object_id in self._by_anonymous_id.pop(anonymous_id, {}):
            obj = self._by_cio[cio_object_id]
            taken.append((obj, obj.anonymous.pop(anonymous_id)))
        return taken

    def _unindex_anonymous(self, anonymous_id: str, cio_object_id: str) -> None:
        index = self._by_anonymous_id.get(anonymous_id)
        if index is not None:
            index.pop(cio_object_id, None)
            if not index:
                del self._by_anonymous_id[anonymous_id]

    def __iter__(self) -> Iterator[CioObject]:
        """Objects in creation order."""
        return iter(list(self._by_cio.values()))

    def __len__(self) -> int:
        return len(self._by_cio)

    @property
    def created(self) -> int:
        return self._count
