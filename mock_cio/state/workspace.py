"""One Customer.io workspace: its settings and the verbs that change its state.

Where it sits: the HTTP layer validates a request's shape, then calls one verb here with the
receipt time `now`; the verb returns an `Outcome` (notes, changes) that goes into the journal. Verbs
are deterministic given their arguments and `now`, so replaying the journal rebuilds the state.
The state is not thread-safe: the caller holds one lock per `CioState`.

How the mock decides (decisions.md §2 wins; the choices below fill what it leaves open):

- Identify resolution (v1 rules of customerio-track-api.md §3.1): the path identifier is looked up
  first; if it matches nobody, an `id`/`email` in the attributes may match someone, who is updated
  and given the path identifier. If the path and the attributes name different people, or the
  attributes' `id` and `email` belong to two people, nothing is applied (200, noted: Customer.io's
  "Attribute Update Failure"; the mock does not auto-merge).
- Identifier changes: addressed as `cio_<cio_id>`, `id` and `email` may be set, changed or (with
  `""`/`null`) removed. Otherwise an identifier that is not set yet is set; an email may change when
  the person is matched by id (workspace setting `email_updates_by_id`, on by default, Customer.io's
  "Allow updates to email using ID"); an id changes only when a new path id meets an existing
  email (Customer.io's "new id + existing email" rule). Any other change drops the whole identify
  (noted). `""`/`null` for `id`/`email` without `cio_` addressing is ignored (noted).
- `id` and `email` are identifiers, shown under `identifiers`, not under `attributes`;
  `anonymous_id` is both a claim and an ordinary attribute. `cio_id` in attributes is ignored.
- Attributes: `""` and `null` remove (for people too, though Customer.io only documents it for
  objects); each attribute remembers the time of its last applied update (the request's
  `timestamp`/`_timestamp`, else the receipt time); an older update of that attribute is dropped
  (noted); equal times apply (the later request wins).
- Events: a person addressed by `id` or `email` who does not exist is created; a `cio_id` that
  does not exist drops the request. `name` is trimmed. An event can trigger campaigns when its
  timestamp is at most 72 hours before its receipt. Events are listed in the order they reached the
  person. The event `id` dedup scope is the workspace, for ever (anonymous events included).
- Anonymous events (anonymous.py has the window): an event whose id a person claimed goes straight
  to that person when it is received within the claim's window, else it is stored anonymous.
  A v2 event addressed by `identifiers.anonymous_id` is an anonymous event. An `anonymous_id` on an
  identified person's event is kept as event data and is not a claim (Customer.io documents
  identify as the trigger); the outcome notes it. Re-identifying with the same `anonymous_id`
  refreshes the claim. A claim dies with its person (delete, suppress); a merge hands the
  secondary's claims to the primary. With anonymous merge off, identify claims nothing, and
  `identify_anonymous` relationships stay with the anonymous id too.
- Devices: a token belongs to one person; adding it to another person moves it. A device's
  `last_used` defaults to the receipt time; a non-Unix value is replaced by it (noted).
- Objects: relating to a person by `id`/`email` who does not exist creates the person (as events
  do); an unknown `cio_object_id`/`cio_id` is skipped (noted). Relating an object to an anonymous
  id that a person has already claimed relates it to that person at once.
- Merge: a missing primary or secondary, or the same person on both sides, does nothing (noted).
  The primary keeps its identifiers and gains those it lacks, keeps its non-empty attributes, gains
  the secondary's other attributes, events whose timestamp is within 30 days of the merge (marked
  `can_trigger: false`), devices and relationships it lacks.
- Suppress: deletes the person and blocks their id and email; suppressing an identifier nobody has
  blocks it anyway. Any later verb naming a blocked identifier (path, body `id`/`email`, merge side,
  relationship) is ignored (noted). Unsuppress frees the identifiers suppressed together.
- Deleting a person who does not exist is a no-op (noted). Event ids they sent stay "seen".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from . import anonymous as window
from .anonymous import AnonymousStore
from .objects import CioObject, Objects, is_removal, update_attributes
from .people import Device, People, Person, PersonEvent
from .values import JSON, Ident, ObjectIdent, Outcome, Recorder, StateError, event_time, unix_seconds

_MISSING: Any = object()
_REGIONS = ("us", "eu")
_RELATIONSHIP_ACTIONS = ("add_relationships", "delete_relationships")


@dataclass(frozen=True, slots=True)
class WorkspaceSettings:
    """A workspace's settings. Auth and rate limiting are done by the HTTP layer from these values."""

    region: Literal["us", "eu"] = "us"
    anonymous_merge: bool = True
    api_key: str | None = None
    """Declared credentials: when set, only this api_key is accepted for the workspace's site_id."""
    rate_limit: float | None = None
    """Requests per second, or None for no limit."""
    email_updates_by_id: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.region, str) and self.region.lower() in _REGIONS:
            object.__setattr__(self, "region", self.region.lower())  # "US"/"EU" as the sandbox spells them
        if self.region not in _REGIONS:
            raise StateError(f"region must be 'us' or 'eu', got {self.region!r}")
        for name in ("anonymous_merge", "email_updates_by_id"):
            if not isinstance(getattr(self, name), bool):
                raise StateError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.api_key is not None and (not isinstance(self.api_key, str) or not self.api_key):
            raise StateError(f"api_key must be a non-empty string or null, got {self.api_key!r}")
        rate = self.rate_limit
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float) or not rate > 0):
            raise StateError(
                f"rate_limit must be a positive number of requests per second or null, got {rate!r}"
            )

    def to_dict(self) -> dict[str, JSON]:
        return dataclasses.asdict(self)


class WorkspaceState:
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

    def configure(self, **changes: Any) -> WorkspaceSettings:
        """Change settings (`region`, `anonymous_merge`, `api_key`, `rate_limit`, `email_updates_by_id`)."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(WorkspaceSettings)}
        if unknown:
            raise StateError(f"unknown workspace setting(s): {', '.join(sorted(unknown))}")
        self.settings = dataclasses.replace(self.settings, **changes)
        return self.settings

    # ------------------------------------------------------------------ people

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
        action, items = _relationship_items(relationships)
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

        blocked = self._blocked_among([ident, *(Ident(k, v) for k, v in wanted.items() if v)])
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

    # ------------------------------------------------------------------ events

    def track(
        self,
        ident: Ident | None,
        now: float,
        *,
        name: str,
        event_type: str = "event",
        event_id: str | None = None,
        timestamp: JSON = None,
        data: JSON = None,
        anonymous_id: str | None = None,
    ) -> Outcome:
        """Record an event. `ident=None` (or an `anonymous_id` Ident) makes it an anonymous event.

        `event_type` is stored as given ("event", "page", "screen", "viewed_content", …): the HTTP
        layer maps v1 types that are not page/screen to "event".
        """
        rec = self._begin(now)
        if not isinstance(name, str):
            raise StateError("name must be a string")
        if isinstance(event_id, int) and not isinstance(event_id, bool):
            event_id = str(event_id)
        if event_id is not None and not isinstance(event_id, str):
            raise StateError("id must be a string")
        name = name.strip()
        if event_id is not None and event_id in self.seen_event_ids:
            rec.note(f"event id {event_id!r} already seen: ignored")
            return rec.outcome()
        if ident is not None and ident.kind == "anonymous_id":
            ident, anonymous_id = None, ident.value
        if ident is None:
            stamp = event_time(timestamp, now, rec)
            self._anonymous_event(anonymous_id, event_id, name, event_type, stamp, now, data, rec)
        else:
            person = self._person_for(ident, rec, create=True)
            if person is None:
                return rec.outcome()
            stamp = event_time(timestamp, now, rec)
            if anonymous_id:
                rec.note(
                    f"anonymous_id {anonymous_id!r} on an event of an identified person is kept as data, "
                    f"not claimed (only identify claims an anonymous_id)"
                )
            event = PersonEvent(
                event_id, name, event_type, stamp, now, data, False, window.can_trigger(now, stamp)
            )
            self._add_event(person, event, rec)
        if event_id is not None:
            self.seen_event_ids.add(event_id)
        return rec.outcome()

    def expire(self, now: float) -> Outcome:
        """Delete anonymous events received more than 30 days before `now` (every verb does it too)."""
        return self._begin(now).outcome()

    def report_metric(
        self, now: float, *, delivery_id: str, metric: str, timestamp: JSON = None, **details: JSON
    ) -> Outcome:
        """Record a delivery metric (v1 /metrics, /push/events; v2 delivery events). `details` such as
        recipient, reason, href, device_id, device_token, source are kept when not None."""
        rec = self._begin(now)
        record: dict[str, JSON] = {
            "delivery_id": delivery_id,
            "metric": metric,
            "timestamp": event_time(timestamp, now, rec),
            "received_at": now,
        }
        record.update({k: v for k, v in details.items() if v is not None})
        self.metrics.append(record)
        rec.change("metric_recorded", delivery_id=delivery_id, metric=metric)
        return rec.outcome()

    # ------------------------------------------------------------------ devices

    def add_device(
        self,
        ident: Ident,
        now: float,
        *,
        token: str,
        platform: str | None,
        last_used: JSON = None,
        attributes: dict[str, JSON] | None = None,
    ) -> Outcome:
        """Add or update a device (by token); a token another person has moves to this person."""
        rec = self._begin(now)
        person = self._person_for(ident, rec, create=True)
        if person is None:
            return rec.outcome()
        if isinstance(last_used, str) and last_used.isdigit():
            last_used = int(last_used)
        used = int(now) if last_used in (None, 0) else unix_seconds(last_used)
        if used is None:
            rec.note(f"last_used {last_used!r} is not Unix seconds: replaced with receipt time {int(now)}")
            used = int(now)
        owner = self.device_owners.get(token)
        if owner is not None and owner != person.cio_id:
            previous = self.people.by_cio_id(owner)
            if previous is not None:
                del previous.devices[token]
            rec.change("device_deleted", person=owner, token=token)
        device = person.devices.get(token)
        if device is None:
            device = Device(token, platform, used, {})
            update_attributes(device.attributes, attributes or {})
            person.devices[token] = device
            self.device_owners[token] = person.cio_id
            rec.change("device_added", person=person.cio_id, token=token, platform=platform)
        else:
            device.platform = platform if platform is not None else device.platform
            device.last_used = used
            update_attributes(device.attributes, attributes or {})
            rec.change("device_updated", person=person.cio_id, token=token, platform=device.platform)
        return rec.outcome()

    def delete_device(self, ident: Ident, now: float, *, token: str) -> Outcome:
        rec = self._begin(now)
        person = self._existing(ident, rec, "no device deleted")
        if person is None:
            return rec.outcome()
        if person.devices.pop(token, None) is None:
            rec.note(f"{person} has no device {token!r}: nothing deleted")
            return rec.outcome()
        del self.device_owners[token]
        rec.change("device_deleted", person=person.cio_id, token=token)
        return rec.outcome()

    # ------------------------------------------------------------------ relationships and objects

    def add_relationships(self, ident: Ident, relationships: JSON, now: float) -> Outcome:
        """Relate a person to objects (v2 person add_relationships); creates a missing person."""
        rec = self._begin(now)
        _, items = _relationship_items(relationships)
        person = self._person_for(ident, rec, create=True)
        if person is not None:
            self._person_relationships(person, "add_relationships", items, rec)
        return rec.outcome()

    def delete_relationships(self, ident: Ident, relationships: JSON, now: float) -> Outcome:
        rec = self._begin(now)
        _, items = _relationship_items(relationships)
        person = self._existing(ident, rec, "no relationship removed")
        if person is not None:
            self._person_relationships(person, "delete_relationships", items, rec)
        return rec.outcome()

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
        _, items = _relationship_items(relationships)
        target = self._object_for(obj, rec, create=True)
        if target is None:
            return rec.outcome()
        for name, old, new in update_attributes(target.attributes, attributes or {}):
            if new is None:
                rec.change("object_attribute_removed", object=target.cio_object_id, name=name, old=old)
            else:
                rec.change("object_attribute_set", object=target.cio_object_id, name=name, old=old, new=new)
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
        rec = self._begin(now)
        _, items = _relationship_items(people)
        target = self._object_for(obj, rec, create=True)
        if target is not None:
            self._object_relationships(target, "add_relationships", items, rec, anonymous=False)
        return rec.outcome()

    def delete_object_relationships(self, obj: ObjectIdent, people: JSON, now: float) -> Outcome:
        rec = self._begin(now)
        _, items = _relationship_items(people)
        target = self._object_for(obj, rec, create=False)
        if target is not None:
            self._object_relationships(target, "delete_relationships", items, rec, anonymous=False)
        return rec.outcome()

    # ------------------------------------------------------------------ internals: lookups

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

    def _existing(self, ident: Ident, rec: Recorder, consequence: str) -> Person | None:
        """The person `ident` names, or None with a note (suppressed, or nobody)."""
        if ident.kind == "anonymous_id":
            raise StateError("this operation needs an id, email or cio_id: an anonymous_id names no person")
        if self.blocked and ident.key in self.blocked:
            rec.note(f"{ident} is suppressed: ignored")
            return None
        person = self.people.find(ident)
        if person is None:
            rec.note(f"no person matches {ident}: {consequence}")
        return person

    def _person_for(self, ident: Ident, rec: Recorder, *, create: bool) -> Person | None:
        """The person `ident` names; with `create`, one addressed by id or email is created if missing."""
        if not create or ident.kind == "cio_id":
            return self._existing(ident, rec, "dropped" if create else "nothing done")
        if ident.kind == "anonymous_id":
            raise StateError("this operation needs an id, email or cio_id: an anonymous_id names no person")
        if self.blocked and ident.key in self.blocked:
            rec.note(f"{ident} is suppressed: ignored")
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
            current = person.id if kind == "id" else person.email
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
            old = person.id if kind == "id" else person.email
            (self.people.set_id if kind == "id" else self.people.set_email)(person, value)
            rec.change("identifier_set", person=person.cio_id, name=kind, old=old, new=value)
        return True

    def _may_change(self, kind: str, matched_by: str) -> bool:
        if matched_by == "cio_id":
            return True
        if kind == "email":
            return matched_by in ("path:id", "body:id") and self.settings.email_updates_by_id
        return matched_by == "body:email"  # a new path id meeting an existing email (§3.1 rule 6)

    def _apply_attributes(
        self, person: Person, attrs: dict[str, JSON], update_time: int, rec: Recorder
    ) -> None:
        late = []
        for name, value in attrs.items():
            last = person.attribute_times.get(name)
            if last is not None and update_time < last:
                late.append(name)
                continue
            person.attribute_times[name] = update_time
            if is_removal(value):
                if name in person.attributes:
                    old = person.attributes.pop(name)
                    rec.change("attribute_removed", person=person.cio_id, name=name, old=old)
                continue
            old = person.attributes.get(name)
            if name not in person.attributes or old != value or type(old) is not type(value):
                person.attributes[name] = value
                rec.change("attribute_set", person=person.cio_id, name=name, old=old, new=value)
        if late:
            rec.note(
                f"update time {update_time} is older than the last applied update of "
                f"{', '.join(repr(n) for n in late)} on {person}: not applied"
            )

    def _add_event(self, person: Person, event: PersonEvent, rec: Recorder) -> None:
        person.events.append(event)
        rec.change(
            "event_added",
            person=person.cio_id,
            event_id=event.id,
            name=event.name,
            type=event.type,
            merged_from_anonymous=event.merged_from_anonymous,
            can_trigger=event.can_trigger,
        )

    # ------------------------------------------------------------------ internals: anonymous activity

    def _anonymous_event(
        self,
        anonymous_id: str | None,
        event_id: str | None,
        name: str,
        event_type: str,
        stamp: int,
        now: float,
        data: JSON,
        rec: Recorder,
    ) -> None:
        if anonymous_id is not None and self.settings.anonymous_merge:
            claim = self.claims.get(anonymous_id)
            if claim is not None:
                person = self.people.by_cio_id(claim[0])
                if person is not None and window.claimable(now, claim[1]):
                    event = PersonEvent(
                        event_id, name, event_type, stamp, now, data, True, window.can_trigger(now, stamp)
                    )
                    self._add_event(person, event, rec)
                    return
                if person is not None:
                    rec.note(
                        f"anonymous_id {anonymous_id!r} was claimed by {person} at {claim[1]}, more than "
                        f"{window.LATE_WINDOW // 60} minutes before this event: it stays anonymous"
                    )
        stored = self.anonymous.add(
            anonymous_id=anonymous_id,
            event_id=event_id,
            name=name,
            type=event_type,
            timestamp=stamp,
            received_at=now,
            data=data,
        )
        rec.change(
            "anonymous_event_stored",
            anonymous_id=anonymous_id,
            event_id=event_id,
            name=name,
            expires_at=window.expires_at(stored.received_at),
        )

    def _claim(self, person: Person, anonymous_id: str, now: float, rec: Recorder) -> None:
        if not isinstance(anonymous_id, str) or not anonymous_id:
            raise StateError("attributes.anonymous_id must be a non-empty string")
        if not self.settings.anonymous_merge:
            rec.note(
                f"anonymous event merge is off in this workspace: events with anonymous_id "
                f"{anonymous_id!r} stay anonymous"
            )
            return
        claim = self.claims.get(anonymous_id)
        if claim is not None and claim[0] != person.cio_id:
            rec.note(f"anonymous_id {anonymous_id!r} already claimed by person cio_{claim[0]}: not moved")
            return
        self.claims[anonymous_id] = (person.cio_id, now)
        person.anonymous_ids.add(anonymous_id)
        rec.change("anonymous_id_claimed", person=person.cio_id, anonymous_id=anonymous_id, at=now)
        taken = self.anonymous.take(anonymous_id, now)
        for stored in taken:
            person.events.append(
                PersonEvent(
                    stored.id,
                    stored.name,
                    stored.type,
                    stored.timestamp,
                    stored.received_at,
                    stored.data,
                    True,
                    window.can_trigger(now, stored.timestamp),
                )
            )
        if taken:
            rec.change(
                "events_merged",
                person=person.cio_id,
                anonymous_id=anonymous_id,
                count=len(taken),
                can_trigger=sum(1 for e in person.events[-len(taken) :] if e.can_trigger),
            )
        for obj, attrs in self.objects.take_anonymous(anonymous_id):
            self._relate(person, obj, attrs, rec, from_anonymous_id=anonymous_id)

    # ------------------------------------------------------------------ internals: removal and merge

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
        gained_ids = [(k, v) for k, v in gained_ids if (into.id if k == "id" else into.email) is None]
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
            (self.people.set_id if kind == "id" else self.people.set_email)(into, value)
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

    # ------------------------------------------------------------------ internals: objects

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
        if current is None:
            fresh: dict[str, JSON] = {}
            update_attributes(fresh, attrs)
            self.objects.relate_anonymous(obj, anonymous_id, fresh)
            rec.change(
                "anonymous_relationship_added",
                object=obj.cio_object_id,
                anonymous_id=anonymous_id,
                attributes=dict(fresh),
            )
        elif update_attributes(current, attrs):
            rec.change(
                "anonymous_relationship_updated",
                object=obj.cio_object_id,
                anonymous_id=anonymous_id,
                attributes=dict(current),
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
        extra = {} if from_anonymous_id is None else {"from_anonymous_id": from_anonymous_id}
        if current is None:
            fresh: dict[str, JSON] = {}
            update_attributes(fresh, attrs)
            person.relationships[obj.cio_object_id] = fresh
            obj.people[person.cio_id] = None
            rec.change(
                "relationship_added",
                person=person.cio_id,
                object=obj.cio_object_id,
                attributes=dict(fresh),
                **extra,
            )
        elif update_attributes(current, attrs):
            rec.change(
                "relationship_updated",
                person=person.cio_id,
                object=obj.cio_object_id,
                attributes=dict(current),
                **extra,
            )

    def _unrelate(self, person: Person, obj: CioObject, rec: Recorder) -> None:
        if person.relationships.pop(obj.cio_object_id, None) is None:
            rec.note(f"{person} is not related to {obj}: nothing removed")
            return
        obj.people.pop(person.cio_id, None)
        rec.change("relationship_removed", person=person.cio_id, object=obj.cio_object_id)


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


def _relationship_items(relationships: JSON) -> tuple[str, list[dict[str, JSON]]]:
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


def _key_list(keys: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"kind": kind, "value": value} for kind, value in sorted(keys)]
