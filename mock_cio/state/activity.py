"""Activity: events on people, anonymous events and their claims, delivery metrics.

Where it sits: the `track`, `expire` and `report_metric` verbs of `WorkspaceState` (v1 and v2 events,
page and screen views, anonymous events, `/metrics`, push events, v2 delivery events), and the claim
that identify makes with an `anonymous_id`. The merge window itself is anonymous.py's; this module
applies it: an event whose anonymous id a person claimed recently goes to that person, any other is
stored anonymous until a claim takes it or it expires.
"""

from __future__ import annotations

from . import anonymous as window
from .people import Person, PersonEvent
from .relationships import RelationshipVerbs
from .verb_io import JSON, Ident, Outcome, Recorder, StateError, event_time


class ActivityVerbs(RelationshipVerbs):
    """Events and claims. A claim carries the anonymous id's object relationships over to the person,
    hence the relationship verbs underneath."""

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
            anonymous_id, ident = ident.value, None
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
