"""The classes of difference between the classic and the Actions destination, and which one an
event's difference belongs to.

Where it sits: `report.py` counts and shows them; `compare.py` gives the two stories. An event
differs when the two mocks' rewritten state changes (effects.py) are not the same multiset; it is
then put in ONE class, the first of `CLASSES` whose rule fits (so counts add up to the events that
differ). Identical effects give no difference, whatever the requests looked like.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from sandbox.classic.compare import EventPair
from sandbox.classic.effects import Effect, Names, decode, effects

JSON = Any


@dataclass(frozen=True, slots=True)
class DifferenceClass:
    key: str
    title: str
    what: str
    """What changes when moving to Actions, in a sentence (shown in the report)."""


CLASSES: Final = (
    DifferenceClass(
        "alias_merge",
        "alias and merge",
        "classic has no alias handler; Actions merges the previousId's person into the userId's "
        "(Merge People, POST /api/v2/entity action merge)",
    ),
    DifferenceClass(
        "anonymous",
        "anonymous events",
        "classic drops every event without a userId; Actions stores them by anonymous_id and "
        "merges them into the person an identify names within 30 days (and carries anonymous_id "
        "in event data)",
    ),
    DifferenceClass(
        "deletes_suppressions",
        "deletes and suppressions",
        "classic sends User Deleted / Suppressed / Unsuppressed as plain custom events; Actions "
        "deletes, suppresses and unsuppresses the person (and a suppressed person's later calls "
        "are ignored)",
    ),
    DifferenceClass(
        "devices",
        "devices",
        "both add the device named by context.device.token for Application Installed / Opened "
        "and remove it on Uninstalled; Actions also stores the properties and app version as "
        "device attributes and records no custom event for these, classic adds the bare device "
        "and records the event as well",
    ),
    DifferenceClass(
        "group_objects",
        "group → objects",
        "classic writes group traits onto the person as `Group <trait>` attributes; Actions "
        "creates an object and a relationship to the person",
    ),
    DifferenceClass(
        "page_screen",
        "page and screen naming",
        "classic first sets `_last_visit` on the person, names screens `Viewed <name> Screen` "
        "and moves the page's url out of its data; Actions sends `page`/`screen` events named by "
        "the url / screen name with the properties as they are",
    ),
    DifferenceClass(
        "event_ids",
        "event ids and deduplication",
        "classic sends no event id, so a repeated messageId is stored twice; Actions sends the "
        "messageId as the event id and Customer.io ignores the repeat",
    ),
    DifferenceClass(
        "timestamps",
        "timestamps and created_at",
        "classic renames `created`/`createdAt` to `created_at` and converts every ISO-looking "
        "date (date-only, space-separated) to Unix seconds; Actions converts only strict "
        "ISO-8601 strings (Convert Timestamps) and keeps `created` as it is",
    ),
    DifferenceClass(
        "metrics",
        "delivery and content metrics",
        "classic records Report Delivery Event / Report Content Event as custom events on the "
        "person; Actions reports them as delivery metrics and content events, not person events",
    ),
    DifferenceClass("other", "other differences", "a difference none of the classes above explains"),
)
BY_KEY: Final = {c.key: c for c in CLASSES}

LIFECYCLE_EVENTS: Final = ("User Deleted", "User Suppressed", "User Unsuppressed")
DEVICE_EVENTS: Final = (
    "Application Installed",
    "Application Opened",
    "Application Uninstalled",
    "Device Created or Updated",
    "Device Deleted",
)
OBJECT_EVENTS: Final = ("Object Deleted", "Relationship Deleted", "Group Deleted")
METRIC_EVENTS: Final = ("Report Delivery Event", "Report Content Event")
_CREATED: Final = frozenset(("created", "created_at", "createdAt"))


@dataclass(frozen=True, slots=True)
class EventDifference:
    """One event whose two stories differ: its class, the people it touches, the effects only
    one side had."""

    index: int
    message_id: str | None
    klass: str
    people: tuple[str, ...]
    only_classic: tuple[Effect, ...]
    only_actions: tuple[Effect, ...]


class Classifier:
    """Compares event pairs in order (it remembers message ids seen and people removed)."""

    def __init__(self, classic_names: Names, actions_names: Names) -> None:
        self.classic_names = classic_names
        self.actions_names = actions_names
        self._seen_ids: set[str] = set()
        self._removed: set[str] = set()

    def compare(self, pair: EventPair) -> EventDifference | None:
        classic = [
            e for d in pair.classic_deliveries for e in effects(d.changes, self.classic_names, d.request.body)
        ]
        actions = [
            e for d in pair.actions.deliveries for e in effects(d.changes, self.actions_names, d.request.body)
        ]
        repeated = pair.message_id is not None and pair.message_id in self._seen_ids
        if pair.message_id is not None:
            self._seen_ids.add(pair.message_id)
        only_c = Counter(classic) - Counter(actions)
        only_a = Counter(actions) - Counter(classic)
        if not only_c and not only_a:
            return None
        left = tuple(sorted(only_c.elements()))
        right = tuple(sorted(only_a.elements()))
        decoded = [decode(e) for e in (*left, *right)]
        people = _people(pair.event, decoded)
        klass = self._klass(pair, decoded, left, right, repeated, people)
        for change in decoded:
            if change.get("kind") == "person_deleted" and isinstance(change.get("person"), str):
                self._removed.add(change["person"])
        return EventDifference(pair.index, pair.message_id, klass, people, left, right)

    def _klass(
        self,
        pair: EventPair,
        decoded: list[dict[str, JSON]],
        left: tuple[Effect, ...],
        right: tuple[Effect, ...],
        repeated: bool,
        people: tuple[str, ...],
    ) -> str:
        event = pair.event
        kind = event.get("type")
        name = event.get("event")
        kinds = {str(c.get("kind")) for c in decoded}
        notes = " ".join(n for d in pair.actions.deliveries for n in d.notes)
        reasons = {c.get("reason") for c in decoded if c.get("kind") == "person_deleted"}
        if kind == "alias" or "merge" in reasons:
            return "alias_merge"
        if (
            pair.classic.dropped is not None
            and kind != "alias"
            or kinds
            & {
                "anonymous_event_stored",
                "anonymous_id_claimed",
                "events_merged",
                "anonymous_events_expired",
            }
        ):
            return "anonymous"
        if (
            name in LIFECYCLE_EVENTS
            or kinds & {"identifiers_suppressed", "identifiers_unsuppressed"}
            or reasons & {"delete", "suppress"}
            or "is suppressed" in notes
            or any(p in self._removed for p in people)
        ):
            return "deletes_suppressions"
        if name in DEVICE_EVENTS or any(k.startswith("device_") for k in kinds):
            return "devices"
        if name in METRIC_EVENTS or any(k.startswith("metric") for k in kinds):
            return "metrics"
        if (
            kind == "group"
            or name in OBJECT_EVENTS
            or any(k.startswith(("object_", "relationship")) for k in kinds)
        ):
            return "group_objects"
        if kind in ("page", "screen"):
            return "page_screen"
        if repeated or "already seen" in notes:
            return "event_ids"
        if event.get("anonymousId") and _only_anonymous_id(left, right):
            return "anonymous"
        if _dates_differ(left, right):
            return "timestamps"
        return "other"


def _people(event: Mapping[str, JSON], decoded: Iterable[Mapping[str, JSON]]) -> tuple[str, ...]:
    found: list[str] = []
    for change in decoded:
        person = change.get("person")
        if isinstance(person, str) and person not in found:
            found.append(person)
        anonymous = change.get("anonymous_id")
        if isinstance(anonymous, str) and not found:
            found.append(f"anonymous:{anonymous}")
    if not found:
        if event.get("userId"):
            found.append(f"id:{event['userId']}")
        elif event.get("anonymousId"):
            found.append(f"anonymous:{event['anonymousId']}")
    return tuple(found)


def _pairs(
    left: tuple[Effect, ...], right: tuple[Effect, ...]
) -> list[tuple[dict[str, JSON], dict[str, JSON]]]:
    """Effects of the same kind, person and name on the two sides, side by side."""
    keyed: dict[tuple[Any, ...], dict[str, JSON]] = {}
    for effect in left:
        change = decode(effect)
        keyed[(change.get("kind"), change.get("person"), change.get("name"))] = change
    out = []
    for effect in right:
        change = decode(effect)
        other = keyed.get((change.get("kind"), change.get("person"), change.get("name")))
        if other is not None:
            out.append((other, change))
    return out


def _only_anonymous_id(left: tuple[Effect, ...], right: tuple[Effect, ...]) -> bool:
    pairs = _pairs(left, right)
    if not pairs or len(pairs) != max(len(left), len(right)):
        return False
    for a, b in pairs:
        da = dict(a.get("data") or {})
        db = dict(b.get("data") or {})
        da.pop("anonymous_id", None)
        db.pop("anonymous_id", None)
        if {**a, "data": da} != {**b, "data": db}:
            return False
    return True


def _dates_differ(left: tuple[Effect, ...], right: tuple[Effect, ...]) -> bool:
    """An attribute of the `created` family on either side, or a value that is seconds on one
    side and a string on the other."""
    for effect in (*left, *right):
        change = decode(effect)
        if change.get("kind") in ("attribute_set", "attribute_removed") and change.get("name") in _CREATED:
            return True
    return any(_date_like(a, b) for a, b in _pairs(left, right))


def _date_like(a: JSON, b: JSON) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return any(_date_like(a.get(k), b.get(k)) for k in set(a) | set(b))
    if isinstance(a, list) and isinstance(b, list):
        return any(_date_like(x, y) for x, y in zip(a, b, strict=False))
    numbers = (int, float)
    return (isinstance(a, numbers) and isinstance(b, str)) or (isinstance(a, str) and isinstance(b, numbers))
