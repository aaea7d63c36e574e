"""Lifecycle: deleting, suppressing, unsuppressing and merging people.

Where it sits: the `delete_person`, `suppress`, `unsuppress` and `merge` verbs of `WorkspaceState`
(v1 `DELETE /customers/{id}`, suppress/unsuppress, `merge_customers`; their v2 person actions).
Removing a person also releases their claims, devices and relationships; a merge first hands the
secondary's data to the primary (Customer.io's "Resolve duplicate people" rules), manual segment
memberships included.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from . import anonymous as window
from .objects import is_removal
from .people import Person
from .verb_io import Ident, Outcome, Recorder, StateError
from .workspace_data import WorkspaceBase


class LifecycleVerbs(WorkspaceBase):
    def delete_person(self, ident: Ident, now: float) -> Outcome:
        """Delete a person and all their data; their identifiers can be used again."""
        rec = self._begin(now)
        person = self._existing(ident, rec, "nothing deleted")
        if person is not None:
            self._remove_person(person, "delete", rec)
        return rec.outcome()

    def suppress(self, ident: Ident, now: float) -> Outcome:
        """Delete the person and block their id and email (or just the identifier, if nobody has it)."""
        rec = self._begin(now)
        if ident.kind == "anonymous_id":
            raise StateError("suppress needs an id, email or cio_id")
        if ident.key in self.blocked:
            rec.note(f"{ident} is already suppressed")
            return rec.outcome()
        person = self.people.find(ident)
        if person is not None:
            keys = person.blocking_keys()
            self._remove_person(person, "suppress", rec)
        elif ident.kind == "cio_id":
            rec.note(f"no person matches {ident}: nothing suppressed")
            return rec.outcome()
        else:
            keys = [ident.key]
            rec.note(f"no person matches {ident}: the identifier is suppressed anyway")
        group = frozenset(keys)
        for key in keys:
            self.blocked[key] = group
        rec.change("identifiers_suppressed", identifiers=_key_list(group))
        return rec.outcome()

    def unsuppress(self, ident: Ident, now: float) -> Outcome:
        """Free the identifiers suppressed together with `ident`; nothing is restored."""
        rec = self._begin(now)
        group = self.blocked.get(ident.key)
        if group is None:
            rec.note(f"{ident} is not suppressed: nothing to do")
            return rec.outcome()
        for key in group:
            self.blocked.pop(key, None)
        rec.change("identifiers_unsuppressed", identifiers=_key_list(group))
        return rec.outcome()

    def merge(self, primary: Ident, secondary: Ident, now: float) -> Outcome:
        """Merge `secondary` into `primary` (v1 merge_customers, v2 person merge); secondary is deleted."""
        rec = self._begin(now)
        blocked = self._blocked_among([primary, secondary])
        if blocked is not None:
            rec.note(f"{blocked} is suppressed: ignored")
            return rec.outcome()
        into = self.people.find(primary)
        if into is None:
            rec.note(f"primary {primary} does not exist: nothing merged")
            return rec.outcome()
        other = self.people.find(secondary)
        if other is None:
            rec.note(f"secondary {secondary} does not exist: nothing merged")
            return rec.outcome()
        if into is other:
            rec.note(f"primary {primary} and secondary {secondary} are the same person: nothing merged")
            return rec.outcome()
        self._merge_people(into, other, now, rec)
        return rec.outcome()

    def _remove_person(self, person: Person, reason: str, rec: Recorder) -> None:
        identifiers = person.identifiers
        for anonymous_id in person.anonymous_ids:
            if self.claims.get(anonymous_id, ("",))[0] == person.cio_id:
                del self.claims[anonymous_id]
        for token in person.devices:
            self.device_owners.pop(token, None)
        for cio_object_id in person.relationships:
            obj = self.objects.by_cio_object_id(cio_object_id)
            if obj is not None:
                obj.people.pop(person.cio_id, None)
        self.people.remove(person)
        rec.change("person_deleted", person=person.cio_id, identifiers=identifiers, reason=reason)

    def _merge_people(self, into: Person, other: Person, now: float, rec: Recorder) -> None:
        gained_ids = [(k, v) for k, v in (("id", other.id), ("email", other.email)) if v is not None]
        gained_ids = [(k, v) for k, v in gained_ids if getattr(into, k) is None]
        attributes = 0
        for name, value in other.attributes.items():
            if name not in into.attributes or is_removal(into.attributes[name]):
                into.attributes[name] = value
                if name in other.attribute_times:
                    into.attribute_times[name] = other.attribute_times[name]
                attributes += 1
        cutoff = now - window.RETENTION
        events = [dataclasses.replace(e, can_trigger=False) for e in other.events if e.timestamp >= cutoff]
        into.events.extend(events)
        devices = 0
        for token, device in other.devices.items():
            if token not in into.devices:
                into.devices[token] = device
                devices += 1
        relationships = 0
        for cio_object_id, attrs in other.relationships.items():
            obj = self.objects.by_cio_object_id(cio_object_id)
            if obj is not None and cio_object_id not in into.relationships:
                into.relationships[cio_object_id] = attrs
                obj.people[into.cio_id] = None
                relationships += 1
        for segment in sorted(other.segments - into.segments):
            into.segments.add(segment)
            rec.change("added_to_segment", person=into.cio_id, segment=segment, from_person=other.cio_id)
        claims = sorted(other.anonymous_ids)
        for anonymous_id in claims:
            held = self.claims.get(anonymous_id)
            if held is not None and held[0] == other.cio_id:
                self.claims[anonymous_id] = (into.cio_id, held[1])
                into.anonymous_ids.add(anonymous_id)
        other.anonymous_ids.clear()
        kept_devices = set(into.devices)
        other.devices = {t: d for t, d in other.devices.items() if t not in kept_devices}
        self._remove_person(other, "merge", rec)
        for token in into.devices:
            self.device_owners[token] = into.cio_id
        for kind, value in gained_ids:
            self.people.set_identifier(into, kind, value)
            rec.change("identifier_set", person=into.cio_id, name=kind, old=None, new=value)
        rec.change(
            "people_merged",
            primary=into.cio_id,
            secondary=other.cio_id,
            attributes=attributes,
            events=len(events),
            devices=devices,
            relationships=relationships,
            anonymous_ids=claims,
        )


def _key_list(keys: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"kind": kind, "value": value} for kind, value in sorted(keys)]
