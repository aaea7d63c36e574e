"""Manual segments: people added to and removed from a segment by API.

Where it sits: the `add_to_segment` and `remove_from_segment` verbs of `WorkspaceState` (v1
`POST /api/v1/segments/{segment_id}/add_customers` and `/remove_customers`, docs/track-api.md
§3.10). The HTTP layer has checked `ids` and `id_type` and names each person by an `Ident`; the
membership is a set of segment ids on the person (`Person.segments`), so deleting a person ends it
and a merge hands it to the primary (lifecycle.py). Customer.io creates manual segments in its app;
the mock has no app, so every segment id names a manual segment that exists.
"""

from __future__ import annotations

from collections.abc import Sequence

from .people import Person
from .verb_io import Ident, Outcome, Recorder, StateError
from .workspace_data import WorkspaceBase

MAX_SEGMENT_ID = 2**31 - 1
"""Segment ids are int32 in Customer.io's OpenAPI."""


def segment_number(segment_id: int | str) -> int:
    """`segment_id` as the segment's integer id: an int, or a string of digits as a URL path holds it."""
    number = None
    if isinstance(segment_id, int) and not isinstance(segment_id, bool):
        number = segment_id
    elif isinstance(segment_id, str) and segment_id.isascii() and segment_id.isdigit():
        number = int(segment_id)
    if number is None or not 0 < number <= MAX_SEGMENT_ID:
        raise StateError(
            f"segment_id must be a whole number from 1 to {MAX_SEGMENT_ID} (a Customer.io segment id), "
            f"got {segment_id!r}"
        )
    return number


class SegmentVerbs(WorkspaceBase):
    def add_to_segment(self, segment_id: int | str, idents: Sequence[Ident], now: float) -> Outcome:
        """Add the people `idents` name to manual segment `segment_id`; nobody is created."""
        rec, segment, people = self._segment_people(segment_id, idents, now, "not added to")
        for person in people:
            if segment in person.segments:
                rec.note(f"{person} is already in segment {segment}: nothing changed")
                continue
            person.segments.add(segment)
            rec.change("added_to_segment", person=person.cio_id, segment=segment)
        return rec.outcome()

    def remove_from_segment(self, segment_id: int | str, idents: Sequence[Ident], now: float) -> Outcome:
        """Remove the people `idents` name from manual segment `segment_id`. As Customer.io documents,
        the API removes only people who have an `id`."""
        rec, segment, people = self._segment_people(segment_id, idents, now, "not removed from")
        for person in people:
            if segment not in person.segments:
                rec.note(f"{person} is not in segment {segment}: nothing removed")
                continue
            if person.id is None:
                rec.note(
                    f"{person} has no id, and the API removes only people who have one from a manual "
                    f"segment: not removed from segment {segment}"
                )
                continue
            person.segments.discard(segment)
            rec.change("removed_from_segment", person=person.cio_id, segment=segment)
        return rec.outcome()

    def _segment_people(
        self, segment_id: int | str, idents: Sequence[Ident], now: float, not_done: str
    ) -> tuple[Recorder, int, list[Person]]:
        """Begin a segment verb: its recorder, the segment's number, and the people `idents` name
        (each one who does not exist or is suppressed is noted and left out)."""
        rec = self._begin(now)
        segment = segment_number(segment_id)
        people = []
        for ident in _checked(idents):
            person = self._existing(ident, rec, f"ignored, {not_done} segment {segment}")
            if person is not None:
                people.append(person)
        return rec, segment, people


def _checked(idents: Sequence[Ident]) -> Sequence[Ident]:
    if isinstance(idents, str | bytes) or not isinstance(idents, Sequence):
        raise TypeError(f"idents must be a list of Ident, got {idents!r}")
    for index, ident in enumerate(idents):
        if not isinstance(ident, Ident):
            raise TypeError(f"idents[{index}] must be an Ident, got {ident!r}")
    return idents
