"""What the two mocks hold at the end, normalised so that only real differences remain.

Where it sits: the last part of `cio-sandbox migrate`'s report and its exit status. Each mock's
snapshot is reduced to what a Customer.io user would see of it, without what can only differ by
construction:

- people are keyed by `id` (else `email`), objects by `type/id`; cio_ids are dropped;
- event ids are dropped (the classic destination sends none), and so are receipt times and
  the times each attribute was last written;
- everything else stays: attributes, devices, relationships, events (name, type, timestamp, data,
  merged from anonymous), anonymous events, objects, suppressed identifiers.

`diff(classic, actions)` lists each difference as an `EndDifference` (where, and both values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.classic.effects import person_name

JSON = Any


@dataclass(frozen=True, slots=True)
class EndDifference:
    """`entity` is `person id:…`, `object type/id`, `anonymous events` or `suppressed`; `field`
    the part that differs (empty when the entity exists on one side only)."""

    entity: str
    field: str
    classic: JSON
    actions: JSON

    def to_dict(self) -> dict[str, JSON]:
        return {"entity": self.entity, "field": self.field, "classic": self.classic, "actions": self.actions}


def normalise(snapshot: Mapping[str, JSON], anonymous_events: list[JSON]) -> dict[str, JSON]:
    """A mock snapshot (all workspaces) and its anonymous events not expired yet (the admin view)
    as {people, objects, anonymous_events, suppressed}."""
    people: dict[str, JSON] = {}
    objects: dict[str, JSON] = {}
    anonymous = [
        {k: event.get(k) for k in ("anonymous_id", "name", "type", "timestamp", "data")}
        for event in anonymous_events
    ]
    suppressed: list[str] = []
    for ws in snapshot.values():
        if not isinstance(ws, dict):
            continue
        names = {
            p.get("cio_id"): person_name(p.get("identifiers") or {}) or "?" for p in ws.get("people") or ()
        }
        object_names = {
            o.get("cio_object_id"): f"{o.get('object_type_id')}/{o.get('object_id')}"
            for o in ws.get("objects") or ()
        }
        for person in ws.get("people") or ():
            people[names[person.get("cio_id")]] = person_state(person)
        for obj in ws.get("objects") or ():
            objects[object_names[obj.get("cio_object_id")]] = {
                "attributes": obj.get("attributes") or {},
                "relationships": {
                    person_name(r.get("identifiers") or {}) or "?": r.get("relationship_attributes") or {}
                    for r in obj.get("relationships") or ()
                },
                "anonymous_relationships": {
                    str(r.get("anonymous_id")): r.get("relationship_attributes") or {}
                    for r in obj.get("anonymous_relationships") or ()
                },
            }
        for entry in ws.get("suppressed") or ():
            suppressed.append(f"{entry.get('kind')}:{entry.get('value')}")
    return {
        "people": people,
        "objects": objects,
        "anonymous_events": anonymous,
        "suppressed": sorted(suppressed),
    }


def person_state(person: Mapping[str, JSON]) -> dict[str, JSON]:
    """One person (the admin view's shape) as the comparison sees them."""
    related = {
        f"{r.get('object_type_id')}/{r.get('object_id')}": r.get("relationship_attributes") or {}
        for r in person.get("relationships") or ()
    }
    devices = person.get("devices") or []
    return {
        "identifiers": {k: v for k, v in (person.get("identifiers") or {}).items() if k != "cio_id" and v},
        "attributes": person.get("attributes") or {},
        "devices": sorted(
            (
                {k: d.get(k) for k in ("token", "platform", "last_used", "attributes")}
                for d in devices
                if isinstance(d, dict)
            ),
            key=lambda d: str(d.get("token")),
        ),
        "relationships": related,
        "events": [
            {k: e.get(k) for k in ("name", "type", "timestamp", "data", "merged_from_anonymous")}
            for e in person.get("events") or ()
        ],
    }


def diff(classic: Mapping[str, JSON], actions: Mapping[str, JSON]) -> list[EndDifference]:
    """Every difference between two normalised states, people first."""
    out: list[EndDifference] = []
    for group, label in (("people", "person"), ("objects", "object")):
        left, right = classic[group], actions[group]
        for key in sorted(set(left) | set(right)):
            entity = f"{label} {key}"
            if key not in right:
                out.append(EndDifference(entity, "", "present", None))
            elif key not in left:
                out.append(EndDifference(entity, "", None, "present"))
            else:
                for field in left[key]:
                    out.extend(_field(entity, field, left[key][field], right[key][field]))
    if classic["anonymous_events"] != actions["anonymous_events"]:
        out.append(
            EndDifference(
                "anonymous events",
                "count",
                len(classic["anonymous_events"]),
                len(actions["anonymous_events"]),
            )
        )
    if classic["suppressed"] != actions["suppressed"]:
        out.append(EndDifference("suppressed", "identifiers", classic["suppressed"], actions["suppressed"]))
    return out


def _field(entity: str, field: str, left: JSON, right: JSON) -> list[EndDifference]:
    if left == right:
        return []
    if isinstance(left, dict) and isinstance(right, dict) and field in ("attributes", "relationships"):
        return [
            EndDifference(entity, f"{field}.{key}", left.get(key), right.get(key))
            for key in sorted(set(left) | set(right))
            if left.get(key) != right.get(key)
        ]
    if field == "events":
        return [EndDifference(entity, "events", _event_names(left), _event_names(right))]
    return [EndDifference(entity, field, left, right)]


def _event_names(events: list[JSON]) -> list[str]:
    return [f"{e.get('type')}:{e.get('name')}" for e in events]
