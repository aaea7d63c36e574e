"""Objects and relationships: object identify and delete, and the links between people and objects.

Where it sits: the object verbs of `WorkspaceState` (v2 object identify, identify_anonymous, delete,
add/delete_relationships) and the person relationship verbs (v2 person add/delete_relationships,
`cio_relationships` on identify). The records are objects.py's; a relationship's attributes live on
the person, the object keeps who is related to it, and relationships to anonymous ids nobody has
claimed yet wait on the object until a claim (activity.py) carries them over.
"""

from __future__ import annotations

from collections.abc import Sequence

from .objects import CioObject, record_attribute_changes, update_attributes
from .people import Person
from .verb_io import JSON, Ident, ObjectIdent, Outcome, Recorder, StateError
from .workspace_data import WorkspaceBase

_RELATIONSHIP_ACTIONS = ("add_relationships", "delete_relationships")


class RelationshipVerbs(WorkspaceBase):
    """Object verbs and the relationship primitives (`_relate`, `_unrelate`) that claims and merges use."""

    def add_relationships(self, ident: Ident, relationships: JSON, now: float) -> Outcome:
        """Relate a person to objects (v2 person add_relationships); creates a missing person."""
        return self._person_verb(ident, relationships, now, "add_relationships")

    def delete_relationships(self, ident: Ident, relationships: JSON, now: float) -> Outcome:
        return self._person_verb(ident, relationships, now, "delete_relationships")

    def identify_object(
        self,
        obj: ObjectIdent,
        now: float,
        *,
        attributes: dict[str, JSON] | None = None,
        relationships: JSON = (),
        anonymous: bool = False,
    ) -> Outcome:
        """Create or update an object (v2 object identify / identify_anonymous) and relate people.

        With `anonymous=True` the relationships name anonymous ids (`{"anonymous_id": …}`)."""
        rec = self._begin(now)
        if attributes is not None and not isinstance(attributes, dict):
            raise StateError("attributes must be an object")
        _, items = relationship_items(relationships)
        target = self._object_for(obj, rec, create=True)
        if target is None:
            return rec.outcome()
        changed = update_attributes(target.attributes, attributes or {})
        record_attribute_changes(rec, changed, "object_attribute", "object", target.cio_object_id)
        self._object_relationships(target, "add_relationships", items, rec, anonymous=anonymous)
        return rec.outcome()

    def delete_object(self, obj: ObjectIdent, now: float) -> Outcome:
        """Delete an object and every relationship it has."""
        rec = self._begin(now)
        target = self._object_for(obj, rec, create=False)
        if target is None:
            return rec.outcome()
        for cio_id in target.people:
            person = self.people.by_cio_id(cio_id)
            if person is not None:
                person.relationships.pop(target.cio_object_id, None)
        self.objects.remove(target)
        rec.change(
            "object_deleted",
            object=target.cio_object_id,
            object_type_id=target.object_type_id,
            object_id=target.object_id,
            relationships=len(target.people) + len(target.anonymous),
        )
        return rec.outcome()

    def add_object_relationships(self, obj: ObjectIdent, people: JSON, now: float) -> Outcome:
        return self._object_verb(obj, people, now, "add_relationships")

    def delete_object_relationships(self, obj: ObjectIdent, people: JSON, now: float) -> Outcome:
        return self._object_verb(obj, people, now, "delete_relationships")

    def _person_verb(self, ident: Ident, relationships: JSON, now: float, action: str) -> Outcome:
        """A person's add/delete_relationships: adding creates a missing person, deleting does not."""
        rec = self._begin(now)
        _, items = relationship_items(relationships)
        if action == "add_relationships":
            person = self._person_for(ident, rec, create=True)
        else:
            person = self._existing(ident, rec, "no relationship removed")
        if person is not None:
            self._person_relationships(person, action, items, rec)
        return rec.outcome()

    def _object_verb(self, obj: ObjectIdent, people: JSON, now: float, action: str) -> Outcome:
        """An object's add/delete_relationships: adding creates a missing object, deleting does not."""
        rec = self._begin(now)
        _, items = relationship_items(people)
        target = self._object_for(obj, rec, create=action == "add_relationships")
        if target is not None:
            self._object_relationships(target, action, items, rec, anonymous=False)
        return rec.outcome()

    def _object_for(self, obj: ObjectIdent, rec: Recorder, *, create: bool) -> CioObject | None:
        found = self.objects.find(obj)
        if found is not None:
            return found
        if not create or obj.cio_object_id is not None:
            rec.note(f"no {obj}: {'dropped' if create else 'nothing done'}")
            return None
        created = self.objects.create(obj.object_type_id, obj.object_id)  # type: ignore[arg-type]
        rec.change(
            "object_created",
            object=created.cio_object_id,
            object_type_id=created.object_type_id,
            object_id=created.object_id,
        )
        return created

    def _person_relationships(
        self, person: Person, action: str, items: Sequence[dict[str, JSON]], rec: Recorder
    ) -> None:
        for index, item in enumerate(items):
            where = f"cio_relationships[{index}]"
            ident = ObjectIdent.from_identifiers(item.get("identifiers"), f"{where}.identifiers")
            attrs = _relationship_attributes(item, where)
            obj = self._object_for(ident, rec, create=action == "add_relationships")
            if obj is None:
                continue
            if action == "add_relationships":
                self._relate(person, obj, attrs, rec)
            else:
                self._unrelate(person, obj, rec)

    def _object_relationships(
        self, obj: CioObject, action: str, items: Sequence[dict[str, JSON]], rec: Recorder, *, anonymous: bool
    ) -> None:
        for index, item in enumerate(items):
            where = f"cio_relationships[{index}]"
            ident = Ident.from_identifiers(item.get("identifiers"), f"{where}.identifiers")
            if anonymous and ident.kind != "anonymous_id":
                raise StateError(f"{where}.identifiers must be {{anonymous_id}} for identify_anonymous")
            attrs = _relationship_attributes(item, where)
            if ident.kind == "anonymous_id":
                self._object_anonymous_relationship(obj, action, ident.value, attrs, rec)
                continue
            if action == "add_relationships":
                person = self._person_for(ident, rec, create=True)
                if person is not None:
                    self._relate(person, obj, attrs, rec)
            else:
                person = self._existing(ident, rec, "no relationship removed")
                if person is not None:
                    self._unrelate(person, obj, rec)

    def _object_anonymous_relationship(
        self, obj: CioObject, action: str, anonymous_id: str, attrs: dict[str, JSON], rec: Recorder
    ) -> None:
        claim = self.claims.get(anonymous_id)
        claimer = self.people.by_cio_id(claim[0]) if claim is not None else None
        if action == "delete_relationships":
            if self.objects.unrelate_anonymous(obj, anonymous_id):
                rec.change(
                    "anonymous_relationship_removed", object=obj.cio_object_id, anonymous_id=anonymous_id
                )
            elif claimer is not None:
                self._unrelate(claimer, obj, rec)
            else:
                rec.note(f"{obj} has no relationship to anonymous_id {anonymous_id!r}: nothing removed")
            return
        if claimer is not None and self.settings.anonymous_merge:
            rec.note(f"anonymous_id {anonymous_id!r} is claimed by {claimer}: related to that person")
            self._relate(claimer, obj, attrs, rec)
            return
        current = obj.anonymous.get(anonymous_id)
        attributes, how = _upsert(current, attrs)
        if how is None:
            return
        if current is None:
            self.objects.relate_anonymous(obj, anonymous_id, attributes)
        rec.change(
            f"anonymous_relationship_{how}",
            object=obj.cio_object_id,
            anonymous_id=anonymous_id,
            attributes=dict(attributes),
        )

    def _relate(
        self,
        person: Person,
        obj: CioObject,
        attrs: dict[str, JSON],
        rec: Recorder,
        from_anonymous_id: str | None = None,
    ) -> None:
        current = person.relationships.get(obj.cio_object_id)
        attributes, how = _upsert(current, attrs)
        if how is None:
            return
        if current is None:
            person.relationships[obj.cio_object_id] = attributes
            obj.people[person.cio_id] = None
        extra = {} if from_anonymous_id is None else {"from_anonymous_id": from_anonymous_id}
        rec.change(
            f"relationship_{how}",
            person=person.cio_id,
            object=obj.cio_object_id,
            attributes=dict(attributes),
            **extra,
        )

    def _unrelate(self, person: Person, obj: CioObject, rec: Recorder) -> None:
        if person.relationships.pop(obj.cio_object_id, None) is None:
            rec.note(f"{person} is not related to {obj}: nothing removed")
            return
        obj.people.pop(person.cio_id, None)
        rec.change("relationship_removed", person=person.cio_id, object=obj.cio_object_id)


def _upsert(current: dict[str, JSON] | None, attrs: dict[str, JSON]) -> tuple[dict[str, JSON], str | None]:
    """A relationship's attributes after `attrs` apply to `current` (None: a new relationship), and
    what happened: "added", "updated", or None when nothing changed."""
    if current is None:
        fresh: dict[str, JSON] = {}
        update_attributes(fresh, attrs)
        return fresh, "added"
    return current, "updated" if update_attributes(current, attrs) else None


def relationship_items(relationships: JSON) -> tuple[str, list[dict[str, JSON]]]:
    """(action, items) from a v2 `cio_relationships` array or the v1 object {"action", "relationships"}."""
    if relationships is None:
        return "add_relationships", []
    action = "add_relationships"
    items = relationships
    if isinstance(relationships, dict):
        action = relationships.get("action", "add_relationships")
        if action not in _RELATIONSHIP_ACTIONS:
            raise StateError(f"cio_relationships.action must be one of {', '.join(_RELATIONSHIP_ACTIONS)}")
        items = relationships.get("relationships", [])
    if not isinstance(items, list | tuple):
        raise StateError("cio_relationships must be a list of relationships")
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("identifiers"), dict):
            raise StateError(f"cio_relationships[{index}] must be an object with identifiers")
    return action, list(items)


def _relationship_attributes(item: dict[str, JSON], where: str) -> dict[str, JSON]:
    attrs = item.get("relationship_attributes")
    if attrs is None:
        return {}
    if not isinstance(attrs, dict):
        raise StateError(f"{where}.relationship_attributes must be an object")
    return attrs
