"""The summary of a replay: what `cio-sandbox run` prints at the end, as text or JSON.

It sits after the replay engine: `Summary.add` takes each record as it comes (records are not
kept, so memory does not grow with the input), and `Summary.finish` reads the mock's end state
(people, objects, anonymous events still pending) once the last event is in.

Counts come from the journal entries the mock wrote for each request: its outcome (accepted,
partial, rejected), its reasons, and its state changes (`mock_cio.state`'s change vocabulary:
`person_created`, `events_merged`, `anonymous_events_expired`, ...).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.js.values import JSON

MAX_REASONS = 20
"""Distinct reasons kept per list; the rest are counted under OTHER."""
MAX_INDEXES = 10
"""Event indexes kept per distinct validation error (the first ones), for `--json`."""
OTHER = "(other reasons)"

# change kind -> the label the summary gives it, in display order
CHANGE_LABELS = {
    "person_created": "people created",
    "person_deleted": "people deleted",
    "people_merged": "people merged",
    "identifiers_suppressed": "suppressions",
    "identifiers_unsuppressed": "unsuppressions",
    "event_added": "events added to people",
    "anonymous_event_stored": "anonymous events stored",
    "anonymous_id_claimed": "anonymous ids claimed",
    "device_added": "devices added",
    "device_deleted": "devices removed",
    "object_created": "objects created",
    "object_deleted": "objects deleted",
    "relationship_added": "relationships added",
    "relationship_removed": "relationships removed",
    "metric_recorded": "delivery metrics",
}


@dataclass(slots=True)
class Summary:
    """Running totals of a replay. `source` and `target` describe the run for the header."""

    source: str = ""
    target: str = ""
    batch: bool = False
    subscriptions: tuple[tuple[str, str], ...] = ()  # (name, action) of each configured subscription
    events: int = 0
    matched: int = 0
    requests: Counter[str] = field(default_factory=Counter)  # by action
    outcomes: Counter[str] = field(default_factory=Counter)  # accepted / partial / rejected
    rejections: Counter[str] = field(default_factory=Counter)  # "action: HTTP 400: reason"
    invalid: Counter[str] = field(default_factory=Counter)  # "subscription: message"
    invalid_total: int = 0
    invalid_at: dict[str, list[int]] = field(default_factory=dict)  # error -> first event indexes
    sub_matched: Counter[str] = field(default_factory=Counter)  # events matched, by subscription
    sub_requests: Counter[str] = field(default_factory=Counter)  # requests sent, by subscription
    sub_invalid: Counter[str] = field(default_factory=Counter)  # payloads refused, by subscription
    changes: Counter[str] = field(default_factory=Counter)
    merged: int = 0  # anonymous events merged into people
    expired: int = 0  # anonymous events dropped after 30 days unclaimed
    end: dict[str, int] | None = None
    automation: dict[str, JSON] | None = None
    """`segments` (members per id), `campaigns` (entries per id), `warnings` (sentences): the mock's."""

    # adding up

    def add(self, record: Any) -> None:
        """Count one record of `Replayer.run` (an EventRecord, or a BatchWindow in batch mode)."""
        if hasattr(record, "records"):  # a batch window
            self.events += record.events
            self.matched += record.matched
            for part in record.records:
                self.sub_matched[part.subscription] += len(part.event_indexes)
        else:
            matched = [sub.subscription.name for sub in record.trace.subscriptions if sub.matched]
            self.add_event(matched, record.deliveries, record.invalid)
            return
        for delivery in record.deliveries:
            self.add_delivery(delivery)
        for invalid in record.invalid:
            self.add_invalid(invalid)

    def add_event(self, matched: list[str], deliveries: Any, invalid: Any) -> None:
        """Count one event of single mode: the names of the subscriptions it matched, its
        deliveries and refused payloads (`Invalid`s, or anything with subscription, message and
        event_index)."""
        self.events += 1
        if matched:
            self.matched += 1
        for name in matched:
            self.sub_matched[name] += 1
        for delivery in deliveries:
            self.add_delivery(delivery)
        for item in invalid:
            self.add_invalid(item)

    def add_invalid(self, invalid: Any) -> None:
        self.invalid_total += 1
        self.sub_invalid[invalid.subscription] += 1
        key = f"{invalid.subscription}: {invalid.message}"
        self._bump(self.invalid, key)
        at = self.invalid_at.setdefault(key if key in self.invalid else OTHER, [])
        if len(at) < MAX_INDEXES:
            at.append(invalid.event_index)

    def add_delivery(self, delivery: Any) -> None:
        self.requests[delivery.action] += 1
        self.sub_requests[delivery.subscription] += 1
        outcome = delivery.outcome
        self.outcomes[outcome] += 1
        if outcome != "accepted":
            reasons = delivery.reasons or (f"HTTP {delivery.status}",)
            for reason in reasons:
                self._bump(self.rejections, f"{delivery.action}: {delivery.status}: {reason}")
        for change in delivery.changes:
            kind = change.get("kind")
            if not isinstance(kind, str):
                continue
            self.changes[kind] += 1
            if kind == "person_deleted":
                self.changes[f"person_deleted:{change.get('reason', 'delete')}"] += 1
            elif kind == "events_merged":
                self.merged += _count(change)
            elif kind == "anonymous_events_expired":
                self.expired += _count(change)

    def _bump(self, counter: Counter[str], key: str, count: int = 1) -> None:
        """Count `key` in a list of reasons: the first MAX_REASONS distinct ones are kept, the
        rest counted under OTHER."""
        if key in counter or len(counter) < MAX_REASONS:
            counter[key] += count
        else:
            counter[OTHER] += count

    def add_parts(self, parts: list[PartSummary], rename: list[Any]) -> None:
        """Add the summaries of partitions of one replay (each event in exactly one), as if their
        events had been added here one by one in input order. `rename[p]` maps partition p's
        reason texts (the cio_ids they mention) to the sequential replay's."""
        for part in parts:
            self.events += part.events
            self.matched += part.matched
            self.invalid_total += part.invalid_total
            self.merged += part.merged
            self.expired += part.expired
            for mine, theirs in (
                (self.requests, part.requests),
                (self.outcomes, part.outcomes),
                (self.sub_matched, part.sub_matched),
                (self.sub_requests, part.sub_requests),
                (self.sub_invalid, part.sub_invalid),
                (self.changes, part.changes),
            ):
                mine.update(theirs)
        # the reason lists depend on the order in which reasons first appeared: replay that order
        rejections: dict[str, list[Any]] = {}
        for p, part in enumerate(parts):
            for key, count in part.rejections.items():
                key_here = rename[p](key)
                first = part.first_seen["rejection", key]
                seen = rejections.setdefault(key_here, [first, 0])
                seen[0] = min(seen[0], first)
                seen[1] += count
        for key, (_, count) in sorted(rejections.items(), key=lambda item: item[1][0]):
            self._bump(self.rejections, key, count)
        invalid: dict[str, list[Any]] = {}
        for part in parts:
            for key, count in part.invalid.items():
                first = part.first_seen["invalid", key]
                seen = invalid.setdefault(key, [first, 0, []])
                seen[0] = min(seen[0], first)
                seen[1] += count
                seen[2].extend(part.invalid_at[key])
        for key, (_, count, indexes) in sorted(invalid.items(), key=lambda item: item[1][0]):
            self._bump(self.invalid, key, count)
            at = self.invalid_at.setdefault(key if key in self.invalid else OTHER, [])
            at[:] = sorted(at + indexes)[:MAX_INDEXES]

    def finish(self, target: Any) -> None:
        """Read the mock's end state: how many people, objects, suppressed identifiers and pending
        anonymous events there are now (summed over workspaces)."""
        end = {"people": 0, "objects": 0, "anonymous_events": 0, "suppressed": 0}
        workspaces = target.workspaces()
        if workspaces:
            for ws in workspaces:
                for key in end:
                    value = ws.get(key)
                    end[key] += len(value) if isinstance(value, list) else int(value or 0)
        else:
            views = target.views()
            end["people"] = len(views.get("people") or ())
            end["objects"] = len(views.get("objects") or ())
            end["anonymous_events"] = len(views.get("anonymous_events") or ())
        self.end = end
        reader = getattr(target, "automation", None)
        self.automation = reader() if reader is not None else None

    # verdicts

    @property
    def sent(self) -> int:
        return sum(self.requests.values())

    @property
    def rejected(self) -> int:
        """Requests the mock did not fully accept (rejected, or a batch with rejected items)."""
        return self.outcomes["rejected"] + self.outcomes["partial"]

    @property
    def unmatched_subscriptions(self) -> list[tuple[str, str]]:
        """The configured subscriptions (name, action) that matched no event of the run."""
        return [(name, action) for name, action in self.subscriptions if not self.sub_matched[name]]

    def by_subscription(self) -> list[dict[str, JSON]]:
        """Per configured subscription, in config order: events matched, requests sent, payloads refused."""
        return [
            {
                "name": name,
                "action": action,
                "matched": self.sub_matched[name],
                "requests": self.sub_requests[name],
                "invalid": self.sub_invalid[name],
            }
            for name, action in self.subscriptions
        ]

    @property
    def failed(self) -> bool:
        """What `--fail-on-rejection` fails on: a request the mock rejected (wholly or in part), or a
        payload the destination refused before sending (Segment drops those events too)."""
        return self.rejected > 0 or self.invalid_total > 0

    # output

    def to_dict(self) -> dict[str, JSON]:
        return {
            "source": self.source,
            "target": self.target,
            "mode": "batch" if self.batch else "single",
            "events": {"read": self.events, "matched": self.matched, "unmatched": self.events - self.matched},
            "requests": {
                "sent": self.sent,
                "by_action": dict(sorted(self.requests.items())),
                "accepted": self.outcomes["accepted"],
                "partial": self.outcomes["partial"],
                "rejected": self.outcomes["rejected"],
                "rejections": [{"reason": r, "count": n} for r, n in _ranked(self.rejections)],
            },
            "invalid": {
                "count": self.invalid_total,
                "errors": [
                    {"error": e, "count": n, "event_indexes": list(self.invalid_at.get(e, ()))}
                    for e, n in _ranked(self.invalid)
                ],
            },
            "subscriptions": self.by_subscription(),
            "mock": {
                "changes": dict(sorted(self.changes.items())),
                "people_created": self.changes["person_created"],
                "objects_created": self.changes["object_created"],
                "anonymous_events_merged": self.merged,
                "anonymous_events_expired": self.expired,
                "end": self.end,
            },
            "segments": dict((self.automation or {}).get("segments") or {}),
            "campaigns": dict((self.automation or {}).get("campaigns") or {}),
            "warnings": list((self.automation or {}).get("warnings") or []),
            "failed": self.failed,
        }

    def render(self) -> str:
        """The summary as a few aligned lines for a terminal."""
        lines: list[str] = []
        head = f"{_n(self.events)} event{'s' if self.events != 1 else ''}"
        if self.source:
            head += f" from {self.source}"
        head += f" → {self.target or 'mock'} ({'batch' if self.batch else 'single'} mode)"
        lines.append(head)
        unmatched = self.events - self.matched
        lines.append(
            _row("events", f"{_n(self.matched)} matched a subscription · {_n(unmatched)} matched none")
        )
        sent = (
            f"{_n(self.sent)} sent: {_n(self.outcomes['accepted'])} accepted"
            f" · {_n(self.outcomes['rejected'])} rejected"
        )
        if self.outcomes["partial"]:
            sent += f" · {_n(self.outcomes['partial'])} partly rejected (207)"
        lines.append(_row("requests", sent))
        if self.requests:
            by_action = " · ".join(
                f"{a} {_n(n)}" for a, n in sorted(self.requests.items(), key=lambda x: (-x[1], x[0]))
            )
            lines.append(_row("", by_action))
        unmatched_subs = self.unmatched_subscriptions
        if unmatched_subs:
            fired = len(self.subscriptions) - len(unmatched_subs)
            lines.append(
                _row(
                    "unmatched",
                    f"{fired} of {len(self.subscriptions)} subscriptions matched an event; none for:",
                )
            )
            lines.append(_row("", " · ".join(f"{name} ({action})" for name, action in unmatched_subs)))
        if self.rejections:
            lines.append(_row("rejected", "by the mock:"))
            lines.extend(_row("", f"{_n(n)}× {r}") for r, n in _ranked(self.rejections))
        if self.invalid_total:
            lines.append(
                _row("refused", f"{_n(self.invalid_total)} payload(s) failed the destination's validation:")
            )
            lines.extend(_row("", f"{_n(n)}× {e}") for e, n in _ranked(self.invalid))
        lines.append(_row("people", self._people()))
        anonymous = f"{_n(self.changes['anonymous_event_stored'])} stored · {_n(self.merged)} merged"
        if self.end is not None:
            anonymous += f" · {_n(self.end['anonymous_events'])} pending"
        anonymous += f" · {_n(self.expired)} expired"
        lines.append(_row("anonymous", anonymous))
        objects = f"{_n(self.changes['object_created'])} created"
        if self.end is not None:
            objects += f" ({_n(self.end['objects'])} now)"
        if self.changes["relationship_added"]:
            objects += f" · {_n(self.changes['relationship_added'])} relationships added"
        lines.append(_row("objects", objects))
        other = [
            f"{_n(self.changes[k])} {label}"
            for k, label in CHANGE_LABELS.items()
            if self.changes[k]
            and k
            not in (
                "person_created",
                "person_deleted",
                "people_merged",
                "anonymous_event_stored",
                "object_created",
                "relationship_added",
                "identifiers_suppressed",
            )
        ]
        if other:
            lines.append(_row("also", " · ".join(other)))
        lines.extend(self._automation_lines())
        return "\n".join(lines) + "\n"

    def _automation_lines(self) -> list[str]:
        """Members per segment, entries per campaign and the timestamp warnings, when defined."""
        found = self.automation or {}
        lines = []
        segments = found.get("segments") or {}
        if segments:
            shown = " · ".join(f"{s['name']} ({i}) {_n(s['members'])}" for i, s in segments.items())
            lines.append(_row("segments", f"members: {shown}"))
        campaigns = found.get("campaigns") or {}
        if campaigns:
            shown = " · ".join(f"{c['name']} ({i}) {_n(c['entries'])}" for i, c in campaigns.items())
            lines.append(_row("campaigns", f"entries: {shown}"))
        warnings = found.get("warnings") or []
        if warnings:
            lines.append(
                _row(
                    "warnings", f"{_n(len(warnings))} timestamp rule(s) met a value that is not Unix seconds:"
                )
            )
            lines.extend(_row("", w) for w in warnings[:10])
            if len(warnings) > 10:
                lines.append(_row("", f"… and {_n(len(warnings) - 10)} more (run --json lists them all)"))
        return lines

    def _people(self) -> str:
        text = f"{_n(self.changes['person_created'])} created"
        if self.end is not None:
            text += f" ({_n(self.end['people'])} now)"
        for kind, label in (
            ("person_deleted:delete", "deleted"),
            ("people_merged", "merged away"),
            ("identifiers_suppressed", "suppressed"),
        ):
            if self.changes[kind]:
                text += f" · {_n(self.changes[kind])} {label}"
        return text


def _ranked(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda item: (item[0] == OTHER, -item[1], item[0]))


def _count(change: Mapping[str, JSON]) -> int:
    value = change.get("count", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def _n(value: int) -> str:
    return f"{value:,}"


def _row(label: str, text: str) -> str:
    return f"  {label:<10} {text}"


@dataclass(slots=True)
class PartSummary(Summary):
    """The summary of one partition of a partitioned replay (sandbox.replay.partitioned), to be
    merged with the others' by `Summary.add_parts`: every reason is kept (none under OTHER),
    with where it first appeared (event index, then order within the event), since which reasons
    the merged summary keeps depends on the order across partitions."""

    first_seen: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    """("rejection" or "invalid", reason) -> (event index, order within the event)."""
    at: int = 0
    """The index of the event being added."""
    order: int = 0

    def add_indexed(self, index: int, matched: list[str], deliveries: Any, invalid: Any) -> None:
        self.at, self.order = index, 0
        self.add_event(matched, deliveries, invalid)

    def _bump(self, counter: Counter[str], key: str, count: int = 1) -> None:
        counter[key] += count
        seen = ("invalid" if counter is self.invalid else "rejection", key)
        if seen not in self.first_seen:
            self.first_seen[seen] = (self.at, self.order)
        self.order += 1
