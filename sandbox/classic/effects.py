"""What one event did to a mock, in a form both destinations can be compared in.

Where it sits: between `compare.py` (the journal's state changes for each request) and
`differences.py`. The two mocks name the same person by different `cio_id`s and the classic
destination sends no event ids, so each change is rewritten before comparing:

- people are named by their `id` (else `email`, also when the id is the email), objects by
  `type/id`, never by cio_id;
- event ids, receipt and expiry times and previous values (`old`) are dropped;
- an added or stored event carries the name, type, `timestamp` and data its request sent.

`Effect` is one rewritten change as canonical JSON, so effects compare as a multiset.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

JSON = Any
Effect = str

DROPPED_KEYS: Final = frozenset(("at", "expires_at", "event_id", "old", "cio_id"))
EVENT_KINDS: Final = frozenset(("event_added", "anonymous_event_stored"))


class Names:
    """cio_id → a person's name (`id:…`, else `email:…`) and cio_object_id → `type/id`, for one
    mock, learnt from its changes; `lookup(cio_id)` asks the mock for anyone not seen created."""

    def __init__(self, lookup: Callable[[str], Mapping[str, JSON] | None]) -> None:
        self._people: dict[str, dict[str, JSON]] = {}
        self._objects: dict[str, str] = {}
        self._lookup = lookup

    def learn(self, change: Mapping[str, JSON]) -> None:
        kind = change.get("kind")
        person = change.get("person")
        if kind == "person_created" and isinstance(person, str):
            self._people[person] = dict(change.get("identifiers") or {})
        elif kind == "identifier_set" and isinstance(person, str):
            self._people.setdefault(person, {})[str(change.get("name"))] = change.get("new")
        elif kind == "object_created":
            self._objects[str(change.get("object"))] = (
                f"{change.get('object_type_id')}/{change.get('object_id')}"
            )

    def person(self, cio_id: str) -> str:
        identifiers = self._people.get(cio_id)
        if identifiers is None:
            found = self._lookup(cio_id)
            identifiers = dict(found.get("identifiers") or {}) if found else {}
            self._people[cio_id] = identifiers
        return person_name(identifiers) or f"cio:{cio_id}"

    def object(self, cio_object_id: str) -> str:
        return self._objects.get(cio_object_id, f"object:{cio_object_id}")


def person_name(identifiers: Mapping[str, JSON]) -> str | None:
    """`id:…`, else `email:…`; an id equal to the person's email names them by the email (the
    classic destination writes an email-shaped userId as both)."""
    if identifiers.get("id") and identifiers.get("id") != identifiers.get("email"):
        return f"id:{identifiers['id']}"
    if identifiers.get("email"):
        return f"email:{identifiers['email']}"
    return None


def effects(changes: Iterable[Mapping[str, JSON]], names: Names, request_body: JSON = None) -> list[Effect]:
    """The changes of one request, rewritten (see the module doc); `request_body` gives an added
    event its timestamp and data (`data` on v1, `attributes` on v2)."""
    out: list[Effect] = []
    for change in changes:
        names.learn(change)
        rewritten: dict[str, JSON] = {}
        for key, value in change.items():
            if key in DROPPED_KEYS:
                continue
            if key == "person" and isinstance(value, str):
                value = names.person(value)
            elif key == "object" and isinstance(value, str):
                value = names.object(value)
            elif key == "identifiers" and isinstance(value, dict):
                value = {k: v for k, v in value.items() if k != "cio_id"}
            rewritten[key] = value
        if change.get("kind") in EVENT_KINDS and isinstance(request_body, dict):
            rewritten["timestamp"] = request_body.get("timestamp")
            data = request_body.get("data", request_body.get("attributes"))
            rewritten["data"] = data if data is not None else {}
        out.append(json.dumps(rewritten, sort_keys=True, ensure_ascii=False, default=str))
    return out


def decode(effect: Effect) -> dict[str, JSON]:
    value = json.loads(effect)
    return value if isinstance(value, dict) else {}
