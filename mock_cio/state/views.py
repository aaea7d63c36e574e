"""JSON views of the state, exactly as docs/contracts.md "Admin API JSON shapes" gives them.

Where it sits: the admin API, `intercept()` handles and the pytest plugin serve these dicts. Views
never change the state: given `now`, they hide anonymous events that have expired by then (the next
verb deletes them). Every view is a fresh copy; changing it does not touch the state.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from . import anonymous as window
from .verb_io import JSON

if TYPE_CHECKING:
    from .anonymous import AnonymousEvent
    from .objects import CioObject
    from .people import Person
    from .workspace import WorkspaceState


def person_view(ws: WorkspaceState, person: Person) -> dict[str, JSON]:
    """A person; `segments` (manual segment ids, ascending) is there only when they are in one, so
    views and golden files of people without manual segments keep their shape."""
    relationships = []
    for cio_object_id, attrs in person.relationships.items():
        obj = ws.objects.by_cio_object_id(cio_object_id)
        if obj is not None:
            relationships.append(
                {
                    "object_type_id": obj.object_type_id,
                    "object_id": obj.object_id,
                    "cio_object_id": obj.cio_object_id,
                    "relationship_attributes": copy.deepcopy(attrs),
                }
            )
    view: dict[str, JSON] = {
        "workspace": ws.site_id,
        "cio_id": person.cio_id,
        "identifiers": person.identifiers,
        "attributes": copy.deepcopy(person.attributes),
        "devices": [
            {
                "token": d.token,
                "platform": d.platform,
                "last_used": d.last_used,
                "attributes": copy.deepcopy(d.attributes),
            }
            for d in person.devices.values()
        ],
        "relationships": relationships,
        "events": [
            {
                "id": e.id,
                "name": e.name,
                "type": e.type,
                "timestamp": e.timestamp,
                "received_at": e.received_at,
                "data": copy.deepcopy(e.data),
                "merged_from_anonymous": e.merged_from_anonymous,
                "can_trigger": e.can_trigger,
            }
            for e in person.events
        ],
    }
    if person.segments:  # only then: the Segment destination never uses manual segments
        view["segments"] = sorted(person.segments)
    return view


def anonymous_event_view(ws: WorkspaceState, event: AnonymousEvent) -> dict[str, JSON]:
    return {
        "workspace": ws.site_id,
        "anonymous_id": event.anonymous_id,
        "id": event.id,
        "name": event.name,
        "type": event.type,
        "timestamp": event.timestamp,
        "received_at": event.received_at,
        "expires_at": window.expires_at(event.received_at),
        "data": copy.deepcopy(event.data),
    }


def object_view(ws: WorkspaceState, obj: CioObject) -> dict[str, JSON]:
    people = []
    for cio_id in obj.people:
        person = ws.people.by_cio_id(cio_id)
        if person is not None:
            people.append(
                {
                    "cio_id": cio_id,
                    "identifiers": person.identifiers,
                    "relationship_attributes": copy.deepcopy(person.relationships.get(obj.cio_object_id, {})),
                }
            )
    return {
        "workspace": ws.site_id,
        "cio_object_id": obj.cio_object_id,
        "object_type_id": obj.object_type_id,
        "object_id": obj.object_id,
        "attributes": copy.deepcopy(obj.attributes),
        "relationships": people,
        "anonymous_relationships": [
            {"anonymous_id": anonymous_id, "relationship_attributes": copy.deepcopy(attrs)}
            for anonymous_id, attrs in obj.anonymous.items()
        ],
    }


def people_view(ws: WorkspaceState) -> list[dict[str, JSON]]:
    return [person_view(ws, p) for p in ws.people]


def anonymous_events_view(ws: WorkspaceState, now: float | None = None) -> list[dict[str, JSON]]:
    return [
        anonymous_event_view(ws, e)
        for e in ws.anonymous
        if now is None or not window.expired(e.received_at, now)
    ]


def objects_view(ws: WorkspaceState) -> list[dict[str, JSON]]:
    return [object_view(ws, o) for o in ws.objects]


def metrics_view(ws: WorkspaceState) -> list[dict[str, JSON]]:
    return [{"workspace": ws.site_id, **copy.deepcopy(m)} for m in ws.metrics]


REDACTED = "<declared>"
"""What views, snapshots and exports show instead of a declared api_key."""


def redacted_settings(ws: WorkspaceState) -> dict[str, JSON]:
    """The workspace's settings with the api_key replaced by `REDACTED` (or None when none is declared)."""
    settings = ws.settings.to_dict()
    settings["api_key"] = None if ws.settings.api_key is None else REDACTED
    return settings


def workspace_view(ws: WorkspaceState) -> dict[str, JSON]:
    """The workspace's settings and counts (never the api_key itself: only whether one is declared)."""
    settings = redacted_settings(ws)
    return {
        "site_id": ws.site_id,
        "settings": settings,
        "people": len(ws.people),
        "objects": len(ws.objects),
        "anonymous_events": len(ws.anonymous),
        "suppressed": sorted(f"{kind}:{value}" for kind, value in ws.blocked),
        "metrics": len(ws.metrics),
    }


def snapshot_workspace(ws: WorkspaceState) -> dict[str, JSON]:
    """Everything that decides the workspace's future behaviour, in a canonical, JSON-ready form:
    two workspaces with equal snapshots answer every later request the same way."""
    people = []
    for person in ws.people:
        view = person_view(ws, person)
        del view["workspace"]
        view["attribute_times"] = dict(sorted(person.attribute_times.items()))
        view["anonymous_ids"] = sorted(person.anonymous_ids)
        people.append(view)
    anonymous = []
    for event in ws.anonymous:
        view = anonymous_event_view(ws, event)
        del view["workspace"]
        anonymous.append(view)
    objects = []
    for obj in ws.objects:
        view = object_view(ws, obj)
        del view["workspace"]
        objects.append(view)
    return {
        "site_id": ws.site_id,
        "settings": redacted_settings(ws),
        "counters": {"people": ws.people.created, "objects": ws.objects.created},
        "people": people,
        "anonymous_events": anonymous,
        "objects": objects,
        "claims": {a: {"cio_id": c, "at": t} for a, (c, t) in sorted(ws.claims.items())},
        "suppressed": [
            {"kind": kind, "value": value, "with": sorted(f"{k}:{v}" for k, v in group)}
            for (kind, value), group in sorted(ws.blocked.items())
        ],
        "seen_event_ids": sorted(ws.seen_event_ids),
        "device_owners": dict(sorted(ws.device_owners.items())),
        "metrics": copy.deepcopy(ws.metrics),
    }
