"""The data of one workspace, and how every verb begins and finds the person a request names.

Where it sits: `WorkspaceState` (workspace.py) is this class plus one mixin per noun (identify.py,
activity.py, relationships.py, devices.py, segments.py, lifecycle.py). Every verb starts with
`_begin(now)`, which expires old anonymous events and opens the `Recorder` its `Outcome` comes from;
the lookups below apply the suppression and "who may be created" rules that all verbs share.
"""

from __future__ import annotations

from collections.abc import Iterable

from .anonymous import AnonymousStore
from .objects import Objects
from .people import People, Person
from .settings import WorkspaceSettings
from .verb_io import JSON, Ident, Recorder, StateError


class WorkspaceBase:
    """The people, events, devices, objects, anonymous activity and metrics of one site_id."""

    def __init__(self, site_id: str, settings: WorkspaceSettings | None = None) -> None:
        self.site_id = site_id
        self.settings = settings or WorkspaceSettings()
        self.people = People()
        self.objects = Objects()
        self.anonymous = AnonymousStore()
        self.claims: dict[str, tuple[str, float]] = {}
        """anonymous_id -> (cio_id of the claimer, time of the latest claim)."""
        self.blocked: dict[tuple[str, str], frozenset[tuple[str, str]]] = {}
        """Suppressed identifier key -> every key suppressed with it (unsuppress frees them together)."""
        self.seen_event_ids: set[str] = set()
        self.device_owners: dict[str, str] = {}
        """Device token -> cio_id of the person who has it."""
        self.metrics: list[dict[str, JSON]] = []

    def _begin(self, now: float) -> Recorder:
        if isinstance(now, bool) or not isinstance(now, int | float):
            raise TypeError(f"now must be Unix seconds, got {now!r}")
        rec = Recorder()
        for anonymous_id, count in self.anonymous.expire(now).items():
            rec.change("anonymous_events_expired", anonymous_id=anonymous_id, count=count)
        return rec

    def _blocked_among(self, idents: Iterable[Ident]) -> Ident | None:
        if not self.blocked:
            return None
        for ident in idents:
            if ident.key in self.blocked:
                return ident
        return None

    def _usable(self, ident: Ident, rec: Recorder) -> bool:
        """Whether `ident` may name a person: False (noted) when it is suppressed; an anonymous_id
        is rejected, as it names no person."""
        if ident.kind == "anonymous_id":
            raise StateError("this operation needs an id, email or cio_id: an anonymous_id names no person")
        if self.blocked and ident.key in self.blocked:
            rec.note(f"{ident} is suppressed: ignored")
            return False
        return True

    def _existing(self, ident: Ident, rec: Recorder, consequence: str) -> Person | None:
        """The person `ident` names, or None with a note (suppressed, or nobody)."""
        if not self._usable(ident, rec):
            return None
        person = self.people.find(ident)
        if person is None:
            rec.note(f"no person matches {ident}: {consequence}")
        return person

    def _person_for(self, ident: Ident, rec: Recorder, *, create: bool) -> Person | None:
        """The person `ident` names; with `create`, one addressed by id or email is created if missing."""
        if not create or ident.kind == "cio_id":
            return self._existing(ident, rec, "dropped" if create else "nothing done")
        if not self._usable(ident, rec):
            return None
        person = self.people.find(ident)
        if person is None:
            person = self._create_person(rec, **{ident.kind: ident.value})
        return person

    def _create_person(self, rec: Recorder, *, id: str | None = None, email: str | None = None) -> Person:
        person = self.people.create()
        if id:
            self.people.set_id(person, id)
        if email:
            self.people.set_email(person, email)
        rec.change("person_created", person=person.cio_id, identifiers=person.identifiers)
        return person
