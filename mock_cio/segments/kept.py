"""`Kept`: what the segment engine keeps of one person between evaluations, in one object.

An evaluation reads and writes all of it: the person's event index (compiled.py's `EventIndex`;
a `Kept` is one), the data-driven segments they are in, how many of their events were looked at
for campaign triggers, and their time boundaries. Kept in one object it is one look-up per
evaluation and one place in memory; kept in one dict per field (as it was) each field was a look-up
in a dict of every person, and on a large replay each of those missed the processor's caches
(bench/segments.py: 5,000 people, the engine's evaluations of one person far apart).
"""

from __future__ import annotations

from collections.abc import Set

from mock_cio.state.people import PersonEvent

from .compiled import EventIndex

_NONE: frozenset[int] = frozenset()


class Kept(EventIndex):
    __slots__ = ("inside", "looked_at", "bounds", "due_at")

    def __init__(self, events: list[PersonEvent]) -> None:
        super().__init__(events)
        self.inside: set[int] | None = None
        """The data-driven segments the person is in (None: never evaluated)."""
        self.looked_at: int | None = None
        """How many of the person's events were already looked at for triggers (None: not set)."""
        self.bounds: list[float] | None = None
        """For each time-dependent rule (`Automation._leaves`), its next boundary after the latest
        time it was computed at (inf: none; -inf: not computed)."""
        self.due_at: float | None = None
        """The person's entry in the engine's heap of due times (None: none)."""

    def segments(self) -> Set[int]:
        """`inside`, empty when never evaluated."""
        return _NONE if self.inside is None else self.inside
