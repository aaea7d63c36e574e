"""Two configurations over the same events: what a config change changes (`cio-sandbox diff`).

Where it sits: under `cio-sandbox diff OLD NEW EVENTS`. The events are read once; each goes through
both configurations (`Replayer`, single mode) into two fresh in-process mocks on the same clock
(each event received at its `receivedAt`, else its `timestamp`, as `run` does). Per event and per
subscription (name and action), the requests of the two sides are paired in order:

- a request only NEW sends is *added*, one only OLD sends is *removed*;
- a pair whose method, URL or body differ is *changed*; the body is compared field by field
  (dotted paths, list items as `[i]`), and each changed field is counted with up to
  `EXAMPLES` example messageIds;
- a subscription that fails on an event with NEW and not with OLD *introduces* an error, the
  reverse *fixes* one (counted by error message).

At the end both mocks' states are normalised as `migrate` normalises them
(sandbox.classic.endstate: cio_ids, event ids and receipt times dropped) and compared: people and
objects whose attributes, events, devices, relationships or identifiers differ, or that exist on
one side only, counted per kind with examples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.classic.endstate import EndDifference, diff, normalise
from sandbox.replay.config import Config
from sandbox.replay.engine import EventClock, EventRecord, InProcessTarget, Replayer
from sandbox.replay.events import Located

JSON = Any
EXAMPLES = 3


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One body field that changed in `count` requests, with example messageIds."""

    field: str
    count: int
    examples: tuple[str, ...]

    def to_dict(self) -> dict[str, JSON]:
        return {"field": self.field, "count": self.count, "examples": list(self.examples)}


@dataclass(frozen=True, slots=True)
class ErrorChange:
    """Events on which a subscription fails with one side only: `message` is the error's."""

    message: str
    count: int
    examples: tuple[str, ...]

    def to_dict(self) -> dict[str, JSON]:
        return {"message": self.message, "count": self.count, "examples": list(self.examples)}


@dataclass(frozen=True, slots=True)
class SubscriptionDiff:
    """What changed for one subscription (name and action)."""

    subscription: str
    action: str
    same: int
    added: int
    removed: int
    changed: int
    added_examples: tuple[str, ...]
    removed_examples: tuple[str, ...]
    fields: tuple[FieldChange, ...]
    errors_introduced: tuple[ErrorChange, ...]
    errors_fixed: tuple[ErrorChange, ...]

    @property
    def differs(self) -> bool:
        return bool(self.added or self.removed or self.changed or self.errors_introduced or self.errors_fixed)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "subscription": self.subscription,
            "action": self.action,
            "requests": {
                "same": self.same,
                "added": self.added,
                "removed": self.removed,
                "changed": self.changed,
            },
            "added_examples": list(self.added_examples),
            "removed_examples": list(self.removed_examples),
            "changed_fields": [f.to_dict() for f in self.fields],
            "errors_introduced": [e.to_dict() for e in self.errors_introduced],
            "errors_fixed": [e.to_dict() for e in self.errors_fixed],
        }


@dataclass(frozen=True, slots=True)
class StateDiff:
    """People or objects (`kind`) differing in one respect (`aspect`: attributes, events, devices,
    relationships, identifiers, only in old, only in new): how many, and examples."""

    kind: str
    aspect: str
    count: int
    examples: tuple[EndDifference, ...]

    def to_dict(self) -> dict[str, JSON]:
        return {
            "kind": self.kind,
            "aspect": self.aspect,
            "count": self.count,
            "examples": [
                {"entity": e.entity, "field": e.field, "old": e.classic, "new": e.actions}
                for e in self.examples
            ],
        }


@dataclass(frozen=True, slots=True)
class ConfigDiff:
    """The whole report."""

    source: str
    old: str
    new: str
    events: int
    requests_old: int
    requests_new: int
    subscriptions: tuple[SubscriptionDiff, ...]
    state: tuple[StateDiff, ...]

    @property
    def equal(self) -> bool:
        return not self.state and not any(s.differs for s in self.subscriptions)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "source": self.source,
            "old": self.old,
            "new": self.new,
            "equal": self.equal,
            "events": self.events,
            "requests": {"old": self.requests_old, "new": self.requests_new},
            "subscriptions": [s.to_dict() for s in self.subscriptions],
            "state": [s.to_dict() for s in self.state],
        }


# -- accumulating ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Counted:
    """How often something happened over some events, with the first EXAMPLES distinct labels
    (messageIds) as (event index, label), by the index of the event each first appeared in.
    Counts over disjoint events merge (`merge_counted`) into the count over all of them."""

    count: int
    examples: tuple[tuple[int, str], ...]

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(label for _, label in self.examples)


def merge_counted(parts: Iterable[Counted]) -> Counted:
    """The Counted of the union of disjoint events. A label among the first EXAMPLES over all the
    events is among the first EXAMPLES of the part holding its first appearance (every label
    before it there is before it over all), with that event's index; any other label's index is
    at least its own first one, so after those."""
    count = 0
    first: dict[str, int] = {}
    for part in parts:
        count += part.count
        for index, label in part.examples:
            if index < first.get(label, index + 1):
                first[label] = index
    return Counted(count, tuple(sorted((index, label) for label, index in first.items())[:EXAMPLES]))


@dataclass
class _Counting:
    count: int = 0
    examples: list[tuple[int, str]] = field(default_factory=list)

    def add(self, index: int, label: str) -> None:
        self.count += 1
        if len(self.examples) < EXAMPLES and all(label != seen for _, seen in self.examples):
            self.examples.append((index, label))

    def freeze(self) -> Counted:
        return Counted(self.count, tuple(self.examples))


@dataclass(frozen=True, slots=True)
class Tally:
    """One subscription's (name and action) comparison over some events; tallies over disjoint
    events merge (`merge_compared`)."""

    subscription: str
    action: str
    same: int
    added: Counted
    removed: Counted
    changed: int
    fields: tuple[tuple[str, Counted], ...]
    introduced: tuple[tuple[str, Counted], ...]
    fixed: tuple[tuple[str, Counted], ...]

    def report(self) -> SubscriptionDiff:
        def changes(table: tuple[tuple[str, Counted], ...], kind: Any) -> tuple[Any, ...]:
            return tuple(kind(k, v.count, v.labels) for k, v in sorted(table))

        return SubscriptionDiff(
            self.subscription,
            self.action,
            self.same,
            self.added.count,
            self.removed.count,
            self.changed,
            self.added.labels,
            self.removed.labels,
            changes(self.fields, FieldChange),
            changes(self.introduced, ErrorChange),
            changes(self.fixed, ErrorChange),
        )


@dataclass(frozen=True, slots=True)
class Compared:
    """The request comparison over some events (all of them, or one partition's): how many events
    and requests (with old, with new), and each subscription's tally, in the order the configs
    list their subscriptions (old's, then new's others)."""

    events: int
    requests: tuple[int, int]
    tallies: tuple[Tally, ...]


def merge_compared(parts: Sequence[Compared]) -> Compared:
    """The comparison over the union of disjoint events, as one pass over all of them in input
    order gives it (the examples are the first by event index). The tallies keep their order:
    every part lists the configs' subscriptions in the same order, and a trace names no other
    (its subscription's name and partnerAction)."""
    grouped: dict[tuple[str, str], list[Tally]] = {}
    for part in parts:
        for tally in part.tallies:
            grouped.setdefault((tally.subscription, tally.action), []).append(tally)
    return Compared(
        sum(p.events for p in parts),
        (sum(p.requests[0] for p in parts), sum(p.requests[1] for p in parts)),
        tuple(_merged_tally(name, action, tallies) for (name, action), tallies in grouped.items()),
    )


def _merged_tally(name: str, action: str, tallies: Sequence[Tally]) -> Tally:
    def table(pick: Callable[[Tally], tuple[tuple[str, Counted], ...]]) -> tuple[tuple[str, Counted], ...]:
        rows: dict[str, list[Counted]] = {}
        for tally in tallies:
            for key, counted in pick(tally):
                rows.setdefault(key, []).append(counted)
        return tuple((key, merge_counted(counts)) for key, counts in rows.items())

    return Tally(
        name,
        action,
        sum(t.same for t in tallies),
        merge_counted(t.added for t in tallies),
        merge_counted(t.removed for t in tallies),
        sum(t.changed for t in tallies),
        table(lambda t: t.fields),
        table(lambda t: t.introduced),
        table(lambda t: t.fixed),
    )


@dataclass
class _SubTally:
    same: int = 0
    added: _Counting = field(default_factory=_Counting)
    removed: _Counting = field(default_factory=_Counting)
    changed: int = 0
    fields: dict[str, _Counting] = field(default_factory=dict)
    introduced: dict[str, _Counting] = field(default_factory=dict)
    fixed: dict[str, _Counting] = field(default_factory=dict)

    def freeze(self, name: str, action: str) -> Tally:
        def table(rows: dict[str, _Counting]) -> tuple[tuple[str, Counted], ...]:
            return tuple((key, counting.freeze()) for key, counting in rows.items())

        return Tally(
            name,
            action,
            self.same,
            self.added.freeze(),
            self.removed.freeze(),
            self.changed,
            table(self.fields),
            table(self.introduced),
            table(self.fixed),
        )


def _label(event: Mapping[str, JSON], index: int) -> str:
    message_id = event.get("messageId")
    return message_id if isinstance(message_id, str) and message_id else f"event {index}"


def changed_fields(old: JSON, new: JSON, path: str = "") -> list[str]:
    """The dotted paths where two JSON values differ (a whole value when their kinds differ).
    The law: empty exactly when old == new."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in list(old) + [k for k in new if k not in old]:
            where = f"{path}.{key}" if path else str(key)
            if key not in old or key not in new:
                out.append(where)
            else:
                out.extend(changed_fields(old[key], new[key], where))
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for position in range(max(len(old), len(new))):
            where = f"{path}[{position}]"
            if position >= len(old) or position >= len(new):
                out.append(where)
            else:
                out.extend(changed_fields(old[position], new[position], where))
        return out
    if old == new and type(old) is type(new):
        return []
    return [path or "(body)"]


@dataclass(frozen=True, slots=True)
class _Traced:
    """What the comparison reads of an event's record: the event, its index, its trace."""

    event: Mapping[str, JSON]
    index: int
    trace: Any


class Comparer:
    """The two configs' requests compared event by event (`compare`, in input order), tallied per
    subscription; `compared()` at the end. Every subscription of either config has its tally from
    the start, in the configs' order."""

    def __init__(self, old: Config, new: Config) -> None:
        self.tallies: dict[tuple[str, str], _SubTally] = {}
        self.events = 0
        self.requests = [0, 0]
        for sub in (*old.subscriptions, *new.subscriptions):
            self.tally(sub.name, sub.partnerAction)

    def tally(self, name: str, action: str) -> _SubTally:
        key = (name, action)
        found = self.tallies.get(key)
        if found is None:
            found = self.tallies[key] = _SubTally()
        return found

    def compared(self) -> Compared:
        tallies = tuple(t.freeze(name, action) for (name, action), t in self.tallies.items())
        return Compared(self.events, (self.requests[0], self.requests[1]), tallies)

    def compare(self, old: EventRecord | _Traced, new: EventRecord | _Traced) -> None:
        """One event's records (or traces) under old and new."""
        index = old.index
        label = _label(old.event, index)
        self.events += 1
        sides: dict[tuple[str, str], tuple[list[Any], list[Any], list[Any], list[Any]]] = {}
        for position, record in enumerate((old, new)):
            for sub in record.trace.subscriptions:
                key = (sub.subscription.name, sub.action)
                entry = sides.setdefault(key, ([], [], [], []))
                entry[position].extend(sub.requests)
                self.requests[position] += len(sub.requests)  # one delivery a request
                if sub.error is not None:
                    entry[2 + position].append(str(getattr(sub.error, "message", sub.error)))
        for (name, action), (left, right, old_errors, new_errors) in sides.items():
            tally = self.tally(name, action)
            for position in range(max(len(left), len(right))):
                if position >= len(left):
                    tally.added.add(index, label)
                elif position >= len(right):
                    tally.removed.add(index, label)
                else:
                    a, b = left[position], right[position]
                    paths = [] if a.method == b.method else ["method"]
                    if a.url != b.url:
                        paths.append("url")
                    paths.extend(changed_fields(a.body, b.body))
                    if not paths:
                        tally.same += 1
                        continue
                    tally.changed += 1
                    for path in paths:
                        tally.fields.setdefault(path, _Counting()).add(index, label)
            for message in new_errors:
                if message not in old_errors:
                    tally.introduced.setdefault(message, _Counting()).add(index, label)
            for message in old_errors:
                if message not in new_errors:
                    tally.fixed.setdefault(message, _Counting()).add(index, label)


def _aspect(difference: EndDifference) -> str:
    if not difference.field:
        return "only in old" if difference.actions is None else "only in new"
    return difference.field.split(".", 1)[0]


def state_differences(differences: Iterable[EndDifference]) -> tuple[StateDiff, ...]:
    """End-state differences grouped by kind (person, object, ...) and aspect, counting entities."""
    groups: dict[tuple[str, str], tuple[set[str], list[EndDifference]]] = {}
    for difference in differences:
        kind = (
            difference.entity.split(" ", 1)[0]
            if difference.entity.startswith(("person ", "object "))
            else (difference.entity)
        )
        entities, examples = groups.setdefault((kind, _aspect(difference)), (set(), []))
        if difference.entity not in entities and len(examples) < EXAMPLES:
            examples.append(difference)
        entities.add(difference.entity)
    return tuple(
        StateDiff(kind, aspect, len(entities), tuple(examples))
        for (kind, aspect), (entities, examples) in sorted(groups.items())
    )


def compare_configs(
    events: Iterable[Located | Mapping[str, JSON]],
    old: Config,
    new: Config,
    *,
    source: str = "events",
    names: tuple[str, str] = ("old", "new"),
) -> ConfigDiff:
    """Replay `events` once through both configs into two fresh mocks and compare (see the module)."""
    targets = (InProcessTarget(journal_on_disk=True), InProcessTarget(journal_on_disk=True))
    try:
        replayers = [
            Replayer(c, t, clock="mock", explain=False) for c, t in zip((old, new), targets, strict=True)
        ]
        clock = EventClock()
        last: float | None = None
        comparer = Comparer(old, new)
        for index, item in enumerate(events):
            event, where = (item.event, item.where) if isinstance(item, Located) else (dict(item), None)
            at = clock.time_for(event)
            if at != last:
                for target in targets:
                    target.set_clock(at)
                last = at
            records = [r.replay(event, index=index, now=at, where=where) for r in replayers]
            comparer.compare(records[0], records[1])
        states = [normalise(t.mock.snapshot(), t.mock.anonymous_events()) for t in targets]
    finally:
        for target in targets:
            target.close()
    return report(comparer.compared(), states, source, names)


def report(compared: Compared, states: Sequence[Any], source: str, names: tuple[str, str]) -> ConfigDiff:
    """The report of a comparison and the two normalised end states (old's, new's)."""
    return ConfigDiff(
        source,
        names[0],
        names[1],
        compared.events,
        compared.requests[0],
        compared.requests[1],
        tuple(t.report() for t in compared.tallies),
        state_differences(diff(states[0], states[1])),
    )


def merged_state(merged: Any) -> Any:
    """A partitioned replay's merged end state (sandbox.replay.partitioned.Merged), normalised as
    one mock's is."""
    from sandbox.replay.partitioned import snapshot_of

    return normalise(snapshot_of(merged), list(merged.state["anonymous_events"]))


def compare_partitioned(
    events: Iterable[Located],
    old: Config,
    new: Config,
    *,
    partitions: int,
    runner: Any = None,
    source: str = "events",
    names: tuple[str, str] = ("old", "new"),
) -> ConfigDiff:
    """`compare_configs` with the events partitioned by identity in the driver (standard input:
    sandbox.replay.partitioned; the keys of both configs' requests join): the requests are
    compared in the driver's pass (they do not depend on the mock), each config replays the same
    partitions, and the merged end states are compared. The report equals `compare_configs`'s.
    Files take sandbox.replay.diffparts instead (the driver never holds the events)."""
    from sandbox.replay import partitioned

    for config in (old, new):
        partitioned.check(config, batch=False)
    comparer = Comparer(old, new)

    def observe(index: int, event: Any, traces: list[Any]) -> None:
        comparer.compare(_Traced(event, index, traces[0]), _Traced(event, index, traces[1]))

    merged = partitioned.replay_each(
        events, (old, new), partitions, runner or partitioned.in_process, observe=observe, lines=False
    )
    return report(comparer.compared(), [merged_state(m) for m in merged], source, names)
