"""Identify: which person a request names, which identifiers may change, how attributes apply.

Where it sits: the `identify` verb of `WorkspaceState` (v1 `PUT /customers/{id}`, v2 person
identify, forms). It resolves the target person from the path and body identifiers, changes their
identifiers under Customer.io's rules, applies attributes in time order, then hands the request's
`cio_relationships` to relationships.py and its `anonymous_id` claim to activity.py. The rules are
in the package docstring (mock_cio/state/__init__.py, "How the mock decides").
"""

from __future__ import annotations

from typing import Any, cast

from .activity import ActivityVerbs
from .objects import is_removal, record_attribute_changes, update_attributes
from .people import Person
from .relationships import relationship_items
from .verb_io import JSON, Ident, IdentKind, Outcome, Recorder, StateError, event_time


class _Missing:
    """An `id`/`email` attribute that is absent, or an identify that must not be applied."""

    def __repr__(self) -> str:
        return "<MISSING>"


_MISSING: Any = _Missing()


class IdentifyVerbs(ActivityVerbs):
    """`identify`, on top of the activity verbs (its `anonymous_id` claim) and the relationship verbs."""

    def identify(
        self,
        ident: Ident,
        attributes: dict[str, JSON] | None,
        now: float,
        *,
        timestamp: JSON = None,
        update_only: bool = False,
        relationships: JSON = (),
        anonymous_id: str | None = None,
    ) -> Outcome:
        """Create or update a person (v1 identify, v2 person identify).

        `attributes` may be the raw v1 body: `_update`, `_timestamp` and `cio_relationships` in it
        are read as the keywords would be. `relationships` is a v2 `cio_relationships` array or the
        v1 object `{"action", "relationships"}`. `anonymous_id` defaults to `attributes.anonymous_id`.
        """
        rec = self._begin(now)
        if ident.kind == "anonymous_id":
            raise StateError("identify needs an id, email or cio_id: an anonymous_id names no person")
        if attributes is not None and not isinstance(attributes, dict):
            raise StateError("attributes must be an object")
        attrs = dict(attributes or {})
        if attrs.pop("_update", None) is True:
            update_only = True
        raw_time = attrs.pop("_timestamp", None)
        if timestamp is None:
            timestamp = raw_time
        body_relationships = attrs.pop("cio_relationships", None)
        if not relationships and body_relationships is not None:
            relationships = body_relationships
        action, items = relationship_items(relationships)
        if "cio_id" in attrs:
            attrs.pop("cio_id")
            rec.note("attributes.cio_id is set by Customer.io and cannot be changed: ignored")
        wanted: dict[str, str | None] = {}
        if ident.kind in ("id", "email"):
            wanted[ident.kind] = ident.value
        for kind in ("id", "email"):
            value = _identifier_attribute(attrs.pop(kind, _MISSING), kind)
            if value is _MISSING:
                continue
            if kind in wanted and not _same(kind, wanted[kind], value):
                rec.note(
                    f"attributes.{kind} {value!r} differs from the path's {kind} {wanted[kind]!r}: nothing applied "
                    f"(to change an identifier, address the person as cio_<cio_id>)"
                )
                return rec.outcome()
            if kind not in wanted:
                wanted[kind] = value
        if anonymous_id is None and isinstance(attrs.get("anonymous_id"), str) and attrs["anonymous_id"]:
            anonymous_id = attrs["anonymous_id"]
        update_time = event_time(timestamp, now, rec)

        blocked = self._blocked_among(
            [ident, *(Ident(cast(IdentKind, k), v) for k, v in wanted.items() if v)]
        )
        if blocked is not None:
            rec.note(f"{blocked} is suppressed: ignored")
            return rec.outcome()

        target, matched_by = self._identify_target(ident, wanted, rec)
        if target is _MISSING:
            return rec.outcome()
        if target is None:
            if update_only:
                rec.note(f"no person matches {ident} and _update is true: nothing created")
                return rec.outcome()
            target = self._create_person(rec, id=wanted.get("id"), email=wanted.get("email"))
        elif not self._change_identifiers(target, wanted, matched_by, rec):
            return rec.outcome()
        self._apply_attributes(target, attrs, update_time, rec)
        if items:
            self._person_relationships(target, action, items, rec)
        if anonymous_id is not None:
            self._claim(target, anonymous_id, now, rec)
        return rec.outcome()

    def _identify_target(self, ident: Ident, wanted: dict[str, str | None], rec: Recorder) -> tuple[Any, str]:
        """(person to update or None to create, how they were matched: "cio_id", "path:id",
        "path:email", "body:id", "body:email");
        `_MISSING` when the identify must not be applied (noted)."""
        path_person = self.people.find(ident)
        if ident.kind == "cio_id" and path_person is None:
            rec.note(f"no person matches {ident}: dropped")
            return _MISSING, ""
        body: list[tuple[str, str, Person]] = []
        for kind in ("id", "email"):
            value = wanted.get(kind)
            if value is None or kind == ident.kind:
                continue
            found = self.people.by_id(value) if kind == "id" else self.people.by_email(value)
            if found is not None:
                body.append((kind, value, found))
        if path_person is not None:
            for kind, value, found in body:
                if found is not path_person:
                    rec.note(
                        f"attributes.{kind} {value!r} belongs to {found}, not to {path_person} ({ident}): "
                        f"Attribute Update Failure, nothing applied"
                    )
                    return _MISSING, ""
            return path_person, "cio_id" if ident.kind == "cio_id" else f"path:{ident.kind}"
        if len({id(found) for _, _, found in body}) > 1:
            (k1, v1, p1), (k2, v2, p2) = body
            rec.note(
                f"{k1} {v1!r} is {p1} but {k2} {v2!r} is {p2}: Attribute Update Failure, nothing applied"
            )
            return _MISSING, ""
        if body:
            return body[0][2], f"body:{body[0][0]}"
        return None, ""

    def _change_identifiers(
        self, person: Person, wanted: dict[str, str | None], matched_by: str, rec: Recorder
    ) -> bool:
        """Give `person` the wanted identifiers, or change nothing and return False (noted)."""
        plan: list[tuple[str, str | None]] = []
        for kind, value in wanted.items():
            current = getattr(person, kind)
            if value is not None and current is not None and _same(kind, current, value):
                continue
            if value is None:
                if current is None:
                    continue
                if matched_by != "cio_id":
                    rec.note(
                        f"attributes.{kind} is empty: an identifier is removed only when the person is "
                        f"addressed as cio_{person.cio_id}; kept"
                    )
                    continue
            elif current is not None and not self._may_change(kind, matched_by):
                rec.note(
                    f"{person} has {kind} {current!r}; changing it to {value!r} needs the person addressed as "
                    f"cio_{person.cio_id}: Attribute Update Failure, nothing applied"
                )
                return False
            plan.append((kind, value))
        for kind, value in plan:
            old = getattr(person, kind)
            self.people.set_identifier(person, kind, value)
            rec.change("identifier_set", person=person.cio_id, name=kind, old=old, new=value)
            if kind == "id" and old is not None and value is not None:
                rec.note(
                    f"the person's id changed from {old!r} to {value!r}: they were found by their email "
                    f"({matched_by}), and Customer.io lets an identify by email give an existing person a new id"
                )
        return True

    def _may_change(self, kind: str, matched_by: str) -> bool:
        if matched_by == "cio_id":
            return True
        if kind == "email":
            return matched_by in ("path:id", "body:id") and self.settings.email_updates_by_id
        return matched_by == "body:email"  # new path id + existing email (docs/track-api.md §3.1 rule 6)

    def _apply_attributes(
        self, person: Person, attrs: dict[str, JSON], update_time: int, rec: Recorder
    ) -> None:
        """Apply the attributes whose last applied update is not newer than `update_time`."""
        late = []
        times = person.attribute_times
        for name in attrs:
            last = times.get(name)
            if last is not None and update_time < last:
                late.append(name)
            else:
                times[name] = update_time
        in_time = {k: v for k, v in attrs.items() if k not in late} if late else attrs
        changed = update_attributes(person.attributes, in_time)
        record_attribute_changes(rec, changed, "attribute", "person", person.cio_id)
        if late:
            rec.note(
                f"update time {update_time} is older than the last applied update of "
                f"{', '.join(repr(n) for n in late)} on {person}: not applied"
            )


def _same(kind: str, a: str | None, b: str | None) -> bool:
    if kind == "email" and a is not None and b is not None:
        return a.lower() == b.lower()
    return a == b


def _identifier_attribute(value: JSON, kind: str) -> Any:
    """An `id`/`email` attribute: `_MISSING` when absent, None for `""`/`null` (remove), else a string."""
    if value is _MISSING:
        return _MISSING
    if is_removal(value):
        return None
    if kind == "id" and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise StateError(f"attributes.{kind} must be a string, got {value!r}")
    return value
