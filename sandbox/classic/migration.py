"""`migrate`: events through both destinations, the differences sorted into classes, the end states.

Where it sits: `cio-sandbox migrate` (sandbox/commands/migrate.py) calls `migrate(events, config)`
and renders the `MigrationReport` with `sandbox.classic.report`. The events stream through
(`Comparison.step` per event); only the tallies, a few examples per class and the two mocks'
state are kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.classic.compare import Comparison, EventPair
from sandbox.classic.differences import BY_KEY, CLASSES, Classifier, DifferenceClass, EventDifference
from sandbox.classic.effects import Names, decode
from sandbox.classic.endstate import EndDifference, diff, normalise, person_state
from sandbox.replay.config import Config
from sandbox.replay.events import Located

JSON = Any

NORMALISED = (
    "people are matched by id (else email) and objects by type/id: cio_ids differ between the mocks",
    "event ids are left out: the classic destination sends none (a repeated messageId still shows, "
    "as an event stored twice)",
    "receipt times, expiry times and per-attribute update times are left out",
    "credentials and request headers are left out of the examples",
)


@dataclass(frozen=True, slots=True)
class Example:
    """One event of a class: both sides' requests and the person views after it."""

    index: int
    message_id: str | None
    event: Mapping[str, JSON]
    person: str | None
    classic: tuple[dict[str, JSON], ...]
    classic_dropped: str | None
    actions: tuple[dict[str, JSON], ...]
    actions_refused: tuple[dict[str, JSON], ...]
    views: dict[str, JSON]
    only_classic: tuple[JSON, ...]
    only_actions: tuple[JSON, ...]

    def to_dict(self) -> dict[str, JSON]:
        return {
            "index": self.index,
            "messageId": self.message_id,
            "event": dict(self.event),
            "person": self.person,
            "classic": {"requests": list(self.classic), "dropped": self.classic_dropped},
            "actions": {"requests": list(self.actions), "refused": list(self.actions_refused)},
            "views": self.views,
            "only_classic": list(self.only_classic),
            "only_actions": list(self.only_actions),
        }


@dataclass(frozen=True, slots=True)
class ClassTally:
    """One difference class in a report: how many events differ in it, the people they touch,
    their messageIds and the first few as examples."""

    klass: DifferenceClass
    events: int
    people: tuple[str, ...]
    message_ids: tuple[str, ...]
    examples: tuple[Example, ...]

    def to_dict(self) -> dict[str, JSON]:
        return {
            "class": self.klass.key,
            "title": self.klass.title,
            "what": self.klass.what,
            "events": self.events,
            "people": len(self.people),
            "people_ids": list(self.people),
            "message_ids": list(self.message_ids),
            "examples": [e.to_dict() for e in self.examples],
        }


@dataclass(frozen=True, slots=True)
class MigrationReport:
    source: str
    events: int
    identical: int
    classes: tuple[ClassTally, ...]
    end: tuple[EndDifference, ...]
    people: dict[str, int]
    requests: dict[str, int]

    @property
    def equal(self) -> bool:
        """The two mocks end in the same (normalised) state."""
        return not self.end

    @property
    def differing(self) -> int:
        return self.events - self.identical

    def to_dict(self) -> dict[str, JSON]:
        return {
            "source": self.source,
            "events": self.events,
            "identical_events": self.identical,
            "differing_events": self.differing,
            "requests": self.requests,
            "people": self.people,
            "classes": [c.to_dict() for c in self.classes],
            "end_state": {"equal": self.equal, "differences": [d.to_dict() for d in self.end]},
            "normalised": list(NORMALISED),
        }


def migrate(
    events: Iterable[Located | Mapping[str, JSON]],
    config: Config,
    *,
    source: str = "events",
    examples: int = 1,
) -> MigrationReport:
    """Replay `events` through the classic model and the Actions destination (`config`'s
    subscriptions, single mode) into two fresh mocks and compare what each event did and what the
    mocks hold at the end."""
    comparison = Comparison(config, journal_on_disk=True)
    try:
        classifier = Classifier(
            Names(lambda cio: comparison.person("classic", f"cio_{cio}")),
            Names(lambda cio: comparison.person("actions", f"cio_{cio}")),
        )
        tallies = {c.key: _Tally() for c in CLASSES}
        count = identical = 0
        requests = {"classic": 0, "actions": 0}
        for index, item in enumerate(events):
            if isinstance(item, Located):
                pair = comparison.step(item.event, index, item.where)
            else:
                pair = comparison.step(item, index)
            count += 1
            requests["classic"] += len(pair.classic_deliveries)
            requests["actions"] += len(pair.actions.deliveries)
            found = classifier.compare(pair)
            if found is None:
                identical += 1
                continue
            tally = tallies[found.klass]
            tally.events += 1
            for person in found.people:
                if person not in tally.people:
                    tally.people.append(person)
            if found.message_id is not None:
                tally.message_ids.append(found.message_id)
            if len(tally.examples) < examples:
                tally.examples.append(_example(pair, found, comparison))
        classic_snapshot, actions_snapshot = comparison.snapshots()
        classic_state = normalise(classic_snapshot, comparison.classic_target.mock.anonymous_events())
        actions_state = normalise(actions_snapshot, comparison.actions_target.mock.anonymous_events())
        end = tuple(diff(classic_state, actions_state))
    finally:
        comparison.close()
    return MigrationReport(
        source,
        count,
        identical,
        tuple(
            ClassTally(BY_KEY[key], t.events, tuple(t.people), tuple(t.message_ids), tuple(t.examples))
            for key, t in tallies.items()
            if t.events
        ),
        end,
        {"classic": len(classic_state["people"]), "actions": len(actions_state["people"])},
        requests,
    )


@dataclass(slots=True)
class _Tally:
    """A class's counts while the events stream through."""

    events: int = 0
    people: list[str] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)


def story(pair: EventPair) -> dict[str, JSON]:
    """Both sides' requests for one event, as the report and the inspector show them."""
    classic = tuple(
        {
            "kind": d.kind,
            "method": d.request.method,
            "url": d.request.url,
            "body": d.request.body,
            "status": d.answer.status,
            "outcome": d.outcome,
            "notes": list(d.notes),
        }
        for d in pair.classic_deliveries
    )
    actions = tuple(
        {
            "subscription": d.subscription,
            "action": d.action,
            "method": d.request.method,
            "url": d.request.url,
            "body": d.request.body,
            "status": d.status,
            "outcome": d.outcome,
            "notes": list(d.notes),
        }
        for d in pair.actions.deliveries
    )
    refused = tuple(
        {"subscription": i.subscription, "action": i.action, "error": str(i.error)}
        for i in pair.actions.invalid
    )
    return {"classic": classic, "dropped": pair.classic.dropped, "actions": actions, "refused": refused}


def views_after(comparison: Comparison, person: str | None) -> dict[str, JSON]:
    """The person's view in each mock now (normalised as the end state is); for an anonymous id,
    the anonymous events each mock holds for it."""
    if person is None:
        return {"classic": None, "actions": None}
    kind, _, value = person.partition(":")
    if kind == "anonymous":
        out: dict[str, JSON] = {}
        for side, target in (("classic", comparison.classic_target), ("actions", comparison.actions_target)):
            held = [e for e in target.mock.anonymous_events() if e.get("anonymous_id") == value]
            out[side] = {
                "anonymous_events": [
                    {k: e.get(k) for k in ("name", "type", "timestamp", "data")} for e in held
                ]
            }
        return out
    views: dict[str, JSON] = {}
    for side in ("classic", "actions"):
        found = comparison.person(side, value)
        views[side] = person_state(found) if found is not None else None
    return views


def _example(pair: EventPair, found: EventDifference, comparison: Comparison) -> Example:
    told = story(pair)
    person = found.people[0] if found.people else None
    return Example(
        pair.index,
        pair.message_id,
        pair.event,
        person,
        told["classic"],
        told["dropped"],
        told["actions"],
        told["refused"],
        views_after(comparison, person),
        tuple(_decoded(found.only_classic)),
        tuple(_decoded(found.only_actions)),
    )


def _decoded(effects: tuple[str, ...]) -> list[JSON]:
    return [decode(e) for e in effects]


__all__ = ["ClassTally", "Example", "MigrationReport", "migrate", "story", "views_after"]
